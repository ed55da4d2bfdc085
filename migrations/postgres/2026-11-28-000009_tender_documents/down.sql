DROP TABLE tender_documents;
