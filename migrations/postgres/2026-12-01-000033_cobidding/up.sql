-- The co-bidding exchange (#24): a company offers its part of a planned purchase or a
-- published lot, or looks for partners for it; companies ask each other to answer together
-- and, when the other accepts, see each other's address. Companies linked by accepted requests
-- on a target form a team.
CREATE TABLE cobidding_posts (
    id SERIAL PRIMARY KEY,
    -- A planned purchase's key on the programme, or `lot:<id>` for a published lot.
    target TEXT NOT NULL CHECK (char_length(target) BETWEEN 1 AND 300),
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,
    -- `offer`: offers its part; `search`: looks for partners for the rest.
    kind TEXT NOT NULL CHECK (kind IN ('offer', 'search')),
    part TEXT NOT NULL CHECK (char_length(part) BETWEEN 1 AND 200),
    -- The CPV code of the part it takes (8 digits of the CPV 2008 nomenclature).
    part_cpv TEXT NOT NULL CHECK (char_length(part_cpv) = 8),
    share_pct INTEGER NOT NULL CHECK (share_pct BETWEEN 1 AND 100),
    capacity_cents BIGINT NOT NULL CHECK (capacity_cents > 0),
    -- Department codes separated by spaces.
    departments TEXT NOT NULL CHECK (char_length(departments) BETWEEN 2 AND 200),
    note TEXT NOT NULL CHECK (char_length(note) <= 1000),
    posted_at TIMESTAMP NOT NULL,
    UNIQUE (target, supplier_id)
);
CREATE TABLE cobidding_contacts (
    id SERIAL PRIMARY KEY,
    target TEXT NOT NULL CHECK (char_length(target) BETWEEN 1 AND 300),
    from_supplier INTEGER NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,
    to_supplier INTEGER NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,
    message TEXT NOT NULL CHECK (char_length(message) BETWEEN 1 AND 2000),
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined')),
    asked_at TIMESTAMP NOT NULL,
    answered_at TIMESTAMP,
    CHECK (from_supplier <> to_supplier),
    UNIQUE (target, from_supplier, to_supplier)
);
CREATE INDEX cobidding_contacts_to ON cobidding_contacts (to_supplier, target);
-- The buyers' answer to a company's sourcing question: e-mailed to it and published on the
-- programme for every company, without its name (equal treatment, R2111-1).
ALTER TABLE sourcing_declarations ADD COLUMN answer TEXT CHECK (answer IS NULL OR char_length(answer) BETWEEN 1 AND 4000);
ALTER TABLE sourcing_declarations ADD COLUMN answered_at TIMESTAMP;
