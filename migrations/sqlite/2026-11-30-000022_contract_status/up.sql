-- The statuses of a contract (domain::ContractStatus), and active only once its signature is
-- recorded. SQLite cannot add a CHECK constraint to an existing table: triggers say the same,
-- for new rows and for changed ones.
CREATE TRIGGER contracts_status_insert BEFORE INSERT ON contracts
WHEN NEW.status NOT IN ('pending', 'active')
    OR (NEW.status = 'active' AND (NEW.signed_on IS NULL OR NEW.signatory IS NULL))
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: contracts_status');
END;
CREATE TRIGGER contracts_status_update BEFORE UPDATE OF status, signed_on, signatory ON contracts
WHEN NEW.status NOT IN ('pending', 'active')
    OR (NEW.status = 'active' AND (NEW.signed_on IS NULL OR NEW.signatory IS NULL))
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: contracts_status');
END;
