ALTER TABLE contracts DROP CONSTRAINT contracts_signed;
