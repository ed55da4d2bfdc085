DROP TABLE users;
DROP TABLE supplier_cpv;
DROP TABLE suppliers;
DROP TABLE organisations;
