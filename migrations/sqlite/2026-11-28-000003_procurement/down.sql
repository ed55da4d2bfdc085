DROP TABLE awards;
DROP TABLE bids;
DROP TABLE lot_needs;
DROP TABLE lots;
DROP TABLE tender_approvals;
DROP TABLE tenders;
DROP TABLE pooling_runs;
DROP TABLE needs;
