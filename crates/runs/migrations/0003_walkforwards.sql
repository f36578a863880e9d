-- Issue 16: walk-forward runs, the third kind. One row per run, written
-- once when it ends; the report (folds, stitched equity, criteria) as the
-- JSON of `WalkForwardReport` (partial when cancelled: the folds that
-- finished), NULL when the run failed or was cancelled before any report.
CREATE TABLE walkforward_runs (
    id                     TEXT PRIMARY KEY,
    run_key                TEXT NOT NULL,
    status                 TEXT NOT NULL,
    strategy               TEXT NOT NULL,
    strategy_version       TEXT NOT NULL,
    dataset_id             INTEGER NOT NULL,
    dataset_name           TEXT NOT NULL,
    dataset_sha256         TEXT NOT NULL,
    timeframe              TEXT NOT NULL,
    from_ms                INTEGER,
    to_ms                  INTEGER,
    spec_json              TEXT NOT NULL,
    request_json           TEXT NOT NULL,
    total_combinations     INTEGER NOT NULL,
    processed_combinations INTEGER NOT NULL,
    failed_trials          INTEGER NOT NULL,
    total_folds            INTEGER NOT NULL,
    folds_processed        INTEGER NOT NULL,
    passed                 INTEGER,
    wfe_pct                REAL,
    error_message          TEXT,
    error_stack_trace      TEXT,
    submitted_at_ms        INTEGER NOT NULL,
    started_at_ms          INTEGER,
    finished_at_ms         INTEGER NOT NULL,
    report_json            TEXT
);
CREATE INDEX walkforward_runs_key ON walkforward_runs(run_key, status);
CREATE INDEX walkforward_runs_submitted ON walkforward_runs(submitted_at_ms);
