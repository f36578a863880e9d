//! Walk-forward analysis (DESIGN §11): the request, its windows planned
//! from the dataset's catalog entry, and the run — each fold's in-sample
//! window optimized by the ordinary optimizer, its winner backtested on
//! the out-of-sample window right after, the out-of-sample equity stitched
//! into one account carried from fold to fold.
//!
//! **Windows.** The period `[start, end)` is the request's `from`/`to`
//! clipped to the dataset, its start moved up to the first whole bar of the
//! run's timeframe (UTC-aligned, as the engine's resampling buckets are). Given `inSample` and `outOfSample` durations,
//! fold `k` (from 0) of a `rolling` walk-forward has its in-sample window
//! at `start + k·oos` for `is`, its out-of-sample window right after it for
//! `oos`; an `anchored` one keeps every in-sample window starting at
//! `start` and growing by `oos` each fold. As many folds as fit; the tail
//! shorter than one out-of-sample window is left out. Given `folds` and
//! `oosFraction` `f` instead, `oos = span ÷ (folds + (1 − f) ÷ f)` rounded
//! down to whole bars of the run's timeframe and `is = span − folds·oos`, so
//! the windows cover the period. Durations are whole multiples of the
//! timeframe.
//!
//! **Warm-up.** Each window is run exactly as an ordinary backtest or
//! optimization with `from`/`to` set to that window is: the strategy
//! starts at the window's first bar and its indicators warm up on the
//! window's own first bars (the engine has no look-back warm-up today), so
//! no bar from before the window — and none from after it — is seen. A
//! fold's winner is therefore the best trial of `atf optimize --from
//! <isFrom> --to <isTo>`, and its out-of-sample metrics those of `atf
//! backtest --from <oosFrom> --to <oosTo> --cash <carried equity>`.
//!
//! **Stitching.** Fold 1's out-of-sample backtest starts with the request's
//! cash; each later one with the equity the previous one ended with. A
//! position still open at the end of a window is marked to that bar's close
//! (the engine's final equity) and counted as closed there, with no exit
//! commission or slippage; the fold row says so (`closedAtEnd`). A fold
//! whose every trial failed has no winner: its out-of-sample window is
//! spent flat (no points on the stitched curve, equity carried unchanged);
//! so is a fold one of whose windows holds no bars (a gap in the data:
//! `noBars`, not counted by the criteria).
//!
//! **Walk-forward efficiency** (WFE) is the stitched out-of-sample
//! annualized return divided by the mean of the folds' in-sample winners'
//! annualized returns, in %. It is `None` (undefined) when that in-sample
//! mean is ≤ 0 or either return is undefined: a ratio over a losing or flat
//! in-sample result has no meaning (a negative over a negative would read
//! as a success). With in-sample > 0 and out-of-sample ≤ 0 it is defined and
//! ≤ 0. Each fold's own WFE follows the same rule.
//!
//! **Criteria** (defaults in [`Criteria::default`]): WFE ≥ `minWfePct`
//! (an undefined WFE fails); the share of folds whose out-of-sample net
//! profit is > 0 ≥ `minProfitableFoldsPct`; no fold's out-of-sample profit
//! ≥ `maxFoldProfitSharePct` of the stitched net profit (fails when the
//! stitched net profit is ≤ 0); the stitched maximum drawdown ≤
//! `maxDrawdownPct`.

use crate::plan::{self, GridLimits, Target, Work};
use crate::request::{read, OptimizationRequest};
use crate::settings::FieldError;
use atf_data::{time, DatasetInfo};
use atf_engine::metrics::{compute_trial, MetricsInput, RunCommon};
use atf_engine::optimize::{OptimizationProgress, OptimizeError, OptimizeSpec};
use atf_engine::report::{EquityPoint, OpenPosition, RunFailure};
use atf_engine::{Bars, MarketData, Money, ParamMap, ParamScalar, PerformanceMetrics, Progress};
use atf_engine::{Registry, Timeframe};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Most folds one walk-forward may have.
pub const MAX_FOLDS: u32 = 500;

/// How in-sample windows move from fold to fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowMode {
    /// A fixed-length in-sample window sliding by the out-of-sample length.
    #[default]
    Rolling,
    /// Every in-sample window starts at the period's start and grows.
    Anchored,
}

/// Pass/fail thresholds of a request, in % (absent: the defaults).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CriteriaFields {
    /// Least walk-forward efficiency (default 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_wfe_pct: Option<f64>,
    /// Least share of profitable out-of-sample folds (default 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_profitable_folds_pct: Option<f64>,
    /// A fold's share of the stitched profit must stay below this (default 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fold_profit_share_pct: Option<f64>,
    /// Largest stitched maximum drawdown (default 25).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_drawdown_pct: Option<f64>,
}

/// The walk-forward fields of a request: the windows and the criteria.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WindowFields {
    /// `rolling` (default) or `anchored`.
    #[serde(default)]
    pub mode: WindowMode,
    /// In-sample length, a duration (`180d`, `12w`, `6h`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_sample: Option<String>,
    /// Out-of-sample length (and the step), a duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_of_sample: Option<String>,
    /// Number of folds (instead of the durations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folds: Option<u32>,
    /// Out-of-sample share of each fold's in-sample + out-of-sample span, in (0, 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oos_fraction: Option<f64>,
    /// Pass/fail thresholds.
    #[serde(default, skip_serializing_if = "is_default")]
    pub criteria: CriteriaFields,
}

fn is_default(c: &CriteriaFields) -> bool {
    *c == CriteriaFields::default()
}

const WINDOW_KEYS: [&str; 6] = [
    "mode",
    "inSample",
    "outOfSample",
    "folds",
    "oosFraction",
    "criteria",
];

