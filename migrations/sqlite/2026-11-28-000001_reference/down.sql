DROP TABLE communes;
DROP TABLE cpv_codes;
