//! The JSON answers of the API, in the seeds' field names.
//!
//! A run's status has one shape per kind: a backtest counts bars
//! (`processedBars / totalBars`), an optimization counts combinations
//! (`completedCombinations`, `failedCombinations`, `skippedCombinations`,
//! `processedCombinations / totalCombinations`) and carries its live
//! leaderboard, a walk-forward counts folds (`foldsProcessed / totalFolds`,
//! `currentFold`) and combinations over every fold. All carry `errorMessage`, `errorStackTrace` and a nullable
//! `result`.

use atf_engine::optimize::TrialRecord;
use atf_engine::BacktestReport;
use atf_runs::service::{RunResult, RunState, Submitted};
use atf_runs::store::OptimizationResult;
use atf_runs::walkforward::WalkForwardReport;
use atf_runs::{RunKind, RunSnapshot, RunStatus};
use serde::{Deserialize, Serialize};

/// `202` (or `200` for an identical finished run) to `POST /api/backtests`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
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
    pub status: RunStatus,
    /// Whether an identical run answered instead of a new one.
    pub existing: bool,
}

/// `202` (or `200`) to `POST /api/optimizations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OptimizationSubmission {
    /// Run id.
    pub id: String,
    /// Deduplication key.
    pub run_key: String,
    /// Combinations in the grid.
    pub total_combinations: u64,
    /// `Pending`, or the existing run's status.
    pub status: RunStatus,
    /// Whether an identical run answered instead of a new one.
    pub existing: bool,
}

/// `202` (or `200`) to `POST /api/walkforwards`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WalkForwardSubmission {
    /// Run id.
    pub id: String,
    /// Deduplication key (it covers the windows and the criteria).
    pub run_key: String,
    /// Folds planned.
    pub total_folds: u64,
    /// Combinations in each fold's grid.
    pub combinations_per_fold: u64,
    /// Total work: folds × combinations per fold.
    pub total_combinations: u64,
    /// `Pending`, or the existing run's status.
    pub status: RunStatus,
    /// Whether an identical run answered instead of a new one.
    pub existing: bool,
}

/// `GET /api/backtests/{id}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BacktestStatus {
    /// Run id.
    pub id: String,
    /// Deduplication key.
    pub run_key: String,
    /// `Pending`, `Running`, `Completed`, `Failed` or `Cancelled`.
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
    #[cfg_attr(feature = "server", schema(required = true))]
    pub started_at_ms: Option<i64>,
    /// Ended at.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub finished_at_ms: Option<i64>,
    /// Why it failed.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub error_message: Option<String>,
    /// Where it failed.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub error_stack_trace: Option<String>,
    /// The report (`metrics`, `equityCurve`, `trades`, …) once completed.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub result: Option<BacktestReport>,
}

/// `GET /api/optimizations/{id}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OptimizationStatus {
    /// Run id.
    pub id: String,
    /// Deduplication key.
    pub run_key: String,
    /// `Pending`, `Running`, `Completed`, `Failed` or `Cancelled`.
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
    /// Completed + failed + skipped (a search: completed + failed, the
    /// trials evaluated of its budget).
    pub processed_combinations: u64,
    /// Combinations in the grid (a search: its budget, or the space when
    /// smaller).
    pub total_combinations: u64,
    /// A search's batches planned so far (the genetic search's
    /// generation); absent for a grid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
    /// Accepted at (ms since epoch).
    pub submitted_at_ms: i64,
    /// Started at.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub started_at_ms: Option<i64>,
    /// Ended at.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub finished_at_ms: Option<i64>,
    /// Why the whole optimization failed.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub error_message: Option<String>,
    /// Where.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub error_stack_trace: Option<String>,
    /// The best trials so far (at most 10, best first), live while it runs.
    pub leaders: Vec<TrialRecord>,
    /// Summary, ranked `trials` (the first 1,000; page the rest with
    /// `/trials`) and the best trials' backtest ids, once ended.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub result: Option<OptimizationResult>,
}

/// `GET /api/walkforwards/{id}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WalkForwardStatus {
    /// Run id.
    pub id: String,
    /// Deduplication key.
    pub run_key: String,
    /// `Pending`, `Running`, `Completed`, `Failed` or `Cancelled`.
    pub status: RunStatus,
    /// Strategy name.
    pub strategy: String,
    /// Dataset name.
    pub dataset: String,
    /// Folds finished (in-sample optimization and out-of-sample backtest).
    pub folds_processed: u64,
    /// Folds planned.
    pub total_folds: u64,
    /// The fold working now (1 = first), while running.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub current_fold: Option<u64>,
    /// Combinations processed over every fold (completed, failed or skipped).
    pub processed_combinations: u64,
    /// Folds × combinations per fold.
    pub total_combinations: u64,
    /// In-sample trials that failed, over every fold.
    pub failed_trials: u64,
    /// Accepted at (ms since epoch).
    pub submitted_at_ms: i64,
    /// Started at.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub started_at_ms: Option<i64>,
    /// Ended at.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub finished_at_ms: Option<i64>,
    /// Why the walk-forward failed.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub error_message: Option<String>,
    /// Where.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub error_stack_trace: Option<String>,
    /// The report once ended (partial when cancelled: the folds that
    /// finished).
    #[cfg_attr(feature = "server", schema(required = true))]
    pub result: Option<WalkForwardReport>,
}

