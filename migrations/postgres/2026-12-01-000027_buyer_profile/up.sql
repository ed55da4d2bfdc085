-- Changes to a published tender (rectificatifs): what changed, in the lead's words, and the
-- deadline before and after (only ever later). A document added by a change names it; a
-- document replaced stays in the database, out of the consultation file, with the moment it
-- was replaced.
CREATE TABLE tender_changes (
    id SERIAL PRIMARY KEY,
    tender_id INTEGER NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    summary TEXT NOT NULL CHECK (char_length(summary) BETWEEN 1 AND 4000),
    substantial BOOLEAN NOT NULL,
    deadline_before TIMESTAMP NOT NULL,
    deadline_after TIMESTAMP NOT NULL CHECK (deadline_after >= deadline_before),
    made_by INTEGER REFERENCES users (id),
    made_at TIMESTAMP NOT NULL
);
CREATE INDEX tender_changes_tender ON tender_changes (tender_id, id);
-- (a change id; no foreign key, which SQLite could not drop again)
ALTER TABLE tender_documents ADD COLUMN change_id INTEGER;
ALTER TABLE tender_documents ADD COLUMN replaced_at TIMESTAMP;
-- (the change that replaced it; no foreign key, which SQLite could not drop again)
ALTER TABLE tender_documents ADD COLUMN replaced_by INTEGER;

-- Bids received after the deadline: kept with their time of receipt (the arrêté of 22 March
-- 2019 asks the profile to keep them), never opened nor scored.
CREATE TABLE late_bids (
    id SERIAL PRIMARY KEY,
    lot_id INTEGER NOT NULL REFERENCES lots (id),
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id),
    receipt TEXT NOT NULL,
    price_cents BIGINT NOT NULL CHECK (price_cents > 0),
    technical_memo TEXT NOT NULL DEFAULT '',
    environment_data TEXT NOT NULL DEFAULT '',
    received_at TIMESTAMP NOT NULL,
    sent_by INTEGER REFERENCES users (id)
);
CREATE INDEX late_bids_lot ON late_bids (lot_id);

-- The platform's signing keys (Ed25519) for proofs of deposit: every public key that ever
-- signed stays, so that an old receipt still verifies; the secret is kept here only when no key
-- is configured (GROUPEMENT_RECEIPT_KEY_FILE or GROUPEMENT_RECEIPT_KEY).
CREATE TABLE signing_keys (
    key_id TEXT PRIMARY KEY NOT NULL,
    public_key TEXT NOT NULL UNIQUE,
    secret_key TEXT,
    created_at TIMESTAMP NOT NULL
);

-- Every proof of deposit issued (a bid, a revision, a document added or removed, a withdrawal,
-- a late bid, a practice deposit — the one without a tender): the signed body exactly as
-- sent, so that it can be given again.
CREATE TABLE receipts (
    id SERIAL PRIMARY KEY,
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id),
    tender_id INTEGER REFERENCES tenders (id),
    lot_number INTEGER NOT NULL,
    number TEXT NOT NULL,
    event TEXT NOT NULL,
    body TEXT NOT NULL,
    signature TEXT NOT NULL,
    key_id TEXT NOT NULL REFERENCES signing_keys (key_id),
    issued_at TIMESTAMP NOT NULL
);
CREATE INDEX receipts_supplier ON receipts (supplier_id, tender_id, lot_number);
-- The SHA-256 of each bid document, computed as it arrives, that the receipts carry.
ALTER TABLE bid_documents ADD COLUMN sha256 TEXT;

-- Backup copies (R2132-11): a bidder declares that it sent one (paper or a physical electronic
-- medium) before the deadline, the coordinator's lead records its receipt, and opens it only in
-- the cases the code allows: a virus in the electronic bid, a bid that did not arrive in time,
-- or one that could not be opened.
CREATE TABLE backup_copies (
    id SERIAL PRIMARY KEY,
    tender_id INTEGER NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id),
    medium TEXT NOT NULL CHECK (medium IN ('papier', 'electronique')),
    declared_at TIMESTAMP NOT NULL,
    declared_by INTEGER REFERENCES users (id),
    received_at TIMESTAMP,
    recorded_by INTEGER REFERENCES users (id),
    opened_at TIMESTAMP,
    opened_by INTEGER REFERENCES users (id),
    open_reason TEXT CHECK (open_reason IS NULL OR open_reason IN ('virus', 'non_parvenue', 'illisible')),
    UNIQUE (tender_id, supplier_id)
);

-- The DUME (ESPD response) of a company on a tender, sealed like its bids: its XML as written
-- by the platform from the simplified form, or as uploaded, and what was read from it.
CREATE TABLE espd_responses (
    id SERIAL PRIMARY KEY,
    tender_id INTEGER NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id),
    source TEXT NOT NULL CHECK (source IN ('formulaire', 'fichier')),
    xml TEXT NOT NULL,
    summary TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    UNIQUE (tender_id, supplier_id)
);

-- Urgency declared at publication (R2132-6): answers to questions are then due four days
-- before the deadline instead of six.
ALTER TABLE tenders ADD COLUMN urgent BOOLEAN NOT NULL DEFAULT FALSE;
