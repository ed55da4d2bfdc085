ALTER TABLE needs DROP COLUMN title_public;
