-- Opening and award: when and by whom the bids were opened, when the award was approved and
-- the standstill it starts (formal procedures), the requests for justification of abnormally
-- low bids, and one contract per member and awarded lot (each member contracts for its own
-- needs, L2113-7).
ALTER TABLE tenders ADD COLUMN opened_at TIMESTAMP;
-- (a user id; no foreign key, which SQLite could not drop again)
ALTER TABLE tenders ADD COLUMN opened_by INTEGER;
ALTER TABLE tenders ADD COLUMN awarded_at TIMESTAMP;
ALTER TABLE tenders ADD COLUMN standstill_until TIMESTAMP;
ALTER TABLE bids ADD COLUMN justification_requested_at TIMESTAMP;

CREATE TABLE contracts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    -- The DECP identifier (1 to 16 characters): <year>-<tender number>-<lot>-<member id>.
    uid TEXT NOT NULL UNIQUE,
    tender_id INTEGER NOT NULL REFERENCES tenders (id),
    lot_id INTEGER NOT NULL REFERENCES lots (id),
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id),
    bid_id INTEGER NOT NULL REFERENCES bids (id),
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    estimated_cents BIGINT NOT NULL CHECK (estimated_cents >= 0),
    months INTEGER NOT NULL CHECK (months >= 1),
    delivery_postcode TEXT NOT NULL,
    awarded_at TIMESTAMP NOT NULL,
    notified_on DATE NOT NULL,
    UNIQUE (lot_id, organisation_id)
);
CREATE INDEX contracts_tender ON contracts (tender_id);
CREATE INDEX contracts_organisation ON contracts (organisation_id);
