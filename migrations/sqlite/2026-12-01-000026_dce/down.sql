DROP TABLE document_downloads;
ALTER TABLE tender_documents DROP COLUMN kind;
