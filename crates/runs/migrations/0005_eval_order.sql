-- Issue 17: a search's trials in the order it evaluated them (0 = first),
-- so the dashboard can plot the search converging; NULL for a grid's
-- trials (run in index order) and runs stored before it existed. The
-- partial index serves the convergence query without weighing on grids.
ALTER TABLE optimization_trials ADD COLUMN eval_order INTEGER;
CREATE INDEX optimization_trials_eval_order
    ON optimization_trials(optimization_id, eval_order) WHERE eval_order IS NOT NULL;