/// A walk-forward request: an optimization request (strategy, dataset,
/// period, axes, constraints, fitness, costs) and the windows — the body
/// `POST /api/walkforwards` will read, flat like the optimization's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WalkForwardRequest {
    /// Windows and criteria.
    #[serde(flatten)]
    pub windows: WindowFields,
    /// What each fold optimizes, on what.
    #[serde(flatten)]
    pub optimization: OptimizationRequest,
}

impl WalkForwardRequest {
    /// Reads a request body, a refusal naming the field at fault.
    ///
    /// # Errors
    /// [`FieldError`] for a missing, unknown or mistyped field.
    pub fn from_json(body: &Value) -> Result<Self, FieldError> {
        let Value::Object(all) = body else {
            return Err(FieldError::new("body", "expected a JSON object"));
        };
        let (windows, rest): (
            serde_json::Map<String, Value>,
            serde_json::Map<String, Value>,
        ) = all
            .clone()
            .into_iter()
            .partition(|(k, _)| WINDOW_KEYS.contains(&k.as_str()));
        let mut windows = windows;
        let criteria = windows.remove("criteria");
        let mut windows: WindowFields = read(&Value::Object(windows), "")?;
        if let Some(c) = criteria {
            windows.criteria = read(&c, "criteria.")?;
        }
        Ok(Self {
            windows,
            optimization: OptimizationRequest::from_json(&Value::Object(rest))?,
        })
    }
}

/// Pass/fail thresholds, in %.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Criteria {
    /// Least walk-forward efficiency.
    pub min_wfe_pct: f64,
    /// Least share of profitable out-of-sample folds.
    pub min_profitable_folds_pct: f64,
    /// A fold's share of the stitched profit must stay below this.
    pub max_fold_profit_share_pct: f64,
    /// Largest stitched maximum drawdown.
    pub max_drawdown_pct: f64,
}

impl Default for Criteria {
    /// WFE ≥ 50 %, ≥ 50 % of folds profitable, no fold ≥ 50 % of the
    /// profit, maximum drawdown ≤ 25 %.
    fn default() -> Self {
        Self {
            min_wfe_pct: 50.0,
            min_profitable_folds_pct: 50.0,
            max_fold_profit_share_pct: 50.0,
            max_drawdown_pct: 25.0,
        }
    }
}

impl Criteria {
    /// The request's thresholds over the defaults.
    ///
    /// # Errors
    /// `criteria.<name>`: not a finite number, negative, or a share above 100.
    pub fn from_fields(c: &CriteriaFields) -> Result<Self, FieldError> {
        let d = Self::default();
        let pick = |v: Option<f64>, default: f64, name: &str, most: f64| {
            let v = v.unwrap_or(default);
            if v.is_finite() && (0.0..=most).contains(&v) {
                Ok(v)
            } else {
                Err(FieldError::new(
                    format!("criteria.{name}"),
                    format!("must be between 0 and {most}"),
                ))
            }
        };
        Ok(Self {
            min_wfe_pct: pick(c.min_wfe_pct, d.min_wfe_pct, "minWfePct", 1e9)?,
            min_profitable_folds_pct: pick(
                c.min_profitable_folds_pct,
                d.min_profitable_folds_pct,
                "minProfitableFoldsPct",
                100.0,
            )?,
            max_fold_profit_share_pct: pick(
                c.max_fold_profit_share_pct,
                d.max_fold_profit_share_pct,
                "maxFoldProfitSharePct",
                100.0,
            )?,
            max_drawdown_pct: pick(
                c.max_drawdown_pct,
                d.max_drawdown_pct,
                "maxDrawdownPct",
                100.0,
            )?,
        })
    }
}

/// One fold's windows, `[from, to)` in epoch ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FoldWindow {
    /// 1 = first.
    pub fold: u32,
    /// In-sample start.
    pub is_from_ms: i64,
    /// In-sample end (excluded) = out-of-sample start.
    pub is_to_ms: i64,
    /// Out-of-sample start.
    pub oos_from_ms: i64,
    /// Out-of-sample end (excluded).
    pub oos_to_ms: i64,
}

/// A duration as users write it (`180d`, `12w`, `6h`, `90m`, `30s`), in ms.
///
/// # Errors
/// `field`: not a whole number and a unit.
pub fn parse_duration(field: &str, text: &str) -> Result<i64, FieldError> {
    text.parse::<Timeframe>()
        .map(Timeframe::millis)
        .map_err(|_| {
            FieldError::new(
                field,
                format!(
                    "'{text}' is not a duration: a whole number and s, m, h, d or w (180d, 12w)"
                ),
            )
        })
}

fn days(ms: i64) -> String {
    #[allow(
        clippy::cast_precision_loss,
        reason = "a period's length in days, for a message"
    )]
    let d = ms as f64 / 86_400_000.0;
    format!("{d:.1} days")
}

