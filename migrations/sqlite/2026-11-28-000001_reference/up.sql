CREATE TABLE cpv_codes (
    code8 TEXT PRIMARY KEY NOT NULL,
    check_digit INTEGER NOT NULL,
    parent_code8 TEXT,
    division TEXT NOT NULL,
    level TEXT NOT NULL,
    significant_digits INTEGER NOT NULL,
    kind TEXT NOT NULL,
    label_en TEXT NOT NULL,
    label_fr TEXT NOT NULL
);
CREATE INDEX cpv_codes_division ON cpv_codes (division);

CREATE TABLE communes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insee_code TEXT NOT NULL,
    name TEXT NOT NULL,
    postcode TEXT NOT NULL,
    department_code TEXT NOT NULL,
    department_name TEXT NOT NULL,
    region_name TEXT NOT NULL,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION
);
CREATE INDEX communes_postcode ON communes (postcode);
