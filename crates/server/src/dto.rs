//! The JSON answers of the run routes, in the seeds' field names.
//!
//! A run's status has one shape per kind: a backtest counts bars
//! (`processedBars / totalBars`), an optimization counts combinations
//! (`completedCombinations`, `failedCombinations`, `skippedCombinations`,
//! `processedCombinations / totalCombinations`) and carries its live
//! leaderboard. Both carry `errorMessage`, `errorStackTrace` and a nullable
//! `result`.

use atf_runs::service::{RunState, Submitted};
use atf_runs::{RunKind, RunSnapshot, RunStatus};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// `202` (or `200` for an identical finished run) to `POST /api/backtests`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BacktestSubmission {
    /// Run id, for `/status`, `/events`, `/cancel`.
    pub id: String,
    /// Deduplication key.
    pub run_key: String,
    /// Sub-bars to process (exact for a whole dataset; for a part of it,
    /// estimated from the catalog and made exact when the run starts).
    pub total_bars: u64,
    /// `Pending`, or the existing run's status.
    #[schema(value_type = crate::openapi::RunStatusSchema)]
    pub status: RunStatus,
    /// Whether an identical run answered instead of a new one.
    pub existing: bool,
}

/// `202` (or `200`) to `POST /api/optimizations`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OptimizationSubmission {
    /// Run id.
    pub id: String,
    /// Deduplication key.
    pub run_key: String,
    /// Combinations in the grid.
    pub total_combinations: u64,
    /// `Pending`, or the existing run's status.
    #[schema(value_type = crate::openapi::RunStatusSchema)]
    pub status: RunStatus,
    /// Whether an identical run answered instead of a new one.
    pub existing: bool,
}

/// `GET /api/backtests/{id}/status`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BacktestStatus {
    /// Run id.
    pub id: String,
    /// Deduplication key.
    pub run_key: String,
    /// `Pending`, `Running`, `Completed`, `Failed` or `Cancelled`.
    #[schema(value_type = crate::openapi::RunStatusSchema)]
    pub status: RunStatus,
    /// Strategy name.
    pub strategy: String,
    /// Dataset name.
    pub dataset: String,
    /// Sub-bars simulated so far.
    pub processed_bars: u64,
    /// Sub-bars in the period.
    pub total_bars: u64,
    /// Accepted at (ms since epoch).
    pub submitted_at_ms: i64,
    /// Started at.
    #[schema(required = true)]
    pub started_at_ms: Option<i64>,
    /// Ended at.
    #[schema(required = true)]
    pub finished_at_ms: Option<i64>,
    /// Why it failed.
    #[schema(required = true)]
    pub error_message: Option<String>,
    /// Where it failed.
    #[schema(required = true)]
    pub error_stack_trace: Option<String>,
    /// The report (`metrics`, `equityCurve`, `trades`, …) once completed.
    #[schema(value_type = Option<Object>, required = true)]
    pub result: Option<Value>,
}

/// `GET /api/optimizations/{id}/status`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OptimizationStatus {
    /// Run id.
    pub id: String,
    /// Deduplication key.
    pub run_key: String,
    /// `Pending`, `Running`, `Completed`, `Failed` or `Cancelled`.
    #[schema(value_type = crate::openapi::RunStatusSchema)]
    pub status: RunStatus,
    /// Strategy name.
    pub strategy: String,
    /// Dataset name.
    pub dataset: String,
    /// Trials that ran to the end.
    pub completed_combinations: u64,
    /// Trials that failed (each kept with its error and stack trace).
    pub failed_combinations: u64,
    /// Combinations skipped by a constraint.
    pub skipped_combinations: u64,
    /// Completed + failed + skipped.
    pub processed_combinations: u64,
    /// Combinations in the grid.
    pub total_combinations: u64,
    /// Accepted at (ms since epoch).
    pub submitted_at_ms: i64,
    /// Started at.
    #[schema(required = true)]
    pub started_at_ms: Option<i64>,
    /// Ended at.
    #[schema(required = true)]
    pub finished_at_ms: Option<i64>,
    /// Why the whole optimization failed.
    #[schema(required = true)]
    pub error_message: Option<String>,
    /// Where.
    #[schema(required = true)]
    pub error_stack_trace: Option<String>,
    /// The best trials so far (at most 10, best first), live while it runs.
    #[schema(value_type = Vec<Object>)]
    pub leaders: Vec<Value>,
    /// Summary, ranked `trials` (the first 1,000; page the rest with
    /// `/trials`) and the best trials' backtest ids, once ended.
    #[schema(value_type = Option<Object>, required = true)]
    pub result: Option<Value>,
}

