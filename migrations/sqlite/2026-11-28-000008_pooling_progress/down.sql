DROP TABLE pooling_run_progress;