/// Any status shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnyStatus {
    /// A backtest's.
    Backtest(Box<BacktestStatus>),
    /// An optimization's.
    Optimization(Box<OptimizationStatus>),
    /// A walk-forward's.
    WalkForward(Box<WalkForwardStatus>),
}

impl AnyStatus {
    /// The status of `state`, in the shape of its kind.
    #[must_use]
    pub fn of(state: RunState) -> Self {
        let RunState {
            snapshot: s,
            result,
        } = state;
        match s.kind {
            RunKind::Backtest => Self::Backtest(Box::new(backtest_status(
                s,
                match result {
                    Some(RunResult::Backtest(r)) => Some(*r),
                    _ => None,
                },
            ))),
            RunKind::Optimization => Self::Optimization(Box::new(optimization_status(
                s,
                match result {
                    Some(RunResult::Optimization(r)) => Some(*r),
                    _ => None,
                },
            ))),
            RunKind::WalkForward => Self::WalkForward(Box::new(walkforward_status(
                s,
                match result {
                    Some(RunResult::WalkForward(r)) => Some(*r),
                    _ => None,
                },
            ))),
        }
    }

    /// Its lifecycle state.
    #[must_use]
    pub fn status(&self) -> RunStatus {
        match self {
            Self::Backtest(b) => b.status,
            Self::Optimization(o) => o.status,
            Self::WalkForward(w) => w.status,
        }
    }
}

fn walkforward_status(s: RunSnapshot, result: Option<WalkForwardReport>) -> WalkForwardStatus {
    let folds = s.folds.unwrap_or_default();
    WalkForwardStatus {
        processed_combinations: s.processed(),
        total_combinations: s.total,
        failed_trials: s.failed,
        folds_processed: folds.processed,
        total_folds: folds.total,
        current_fold: folds.current,
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

fn backtest_status(s: RunSnapshot, result: Option<BacktestReport>) -> BacktestStatus {
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

fn optimization_status(s: RunSnapshot, result: Option<OptimizationResult>) -> OptimizationStatus {
    OptimizationStatus {
        processed_combinations: s.processed(),
        completed_combinations: s.completed,
        failed_combinations: s.failed,
        skipped_combinations: s.skipped,
        total_combinations: s.total,
        generation: s.generation,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Submission {
    /// To `POST /api/backtests`.
    Backtest(BacktestSubmission),
    /// To `POST /api/walkforwards` (before the optimization's, whose
    /// fields it has too: untagged variants are tried in order).
    WalkForward(WalkForwardSubmission),
    /// To `POST /api/optimizations`.
    Optimization(OptimizationSubmission),
}

impl Submission {
    /// The answer to a submission of `kind`.
    #[must_use]
    pub fn of(kind: RunKind, s: Submitted) -> Self {
        match kind {
            RunKind::Backtest => Self::Backtest(BacktestSubmission {
                id: s.id,
                run_key: s.run_key,
                total_bars: s.total,
                status: s.status,
                existing: s.existing,
            }),
            RunKind::Optimization => Self::Optimization(OptimizationSubmission {
                id: s.id,
                run_key: s.run_key,
                total_combinations: s.total,
                status: s.status,
                existing: s.existing,
            }),
            RunKind::WalkForward => {
                let folds = s.folds.unwrap_or(0);
                Self::WalkForward(WalkForwardSubmission {
                    id: s.id,
                    run_key: s.run_key,
                    total_folds: folds,
                    combinations_per_fold: s.total.checked_div(folds).unwrap_or(0),
                    total_combinations: s.total,
                    status: s.status,
                    existing: s.existing,
                })
            }
        }
    }

    /// Run id.
    #[must_use]
    pub fn id(&self) -> &str {
        match self {
            Self::Backtest(b) => &b.id,
            Self::Optimization(o) => &o.id,
            Self::WalkForward(w) => &w.id,
        }
    }

    /// Total work: bars or combinations.
    #[must_use]
    pub fn total(&self) -> u64 {
        match self {
            Self::Backtest(b) => b.total_bars,
            Self::Optimization(o) => o.total_combinations,
            Self::WalkForward(w) => w.total_combinations,
        }
    }

    /// Status when answered.
    #[must_use]
    pub fn status(&self) -> RunStatus {
        match self {
            Self::Backtest(b) => b.status,
            Self::Optimization(o) => o.status,
            Self::WalkForward(w) => w.status,
        }
    }

    /// Whether an identical run answered.
    #[must_use]
    pub fn existing(&self) -> bool {
        match self {
            Self::Backtest(b) => b.existing,
            Self::Optimization(o) => o.existing,
            Self::WalkForward(w) => w.existing,
        }
    }
}

/// `200` to a cancel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CancelResponse {
    /// Run id.
    pub id: String,
    /// `Cancelled`.
    pub status: RunStatus,
}

/// `GET /api/health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The server's version.
    pub version: String,
    /// The engine's semantics version (part of every run key).
    pub engine_version: String,
    /// The fingerprint of this server's binary (part of every run key; a
    /// worker must run the same build).
    pub build: String,
    /// `memory` or `redis`.
    pub cache_backend: String,
    /// Runs waiting for a slot.
    pub queue_depth: usize,
    /// Runs working now.
    pub running: usize,
    /// Worker slots (backtests + optimizations).
    pub active_workers: usize,
    /// What this server refuses above: clients check before submitting.
    pub limits: Limits,
}

/// The bounds a server enforces, published in `/api/health` so clients
/// (the dashboard's form) check against the server's own settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Limits {
    /// Largest grid an optimization may have (`--max-combinations`).
    pub max_combinations: u64,
    /// Most best trials an optimization keeps in full (`top`).
    pub max_top: u64,
    /// Most equity-curve points an optimization's kept trials hold
    /// together: `min(top, combinations)` × the period's bars
    /// (`--max-kept-points`).
    pub max_kept_points: u64,
    /// Largest page of a list or of an optimization's trials (`limit`).
    pub max_page: u64,
    /// Largest dataset upload, bytes.
    pub max_upload_bytes: u64,
    /// Runs of one kind that may wait for a slot (`--max-pending`); a
    /// submission beyond it answers `429`.
    pub max_pending: u64,
    /// Event streams open at once (`--max-event-streams`); beyond, `503`.
    pub max_event_streams: u64,
    /// Most bars an uploaded dataset may have (`--max-rows`).
    pub max_import_rows: u64,
    /// Largest size an uploaded gzip may expand to, bytes
    /// (`--max-decompressed-mb`; also at most `--max-gzip-ratio` times its
    /// compressed size, and at least `--gzip-floor-mb`).
    pub max_decompressed_bytes: u64,
}

/// One bar of `GET /api/datasets/{id}/bars`, in display units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChartBar {
    /// Open time, ms since epoch (UTC).
    #[cfg_attr(feature = "server", schema(example = 1_704_067_200_000_i64))]
    pub time: i64,
    /// Open price.
    #[cfg_attr(feature = "server", schema(example = 470.12))]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DatasetBars {
    /// Dataset name.
    #[cfg_attr(feature = "server", schema(example = "spy-1m"))]
    pub dataset: String,
    /// The timeframe of `bars`: the one asked for, or a coarser standard
    /// one when the period holds more bars than `limit` at it.
    #[cfg_attr(feature = "server", schema(example = "1h"))]
    pub timeframe: String,
    /// The bars, oldest first.
    pub bars: Vec<ChartBar>,
    /// Whether even weekly bars did not fit `limit`, so only the last
    /// `limit` bars are here.
    pub truncated: bool,
}

/// `GET /api/backtests/{id}`: the stored run once it has ended, its
/// status while pending or running.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum BacktestRun {
    /// Ended: the stored run.
    Stored(Box<atf_runs::store::StoredBacktest>),
    /// Pending or running: its status.
    InFlight(Box<BacktestStatus>),
}

