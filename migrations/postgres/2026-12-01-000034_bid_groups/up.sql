-- Bids by a group of companies (groupement momentané d'entreprises, #24): the bid's company is
-- the group's representative (mandataire); its co-contractors, each with its share of the
-- value, confirm from their own accounts before the deadline. A group is joint (solidaire:
-- each answers for the whole) or several (conjoint: each for its share).
CREATE TABLE bid_groups (
    bid_id INTEGER PRIMARY KEY REFERENCES bids (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('joint', 'several'))
);
CREATE TABLE bid_group_members (
    bid_id INTEGER NOT NULL REFERENCES bid_groups (bid_id) ON DELETE CASCADE,
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,
    share_pct INTEGER NOT NULL CHECK (share_pct BETWEEN 1 AND 99),
    confirmed_at TIMESTAMP,
    PRIMARY KEY (bid_id, supplier_id)
);
CREATE INDEX bid_group_members_supplier ON bid_group_members (supplier_id);
