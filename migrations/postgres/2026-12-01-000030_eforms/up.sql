-- EU notices in eForms (#25). A notice names every buyer with its address, telephone (BT-503,
-- mandatory) and e-mail; the organisations get them, edited by the admin.
ALTER TABLE organisations ADD COLUMN street TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN postcode TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN city TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN website TEXT NOT NULL DEFAULT '';

-- Settings of the platform that are neither versioned nor per organisation: the review body's
-- legal identifier (BT-501 of the administrative court of Dijon), …
CREATE TABLE platform_settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_by INTEGER REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL
);

-- The notices of a tender: the contract notice at publication, a change notice per change of a
-- published tender, the award notice after the award. The XML is kept as produced (what was
-- sent is what is kept); the status follows the sending: to send, sent, published by TED with
-- its publication number.
CREATE TABLE eforms_notices (
    id SERIAL PRIMARY KEY,
    tender_id INTEGER NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('contract', 'change', 'award')),
    -- BT-701 and BT-757: the notice's identifier and version.
    notice_id TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    -- For a change notice: the change of the tender it announces.
    change_id INTEGER,
    xml TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'to_send' CHECK (status IN ('to_send', 'sent', 'published')),
    channel TEXT,
    ted_number TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    sent_by INTEGER REFERENCES users (id),
    published_at TIMESTAMP,
    published_by INTEGER REFERENCES users (id)
);
CREATE INDEX eforms_notices_tender ON eforms_notices (tender_id, id);
