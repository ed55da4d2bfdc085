-- The consultation file (DCE): each document says what it is (the rules and a price schedule
-- are required to publish), and a signed-in download is registered (who, when, which document
-- or the whole file) so that those companies hear of what follows.
ALTER TABLE tender_documents ADD COLUMN kind TEXT NOT NULL DEFAULT 'autre'
    CONSTRAINT tender_documents_kind CHECK (kind IN ('reglement', 'prix', 'cctp', 'ccap', 'autre'));
CREATE TABLE document_downloads (
    id SERIAL PRIMARY KEY,
    tender_id INTEGER NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    supplier_id INTEGER REFERENCES suppliers (id),
    document_id INTEGER REFERENCES tender_documents (id) ON DELETE SET NULL,
    downloaded_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX document_downloads_tender ON document_downloads (tender_id, supplier_id);
