-- How far a pooling run in the background has got: families solved out of all.
CREATE TABLE pooling_run_progress (
    run_id INTEGER PRIMARY KEY NOT NULL REFERENCES pooling_runs (id) ON DELETE CASCADE,
    families_done INTEGER NOT NULL DEFAULT 0,
    families_total INTEGER NOT NULL DEFAULT 0,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
