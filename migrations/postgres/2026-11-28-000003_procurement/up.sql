CREATE TABLE needs (
    id SERIAL PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    external_ref TEXT,
    cpv_code TEXT NOT NULL REFERENCES cpv_codes (code8),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- Quantities in thousandths of the unit, so that storage holds no floating point.
    quantity_milli BIGINT NOT NULL CHECK (quantity_milli > 0),
    unit TEXT NOT NULL,
    unit_price_cents BIGINT NOT NULL CHECK (unit_price_cents >= 0),
    delivery_postcode TEXT NOT NULL,
    window_start DATE NOT NULL,
    window_end DATE NOT NULL,
    budget_year INTEGER NOT NULL,
    poolable BOOLEAN NOT NULL DEFAULT TRUE,
    status TEXT NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'submitted', 'pooled', 'tendered', 'awarded', 'withdrawn', 'unsuccessful')),
    provenance TEXT,
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK (window_start <= window_end),
    UNIQUE (organisation_id, external_ref)
);
CREATE INDEX needs_org_status ON needs (organisation_id, status);
CREATE INDEX needs_cpv ON needs (cpv_code);

CREATE TABLE pooling_runs (
    id SERIAL PRIMARY KEY,
    started_by INTEGER REFERENCES users (id),
    budget_year INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'proposed', 'accepted', 'discarded', 'failed')),
    parameters TEXT NOT NULL,
    input_need_ids TEXT NOT NULL,
    report TEXT,
    plan TEXT,
    error TEXT,
    started_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    finished_at TIMESTAMP
);

CREATE TABLE tenders (
    id SERIAL PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    coordinator_id INTEGER NOT NULL REFERENCES organisations (id),
    pooling_run_id INTEGER REFERENCES pooling_runs (id),
    cpv_family TEXT NOT NULL,
    unit TEXT NOT NULL,
    procedure TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'approving', 'approved', 'published', 'closed', 'awarded', 'cancelled')),
    total_value_cents BIGINT NOT NULL CHECK (total_value_cents >= 0),
    weight_price INTEGER,
    weight_quality INTEGER,
    weight_environment INTEGER,
    max_lots_per_supplier INTEGER CHECK (max_lots_per_supplier IS NULL OR max_lots_per_supplier > 0),
    cap_rule TEXT CHECK (cap_rule IS NULL OR cap_rule IN ('decreasing-importance', 'best-total')),
    published_at TIMESTAMP,
    deadline TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK (weight_price IS NULL OR weight_price + weight_quality + weight_environment = 100),
    CHECK (weight_environment IS NULL OR weight_environment > 0)
);
CREATE INDEX tenders_status ON tenders (status);

CREATE TABLE tender_approvals (
    tender_id INTEGER NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'refused')),
    comment TEXT,
    decided_by INTEGER REFERENCES users (id),
    decided_at TIMESTAMP,
    PRIMARY KEY (tender_id, organisation_id)
);

CREATE TABLE lots (
    id SERIAL PRIMARY KEY,
    tender_id INTEGER NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    number INTEGER NOT NULL CHECK (number > 0),
    title TEXT NOT NULL,
    cpv_code TEXT NOT NULL REFERENCES cpv_codes (code8),
    value_cents BIGINT NOT NULL CHECK (value_cents >= 0),
    expected_savings_cents BIGINT NOT NULL DEFAULT 0,
    local_accessible BOOLEAN NOT NULL DEFAULT FALSE,
    eligible_local_suppliers INTEGER NOT NULL DEFAULT 0,
    small_lot BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'awarded', 'unsuccessful')),
    UNIQUE (tender_id, number)
);

CREATE TABLE lot_needs (
    lot_id INTEGER NOT NULL REFERENCES lots (id) ON DELETE CASCADE,
    need_id INTEGER NOT NULL REFERENCES needs (id),
    PRIMARY KEY (lot_id, need_id)
);
CREATE INDEX lot_needs_need ON lot_needs (need_id);

CREATE TABLE bids (
    id SERIAL PRIMARY KEY,
    lot_id INTEGER NOT NULL REFERENCES lots (id),
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id),
    price_cents BIGINT NOT NULL CHECK (price_cents > 0),
    quality INTEGER CHECK (quality IS NULL OR quality BETWEEN 0 AND 100),
    environment INTEGER CHECK (environment IS NULL OR environment BETWEEN 0 AND 100),
    technical_memo TEXT NOT NULL DEFAULT '',
    environment_data TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'withdrawn')),
    submitted_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (lot_id, supplier_id)
);

CREATE TABLE awards (
    id SERIAL PRIMARY KEY,
    lot_id INTEGER NOT NULL UNIQUE REFERENCES lots (id),
    status TEXT NOT NULL CHECK (status IN ('awarded', 'unsuccessful')),
    winning_bid_id INTEGER REFERENCES bids (id),
    rule TEXT NOT NULL,
    scores TEXT NOT NULL,
    approved_by INTEGER REFERENCES users (id),
    approved_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK ((status = 'awarded') = (winning_bid_id IS NOT NULL))
);