/// The folds of `w` over `[start, end)` at main bars of `bar_ms`.
///
/// # Errors
/// The refused field: both ways of sizing given (`folds`), neither
/// (`inSample`), a missing half (`outOfSample` / `oosFraction`), a bad
/// duration, a duration that is not whole bars, an OOS fraction outside
/// (0, 1), fewer than one fold or more than [`MAX_FOLDS`], windows that do
/// not fit the period.
pub fn plan_windows(
    w: &WindowFields,
    start: i64,
    end: i64,
    timeframe: Timeframe,
) -> Result<Vec<FoldWindow>, FieldError> {
    let bar_ms = timeframe.millis();
    let span = end - start;
    let by_duration = w.in_sample.is_some() || w.out_of_sample.is_some();
    let by_folds = w.folds.is_some() || w.oos_fraction.is_some();
    let (is, oos, n) = match (by_duration, by_folds) {
        (true, true) => {
            return Err(FieldError::new(
                "folds",
                "give inSample and outOfSample, or folds and oosFraction, not both",
            ))
        }
        (false, false) => {
            return Err(FieldError::new(
                "inSample",
                "required: give inSample and outOfSample (180d, 30d), or folds and oosFraction",
            ))
        }
        (true, false) => {
            let is_text = w
                .in_sample
                .as_deref()
                .ok_or_else(|| FieldError::new("inSample", "required with outOfSample"))?;
            let oos_text = w
                .out_of_sample
                .as_deref()
                .ok_or_else(|| FieldError::new("outOfSample", "required with inSample"))?;
            let is = parse_duration("inSample", is_text)?;
            let oos = parse_duration("outOfSample", oos_text)?;
            for (field, v) in [("inSample", is), ("outOfSample", oos)] {
                if v % bar_ms != 0 {
                    return Err(FieldError::new(
                        field,
                        format!("must be a whole number of bars of the timeframe {timeframe}"),
                    ));
                }
            }
            if is + oos > span {
                return Err(FieldError::new(
                    "inSample",
                    format!(
                        "in-sample {is_text} + out-of-sample {oos_text} do not fit the period \
                         ({} from {})",
                        days(span),
                        time::format_iso(start)
                    ),
                ));
            }
            let n = (span - is) / oos;
            if n > i64::from(MAX_FOLDS) {
                return Err(FieldError::new(
                    "outOfSample",
                    format!("{n} folds, more than the limit of {MAX_FOLDS}: use a longer window"),
                ));
            }
            (is, oos, n)
        }
        (false, true) => {
            let folds = w
                .folds
                .ok_or_else(|| FieldError::new("folds", "required with oosFraction"))?;
            let f = w
                .oos_fraction
                .ok_or_else(|| FieldError::new("oosFraction", "required with folds"))?;
            if !(1..=MAX_FOLDS).contains(&folds) {
                return Err(FieldError::new(
                    "folds",
                    format!("must be between 1 and {MAX_FOLDS}"),
                ));
            }
            if !(f > 0.0 && f < 1.0) {
                return Err(FieldError::new(
                    "oosFraction",
                    "must be between 0 and 1 (both excluded)",
                ));
            }
            #[allow(
                clippy::cast_precision_loss,
                clippy::cast_possible_truncation,
                reason = "window lengths in ms, far below 2^52, rounded down to whole bars"
            )]
            let oos = {
                let raw = span as f64 / (f64::from(folds) + (1.0 - f) / f);
                (raw as i64 / bar_ms) * bar_ms
            };
            let is = ((span - i64::from(folds) * oos) / bar_ms) * bar_ms;
            if oos < bar_ms || is < bar_ms {
                return Err(FieldError::new(
                    "folds",
                    format!(
                        "{folds} folds with oosFraction {f} leave windows shorter than one bar \
                         ({timeframe}) in a period of {}",
                        days(span)
                    ),
                ));
            }
            (is, oos, i64::from(folds))
        }
    };
    if n < 1 {
        return Err(FieldError::new(
            "outOfSample",
            "fewer than 1 fold fits the period",
        ));
    }
    Ok((0..n)
        .map(|k| {
            let is_from = match w.mode {
                WindowMode::Rolling => start + k * oos,
                WindowMode::Anchored => start,
            };
            let is_to = start + is + k * oos;
            FoldWindow {
                fold: u32::try_from(k + 1).unwrap_or(u32::MAX),
                is_from_ms: is_from,
                is_to_ms: is_to,
                oos_from_ms: is_to,
                oos_to_ms: is_to + oos,
            }
        })
        .collect())
}

/// A checked walk-forward: the optimization each fold runs and its windows.
#[derive(Debug, Clone)]
pub struct WalkForwardJob {
    /// Strategy, data, period, costs (the period covers every window).
    pub target: Target,
    /// The grid each fold optimizes.
    pub spec: OptimizeSpec,
    /// Rolling or anchored.
    pub mode: WindowMode,
    /// The folds, in order.
    pub windows: Vec<FoldWindow>,
    /// Pass/fail thresholds.
    pub criteria: Criteria,
    /// Total work: folds × combinations per fold.
    pub total: u64,
}

