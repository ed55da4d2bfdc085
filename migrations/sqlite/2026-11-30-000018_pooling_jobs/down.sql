DROP INDEX pooling_runs_one_running_a_year;
DROP TABLE pooling_jobs;
