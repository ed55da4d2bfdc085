-- A company's notices go only to an address someone has confirmed: a new address waits in
-- pending_notification_email until the link sent to it is opened; the notices keep going to the
-- confirmed one meanwhile.
ALTER TABLE suppliers ADD COLUMN pending_notification_email TEXT;
CREATE TABLE address_confirmations (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
