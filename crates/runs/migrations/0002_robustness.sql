-- Issue 16: the robustness of an optimization's winner (deflated Sharpe
-- ratio, effective number of trials, neighbour stability, fitness spread;
-- later PBO) as JSON, the engine's `Robustness`. NULL for runs stored
-- before it existed: they read back without robustness.
ALTER TABLE optimization_runs ADD COLUMN robustness_json TEXT;
