-- Issue 17: the trials a cancelled optimization recorded, in the engine's
-- compact form (the scale-out codec: every metric's exact f64 bits), so
-- `POST /api/optimizations/{id}/resume` runs only the rest and ends as
-- the uninterrupted run would have (the trial rows' metrics are derived
-- figures, not exactly invertible). Deleted with its run.
CREATE TABLE optimization_recorded_trials (
    optimization_id TEXT PRIMARY KEY REFERENCES optimization_runs(id) ON DELETE CASCADE,
    trials BLOB NOT NULL
);
