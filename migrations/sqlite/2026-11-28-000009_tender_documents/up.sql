-- The documents of a tender (rules of the consultation, specifications, price schedules),
-- kept in the database with the tender so that a backup holds everything.
CREATE TABLE tender_documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    tender_id INTEGER NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL CHECK (size_bytes > 0),
    content BLOB NOT NULL,
    uploaded_by INTEGER REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX tender_documents_tender ON tender_documents (tender_id);