/// Checks a walk-forward as [`plan::check_optimization`] checks its
/// optimization (keeping only the best trial of each fold in full: `top` is
/// 1), then plans its windows from the catalog entry alone.
///
/// # Errors
/// The first refused field.
pub fn check_walkforward(
    registry: &Registry,
    req: &WalkForwardRequest,
    dataset: DatasetInfo,
    limits: GridLimits,
    qty_decimals: Option<u8>,
) -> Result<WalkForwardJob, FieldError> {
    // each fold needs only its winner in full (the ranking, and so the
    // winner, does not depend on how many are kept): `top` is 1 whatever
    // the request says, which also keeps the kept-curve bound out of the way
    let mut optimization = req.optimization.clone();
    optimization.top = Some(1);
    let job = plan::check_optimization(registry, &optimization, dataset, limits, qty_decimals)?;
    let Work::Optimization(spec) = job.work else {
        return Err(FieldError::new("axes", "not an optimization"));
    };
    let t = job.target;
    let ds = &t.dataset;
    let data_end = ds.last_ts_ms + ds.timeframe.millis();
    let first = t
        .period
        .from_ms
        .map_or(ds.first_ts_ms, |f| f.max(ds.first_ts_ms));
    // windows start on a bar of the run's timeframe (UTC-aligned, as the
    // engine's resampling buckets are), so none begins inside a main bar
    let bucket = t.timeframe.bucket_start(first);
    let start = if bucket == first {
        first
    } else {
        bucket + t.timeframe.millis()
    };
    let end = t.period.to_ms.map_or(data_end, |e| e.min(data_end));
    let windows = plan_windows(&req.windows, start, end, t.timeframe)?;
    let criteria = Criteria::from_fields(&req.windows.criteria)?;
    let total = spec.grid.size().saturating_mul(windows.len() as u64);
    Ok(WalkForwardJob {
        target: t,
        spec,
        mode: req.windows.mode,
        windows,
        criteria,
        total,
    })
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Live counters and the cancel flag of one walk-forward: folds done and
/// combinations processed over all folds (the current fold's counted as its
/// optimizer counts them).
#[derive(Debug, Default)]
pub struct WalkForwardProgress {
    cancelled: AtomicBool,
    folds_done: AtomicU64,
    before: AtomicU64,
    failed_before: AtomicU64,
    current: Mutex<Option<Arc<OptimizationProgress>>>,
    backtest: Mutex<Option<Arc<Progress>>>,
}

impl WalkForwardProgress {
    /// Fresh counters.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds finished (in-sample optimization and out-of-sample backtest).
    #[must_use]
    pub fn folds_done(&self) -> u64 {
        self.folds_done.load(Ordering::Relaxed)
    }

    /// Combinations processed (completed, failed or skipped) over all folds.
    #[must_use]
    pub fn processed(&self) -> u64 {
        self.before.load(Ordering::Relaxed)
            + lock(&self.current).as_ref().map_or(0, |p| p.processed())
    }

    /// Trials failed over all folds.
    #[must_use]
    pub fn failed(&self) -> u64 {
        self.failed_before.load(Ordering::Relaxed)
            + lock(&self.current).as_ref().map_or(0, |p| p.failed())
    }

    /// Stops the run: between folds, and within one (its optimization or
    /// backtest stops within a few thousand sub-bars).
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
        if let Some(p) = lock(&self.current).as_ref() {
            p.cancel();
        }
        if let Some(p) = lock(&self.backtest).as_ref() {
            p.cancel();
        }
    }

    /// Whether cancellation was asked for.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    fn start_fold(&self) -> Arc<OptimizationProgress> {
        let p = Arc::new(OptimizationProgress::new());
        *lock(&self.current) = Some(Arc::clone(&p));
        if self.is_cancelled() {
            p.cancel();
        }
        p
    }

    fn start_backtest(&self) -> Arc<Progress> {
        let p = Arc::new(Progress::new());
        *lock(&self.backtest) = Some(Arc::clone(&p));
        if self.is_cancelled() {
            p.cancel();
        }
        p
    }

    fn end_fold(&self, combinations: u64) {
        let mut cur = lock(&self.current);
        if let Some(p) = cur.take() {
            self.failed_before.fetch_add(p.failed(), Ordering::Relaxed);
        }
        self.before.fetch_add(combinations, Ordering::Relaxed);
        self.folds_done.fetch_add(1, Ordering::Relaxed);
        drop(cur);
        *lock(&self.backtest) = None;
    }
}

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

/// A range of the period's bars (at the dataset's resolution), `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BarRange {
    /// First bar's index.
    pub from: usize,
    /// One past the last.
    pub to: usize,
}

/// A fold's winner: its in-sample result and its out-of-sample backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FoldWinner {
    /// Combination index in the grid.
    pub index: u64,
    /// Its parameters.
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
}

/// One fold of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FoldReport {
    /// The windows.
    #[serde(flatten)]
    pub window: FoldWindow,
    /// In-sample bars (indices into the period's bars).
    pub is_bars: BarRange,
    /// Out-of-sample bars.
    pub oos_bars: BarRange,
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

fn without_timing(mut m: PerformanceMetrics) -> PerformanceMetrics {
    m.wall_time_ms = None;
    m.sub_bars_per_second = None;
    m
}

fn window_data(
    target: &Target,
    bars: &Bars,
    (from, to): (i64, i64),
) -> (Option<MarketData>, BarRange) {
    let range = BarRange {
        from: bars.ts.partition_point(|&t| t < from),
        to: bars.ts.partition_point(|&t| t < to),
    };
    if range.from == range.to {
        return (None, range);
    }
    let data = MarketData::new(
        target.instrument.clone(),
        bars.slice_time(from, to),
        target.dataset.timeframe,
        target.timeframe,
    )
    .ok();
    (data, range)
}

fn ratio_pct(oos: Option<f64>, is: Option<f64>) -> Option<f64> {
    match (oos, is) {
        (Some(o), Some(i)) if i > 0.0 && o.is_finite() && i.is_finite() => Some(o / i * 100.0),
        _ => None,
    }
}

