ALTER TABLE contracts DROP COLUMN signatory;
ALTER TABLE contracts DROP COLUMN signed_on;
ALTER TABLE contracts DROP COLUMN status;