/// Either status shape.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum AnyStatus {
    /// A backtest's.
    Backtest(BacktestStatus),
    /// An optimization's.
    Optimization(OptimizationStatus),
}

impl AnyStatus {
    /// The status of `state`, in the shape of its kind.
    pub fn of(state: RunState) -> Self {
        let RunState {
            snapshot: s,
            result,
        } = state;
        match s.kind {
            RunKind::Backtest => Self::Backtest(backtest_status(s, result)),
            RunKind::Optimization => Self::Optimization(optimization_status(s, result)),
        }
    }

    /// Its lifecycle state.
    pub fn status(&self) -> RunStatus {
        match self {
            Self::Backtest(b) => b.status,
            Self::Optimization(o) => o.status,
        }
    }
}

fn backtest_status(s: RunSnapshot, result: Option<Value>) -> BacktestStatus {
    BacktestStatus {
        processed_bars: s.completed,
        total_bars: s.total,
        id: s.id,
        run_key: s.run_key,
        status: s.status,
        strategy: s.strategy,
        dataset: s.dataset,
        submitted_at_ms: s.submitted_at_ms,
        started_at_ms: s.started_at_ms,
        finished_at_ms: s.finished_at_ms,
        error_message: s.error_message,
        error_stack_trace: s.error_stack_trace,
        result,
    }
}

fn optimization_status(s: RunSnapshot, result: Option<Value>) -> OptimizationStatus {
    OptimizationStatus {
        processed_combinations: s.processed(),
        completed_combinations: s.completed,
        failed_combinations: s.failed,
        skipped_combinations: s.skipped,
        total_combinations: s.total,
        id: s.id,
        run_key: s.run_key,
        status: s.status,
        strategy: s.strategy,
        dataset: s.dataset,
        submitted_at_ms: s.submitted_at_ms,
        started_at_ms: s.started_at_ms,
        finished_at_ms: s.finished_at_ms,
        error_message: s.error_message,
        error_stack_trace: s.error_stack_trace,
        leaders: s.leaders,
        result,
    }
}

/// The submission answer in the shape of its kind.
pub fn submission(kind: RunKind, s: Submitted) -> Value {
    let v = match kind {
        RunKind::Backtest => serde_json::to_value(BacktestSubmission {
            id: s.id,
            run_key: s.run_key,
            total_bars: s.total,
            status: s.status,
            existing: s.existing,
        }),
        RunKind::Optimization => serde_json::to_value(OptimizationSubmission {
            id: s.id,
            run_key: s.run_key,
            total_combinations: s.total,
            status: s.status,
            existing: s.existing,
        }),
    };
    v.unwrap_or(Value::Null)
}

/// `200` to a cancel.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelResponse {
    /// Run id.
    pub id: String,
    /// `Cancelled`.
    #[schema(value_type = crate::openapi::RunStatusSchema)]
    pub status: RunStatus,
}

/// `GET /api/health`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// The server's version.
    pub version: &'static str,
    /// The engine's semantics version (part of every run key).
    pub engine_version: &'static str,
    /// The fingerprint of this server's binary (part of every run key; a
    /// worker must run the same build).
    pub build: &'static str,
    /// `memory` or `redis`.
    pub cache_backend: &'static str,
    /// Runs waiting for a slot.
    pub queue_depth: usize,
    /// Runs working now.
    pub running: usize,
    /// Worker slots (backtests + optimizations).
    pub active_workers: usize,
}

/// One bar of `GET /api/datasets/{id}/bars`, in display units.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChartBar {
    /// Open time, ms since epoch (UTC).
    #[schema(example = 1_704_067_200_000_i64)]
    pub time: i64,
    /// Open price.
    #[schema(example = 470.12)]
    pub open: f64,
    /// High price.
    pub high: f64,
    /// Low price.
    pub low: f64,
    /// Close price.
    pub close: f64,
    /// Volume (summed when resampled).
    pub volume: f64,
}

/// `GET /api/datasets/{id}/bars`: a period of a dataset's bars for a chart.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetBars {
    /// Dataset name.
    #[schema(example = "spy-1m")]
    pub dataset: String,
    /// The timeframe of `bars`: the one asked for, or a coarser standard
    /// one when the period holds more bars than `limit` at it.
    #[schema(example = "1h")]
    pub timeframe: String,
    /// The bars, oldest first.
    pub bars: Vec<ChartBar>,
    /// Whether even weekly bars did not fit `limit`, so only the last
    /// `limit` bars are here.
    pub truncated: bool,
}