/// Runs the walk-forward of `job` over `bars` (the period's bars at the
/// dataset's resolution, as `Catalog::load` returns them) on `threads`
/// threads, reporting into `progress`.
///
/// Returns a partial report (`cancelled`) if `progress` is cancelled: the
/// folds finished before it, none of a fold cut short.
///
/// # Errors
/// [`WalkForwardError`]: an optimizer that cannot start, a winner whose
/// out-of-sample backtest fails. A fold whose window holds no bars (a gap
/// in the data) is kept with `noBars` and skipped.
pub fn run(
    job: &WalkForwardJob,
    bars: &Bars,
    progress: &WalkForwardProgress,
    threads: usize,
) -> Result<WalkForwardReport, WalkForwardError> {
    let t = &job.target;
    let strategy = &t.strategy;
    let instrument = &t.instrument;
    let initial_raw = t.config.initial_cash.raw();
    let mut carried = initial_raw;
    let mut folds = Vec::with_capacity(job.windows.len());
    let mut curve_raw: Vec<i64> = Vec::new();
    let mut curve_times: Vec<i64> = Vec::new();
    let mut cancelled = false;
    let money = |raw: i64| instrument.money_f64(Money::from_raw(raw));
    for w in &job.windows {
        if progress.is_cancelled() {
            cancelled = true;
            break;
        }
        let (is_data, is_bars) = window_data(t, bars, (w.is_from_ms, w.is_to_ms));
        let (oos_data, oos_bars) = window_data(t, bars, (w.oos_from_ms, w.oos_to_ms));
        let (Some(is_data), Some(oos_data)) = (is_data, oos_data) else {
            // a window inside a gap of the data: nothing to optimize or trade
            folds.push(FoldReport {
                window: *w,
                is_bars,
                oos_bars,
                no_bars: true,
                completed: 0,
                failed: 0,
                skipped: 0,
                start_equity: money(carried),
                end_equity: money(carried),
                winner: None,
            });
            progress.end_fold(job.spec.grid.size());
            continue;
        };
        let op = progress.start_fold();
        let report = strategy
            .optimize(&is_data, &t.config, &job.spec, &op, threads)
            .map_err(|source| WalkForwardError::Optimize {
                fold: w.fold,
                source,
            })?;
        if report.cancelled {
            cancelled = true;
            break;
        }
        let start_equity = carried;
        let winner = match report.top.first() {
            None => None,
            Some(top) => {
                let params = job.spec.params_of(top.index);
                let mut cfg = t.config;
                cfg.initial_cash = Money::from_raw(carried);
                let bp = progress.start_backtest();
                let oos = match strategy.backtest(&oos_data, &cfg, &params, Some(&bp)) {
                    Ok(r) => r,
                    Err(RunFailure::Cancelled { .. }) => {
                        cancelled = true;
                        break;
                    }
                    Err(RunFailure::Failed(f)) => {
                        return Err(WalkForwardError::Backtest {
                            fold: w.fold,
                            message: f.message,
                            backtrace: f.backtrace,
                        })
                    }
                    Err(e) => {
                        return Err(WalkForwardError::Backtest {
                            fold: w.fold,
                            message: e.to_string(),
                            backtrace: String::new(),
                        })
                    }
                };
                if let Some(raw) = oos.equity_curve.raw() {
                    curve_raw.extend_from_slice(raw);
                    curve_times.extend_from_slice(oos.equity_curve.times());
                    carried = raw.last().copied().unwrap_or(carried);
                }
                let is_metrics = without_timing(top.report.metrics.clone());
                let oos_metrics = without_timing(oos.metrics);
                Some(FoldWinner {
                    index: top.index,
                    params: top.report.params.clone(),
                    is_fitness: top.fitness,
                    wfe_pct: ratio_pct(
                        oos_metrics.annualized_return_pct,
                        is_metrics.annualized_return_pct,
                    ),
                    is_metrics,
                    oos_metrics,
                    closed_at_end: oos.open_position,
                })
            }
        };
        folds.push(FoldReport {
            window: *w,
            is_bars,
            oos_bars,
            no_bars: false,
            completed: report.completed,
            failed: report.failed,
            skipped: report.skipped,
            start_equity: money(start_equity),
            end_equity: money(carried),
            winner,
        });
        progress.end_fold(job.spec.grid.size());
    }
    let stitched = stitch(t, initial_raw, &curve_raw, &curve_times, &folds);
    let is_returns: Vec<f64> = folds
        .iter()
        .filter_map(|f| f.winner.as_ref()?.is_metrics.annualized_return_pct)
        .collect();
    #[allow(
        clippy::cast_precision_loss,
        reason = "a count of folds, at most MAX_FOLDS"
    )]
    let is_ann =
        (!is_returns.is_empty()).then(|| is_returns.iter().sum::<f64>() / is_returns.len() as f64);
    let wfe_pct = ratio_pct(stitched.annualized_return_pct, is_ann);
    let checks = checks(&job.criteria, wfe_pct, &stitched, &folds);
    let passed = !cancelled && !folds.is_empty() && checks.iter().all(|c| c.passed);
    let equity_curve = curve_times
        .iter()
        .zip(&curve_raw)
        .map(|(&time, &raw)| EquityPoint {
            time,
            equity: money(raw),
        })
        .collect();
    let info = strategy.info();
    Ok(WalkForwardReport {
        strategy: info.name.to_owned(),
        strategy_version: info.version.to_owned(),
        symbol: instrument.symbol.clone(),
        timeframe: t.timeframe.to_string(),
        mode: job.mode,
        maximize: job.spec.fitness.name().to_owned(),
        combinations_per_fold: job.spec.grid.size(),
        planned_folds: u32::try_from(job.windows.len()).unwrap_or(u32::MAX),
        stability: stability(&job.spec, &folds),
        folds,
        stitched,
        equity_curve,
        is_annualized_return_pct: is_ann,
        wfe_pct,
        criteria: job.criteria,
        checks,
        passed,
        cancelled,
    })
}