/// `GET /api/walkforwards/{id}`: the stored run once it has ended, its
/// status while pending or running.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum WalkForwardRun {
    /// Ended: the stored run.
    Stored(Box<atf_runs::store::StoredWalkForward>),
    /// Pending or running: its status.
    InFlight(Box<WalkForwardStatus>),
}

/// `GET /api/optimizations/{id}`: the stored run once it has ended, its
/// status while pending or running.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum OptimizationRun {
    /// Ended: the stored run.
    Stored(Box<atf_runs::store::StoredOptimization>),
    /// Pending or running: its status.
    InFlight(Box<OptimizationStatus>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A client reads each submission answer as its own kind: a
    /// walk-forward's has every field of an optimization's too.
    #[test]
    fn submissions_read_back_as_their_kind() {
        let opt = json!({"id": "o", "runKey": "k", "totalCombinations": 6,
            "status": "Pending", "existing": false});
        let wf = json!({"id": "w", "runKey": "k", "totalFolds": 3, "combinationsPerFold": 2,
            "totalCombinations": 6, "status": "Pending", "existing": false});
        let bt = json!({"id": "b", "runKey": "k", "totalBars": 6,
            "status": "Pending", "existing": false});
        assert!(matches!(
            serde_json::from_value(opt).unwrap(),
            Submission::Optimization(_)
        ));
        let Submission::WalkForward(w) = serde_json::from_value(wf.clone()).unwrap() else {
            panic!("{wf} read as another kind");
        };
        assert_eq!((w.total_folds, w.combinations_per_fold), (3, 2));
        assert!(matches!(
            serde_json::from_value(bt).unwrap(),
            Submission::Backtest(_)
        ));
        let s = Submission::of(
            RunKind::WalkForward,
            Submitted {
                id: "w".into(),
                run_key: "k".into(),
                status: RunStatus::Pending,
                total: 6,
                folds: Some(3),
                existing: false,
            },
        );
        assert_eq!(serde_json::to_value(&s).unwrap(), wf);
        assert_eq!(s.total(), 6);
    }
}
