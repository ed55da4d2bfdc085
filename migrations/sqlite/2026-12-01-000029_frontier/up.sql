-- The frontier of plans between savings and local access (#26), computed by the worker with
-- the run's plan: JSON (groupement_solver::pooling::Frontier). The lead picks a point of it and
-- the run is computed again at that point's local weight.
ALTER TABLE pooling_runs ADD COLUMN frontier TEXT;

-- What the engine is computing: the plan (`plan`) or the frontier (`frontier`).
ALTER TABLE pooling_run_progress ADD COLUMN phase TEXT NOT NULL DEFAULT 'plan';
