-- Questions of companies on a published tender (or one of its lots) and the coordinator's
-- answers (R2132-6): an answer is published on the notice to everyone, without the asker.
CREATE TABLE questions (
    id SERIAL PRIMARY KEY,
    tender_id INTEGER NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    lot_number INTEGER,
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id),
    asked_by INTEGER REFERENCES users (id),
    question TEXT NOT NULL CHECK (char_length(question) BETWEEN 1 AND 4000),
    asked_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    answer TEXT CHECK (answer IS NULL OR char_length(answer) BETWEEN 1 AND 8000),
    answered_by INTEGER REFERENCES users (id),
    answered_at TIMESTAMP
);
CREATE INDEX questions_tender ON questions (tender_id, id);
