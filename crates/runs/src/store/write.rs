//! Writing a finished run: one transaction per run.

use super::columns;
use super::model::{BacktestEnd, OptimizationEnd, RunHeader, WalkForwardEnd};
use super::{i, lock, status_text, RunStore, StoreError};
use crate::key::{RunKind, RunSpec};
use crate::status::RunStatus;
use atf_engine::optimize::{OptimizationReport, TrialOutcome};
use atf_engine::report::EquityCurve;
use atf_engine::{BacktestReport, ParamMap};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, ToSql, Transaction};

/// Opens the run's one transaction. A transaction a failed save could not
/// roll back (its disk full) is rolled back first: nothing of it is ever
/// committed with the next run.
fn begin(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    if !conn.is_autocommit() {
        conn.execute_batch("ROLLBACK")?;
    }
    conn.transaction()
}

impl RunStore {
    /// Writes a finished backtest (and its curve and trades) at once.
    ///
    /// # Errors
    /// [`StoreError`]; nothing is written then.
    pub fn save_backtest(&self, end: &BacktestEnd<'_>) -> Result<(), StoreError> {
        let mut conn = lock(&self.writer);
        let tx = begin(&mut conn).map_err(self.err())?;
        let params = ParamMap::from(end.params);
        insert_backtest(&tx, end.header, None, &params, end.processed, end.report)
            .map_err(self.err())?;
        tx.commit().map_err(self.err())
    }

    /// Writes a finished optimization: its row, every trial, and the best
    /// trials' full reports (as backtest runs of the optimization).
    ///
    /// # Errors
    /// [`StoreError`]; nothing is written then.
    pub fn save_optimization(&self, end: &OptimizationEnd<'_>) -> Result<(), StoreError> {
        let h = end.header;
        // the robustness in its own column (a JSON object SQL can query),
        // the rest of the summary without it
        let (summary, robustness) = match end.report.map(|r| r.summary()) {
            Some(mut s) => {
                let robustness = s
                    .robustness
                    .take()
                    .map(|r| serde_json::to_string(&r).unwrap_or_default());
                (
                    Some(serde_json::to_string(&s).unwrap_or_default()),
                    robustness,
                )
            }
            None => (None, None),
        };
        let maximize = end.spec.maximize.clone().unwrap_or_default();
        let mut conn = lock(&self.writer);
        let tx = begin(&mut conn).map_err(self.err())?;
        tx.execute(
            "INSERT INTO optimization_runs (id, run_key, status, strategy, strategy_version,
                dataset_id, dataset_name, dataset_sha256, timeframe, from_ms, to_ms, spec_json,
                request_json, maximize, total_combinations, completed_combinations,
                failed_combinations, skipped_combinations, error_message, error_stack_trace,
                submitted_at_ms, started_at_ms, finished_at_ms, summary_json, robustness_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
            params![
                h.id,
                h.run_key,
                status_text(h.status),
                h.strategy,
                h.strategy_version,
                h.dataset_id,
                h.dataset,
                h.dataset_sha256,
                h.timeframe,
                h.from_ms,
                h.to_ms,
                spec_text(&h.spec),
                h.request.to_string(),
                maximize,
                i(h.total),
                i(end.completed),
                i(end.failed),
                i(end.skipped),
                h.error_message,
                h.error_stack_trace,
                h.submitted_at_ms,
                h.started_at_ms,
                h.finished_at_ms,
                summary,
                robustness,
            ],
        )
        .map_err(self.err())?;
        if let Some(report) = end.report {
            save_trials(&tx, h, end.spec, report).map_err(self.err())?;
            if h.status == RunStatus::Cancelled {
                super::recorded::save(&tx, &h.id, &report.trials).map_err(self.err())?;
            }
        }
        tx.commit().map_err(self.err())
    }
}

