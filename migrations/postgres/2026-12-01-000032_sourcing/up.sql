-- Sourcing (R2111-1, #24): a company's declaration of interest and capacity on a planned
-- purchase of the programme, with its question. Information for the design of the lots: it
-- commits no one and weighs nothing at the award.
CREATE TABLE sourcing_declarations (
    id SERIAL PRIMARY KEY,
    purchase_key TEXT NOT NULL CHECK (char_length(purchase_key) BETWEEN 1 AND 300),
    cpv TEXT NOT NULL,
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,
    capacity_cents BIGINT NOT NULL CHECK (capacity_cents > 0),
    sites TEXT NOT NULL CHECK (char_length(sites) <= 500),
    certifications TEXT NOT NULL CHECK (char_length(certifications) <= 500),
    question TEXT CHECK (question IS NULL OR char_length(question) BETWEEN 1 AND 2000),
    declared_at TIMESTAMP NOT NULL,
    UNIQUE (purchase_key, supplier_id)
);
