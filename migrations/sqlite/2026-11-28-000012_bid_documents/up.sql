-- The documents of a bid (technical memo, price schedule, certificates), sealed like the bid:
-- only its supplier reads them before the deadline, only the coordinator's lead after it.
CREATE TABLE bid_documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    bid_id INTEGER NOT NULL REFERENCES bids (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL CHECK (size_bytes > 0),
    content BLOB NOT NULL,
    uploaded_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX bid_documents_bid ON bid_documents (bid_id);
