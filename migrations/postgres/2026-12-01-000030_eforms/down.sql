DROP TABLE eforms_notices;
DROP TABLE platform_settings;
ALTER TABLE organisations DROP COLUMN website;
ALTER TABLE organisations DROP COLUMN email;
ALTER TABLE organisations DROP COLUMN phone;
ALTER TABLE organisations DROP COLUMN city;
ALTER TABLE organisations DROP COLUMN postcode;
ALTER TABLE organisations DROP COLUMN street;
