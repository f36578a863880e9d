//! What a walk-forward reports, and why it may not finish.

use super::*;

/// Why a walk-forward could not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WalkForwardError {
    /// The optimizer refused to run.
    #[error("fold {fold}: {source}")]
    Optimize {
        /// 1 = first.
        fold: u32,
        /// Why.
        source: OptimizeError,
    },
    /// The fold's optimization on the scale-out workers failed (Redis
    /// lost, a chunk that kept failing, no progress).
    #[error("fold {fold}: {message}")]
    Workers {
        /// 1 = first.
        fold: u32,
        /// Why.
        message: String,
        /// Where, when known.
        backtrace: String,
    },
    /// The winner's out-of-sample backtest failed.
    #[error("fold {fold}: the out-of-sample backtest of the winner failed: {message}")]
    Backtest {
        /// 1 = first.
        fold: u32,
        /// The strategy's message.
        message: String,
        /// Its stack trace.
        backtrace: String,
    },
}

/// A range of the period's bars (at the dataset's resolution), `[from, to)`;
/// warm-up bars loaded before the period are not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BarRange {
    /// First bar's index.
    pub from: usize,
    /// One past the last.
    pub to: usize,
}

/// A fold's winner: its in-sample result and its out-of-sample backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FoldWinner {
    /// Combination index in the grid.
    pub index: u64,
    /// Its parameters.
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, ParamScalar>))]
    pub params: ParamMap,
    /// In-sample fitness (`None`: undefined).
    pub is_fitness: Option<f64>,
    /// In-sample metrics (wall times left out).
    pub is_metrics: PerformanceMetrics,
    /// Out-of-sample metrics, starting from the carried equity (wall times left out).
    pub oos_metrics: PerformanceMetrics,
    /// The position open at the out-of-sample window's end, closed there at
    /// the last bar's close (`None`: flat).
    pub closed_at_end: Option<OpenPosition>,
    /// This fold's walk-forward efficiency, % (see the module doc).
    pub wfe_pct: Option<f64>,
    /// The winner's in-sample equity (from the request's cash), thinned to
    /// at most [`IS_CURVE_POINTS`] points for the dashboard's chart: every
    /// k-th bar and the last. Absent from reports stored before it existed.
    #[serde(default)]
    pub is_equity_curve: Vec<EquityPoint>,
}

/// One fold of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FoldReport {
    /// The windows.
    #[serde(flatten)]
    pub window: FoldWindow,
    /// In-sample bars (indices into the period's bars).
    pub is_bars: BarRange,
    /// Out-of-sample bars.
    pub oos_bars: BarRange,
    /// Main bars before the in-sample window its trials warmed up on (at
    /// most the request's `warmupBars`).
    #[serde(default)]
    pub is_warmup_bars: u32,
    /// Main bars before the out-of-sample window its backtest warmed up on
    /// (the end of the in-sample window: before it, never after).
    #[serde(default)]
    pub oos_warmup_bars: u32,
    /// Whether a window held no bars (a gap in the data): the fold was
    /// skipped, equity carried unchanged, and it counts in no criterion.
    pub no_bars: bool,
    /// In-sample trials that ran to the end.
    pub completed: u64,
    /// In-sample trials that failed.
    pub failed: u64,
    /// Combinations refused by a constraint.
    pub skipped: u64,
    /// Equity at the out-of-sample window's start.
    pub start_equity: f64,
    /// Equity at its end (= the next fold's start).
    pub end_equity: f64,
    /// The winner (`None` when every trial failed).
    pub winner: Option<FoldWinner>,
}

/// Statistics of the stitched out-of-sample equity curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StitchedMetrics {
    /// The request's cash.
    pub initial_equity: f64,
    /// The last fold's ending equity.
    pub final_equity: f64,
    /// `final − initial`.
    pub net_profit: f64,
    /// Net profit in % of the initial equity.
    pub total_return_pct: f64,
    /// Compound annual growth rate over the out-of-sample span, %.
    pub annualized_return_pct: Option<f64>,
    /// Largest peak-to-trough fall, money.
    pub max_drawdown: f64,
    /// Largest peak-to-trough fall in % of the peak.
    pub max_drawdown_pct: f64,
    /// Annualized Sharpe ratio of per-bar returns (as a backtest's).
    pub sharpe: Option<f64>,
    /// t-statistic of the mean per-bar return: mean ÷ standard deviation ×
    /// √(number of returns).
    pub sharpe_t_stat: Option<f64>,
    /// Main bars on the stitched curve.
    pub bars: u64,
    /// Closed trades over all folds.
    pub trade_count: u64,
    /// Folds with an out-of-sample net profit > 0.
    pub profitable_folds: u32,
    /// Folds run on some bars (a fold inside a gap of the data is not counted).
    pub folds: u32,
}

/// How a parameter's winning value moved across folds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ParamStability {
    /// Parameter (an axis).
    pub name: String,
    /// The winner's value in each fold that had one, in fold order.
    pub values: Vec<ParamScalar>,
    /// Distinct values among them.
    pub distinct: usize,
    /// Mean (numeric parameters).
    pub mean: Option<f64>,
    /// Coefficient of variation: population standard deviation ÷ |mean|
    /// (numeric parameters with a mean ≠ 0).
    pub cv: Option<f64>,
}

/// One pass/fail criterion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CriterionCheck {
    /// `wfe`, `profitableFolds`, `foldProfitShare` or `maxDrawdown`.
    pub name: String,
    /// What passing means, e.g. `WFE ≥ 50 %`.
    pub rule: String,
    /// The threshold, %.
    pub threshold: f64,
    /// The measured value, % (`None`: undefined, which fails).
    pub value: Option<f64>,
    /// Whether it passed.
    pub passed: bool,
}

/// The outcome of a walk-forward (complete, or partial when cancelled).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WalkForwardReport {
    /// Strategy name.
    pub strategy: String,
    /// Strategy version.
    pub strategy_version: String,
    /// Instrument symbol.
    pub symbol: String,
    /// Main timeframe.
    pub timeframe: String,
    /// Rolling or anchored.
    pub mode: WindowMode,
    /// The fitness winners were picked by.
    pub maximize: String,
    /// Combinations in each fold's grid.
    pub combinations_per_fold: u64,
    /// Folds planned.
    pub planned_folds: u32,
    /// The folds run, in order.
    pub folds: Vec<FoldReport>,
    /// Statistics of the stitched out-of-sample equity.
    pub stitched: StitchedMetrics,
    /// The stitched out-of-sample equity: one account across the folds.
    pub equity_curve: Vec<EquityPoint>,
    /// Mean of the folds' in-sample winners' annualized returns, %.
    pub is_annualized_return_pct: Option<f64>,
    /// Walk-forward efficiency, % (see the module doc).
    pub wfe_pct: Option<f64>,
    /// Each axis's winners across folds.
    pub stability: Vec<ParamStability>,
    /// The thresholds applied.
    pub criteria: Criteria,
    /// Each criterion, measured.
    pub checks: Vec<CriterionCheck>,
    /// Whether every criterion passed (never for a cancelled run).
    pub passed: bool,
    /// Whether it was cancelled before every fold ran.
    pub cancelled: bool,
}