impl RunStore {
    /// Writes a finished walk-forward: one row, its report as JSON.
    ///
    /// # Errors
    /// [`StoreError`]; nothing is written then.
    pub fn save_walkforward(&self, end: &WalkForwardEnd<'_>) -> Result<(), StoreError> {
        let h = end.header;
        let report = end
            .report
            .map(|r| serde_json::to_string(r).unwrap_or_default());
        let mut conn = lock(&self.writer);
        let tx = begin(&mut conn).map_err(self.err())?;
        tx.execute(
            "INSERT INTO walkforward_runs (id, run_key, status, strategy, strategy_version,
                dataset_id, dataset_name, dataset_sha256, timeframe, from_ms, to_ms, spec_json,
                request_json, total_combinations, processed_combinations, failed_trials,
                total_folds, folds_processed, passed, wfe_pct, error_message, error_stack_trace,
                submitted_at_ms, started_at_ms, finished_at_ms, report_json, oos_return_pct,
                oos_max_drawdown_pct, folds_run, profitable_folds)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)",
            params![
                h.id,
                h.run_key,
                status_text(h.status),
                h.strategy,
                h.strategy_version,
                h.dataset_id,
                h.dataset,
                h.dataset_sha256,
                h.timeframe,
                h.from_ms,
                h.to_ms,
                spec_text(&h.spec),
                h.request.to_string(),
                i(h.total),
                i(end.processed),
                i(end.failed),
                i(end.total_folds),
                i(end.folds_processed),
                end.report.map(|r| r.passed),
                end.report.and_then(|r| r.wfe_pct),
                h.error_message,
                h.error_stack_trace,
                h.submitted_at_ms,
                h.started_at_ms,
                h.finished_at_ms,
                report,
                end.report.map(|r| r.stitched.total_return_pct),
                end.report.map(|r| r.stitched.max_drawdown_pct),
                end.report.map(|r| r.stitched.folds),
                end.report.map(|r| r.stitched.profitable_folds),
            ],
        )
        .map_err(self.err())?;
        tx.commit().map_err(self.err())
    }
}

fn spec_text(spec: &RunSpec) -> String {
    serde_json::to_string(spec).unwrap_or_else(|_| "{}".into())
}

