-- Issue 16: a walk-forward's headline in the runs list without reading its
-- report (the stitched curve can be megabytes): the stitched out-of-sample
-- return and maximum drawdown and how many folds were profitable, beside
-- the `passed` and `wfe_pct` columns it already has. Runs stored before
-- are filled in from their report; NULL when the run left no report.
ALTER TABLE walkforward_runs ADD COLUMN oos_return_pct REAL;
ALTER TABLE walkforward_runs ADD COLUMN oos_max_drawdown_pct REAL;
ALTER TABLE walkforward_runs ADD COLUMN folds_run INTEGER;
ALTER TABLE walkforward_runs ADD COLUMN profitable_folds INTEGER;
UPDATE walkforward_runs SET
    oos_return_pct = json_extract(report_json, '$.stitched.totalReturnPct'),
    oos_max_drawdown_pct = json_extract(report_json, '$.stitched.maxDrawdownPct'),
    folds_run = json_extract(report_json, '$.stitched.folds'),
    profitable_folds = json_extract(report_json, '$.stitched.profitableFolds')
WHERE report_json IS NOT NULL;
