CREATE TABLE organisations (
    id SERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    siret TEXT UNIQUE,
    kind TEXT NOT NULL,
    buyer_class TEXT NOT NULL CHECK (buyer_class IN ('central', 'sub_central')),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE suppliers (
    id SERIAL PRIMARY KEY,
    siret TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    postcode TEXT NOT NULL,
    commune TEXT NOT NULL,
    department_code TEXT NOT NULL,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    sme BOOLEAN NOT NULL DEFAULT FALSE,
    annual_capacity_cents BIGINT NOT NULL DEFAULT 0 CHECK (annual_capacity_cents >= 0),
    notification_email TEXT NOT NULL,
    opt_in BOOLEAN NOT NULL DEFAULT TRUE,
    digest TEXT NOT NULL DEFAULT 'immediate' CHECK (digest IN ('immediate', 'daily')),
    provenance TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE supplier_cpv (
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,
    cpv_prefix TEXT NOT NULL,
    PRIMARY KEY (supplier_id, cpv_prefix)
);
CREATE INDEX supplier_cpv_prefix ON supplier_cpv (cpv_prefix);

CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('buyer', 'lead', 'supplier', 'admin')),
    organisation_id INTEGER REFERENCES organisations (id),
    supplier_id INTEGER REFERENCES suppliers (id),
    locale TEXT NOT NULL DEFAULT 'fr',
    email_verified_at TIMESTAMP,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK ((role IN ('buyer', 'lead') AND organisation_id IS NOT NULL AND supplier_id IS NULL)
        OR (role = 'supplier' AND supplier_id IS NOT NULL AND organisation_id IS NULL)
        OR (role = 'admin' AND organisation_id IS NULL AND supplier_id IS NULL))
);
