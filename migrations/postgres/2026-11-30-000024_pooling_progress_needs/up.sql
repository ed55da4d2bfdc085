-- Progress by needs as well as families, and the engine's estimate of the seconds left
-- (NULL until it can estimate).
ALTER TABLE pooling_run_progress ADD COLUMN needs_done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pooling_run_progress ADD COLUMN needs_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pooling_run_progress ADD COLUMN seconds_left INTEGER;
