-- Pooling runs become durable jobs: a run in progress has a job row, claimed by one worker at a
-- time with a conditional update (as the outbox's rows are) and a lease that the worker renews
-- while the engine works; a run whose worker stopped (a restart, a crash) is taken again by
-- the next worker once its lease has passed, instead of being marked failed. The job row goes
-- with the run's result, in the same transaction.
CREATE TABLE pooling_jobs (
    run_id INTEGER PRIMARY KEY NOT NULL REFERENCES pooling_runs (id) ON DELETE CASCADE,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'claimed')),
    claimed_by TEXT,
    lease_until TIMESTAMP,
    attempts INTEGER NOT NULL DEFAULT 0,
    queued_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- One run in progress per budget year: a second one is refused (the page says which runs).
UPDATE pooling_runs SET status = 'failed', error = 'une autre mutualisation de la même année était en cours'
    WHERE status = 'running'
      AND id NOT IN (SELECT MAX(id) FROM pooling_runs WHERE status = 'running' GROUP BY budget_year);
CREATE UNIQUE INDEX pooling_runs_one_running_a_year ON pooling_runs (budget_year) WHERE status = 'running';

-- Runs left running by the version before this one are taken up again.
INSERT INTO pooling_jobs (run_id) SELECT id FROM pooling_runs WHERE status = 'running';
