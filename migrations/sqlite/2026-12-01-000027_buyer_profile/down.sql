DROP TABLE espd_responses;
DROP TABLE backup_copies;
ALTER TABLE bid_documents DROP COLUMN sha256;
DROP TABLE receipts;
DROP TABLE signing_keys;
DROP TABLE late_bids;
ALTER TABLE tender_documents DROP COLUMN replaced_at;
ALTER TABLE tender_documents DROP COLUMN change_id;
DROP TABLE tender_changes;