fn stitch(
    t: &Target,
    initial_raw: i64,
    raw: &[i64],
    times: &[i64],
    folds: &[FoldReport],
) -> StitchedMetrics {
    let input = MetricsInput {
        instrument: &t.instrument,
        initial_cash: initial_raw,
        equity: raw,
        curve: None,
        times,
        bar_ms: t.timeframe.millis(),
        trades: &[],
        exposure_bars: 0,
        total_commission: 0,
        sub_bars: 0,
        wall_secs: 0.0,
    };
    let initial = t.instrument.money_f64(Money::from_raw(initial_raw));
    let m = compute_trial(&input).expand(
        &RunCommon {
            initial_equity: initial,
            main_bars: raw.len() as u64,
            sub_bars: 0,
        },
        None,
    );
    // per-bar returns of the stitched curve, from the initial cash on
    let mut prev = initial_raw;
    let (mut n, mut sum, mut sum_sq) = (0u64, 0.0f64, 0.0f64);
    #[allow(
        clippy::cast_precision_loss,
        reason = "money raw to f64 for a ratio, as the engine's metrics do"
    )]
    for &e in raw {
        if prev > 0 {
            let r = (e - prev) as f64 / prev as f64;
            n += 1;
            sum += r;
            sum_sq += r * r;
        }
        prev = e;
    }
    #[allow(clippy::cast_precision_loss, reason = "a count of bars")]
    let t_stat = (n > 1).then(|| {
        let nf = n as f64;
        let mean = sum / nf;
        let var = ((sum_sq - sum * mean) / (nf - 1.0)).max(0.0);
        (var > 0.0).then(|| mean / var.sqrt() * nf.sqrt())
    });
    let profitable = folds
        .iter()
        .filter(|f| f.end_equity > f.start_equity)
        .count();
    let with_bars = folds.iter().filter(|f| !f.no_bars).count();
    StitchedMetrics {
        initial_equity: initial,
        final_equity: m.final_equity,
        net_profit: m.net_profit,
        total_return_pct: m.total_return_pct,
        annualized_return_pct: m.annualized_return_pct,
        max_drawdown: m.max_drawdown,
        max_drawdown_pct: m.max_drawdown_pct,
        sharpe: m.sharpe,
        sharpe_t_stat: t_stat.flatten(),
        bars: raw.len() as u64,
        trade_count: folds
            .iter()
            .filter_map(|f| f.winner.as_ref().map(|w| w.oos_metrics.trade_count))
            .sum(),
        profitable_folds: u32::try_from(profitable).unwrap_or(u32::MAX),
        folds: u32::try_from(with_bars).unwrap_or(u32::MAX),
    }
}

fn scalar_f64(v: &ParamScalar) -> Option<f64> {
    match v {
        #[allow(clippy::cast_precision_loss, reason = "parameter values are small")]
        ParamScalar::Int(i) => Some(*i as f64),
        ParamScalar::Float(f) => Some(*f),
        ParamScalar::Bool(_) | ParamScalar::Text(_) => None,
    }
}

fn stability(spec: &OptimizeSpec, folds: &[FoldReport]) -> Vec<ParamStability> {
    spec.grid
        .axes()
        .iter()
        .map(|a| {
            let values: Vec<ParamScalar> = folds
                .iter()
                .filter_map(|f| f.winner.as_ref()?.params.get(a.name).cloned())
                .collect();
            let mut distinct: Vec<&ParamScalar> = Vec::new();
            for v in &values {
                if !distinct.contains(&v) {
                    distinct.push(v);
                }
            }
            let nums: Option<Vec<f64>> = values.iter().map(scalar_f64).collect();
            let (mean, cv) = match nums {
                Some(x) if !x.is_empty() => {
                    #[allow(clippy::cast_precision_loss, reason = "a count of folds")]
                    let n = x.len() as f64;
                    let mean = x.iter().sum::<f64>() / n;
                    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
                    (Some(mean), (mean != 0.0).then(|| var.sqrt() / mean.abs()))
                }
                _ => (None, None),
            };
            ParamStability {
                name: a.name.to_owned(),
                distinct: distinct.len(),
                values,
                mean,
                cv,
            }
        })
        .collect()
}

