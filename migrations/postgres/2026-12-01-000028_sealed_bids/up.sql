-- Bids sealed by cryptography until the members open them together (#23).

-- A lead's personal opening key: an age X25519 key pair whose secret is kept encrypted under
-- the lead's passphrase (age's scrypt: memory-hard); the passphrase is never stored.
CREATE TABLE opening_keys (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users (id),
    recipient TEXT NOT NULL,
    sealed_identity TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    changed_at TIMESTAMP NOT NULL
);

-- The offline recovery key, made once by an admin and shown once: only its public half is kept.
-- A newer one replaces it for the tenders published afterwards.
CREATE TABLE recovery_keys (
    id SERIAL PRIMARY KEY,
    recipient TEXT NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);

-- A tender's key: its public half (bids are encrypted to it), the number of shares that open it.
-- Its secret is split at publication and then forgotten.
CREATE TABLE tender_seals (
    tender_id INTEGER PRIMARY KEY NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    threshold INTEGER NOT NULL CHECK (threshold >= 1),
    created_at TIMESTAMP NOT NULL,
    opening_started_at TIMESTAMP,
    opening_started_by INTEGER REFERENCES users (id)
);

-- One share of a tender's secret per member (encrypted to its leads' opening keys) and one for
-- the recovery key; the share's x coordinate is inside the encrypted bytes.
CREATE TABLE tender_shares (
    id SERIAL PRIMARY KEY,
    tender_id INTEGER NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    organisation_id INTEGER REFERENCES organisations (id),
    recovery_key_id INTEGER REFERENCES recovery_keys (id),
    sealed_share BYTEA NOT NULL,
    CHECK ((organisation_id IS NULL) <> (recovery_key_id IS NULL))
);
CREATE INDEX tender_shares_tender ON tender_shares (tender_id);

-- The shares entered for an opening under way: fewer than the threshold, which say nothing of
-- the secret; deleted when the opening completes.
CREATE TABLE opening_shares (
    id SERIAL PRIMARY KEY,
    tender_id INTEGER NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    share_id INTEGER NOT NULL REFERENCES tender_shares (id) ON DELETE CASCADE,
    share BYTEA NOT NULL,
    entered_by INTEGER REFERENCES users (id),
    entered_at TIMESTAMP NOT NULL,
    UNIQUE (tender_id, share_id)
);

-- A sealed bid keeps only placeholders in its clear columns (price 1 cent, empty texts) and its
-- form in `sealed`, encrypted to the tender's key; at the opening the clear values are written
-- back and the state becomes 'opened', or 'tampered' when the ciphertext no longer matches.
ALTER TABLE bids ADD COLUMN sealed BYTEA;
ALTER TABLE bids ADD COLUMN sealed_sha256 TEXT;
ALTER TABLE bids ADD COLUMN form_sha256 TEXT;
ALTER TABLE bids ADD COLUMN seal_state TEXT CHECK (seal_state IN ('sealed', 'opened', 'tampered'));
-- A sealed document's content is its ciphertext until the opening.
ALTER TABLE bid_documents ADD COLUMN sealed_sha256 TEXT;
ALTER TABLE bid_documents ADD COLUMN seal_state TEXT CHECK (seal_state IN ('sealed', 'opened', 'tampered'));
ALTER TABLE late_bids ADD COLUMN sealed BYTEA;
ALTER TABLE espd_responses ADD COLUMN sealed BYTEA;
ALTER TABLE espd_responses ADD COLUMN sealed_sha256 TEXT;
ALTER TABLE espd_responses ADD COLUMN seal_state TEXT CHECK (seal_state IN ('sealed', 'opened', 'tampered'));
