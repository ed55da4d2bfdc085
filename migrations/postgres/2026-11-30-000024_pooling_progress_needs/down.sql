ALTER TABLE pooling_run_progress DROP COLUMN seconds_left;
ALTER TABLE pooling_run_progress DROP COLUMN needs_total;
ALTER TABLE pooling_run_progress DROP COLUMN needs_done;
