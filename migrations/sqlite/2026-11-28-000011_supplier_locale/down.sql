ALTER TABLE suppliers DROP COLUMN locale;
