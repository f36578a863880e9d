//! Reading stored runs back as the types they were written from.

use super::columns;
use super::model::{
    OptimizationResult, Page, RunHeader, RunSummary, StoredBacktest, StoredOptimization,
    StoredWalkForward, WalkForwardLine,
};
use super::sort::TrialOrder;
use super::{i, parse_status, status_text, table, u, RunStore, StoreError};
use crate::key::RunKind;
use crate::status::RunStatus;
use atf_engine::optimize::{KeptTrial, OptimizationSummary, TrialRecord, TrialStatus};
use atf_engine::report::{EquityCurve, Trade};
use atf_engine::BacktestReport;
use rusqlite::{params, Connection, OptionalExtension, Row, ToSql};
use serde_json::Value;

const HEADER_COLUMNS: &str = "id, run_key, status, strategy, strategy_version, dataset_id, \
    dataset_name, dataset_sha256, timeframe, from_ms, to_ms, error_message, error_stack_trace, \
    submitted_at_ms, started_at_ms, finished_at_ms, request_json, spec_json";
const HEADER_LEN: usize = 18;

impl RunStore {
    /// The id of a completed run with this key, if any (newest first).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn find_completed(
        &self,
        kind: RunKind,
        run_key: &str,
    ) -> Result<Option<String>, StoreError> {
        let table = table(kind);
        self.read(|c| {
            c.query_row(
                &format!(
                    "SELECT id FROM {table} WHERE run_key = ?1 AND status = 'Completed'
                     ORDER BY finished_at_ms DESC LIMIT 1"
                ),
                [run_key],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
        })
    }

    /// A stored backtest with its full result.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn backtest(&self, id: &str) -> Result<Option<StoredBacktest>, StoreError> {
        self.read(|c| {
            let row = c
                .query_row(
                    &format!(
                        "SELECT {HEADER_COLUMNS}, total_bars, processed_bars, optimization_id,
                            combination_index, params_json, report_json
                         FROM backtest_runs WHERE id = ?1"
                    ),
                    [id],
                    |r| {
                        Ok((
                            header_parts(r)?,
                            r.get::<_, i64>(HEADER_LEN)?,
                            r.get::<_, i64>(HEADER_LEN + 1)?,
                            r.get::<_, Option<String>>(HEADER_LEN + 2)?,
                            r.get::<_, Option<i64>>(HEADER_LEN + 3)?,
                            r.get::<_, String>(HEADER_LEN + 4)?,
                            r.get::<_, Option<String>>(HEADER_LEN + 5)?,
                        ))
                    },
                )
                .optional()
                .map_err(self.err())?;
            let Some((parts, total, processed, opt, combo, params, report)) = row else {
                return Ok(None);
            };
            let header = self.header(parts, u(total))?;
            let result = match report {
                Some(text) => Some(self.full_report(c, id, &text)?),
                None => None,
            };
            Ok(Some(StoredBacktest {
                header,
                processed: u(processed),
                optimization_id: opt,
                combination_index: combo.map(u),
                params: self.parse("params_json", &params)?,
                result,
            }))
        })
    }

    /// A report from its headline row, its curve and its trades.
    fn full_report(
        &self,
        c: &Connection,
        id: &str,
        text: &str,
    ) -> Result<BacktestReport, StoreError> {
        let mut report = match serde_json::from_str::<BacktestReport>(text) {
            Ok(r) => r,
            // rows written before the headline carried an (empty) curve and
            // trades lack those two fields: add them, then read the type
            Err(_) => {
                let mut headline: serde_json::Map<String, Value> =
                    self.parse("report_json", text)?;
                for field in ["equityCurve", "trades"] {
                    headline
                        .entry(field)
                        .or_insert_with(|| Value::Array(Vec::new()));
                }
                serde_json::from_value(Value::Object(headline)).map_err(|source| {
                    StoreError::Json {
                        path: self.path.clone(),
                        what: "report_json",
                        source,
                    }
                })?
            }
        };
        let curve: Option<String> = c
            .query_row(
                "SELECT points_json FROM equity_curves WHERE run_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())?;
        report.equity_curve = match curve {
            Some(t) => self.parse::<EquityCurve>("points_json", &t)?,
            None => EquityCurve::default(),
        };
        let cols = columns::trades();
        let mut stmt = c
            .prepare_cached(&format!(
                "SELECT {} FROM trades WHERE run_id = ?1 ORDER BY seq",
                cols.list
            ))
            .map_err(self.err())?;
        report.trades = stmt
            .query_map([id], |r| cols.read::<Trade>(r, 0))
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(report)
    }

    /// A stored optimization with its summary and its best `trial_limit`
    /// trials in rank order (the rest page through [`RunStore::trials`]).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn optimization(
        &self,
        id: &str,
        trial_limit: u64,
    ) -> Result<Option<StoredOptimization>, StoreError> {
        let row = self.read(|c| {
            c.query_row(
                &format!(
                    "SELECT {HEADER_COLUMNS}, total_combinations, completed_combinations,
                        failed_combinations, skipped_combinations, summary_json, robustness_json
                     FROM optimization_runs WHERE id = ?1"
                ),
                [id],
                |r| {
                    Ok((
                        header_parts(r)?,
                        r.get::<_, i64>(HEADER_LEN)?,
                        r.get::<_, i64>(HEADER_LEN + 1)?,
                        r.get::<_, i64>(HEADER_LEN + 2)?,
                        r.get::<_, i64>(HEADER_LEN + 3)?,
                        r.get::<_, Option<String>>(HEADER_LEN + 4)?,
                        r.get::<_, Option<String>>(HEADER_LEN + 5)?,
                    ))
                },
            )
            .optional()
            .map_err(self.err())
        })?;
        let Some((parts, total, completed, failed, skipped, summary, robustness)) = row else {
            return Ok(None);
        };
        let header = self.header(parts, u(total))?;
        let result = match summary {
            Some(text) => {
                let mut summary: OptimizationSummary = self.parse("summary_json", &text)?;
                summary.robustness = match robustness {
                    Some(text) => Some(self.parse("robustness_json", &text)?),
                    None => None,
                };
                let page = self.trials(id, 0, trial_limit)?;
                Some(OptimizationResult {
                    summary,
                    trial_count: page.total,
                    trials: page.items,
                    top: self.top(id)?,
                })
            }
            None => None,
        };
        Ok(Some(StoredOptimization {
            header,
            completed: u(completed),
            failed: u(failed),
            skipped: u(skipped),
            result,
        }))
    }

    /// A stored walk-forward with its report.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn walkforward(&self, id: &str) -> Result<Option<StoredWalkForward>, StoreError> {
        let row = self.read(|c| {
            c.query_row(
                &format!(
                    "SELECT {HEADER_COLUMNS}, total_combinations, processed_combinations,
                        failed_trials, total_folds, folds_processed, report_json
                     FROM walkforward_runs WHERE id = ?1"
                ),
                [id],
                |r| {
                    Ok((
                        header_parts(r)?,
                        [
                            r.get::<_, i64>(HEADER_LEN)?,
                            r.get::<_, i64>(HEADER_LEN + 1)?,
                            r.get::<_, i64>(HEADER_LEN + 2)?,
                            r.get::<_, i64>(HEADER_LEN + 3)?,
                            r.get::<_, i64>(HEADER_LEN + 4)?,
                        ],
                        r.get::<_, Option<String>>(HEADER_LEN + 5)?,
                    ))
                },
            )
            .optional()
            .map_err(self.err())
        })?;
        let Some((parts, [total, processed, failed, folds, folds_done], report)) = row else {
            return Ok(None);
        };
        Ok(Some(StoredWalkForward {
            header: self.header(parts, u(total))?,
            total_folds: u(folds),
            folds_processed: u(folds_done),
            processed_combinations: u(processed),
            failed_trials: u(failed),
            result: match report {
                Some(text) => Some(self.parse("report_json", &text)?),
                None => None,
            },
        }))
    }

    /// The best trials kept in full.
    fn top(&self, id: &str) -> Result<Vec<KeptTrial>, StoreError> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT rank, combination_index, fitness, backtest_run_id
                     FROM optimization_trials
                     WHERE optimization_id = ?1 AND backtest_run_id IS NOT NULL ORDER BY rank",
                )
                .map_err(self.err())?;
            let rows = stmt
                .query_map([id], |r| {
                    Ok(KeptTrial {
                        rank: u(r.get(0)?),
                        index: u(r.get(1)?),
                        fitness: r.get(2)?,
                        backtest_id: r.get(3)?,
                    })
                })
                .map_err(self.err())?
                .collect::<Result<Vec<_>, _>>()
                .map_err(self.err());
            rows
        })
    }

    /// A page of an optimization's trials in rank order.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn trials(
        &self,
        id: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Page<TrialRecord>, StoreError> {
        self.sorted_trials(id, offset, limit, &TrialOrder::default())
    }

    /// The parameter names of an optimization's trials (those of its first
    /// trial; every trial has the same), `None` when it has no trials.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn trial_param_names(&self, id: &str) -> Result<Option<Vec<String>>, StoreError> {
        let params: Option<String> = self.read(|c| {
            c.query_row(
                "SELECT params_json FROM optimization_trials WHERE optimization_id = ?1 LIMIT 1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
        })?;
        let Some(text) = params else {
            return Ok(None);
        };
        let names: atf_engine::ParamMap = self.parse("params_json", &text)?;
        Ok(Some(names.keys().map(str::to_owned).collect()))
    }

    /// A page of an optimization's trials in `order` (NULLs last, ties by
    /// rank).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn sorted_trials(
        &self,
        id: &str,
        offset: u64,
        limit: u64,
        order: &TrialOrder,
    ) -> Result<Page<TrialRecord>, StoreError> {
        let metric_cols = columns::metrics();
        self.read(|c| {
            let total: i64 = c
                .query_row(
                    "SELECT COUNT(*) FROM optimization_trials WHERE optimization_id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .map_err(self.err())?;
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT combination_index, rank, status, params_json, fitness, error_message,
                        error_stack_trace, backtest_run_id, eval_order, {}
                     FROM optimization_trials WHERE optimization_id = ?1
                     ORDER BY {} LIMIT ?2 OFFSET ?3",
                    metric_cols.list,
                    order.order_by()
                ))
                .map_err(self.err())?;
            let (lim, off, path) = (i(limit), i(offset), order.param_path());
            let mut args: Vec<&dyn ToSql> = vec![&id, &lim, &off];
            if let Some(p) = &path {
                args.push(p);
            }
            let items = stmt
                .query_map(args.as_slice(), |r| trial_of(r, metric_cols))
                .map_err(self.err())?
                .collect::<Result<Vec<_>, _>>()
                .map_err(self.err())?;
            Ok(Page {
                items,
                total: u(total),
                offset,
                limit,
            })
        })
    }

    /// Finished runs of `kind` (of every kind when `None`), newest first,
    /// optionally of one status. Backtests kept as an optimization's best
    /// trials are not listed.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn list(
        &self,
        kind: Option<RunKind>,
        status: Option<RunStatus>,
        offset: u64,
        limit: u64,
    ) -> Result<Page<RunSummary>, StoreError> {
        let metric_cols = columns::metrics();
        let prefixed = |p: &str| {
            metric_cols
                .columns
                .iter()
                .map(|c| format!("{p}{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // the same columns from either table: kind, id, status, strategy,
        // dataset, timeframe, total, processed, failed, error, submitted,
        // finished, has-metrics, every metric, then a walk-forward's
        // headline (passed, WFE, OOS return and drawdown, folds, profitable)
        const NO_WF: &str = "NULL, NULL, NULL, NULL, NULL, NULL";
        let backtests = format!(
            "SELECT 'backtest' AS kind, id, status, strategy, dataset_name, timeframe,
                total_bars, processed_bars, 0, error_message, submitted_at_ms, finished_at_ms,
                report_json IS NOT NULL, {}, {NO_WF}
             FROM backtest_runs
             WHERE optimization_id IS NULL AND (?1 IS NULL OR status = ?1)",
            prefixed("")
        );
        let optimizations = format!(
            "SELECT 'optimization' AS kind, o.id, o.status, o.strategy, o.dataset_name,
                o.timeframe, o.total_combinations,
                o.completed_combinations + o.failed_combinations + o.skipped_combinations,
                o.failed_combinations, o.error_message, o.submitted_at_ms, o.finished_at_ms,
                t.status = 'Completed', {}, {NO_WF}
             FROM optimization_runs o
             LEFT JOIN optimization_trials t ON t.optimization_id = o.id AND t.rank = 1
             WHERE (?1 IS NULL OR o.status = ?1)",
            prefixed("t.")
        );
        // a walk-forward's headline is its verdict and stitched account,
        // not one backtest's metrics
        let walkforwards = format!(
            "SELECT 'walkforward' AS kind, id, status, strategy, dataset_name, timeframe,
                total_combinations, processed_combinations, failed_trials, error_message,
                submitted_at_ms, finished_at_ms, 0, {},
                passed, wfe_pct, oos_return_pct, oos_max_drawdown_pct, folds_run,
                profitable_folds
             FROM walkforward_runs
             WHERE (?1 IS NULL OR status = ?1)",
            vec!["NULL"; metric_cols.columns.len()].join(", ")
        );
        let (rows, count) = match kind {
            Some(RunKind::Backtest) => (
                backtests,
                "SELECT COUNT(*) FROM backtest_runs
                 WHERE optimization_id IS NULL AND (?1 IS NULL OR status = ?1)",
            ),
            Some(RunKind::Optimization) => (
                optimizations,
                "SELECT COUNT(*) FROM optimization_runs WHERE (?1 IS NULL OR status = ?1)",
            ),
            Some(RunKind::WalkForward) => (
                walkforwards,
                "SELECT COUNT(*) FROM walkforward_runs WHERE (?1 IS NULL OR status = ?1)",
            ),
            None => (
                format!("{backtests} UNION ALL {optimizations} UNION ALL {walkforwards}"),
                "SELECT (SELECT COUNT(*) FROM backtest_runs
                         WHERE optimization_id IS NULL AND (?1 IS NULL OR status = ?1))
                      + (SELECT COUNT(*) FROM optimization_runs
                         WHERE (?1 IS NULL OR status = ?1))
                      + (SELECT COUNT(*) FROM walkforward_runs
                         WHERE (?1 IS NULL OR status = ?1))",
            ),
        };
        let sql = format!(
            "SELECT * FROM ({rows}) ORDER BY submitted_at_ms DESC, id DESC LIMIT ?2 OFFSET ?3"
        );
        let status = status.map(status_text);
        self.read(|c| {
            let total: i64 = c
                .query_row(count, [&status], |r| r.get(0))
                .map_err(self.err())?;
            let mut stmt = c.prepare_cached(&sql).map_err(self.err())?;
            let items = stmt
                .query_map(params![status, i(limit), i(offset)], |r| {
                    let has_metrics: Option<bool> = r.get(12)?;
                    let kind = match r.get::<_, String>(0)?.as_str() {
                        "optimization" => RunKind::Optimization,
                        "walkforward" => RunKind::WalkForward,
                        _ => RunKind::Backtest,
                    };
                    Ok(RunSummary {
                        kind,
                        id: r.get(1)?,
                        status: parse_status(&r.get::<_, String>(2)?),
                        strategy: r.get(3)?,
                        dataset: r.get(4)?,
                        timeframe: r.get(5)?,
                        total: u(r.get(6)?),
                        processed: u(r.get(7)?),
                        failed: u(r.get(8)?),
                        error_message: r.get(9)?,
                        submitted_at_ms: r.get(10)?,
                        finished_at_ms: r.get(11)?,
                        metrics: if has_metrics == Some(true) {
                            Some(metric_cols.read(r, 13)?)
                        } else {
                            None
                        },
                        walkforward: walkforward_line(r, 13 + metric_cols.fields.len())?,
                    })
                })
                .map_err(self.err())?
                .collect::<Result<Vec<_>, _>>()
                .map_err(self.err())?;
            Ok(Page {
                items,
                total: u(total),
                offset,
                limit,
            })
        })
    }

    fn header(&self, p: HeaderParts, total: u64) -> Result<RunHeader, StoreError> {
        Ok(RunHeader {
            id: p.id,
            run_key: p.run_key,
            status: parse_status(&p.status),
            strategy: p.strategy,
            strategy_version: p.strategy_version,
            dataset_id: p.dataset_id,
            dataset: p.dataset,
            dataset_sha256: p.dataset_sha256,
            timeframe: p.timeframe,
            from_ms: p.from_ms,
            to_ms: p.to_ms,
            total,
            error_message: p.error_message,
            error_stack_trace: p.error_stack_trace,
            submitted_at_ms: p.submitted_at_ms,
            started_at_ms: p.started_at_ms,
            finished_at_ms: p.finished_at_ms,
            request: self.parse("request_json", &p.request)?,
            spec: self.parse("spec_json", &p.spec)?,
        })
    }
}

/// A walk-forward's headline from the list's columns at `first..`; `None`
/// without a report (its return column NULL).
fn walkforward_line(r: &Row<'_>, first: usize) -> rusqlite::Result<Option<WalkForwardLine>> {
    let Some(oos_return_pct) = r.get::<_, Option<f64>>(first + 2)? else {
        return Ok(None);
    };
    Ok(Some(WalkForwardLine {
        passed: r.get::<_, Option<bool>>(first)?.unwrap_or(false),
        wfe_pct: r.get(first + 1)?,
        oos_return_pct,
        oos_max_drawdown_pct: r.get::<_, Option<f64>>(first + 3)?.unwrap_or(0.0),
        folds: r.get::<_, Option<u32>>(first + 4)?.unwrap_or(0),
        profitable_folds: r.get::<_, Option<u32>>(first + 5)?.unwrap_or(0),
    }))
}

/// A trial row (columns as [`RunStore::sorted_trials`] selects them).
fn trial_of(r: &Row<'_>, metric_cols: &columns::Columns) -> rusqlite::Result<TrialRecord> {
    let status: String = r.get(2)?;
    let params: String = r.get(3)?;
    let params = serde_json::from_str(&params).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e))
    })?;
    let completed = status == "Completed";
    Ok(TrialRecord {
        index: u(r.get(0)?),
        rank: u(r.get(1)?),
        params,
        status: if completed {
            TrialStatus::Completed
        } else {
            TrialStatus::Failed
        },
        fitness: if completed { r.get(4)? } else { None },
        metrics: if completed {
            Some(metric_cols.read(r, 9)?)
        } else {
            None
        },
        error_message: if completed { None } else { r.get(5)? },
        error_stack_trace: if completed { None } else { r.get(6)? },
        backtest_id: r.get(7)?,
        eval_order: r.get::<_, Option<i64>>(8)?.map(u),
    })
}

struct HeaderParts {
    id: String,
    run_key: String,
    status: String,
    strategy: String,
    strategy_version: String,
    dataset_id: i64,
    dataset: String,
    dataset_sha256: String,
    timeframe: String,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    error_message: Option<String>,
    error_stack_trace: Option<String>,
    submitted_at_ms: i64,
    started_at_ms: Option<i64>,
    finished_at_ms: i64,
    request: String,
    spec: String,
}

fn header_parts(r: &Row<'_>) -> rusqlite::Result<HeaderParts> {
    Ok(HeaderParts {
        id: r.get(0)?,
        run_key: r.get(1)?,
        status: r.get(2)?,
        strategy: r.get(3)?,
        strategy_version: r.get(4)?,
        dataset_id: r.get(5)?,
        dataset: r.get(6)?,
        dataset_sha256: r.get(7)?,
        timeframe: r.get(8)?,
        from_ms: r.get(9)?,
        to_ms: r.get(10)?,
        error_message: r.get(11)?,
        error_stack_trace: r.get(12)?,
        submitted_at_ms: r.get(13)?,
        started_at_ms: r.get(14)?,
        finished_at_ms: r.get(15)?,
        request: r.get(16)?,
        spec: r.get(17)?,
    })
}
