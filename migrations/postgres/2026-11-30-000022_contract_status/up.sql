-- A contract is active only once its signature is recorded (domain::ContractStatus).
ALTER TABLE contracts ADD CONSTRAINT contracts_signed
    CHECK (status = 'pending' OR (signed_on IS NOT NULL AND signatory IS NOT NULL));