fn insert_backtest(
    tx: &Transaction<'_>,
    h: &RunHeader,
    optimization: Option<(&str, u64)>,
    params: &ParamMap,
    processed: u64,
    report: Option<&BacktestReport>,
) -> rusqlite::Result<()> {
    // the report without its curve and trades, which have their own tables
    // (the curve goes straight to text: as a JSON value it would be one
    // small map per point)
    let headline = report.map(|r| {
        let mut h = r.clone();
        h.equity_curve = EquityCurve::default();
        h.trades.clear();
        serde_json::to_string(&h).unwrap_or_default()
    });
    let curve = report.map(|r| serde_json::to_string(&r.equity_curve).unwrap_or_default());
    let metric_cols = columns::metrics();
    let params_json = serde_json::to_string(params).unwrap_or_else(|_| "{}".into());
    let spec_json = spec_text(&h.spec);
    let request_json = h.request.to_string();
    let fixed: [&dyn ToSql; 24] = [
        &h.id,
        &h.run_key,
        &optimization.map(|o| o.0),
        &optimization.map(|o| i(o.1)),
        &status_text(h.status),
        &h.strategy,
        &h.strategy_version,
        &h.dataset_id,
        &h.dataset,
        &h.dataset_sha256,
        &h.timeframe,
        &h.from_ms,
        &h.to_ms,
        &params_json,
        &spec_json,
        &request_json,
        &i(h.total),
        &i(processed),
        &h.error_message,
        &h.error_stack_trace,
        &h.submitted_at_ms,
        &h.started_at_ms,
        &h.finished_at_ms,
        &headline,
    ];
    let metric_values = match report {
        Some(r) => metric_cols.values(&r.metrics)?,
        None => vec![SqlValue::Null; metric_cols.fields.len()],
    };
    let all: Vec<&dyn ToSql> = fixed
        .iter()
        .copied()
        .chain(metric_values.iter().map(|v| v as &dyn ToSql))
        .collect();
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT INTO backtest_runs (id, run_key, optimization_id, combination_index, status,
            strategy, strategy_version, dataset_id, dataset_name, dataset_sha256, timeframe,
            from_ms, to_ms, params_json, spec_json, request_json, total_bars, processed_bars,
            error_message, error_stack_trace, submitted_at_ms, started_at_ms, finished_at_ms,
            report_json, {})
         VALUES ({})",
        metric_cols.list,
        (1..=24 + metric_cols.fields.len())
            .map(|n| format!("?{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))?;
    stmt.execute(all.as_slice())?;
    if let (Some(curve), Some(report)) = (curve, report) {
        tx.prepare_cached("INSERT INTO equity_curves (run_id, points_json) VALUES (?1, ?2)")?
            .execute(params![h.id, curve])?;
        let trade_cols = columns::trades();
        let mut stmt = tx.prepare_cached(&format!(
            "INSERT INTO trades (run_id, seq, {}) VALUES (?1, ?2, {})",
            trade_cols.list,
            trade_cols.placeholders(3)
        ))?;
        for (seq, t) in report.trades.iter().enumerate() {
            let seq = i64::try_from(seq).unwrap_or(i64::MAX);
            let vals = trade_cols.values(t)?;
            let mut all: Vec<&dyn ToSql> = vec![&h.id, &seq];
            all.extend(vals.iter().map(|v| v as &dyn ToSql));
            stmt.execute(all.as_slice())?;
        }
    }
    Ok(())
}

fn save_trials(
    tx: &Transaction<'_>,
    h: &RunHeader,
    spec: &RunSpec,
    report: &OptimizationReport,
) -> rusqlite::Result<()> {
    // the best trials' full reports become backtest runs of this optimization
    let mut kept = std::collections::HashMap::new();
    for top in &report.top {
        let id = uuid::Uuid::new_v4().to_string();
        let params = report.spec.params_of(top.index);
        let mut bt_spec = spec.clone();
        bt_spec.kind = RunKind::Backtest;
        bt_spec.axes.clear();
        bt_spec.constraints.clear();
        bt_spec.maximize = None;
        bt_spec.top = None;
        bt_spec.params = crate::key::canonical_params(&params);
        let params = ParamMap::from(&params);
        let mut request = h.request.clone();
        if let Some(m) = request.as_object_mut() {
            for k in ["axes", "constraints", "maximize", "top"] {
                m.remove(k);
            }
            m.insert(
                "params".into(),
                serde_json::to_value(&params).unwrap_or_default(),
            );
        }
        let header = RunHeader {
            id: id.clone(),
            run_key: bt_spec.key().to_string(),
            status: RunStatus::Completed,
            total: top.report.metrics.sub_bars,
            error_message: None,
            error_stack_trace: None,
            request,
            spec: bt_spec,
            ..h.clone()
        };
        insert_backtest(
            tx,
            &header,
            Some((&h.id, top.index)),
            &params,
            top.report.metrics.sub_bars,
            Some(&top.report),
        )?;
        kept.insert(top.index, id);
    }
    let metric_cols = columns::metrics();
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT INTO optimization_trials (optimization_id, combination_index, rank, status,
            params_json, fitness, error_message, error_stack_trace, backtest_run_id, eval_order,
            {})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, {})",
        metric_cols.list,
        metric_cols.placeholders(11)
    ))?;
    // rows go in in combination order (the primary key's), each with its rank
    let mut rank_of = vec![0usize; report.trials.len()];
    for (r, &i) in report.ranking().iter().enumerate() {
        rank_of[i] = r + 1;
    }
    let eval_order = report.eval_positions();
    let nulls = vec![SqlValue::Null; metric_cols.fields.len()];
    for (trial, &rank) in report.trials.iter().zip(&rank_of) {
        let params = serde_json::to_string(&ParamMap::from(&report.spec.params_of(trial.index)))
            .unwrap_or_else(|_| "{}".into());
        let (status, fitness, error, trace, vals) = match &trial.outcome {
            TrialOutcome::Completed(m) => (
                "Completed",
                report.spec.fitness.score(m, &report.common),
                None,
                None,
                metric_cols.values(&m.expand(&report.common, None))?,
            ),
            TrialOutcome::Failed(f) => (
                "Failed",
                None,
                Some(&*f.message),
                Some(&*f.backtrace),
                nulls.clone(),
            ),
        };
        let rank = i64::try_from(rank).unwrap_or(i64::MAX);
        let index = i(trial.index);
        let kept_id = kept.get(&trial.index);
        let evaluated = eval_order
            .binary_search_by_key(&trial.index, |&(index, _)| index)
            .ok()
            .map(|k| i(eval_order[k].1));
        let fixed: [&dyn ToSql; 10] = [
            &h.id, &index, &rank, &status, &params, &fitness, &error, &trace, &kept_id, &evaluated,
        ];
        let all: Vec<&dyn ToSql> = fixed
            .iter()
            .copied()
            .chain(vals.iter().map(|v| v as &dyn ToSql))
            .collect();
        stmt.execute(all.as_slice())?;
    }
    Ok(())
}
