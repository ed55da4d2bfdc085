ALTER TABLE pooling_run_progress DROP COLUMN phase;
ALTER TABLE pooling_runs DROP COLUMN frontier;