fn checks(
    c: &Criteria,
    wfe: Option<f64>,
    s: &StitchedMetrics,
    folds: &[FoldReport],
) -> Vec<CriterionCheck> {
    #[allow(clippy::cast_precision_loss, reason = "counts of folds")]
    let profitable_pct =
        (s.folds > 0).then(|| f64::from(s.profitable_folds) / f64::from(s.folds) * 100.0);
    let total = s.net_profit;
    let share = (total > 0.0).then(|| {
        folds
            .iter()
            .map(|f| f.end_equity - f.start_equity)
            .fold(f64::NEG_INFINITY, f64::max)
            / total
            * 100.0
    });
    let fmt = |v: f64| {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    };
    vec![
        CriterionCheck {
            name: "wfe".into(),
            rule: format!("walk-forward efficiency ≥ {} %", fmt(c.min_wfe_pct)),
            threshold: c.min_wfe_pct,
            value: wfe,
            passed: wfe.is_some_and(|v| v >= c.min_wfe_pct),
        },
        CriterionCheck {
            name: "profitableFolds".into(),
            rule: format!(
                "≥ {} % of folds profitable out of sample",
                fmt(c.min_profitable_folds_pct)
            ),
            threshold: c.min_profitable_folds_pct,
            value: profitable_pct,
            passed: profitable_pct.is_some_and(|v| v >= c.min_profitable_folds_pct),
        },
        CriterionCheck {
            name: "foldProfitShare".into(),
            rule: format!(
                "no fold ≥ {} % of the out-of-sample profit",
                fmt(c.max_fold_profit_share_pct)
            ),
            threshold: c.max_fold_profit_share_pct,
            value: share,
            passed: share.is_some_and(|v| v < c.max_fold_profit_share_pct),
        },
        CriterionCheck {
            name: "maxDrawdown".into(),
            rule: format!("out-of-sample max drawdown ≤ {} %", fmt(c.max_drawdown_pct)),
            threshold: c.max_drawdown_pct,
            value: Some(s.max_drawdown_pct),
            passed: !folds.is_empty() && s.max_drawdown_pct <= c.max_drawdown_pct,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DAY: i64 = 86_400_000;

    fn w(body: Value) -> WindowFields {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn rolling_and_anchored_windows_by_duration() {
        let f = plan_windows(
            &w(json!({"inSample": "10d", "outOfSample": "5d"})),
            0,
            32 * DAY,
            Timeframe::D1,
        )
        .unwrap();
        // (32 - 10) / 5 = 4 folds; the last 2 days are left out
        assert_eq!(f.len(), 4);
        assert_eq!(
            (f[0].is_from_ms, f[0].is_to_ms, f[0].oos_to_ms),
            (0, 10 * DAY, 15 * DAY)
        );
        assert_eq!(
            (f[3].is_from_ms, f[3].oos_from_ms, f[3].oos_to_ms),
            (15 * DAY, 25 * DAY, 30 * DAY)
        );
        for p in f.windows(2) {
            assert_eq!(
                p[1].oos_from_ms, p[0].oos_to_ms,
                "the step is the OOS length"
            );
        }
        let a = plan_windows(
            &w(json!({"mode": "anchored", "inSample": "10d", "outOfSample": "5d"})),
            0,
            32 * DAY,
            Timeframe::D1,
        )
        .unwrap();
        assert_eq!(a.len(), 4);
        assert!(a.iter().all(|x| x.is_from_ms == 0));
        assert_eq!(a[3].is_to_ms, 25 * DAY);
    }

    #[test]
    fn windows_by_folds_and_fraction_cover_the_period() {
        let f = plan_windows(
            &w(json!({"folds": 4, "oosFraction": 0.2})),
            0,
            80 * DAY,
            Timeframe::D1,
        )
        .unwrap();
        // oos = 80 / (4 + 4) = 10 days, is = 80 - 40 = 40 days
        assert_eq!(f.len(), 4);
        assert_eq!((f[0].is_to_ms, f[0].oos_to_ms), (40 * DAY, 50 * DAY));
        assert_eq!(f[3].oos_to_ms, 80 * DAY);
    }

    #[test]
    fn refusals_name_the_field() {
        let e = |body: Value, span_days: i64, tf: Timeframe| {
            plan_windows(&w(body), 0, span_days * DAY, tf).unwrap_err()
        };
        let d = Timeframe::D1;
        let cases = [
            (json!({}), "inSample", "required"),
            (
                json!({"inSample": "10d"}),
                "outOfSample",
                "required with inSample",
            ),
            (
                json!({"outOfSample": "10d"}),
                "inSample",
                "required with outOfSample",
            ),
            (
                json!({"inSample": "ten days", "outOfSample": "5d"}),
                "inSample",
                "is not a duration",
            ),
            (
                json!({"inSample": "10d", "outOfSample": "5x"}),
                "outOfSample",
                "is not a duration",
            ),
            (
                json!({"inSample": "30d", "outOfSample": "10d"}),
                "inSample",
                "do not fit the period",
            ),
            (
                json!({"inSample": "10d", "outOfSample": "36h"}),
                "outOfSample",
                "whole number of bars",
            ),
            (
                json!({"inSample": "10d", "outOfSample": "5d", "folds": 3}),
                "folds",
                "not both",
            ),
            (json!({"folds": 3}), "oosFraction", "required with folds"),
            (
                json!({"oosFraction": 0.2}),
                "folds",
                "required with oosFraction",
            ),
            (
                json!({"folds": 0, "oosFraction": 0.2}),
                "folds",
                "between 1 and",
            ),
            (
                json!({"folds": 3, "oosFraction": 1.0}),
                "oosFraction",
                "between 0 and 1",
            ),
            (
                json!({"folds": 3, "oosFraction": 0}),
                "oosFraction",
                "between 0 and 1",
            ),
            (
                json!({"folds": 3, "oosFraction": -0.5}),
                "oosFraction",
                "between 0 and 1",
            ),
            (
                json!({"folds": 30, "oosFraction": 0.2}),
                "folds",
                "shorter than one bar",
            ),
        ];
        for (body, field, reason) in cases {
            let err = e(body.clone(), 20, d);
            assert_eq!(err.field, field, "{body}: {err}");
            assert!(err.reason.contains(reason), "{body}: {err}");
        }
    }

    #[test]
    fn the_request_is_an_optimization_request_with_windows() {
        let body = json!({
            "strategy": "sma-cross", "dataset": "spy-1d",
            "axes": {"fast": {"min": 5, "max": 20, "step": 5}},
            "mode": "anchored", "inSample": "180d", "outOfSample": "30d",
            "criteria": {"maxDrawdownPct": 10}
        });
        let r = WalkForwardRequest::from_json(&body).unwrap();
        assert_eq!(r.windows.mode, WindowMode::Anchored);
        assert_eq!(r.windows.in_sample.as_deref(), Some("180d"));
        assert_eq!(r.optimization.run.dataset, "spy-1d");
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(WalkForwardRequest::from_json(&back).unwrap(), r);
        let c = Criteria::from_fields(&r.windows.criteria).unwrap();
        assert_eq!((c.max_drawdown_pct, c.min_wfe_pct), (10.0, 50.0));

        let field = |body: Value| WalkForwardRequest::from_json(&body).unwrap_err().field;
        assert_eq!(
            field(json!({"strategy": "s", "dataset": "d", "axes": {}, "mode": "sideways"})),
            "mode"
        );
        assert_eq!(
            field(json!({"strategy": "s", "dataset": "d", "axes": {}, "criteria": {"minWfe": 1}})),
            "criteria.minWfe"
        );
        assert_eq!(
            field(json!({"strategy": "s", "dataset": "d", "axes": {}, "folds": -1})),
            "folds"
        );
        assert_eq!(
            field(json!({"strategy": "s", "dataset": "d", "folds": 2})),
            "axes"
        );
        let e = Criteria::from_fields(&CriteriaFields {
            max_drawdown_pct: Some(150.0),
            ..CriteriaFields::default()
        })
        .unwrap_err();
        assert_eq!(e.field, "criteria.maxDrawdownPct");
    }

    #[test]
    fn wfe_is_undefined_over_a_losing_or_flat_in_sample() {
        assert_eq!(ratio_pct(Some(10.0), Some(20.0)), Some(50.0));
        assert_eq!(ratio_pct(Some(-10.0), Some(20.0)), Some(-50.0));
        assert_eq!(ratio_pct(Some(-10.0), Some(-20.0)), None);
        assert_eq!(ratio_pct(Some(10.0), Some(0.0)), None);
        assert_eq!(ratio_pct(None, Some(10.0)), None);
    }

    fn fold(start: f64, end: f64, fast: i64) -> FoldReport {
        let m: PerformanceMetrics = serde_json::from_value(json!({
            "initialEquity": start, "finalEquity": end, "netProfit": end - start,
            "totalReturnPct": 0.0, "annualizedReturnPct": null, "maxDrawdown": 0.0,
            "maxDrawdownPct": 0.0, "sharpe": null, "sortino": null, "profitFactor": null,
            "returnOverDrawdown": null, "winRate": null, "tradeCount": 1, "winningTrades": 0,
            "losingTrades": 0, "averageWin": null, "averageLoss": null, "expectancy": null,
            "largestWin": null, "largestLoss": null, "exposurePct": 0.0,
            "totalCommission": 0.0, "mainBars": 1, "subBars": 1
        }))
        .unwrap();
        FoldReport {
            window: FoldWindow {
                fold: 1,
                is_from_ms: 0,
                is_to_ms: 1,
                oos_from_ms: 1,
                oos_to_ms: 2,
            },
            is_bars: BarRange { from: 0, to: 1 },
            oos_bars: BarRange { from: 1, to: 2 },
            no_bars: false,
            completed: 1,
            failed: 0,
            skipped: 0,
            start_equity: start,
            end_equity: end,
            winner: Some(FoldWinner {
                index: 0,
                params: atf_engine::OrderedMap(vec![("fast".into(), ParamScalar::Int(fast))]),
                is_fitness: None,
                is_metrics: m.clone(),
                oos_metrics: m,
                closed_at_end: None,
                wfe_pct: None,
            }),
        }
    }

    #[test]
    fn criteria_and_stability_are_measured_as_documented() {
        // four folds: +600, -100, +300, +200 on one account → +1000
        let folds = vec![
            fold(10_000.0, 10_600.0, 10),
            fold(10_600.0, 10_500.0, 10),
            fold(10_500.0, 10_800.0, 20),
            fold(10_800.0, 11_000.0, 20),
        ];
        let s = StitchedMetrics {
            initial_equity: 10_000.0,
            final_equity: 11_000.0,
            net_profit: 1_000.0,
            total_return_pct: 10.0,
            annualized_return_pct: Some(5.0),
            max_drawdown: 100.0,
            max_drawdown_pct: 0.94,
            sharpe: None,
            sharpe_t_stat: None,
            bars: 4,
            trade_count: 4,
            profitable_folds: 3,
            folds: 4,
        };
        let c = checks(&Criteria::default(), Some(40.0), &s, &folds);
        let got: Vec<(&str, Option<f64>, bool)> = c
            .iter()
            .map(|c| (c.name.as_str(), c.value, c.passed))
            .collect();
        assert_eq!(
            got,
            [
                ("wfe", Some(40.0), false),
                ("profitableFolds", Some(75.0), true),
                ("foldProfitShare", Some(60.0), false),
                ("maxDrawdown", Some(0.94), true),
            ]
        );
        assert_eq!(c[0].rule, "walk-forward efficiency ≥ 50 %");
        let lenient = Criteria {
            min_wfe_pct: 40.0,
            max_fold_profit_share_pct: 61.0,
            ..Criteria::default()
        };
        assert!(checks(&lenient, Some(40.0), &s, &folds)
            .iter()
            .all(|c| c.passed));
        assert!(
            !checks(&lenient, None, &s, &folds)[0].passed,
            "undefined WFE fails"
        );

        let spec = OptimizeSpec {
            grid: atf_engine::grid::Grid::new(
                vec![atf_engine::grid::Axis::parse(
                    "fast=10,20",
                    &atf_engine::Registry::builtin()
                        .find("sma-cross")
                        .unwrap()
                        .info()
                        .params,
                )
                .unwrap()],
                100,
            )
            .unwrap(),
            constraints: Vec::new(),
            base: atf_engine::Registry::builtin()
                .find("sma-cross")
                .unwrap()
                .info()
                .params
                .resolve(std::iter::empty::<(&str, &str)>())
                .unwrap(),
            fitness: atf_engine::optimize::Fitness::Sharpe,
            top: 1,
        };
        let st = stability(&spec, &folds);
        assert_eq!(st.len(), 1);
        assert_eq!((st[0].name.as_str(), st[0].distinct), ("fast", 2));
        assert_eq!(st[0].mean, Some(15.0));
        // population sd 5 over mean 15
        assert_eq!(st[0].cv, Some(5.0 / 15.0));
    }
}
