DROP TABLE contracts;
ALTER TABLE bids DROP COLUMN justification_requested_at;
ALTER TABLE tenders DROP COLUMN standstill_until;
ALTER TABLE tenders DROP COLUMN awarded_at;
ALTER TABLE tenders DROP COLUMN opened_by;
ALTER TABLE tenders DROP COLUMN opened_at;
