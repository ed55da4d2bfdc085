-- A contract is signed, not assumed: `pending` from the award until its member's lead records
-- the signature (date, signatory; not before the standstill's end, `notified_on` being that
-- earliest day), then `active`. Open data follows: OCDS shows a pending contract without a
-- signature date, DECP lists only signed contracts. (SQLite: the statuses are checked by the
-- code; a CHECK on an added column could not be dropped again.)
ALTER TABLE contracts ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE contracts ADD COLUMN signed_on DATE;
ALTER TABLE contracts ADD COLUMN signatory TEXT;
