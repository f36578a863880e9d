//! What the run database hands out: stored runs as typed values, the same
//! types the API serves and the CLI reads back.

use crate::key::{RunKind, RunSpec};
use crate::status::RunStatus;
use crate::walkforward::WalkForwardReport;
use atf_engine::optimize::{KeptTrial, OptimizationReport, OptimizationSummary, TrialRecord};
use atf_engine::{BacktestReport, PerformanceMetrics};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What every stored run has, whatever its kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunHeader {
    /// Run id.
    pub id: String,
    /// Deduplication key.
    pub run_key: String,
    /// Terminal status.
    pub status: RunStatus,
    /// Strategy name.
    pub strategy: String,
    /// Strategy version.
    pub strategy_version: String,
    /// Catalog id of the dataset.
    pub dataset_id: i64,
    /// Dataset name.
    pub dataset: String,
    /// Dataset checksum.
    pub dataset_sha256: String,
    /// Main timeframe.
    pub timeframe: String,
    /// Period start, ms (`None`: the dataset's start).
    pub from_ms: Option<i64>,
    /// Period end, exclusive, ms (`None`: the dataset's end).
    pub to_ms: Option<i64>,
    /// Total work: sub-bars or combinations.
    pub total: u64,
    /// Why it failed.
    pub error_message: Option<String>,
    /// Where it failed.
    pub error_stack_trace: Option<String>,
    /// Accepted at, ms.
    pub submitted_at_ms: i64,
    /// Started at, ms.
    pub started_at_ms: Option<i64>,
    /// Ended at, ms.
    pub finished_at_ms: i64,
    /// The request body exactly as submitted (what "run again" resubmits;
    /// kept verbatim, so it is the user's JSON, not a parsed form).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = crate::request_schema::SubmittedRequest)
    )]
    pub request: Value,
    /// What the run key was computed from.
    pub spec: RunSpec,
}

/// A stored backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredBacktest {
    /// Common fields.
    #[serde(flatten)]
    pub header: RunHeader,
    /// Sub-bars simulated.
    pub processed: u64,
    /// The optimization it is a kept trial of.
    pub optimization_id: Option<String>,
    /// Its combination index there.
    pub combination_index: Option<u64>,
    /// Resolved parameters.
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, atf_engine::ParamScalar>))]
    pub params: atf_engine::ParamMap,
    /// The report (metrics, equity curve, trades), if it completed.
    pub result: Option<BacktestReport>,
}

/// A stored optimization's result: its summary, the first page of its
/// ranked trials and where its best trials' full backtests are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OptimizationResult {
    /// What ran and how it ended.
    #[serde(flatten)]
    pub summary: OptimizationSummary,
    /// Trials stored (completed and failed; `…/trials` pages through them).
    pub trial_count: u64,
    /// The best trials, best first (the first page).
    pub trials: Vec<TrialRecord>,
    /// The best trials kept in full, as backtests of this optimization.
    pub top: Vec<KeptTrial>,
}

/// A stored optimization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredOptimization {
    /// Common fields.
    #[serde(flatten)]
    pub header: RunHeader,
    /// Trials that completed.
    pub completed: u64,
    /// Trials that failed.
    pub failed: u64,
    /// Combinations skipped by constraints.
    pub skipped: u64,
    /// Summary and ranked trials (complete, or partial when cancelled).
    pub result: Option<OptimizationResult>,
}

/// A stored walk-forward.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredWalkForward {
    /// Common fields (`total`: folds × combinations per fold).
    #[serde(flatten)]
    pub header: RunHeader,
    /// Folds planned.
    pub total_folds: u64,
    /// Folds finished.
    pub folds_processed: u64,
    /// Combinations processed over every fold (completed, failed or skipped).
    pub processed_combinations: u64,
    /// In-sample trials that failed, over every fold.
    pub failed_trials: u64,
    /// The report (partial when cancelled: the folds that finished).
    pub result: Option<WalkForwardReport>,
}

/// One line of a runs list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunSummary {
    /// Run id.
    pub id: String,
    /// Backtest, optimization or walk-forward.
    pub kind: RunKind,
    /// Terminal status.
    pub status: RunStatus,
    /// Strategy name.
    pub strategy: String,
    /// Dataset name.
    pub dataset: String,
    /// Main timeframe.
    pub timeframe: String,
    /// Total work.
    pub total: u64,
    /// Work done (bars, or completed + failed + skipped combinations, over
    /// every fold of a walk-forward).
    pub processed: u64,
    /// Failed trials (optimizations, walk-forwards).
    pub failed: u64,
    /// Why it failed.
    pub error_message: Option<String>,
    /// Accepted at, ms.
    pub submitted_at_ms: i64,
    /// Ended at, ms.
    pub finished_at_ms: i64,
    /// Metrics of a completed backtest, or of an optimization's best trial.
    pub metrics: Option<PerformanceMetrics>,
    /// A walk-forward's headline (`null` for other kinds, and for a
    /// walk-forward that left no report or is still running).
    #[serde(default)]
    pub walkforward: Option<WalkForwardLine>,
}

/// A walk-forward's headline in a runs list: its verdict and its stitched
/// out-of-sample account (the report has the rest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalkForwardLine {
    /// Whether every criterion passed (never for a cancelled run).
    pub passed: bool,
    /// Walk-forward efficiency, % (`null` when undefined).
    pub wfe_pct: Option<f64>,
    /// Stitched out-of-sample net profit in % of the initial equity.
    pub oos_return_pct: f64,
    /// Stitched out-of-sample largest peak-to-trough fall, % of the peak.
    pub oos_max_drawdown_pct: f64,
    /// Folds run on some bars.
    pub folds: u32,
    /// Of those, folds with an out-of-sample net profit > 0.
    pub profitable_folds: u32,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// How many there are in all.
    pub total: u64,
    /// First item's position.
    pub offset: u64,
    /// Page size asked for.
    pub limit: u64,
}

/// What to write for a finished backtest.
#[derive(Debug)]
pub struct BacktestEnd<'a> {
    /// Common fields.
    pub header: &'a RunHeader,
    /// Sub-bars simulated.
    pub processed: u64,
    /// Resolved parameters.
    pub params: &'a atf_engine::Params,
    /// The report, if it completed.
    pub report: Option<&'a BacktestReport>,
}

/// What to write for a finished walk-forward.
#[derive(Debug)]
pub struct WalkForwardEnd<'a> {
    /// Common fields.
    pub header: &'a RunHeader,
    /// Folds planned.
    pub total_folds: u64,
    /// Folds finished.
    pub folds_processed: u64,
    /// Combinations processed.
    pub processed: u64,
    /// Failed trials.
    pub failed: u64,
    /// The report (partial when cancelled), if the run produced one.
    pub report: Option<&'a WalkForwardReport>,
}

/// What to write for a finished optimization.
#[derive(Debug)]
pub struct OptimizationEnd<'a> {
    /// Common fields.
    pub header: &'a RunHeader,
    /// The run's key spec (a kept trial's own backtest key is derived from it).
    pub spec: &'a RunSpec,
    /// Counters when it ended.
    pub completed: u64,
    /// Failed trials.
    pub failed: u64,
    /// Skipped combinations.
    pub skipped: u64,
    /// The report (partial when cancelled), if the optimizer returned one.
    pub report: Option<&'a OptimizationReport>,
}
