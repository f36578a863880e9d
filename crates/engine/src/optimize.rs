//! Grid optimization: every combination of a [`Grid`], in parallel, each
//! trial isolated, memory bounded.
//!
//! - The data is loaded and resampled once by the caller and shared
//!   read-only by every thread; each rayon worker owns one [`Broker`], one
//!   equity buffer and one parameter set, reset and reused for every trial.
//! - Combinations are cut into chunks of consecutive indices; a chunk is the
//!   unit of work (of a thread here, of a machine in a scale-out), and its
//!   trials come back in index order, so the result never depends on which
//!   thread ran what.
//! - A trial that panics or returns an error is recorded as failed with its
//!   message and backtrace (identical backtraces are stored once); the
//!   others go on. Combinations refused by a constraint are counted as
//!   skipped, never as failed.
//! - Every trial keeps its compact [`TrialMetrics`] (about 130 bytes with
//!   its index), so a million combinations stay well under 1 GiB. Equity
//!   curves and trades are kept only for the best K: when every trial has
//!   run, those K are run again (in parallel) to build their full reports —
//!   cheaper than copying a curve each time a trial enters the running top
//!   K, and the same result, runs being deterministic.
//! - Ranking is a total order — fitness descending, undefined fitness after
//!   every defined one, failed trials last, ties by combination index — so
//!   the best K and the ranked list are identical whatever the thread count.

use crate::bars::MarketData;
use crate::broker::Broker;
use crate::failure::catch;
use crate::grid::{numeric, Constraint, Grid};
use crate::lines::Indicators;
use crate::metrics::{compute_trial, MetricsInput, RunCommon, TrialMetrics};
use crate::order::BacktestConfig;
use crate::params::{ParamValue, Params, StrategyParams};
use crate::report::{build_report, BacktestReport, Finished};
use crate::run::{simulate, Observer, SimError};
use crate::series::{self, SeriesCache};
use crate::strategy::{Strategy, StrategyError};
use rayon::prelude::*;
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use std::cmp::Ordering;
use std::collections::HashSet;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Trials shown while an optimization runs ("best so far").
pub const LEADERBOARD_SIZE: usize = 10;

/// The metric an optimization maximizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fitness {
    /// Annualised Sharpe ratio.
    Sharpe,
    /// Final equity minus initial cash.
    NetProfit,
    /// Total return % ÷ max drawdown %.
    ReturnOverDrawdown,
    /// Gross profit ÷ gross loss.
    ProfitFactor,
    /// Annualised Sortino ratio.
    Sortino,
    /// Winning trades in %.
    WinRate,
}

impl Fitness {
    /// Every fitness, in the order they are listed to users.
    pub const ALL: [Self; 6] = [
        Self::Sharpe,
        Self::NetProfit,
        Self::ReturnOverDrawdown,
        Self::ProfitFactor,
        Self::Sortino,
        Self::WinRate,
    ];

    /// The name users type (`net-profit`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Sharpe => "sharpe",
            Self::NetProfit => "net-profit",
            Self::ReturnOverDrawdown => "return-over-drawdown",
            Self::ProfitFactor => "profit-factor",
            Self::Sortino => "sortino",
            Self::WinRate => "win-rate",
        }
    }

    /// The trial's score, `None` when the metric is undefined for it (no
    /// variance, no losing trade, no drawdown, no trade).
    #[must_use]
    pub fn score(self, m: &TrialMetrics, common: &RunCommon) -> Option<f64> {
        match self {
            Self::Sharpe => m.sharpe(),
            Self::NetProfit => Some(m.final_equity() - common.initial_equity),
            Self::ReturnOverDrawdown => m.expand(common, None).return_over_drawdown,
            Self::ProfitFactor => m.profit_factor(),
            Self::Sortino => m.sortino(),
            Self::WinRate => m.win_rate(),
        }
    }
}

impl std::fmt::Display for Fitness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown fitness name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fitness '{0}' (choose sharpe, net-profit, return-over-drawdown, profit-factor, sortino or win-rate)")]
pub struct UnknownFitness(pub String);

impl FromStr for Fitness {
    type Err = UnknownFitness;

    /// Accepts `net-profit`, `net_profit` and `netProfit` alike.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let folded: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        Self::ALL
            .into_iter()
            .find(|f| f.name().replace('-', "") == folded)
            .ok_or_else(|| UnknownFitness(s.to_owned()))
    }
}

impl Serialize for Fitness {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// What to optimize: the grid, its constraints, the values of the
/// parameters that are not axes, the fitness and how many best trials keep
/// their equity curve and trades.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizeSpec {
    /// The combinations.
    pub grid: Grid,
    /// Relations a combination must satisfy to run.
    pub constraints: Vec<Constraint>,
    /// Every parameter's value outside the axes (defaults or fixed by the user).
    pub base: Params,
    /// What "best" means.
    pub fitness: Fitness,
    /// Best trials kept with equity curve and trades (K).
    pub top: usize,
}

impl OptimizeSpec {
    /// Parameters of combination `index`: the base with the axes' values.
    ///
    /// # Panics
    /// If `index` is outside the grid or an axis is not a parameter of
    /// `base` (a spec built against another strategy).
    #[must_use]
    pub fn params_of(&self, index: u64) -> Params {
        let mut combo = Vec::with_capacity(self.grid.axes().len());
        self.grid.decode_into(index, &mut combo);
        let mut params = self.base.clone();
        for (name, v) in combo {
            let at = params
                .position(name)
                .unwrap_or_else(|| panic!("axis '{name}' is not a parameter of the strategy"));
            params.set_at(at, v);
        }
        params
    }

    /// Whether combination `combo` satisfies every constraint (a
    /// constrained parameter that is not an axis takes its base value).
    fn allows(&self, combo: &[(&'static str, ParamValue)]) -> bool {
        self.constraints.iter().all(|c| {
            c.allows(|name| {
                combo
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| *v)
                    .or_else(|| self.base.position(name).map(|_| self.base.value(name)))
                    .and_then(numeric)
            })
        })
    }
}

/// Why an optimization could not run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptimizeError {
    /// An axis names a parameter the strategy does not declare.
    #[error("axis '{0}' is not a parameter of the strategy")]
    UnknownAxis(String),
    /// `top` must keep at least one trial.
    #[error("top must be at least 1")]
    NoTop,
    /// The thread pool could not start.
    #[error("cannot start {threads} worker threads: {reason}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// The system's reason.
        reason: String,
    },
}

/// Live counters and the best-so-far of one optimization, shared between
/// the engine (which writes them once per trial) and whoever watches or
/// cancels it. Use a fresh one per optimization.
#[derive(Debug, Default)]
pub struct OptimizationProgress {
    completed: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
    cancelled: AtomicBool,
    leaders: Mutex<Vec<Leader>>,
}

/// One of the best trials so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Leader {
    /// Combination index.
    pub index: u64,
    /// Its fitness (`None` if undefined).
    pub fitness: Option<f64>,
    /// Its metrics.
    pub metrics: TrialMetrics,
}

impl OptimizationProgress {
    /// Fresh counters.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Trials that ran to the end.
    #[must_use]
    pub fn completed(&self) -> u64 {
        self.completed.load(AtomicOrdering::Relaxed)
    }

    /// Trials that failed (panic or error).
    #[must_use]
    pub fn failed(&self) -> u64 {
        self.failed.load(AtomicOrdering::Relaxed)
    }

    /// Combinations refused by a constraint.
    #[must_use]
    pub fn skipped(&self) -> u64 {
        self.skipped.load(AtomicOrdering::Relaxed)
    }

    /// Combinations dealt with: completed + failed + skipped.
    #[must_use]
    pub fn processed(&self) -> u64 {
        self.completed() + self.failed() + self.skipped()
    }

    /// Asks every thread to stop (running trials stop within 4,096 sub-bars).
    pub fn cancel(&self) {
        self.cancelled.store(true, AtomicOrdering::Relaxed);
    }

    /// Whether cancellation was requested.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(AtomicOrdering::Relaxed)
    }

    /// The best trials so far, best first (at most [`LEADERBOARD_SIZE`]).
    #[must_use]
    pub fn leaders(&self) -> Vec<Leader> {
        lock(&self.leaders).clone()
    }

    /// Sets the counters (and, when given, the leaderboard) from outside
    /// the engine: a coordinator whose trials run in other processes
    /// mirrors their progress here, so watchers read it as usual.
    pub fn publish(&self, completed: u64, failed: u64, skipped: u64, leaders: Option<Vec<Leader>>) {
        self.completed.store(completed, AtomicOrdering::Relaxed);
        self.failed.store(failed, AtomicOrdering::Relaxed);
        self.skipped.store(skipped, AtomicOrdering::Relaxed);
        if let Some(l) = leaders {
            *lock(&self.leaders) = l;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means another thread panicked while holding it;
    // the data (a ranking) is still consistent at every await point.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A trial that failed: what the strategy said and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialFailure {
    /// Panic or error message.
    pub message: Box<str>,
    /// Backtrace, shared between trials that failed at the same place.
    pub backtrace: Arc<str>,
}

/// How one combination ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TrialOutcome {
    /// Ran to the end.
    Completed(TrialMetrics),
    /// Panicked or returned an error.
    Failed(Box<TrialFailure>),
}

/// One combination's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// Combination index in the grid.
    pub index: u64,
    /// Metrics or failure.
    pub outcome: TrialOutcome,
}

/// Position in the ranking: smaller is better.
#[derive(Debug, Clone, Copy, PartialEq)]
struct RankKey {
    /// 0 = fitness defined, 1 = undefined, 2 = failed.
    class: u8,
    score: f64,
    index: u64,
}

impl RankKey {
    fn of(trial: &Trial, fitness: Fitness, common: &RunCommon) -> Self {
        match &trial.outcome {
            TrialOutcome::Completed(m) => Self::completed(trial.index, m, fitness, common),
            TrialOutcome::Failed(_) => Self {
                class: 2,
                score: 0.0,
                index: trial.index,
            },
        }
    }

    fn completed(index: u64, m: &TrialMetrics, fitness: Fitness, common: &RunCommon) -> Self {
        match fitness.score(m, common).filter(|s| !s.is_nan()) {
            Some(score) => Self {
                class: 0,
                score,
                index,
            },
            None => Self {
                class: 1,
                score: 0.0,
                index,
            },
        }
    }

    fn cmp(&self, other: &Self) -> Ordering {
        self.class
            .cmp(&other.class)
            .then_with(|| other.score.total_cmp(&self.score))
            .then_with(|| self.index.cmp(&other.index))
    }
}

/// A best trial with everything a backtest report has.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopTrial {
    /// Combination index.
    pub index: u64,
    /// 1 = best.
    pub rank: usize,
    /// Its fitness.
    pub fitness: Option<f64>,
    /// The full report (metrics, equity curve, trades).
    #[serde(flatten)]
    pub report: BacktestReport,
}

/// The outcome of an optimization (complete, or partial when cancelled).
#[derive(Debug, Clone)]
pub struct OptimizationReport {
    /// Strategy name.
    pub strategy: &'static str,
    /// Strategy version.
    pub strategy_version: &'static str,
    /// What was optimized.
    pub spec: OptimizeSpec,
    /// Shared by every trial: initial equity and bar counts.
    pub common: RunCommon,
    /// Instrument symbol.
    pub symbol: String,
    /// Main timeframe.
    pub timeframe: String,
    /// First main bar's open time, ms.
    pub from_ms: i64,
    /// Last main bar's open time, ms.
    pub to_ms: i64,
    /// Trials that ran to the end.
    pub completed: u64,
    /// Trials that failed.
    pub failed: u64,
    /// Combinations refused by a constraint.
    pub skipped: u64,
    /// Whether it was cancelled before every combination ran.
    pub cancelled: bool,
    /// Every trial that ran, in combination-index order.
    pub trials: Vec<Trial>,
    /// The best K completed trials with equity curves and trades, best first.
    pub top: Vec<TopTrial>,
    /// Worker threads used.
    pub threads: usize,
    /// Wall time of the whole optimization, seconds.
    pub wall_secs: f64,
}

impl OptimizationReport {
    /// Combinations in the grid.
    #[must_use]
    pub fn total_combinations(&self) -> u64 {
        self.spec.grid.size()
    }

    /// Indices into [`OptimizationReport::trials`], best first.
    #[must_use]
    pub fn ranking(&self) -> Vec<usize> {
        let keys: Vec<RankKey> = self
            .trials
            .iter()
            .map(|t| RankKey::of(t, self.spec.fitness, &self.common))
            .collect();
        let mut order: Vec<usize> = (0..self.trials.len()).collect();
        order.sort_unstable_by(|&a, &b| keys[a].cmp(&keys[b]));
        order
    }

    /// The fitness of a trial (`None` if undefined or failed).
    #[must_use]
    pub fn fitness_of(&self, trial: &Trial) -> Option<f64> {
        match &trial.outcome {
            TrialOutcome::Completed(m) => self.spec.fitness.score(m, &self.common),
            TrialOutcome::Failed(_) => None,
        }
    }

    /// A view that serializes the trials in ranked order, each with its
    /// parameters and full metrics (or error).
    #[must_use]
    pub fn ranked_trials(&self) -> RankedTrials<'_> {
        RankedTrials {
            report: self,
            order: self.ranking(),
        }
    }
}

/// Every trial of a report, best first (see [`OptimizationReport::ranked_trials`]).
#[derive(Debug)]
pub struct RankedTrials<'a> {
    report: &'a OptimizationReport,
    order: Vec<usize>,
}

impl<'a> RankedTrials<'a> {
    /// `(rank, trial)` pairs, rank 1 first.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &'a Trial)> + '_ {
        self.order
            .iter()
            .enumerate()
            .map(|(r, &i)| (r + 1, &self.report.trials[i]))
    }
}

struct TrialView<'a> {
    report: &'a OptimizationReport,
    rank: usize,
    trial: &'a Trial,
}

impl Serialize for TrialView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.report;
        let mut st = s.serialize_struct("Trial", 6)?;
        st.serialize_field("index", &self.trial.index)?;
        st.serialize_field("rank", &self.rank)?;
        st.serialize_field("params", &r.spec.params_of(self.trial.index))?;
        match &self.trial.outcome {
            TrialOutcome::Completed(m) => {
                st.serialize_field("status", "Completed")?;
                st.serialize_field("fitness", &r.spec.fitness.score(m, &r.common))?;
                st.serialize_field("metrics", &m.expand(&r.common, None))?;
            }
            TrialOutcome::Failed(f) => {
                st.serialize_field("status", "Failed")?;
                st.serialize_field("errorMessage", &*f.message)?;
                st.serialize_field("errorStackTrace", &*f.backtrace)?;
            }
        }
        st.end()
    }
}

impl Serialize for RankedTrials<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(|(rank, trial)| TrialView {
            report: self.report,
            rank,
            trial,
        }))
    }
}

struct AxesView<'a>(&'a Grid);

impl Serialize for AxesView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.axes().len()))?;
        for a in self.0.axes() {
            m.serialize_entry(a.name, &a.values)?;
        }
        m.end()
    }
}

impl OptimizationReport {
    /// A view that serializes everything but the trials and the best
    /// trials' reports: what a summary row stores.
    #[must_use]
    pub fn summary(&self) -> ReportSummary<'_> {
        ReportSummary(self)
    }

    fn serialize_with<S: Serializer>(&self, s: S, full: bool) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("OptimizationReport", 22)?;
        st.serialize_field("strategy", self.strategy)?;
        st.serialize_field("strategyVersion", self.strategy_version)?;
        st.serialize_field("symbol", &self.symbol)?;
        st.serialize_field("timeframe", &self.timeframe)?;
        st.serialize_field("fromMs", &self.from_ms)?;
        st.serialize_field("toMs", &self.to_ms)?;
        st.serialize_field("maximize", &self.spec.fitness)?;
        st.serialize_field("axes", &AxesView(&self.spec.grid))?;
        let constraints: Vec<String> = self
            .spec
            .constraints
            .iter()
            .map(ToString::to_string)
            .collect();
        st.serialize_field("constraints", &constraints)?;
        st.serialize_field("baseParams", &self.spec.base)?;
        st.serialize_field("totalCombinations", &self.total_combinations())?;
        st.serialize_field("completedCombinations", &self.completed)?;
        st.serialize_field("failedCombinations", &self.failed)?;
        st.serialize_field("skippedCombinations", &self.skipped)?;
        st.serialize_field("cancelled", &self.cancelled)?;
        st.serialize_field("initialEquity", &self.common.initial_equity)?;
        st.serialize_field("mainBars", &self.common.main_bars)?;
        st.serialize_field("subBars", &self.common.sub_bars)?;
        st.serialize_field("threads", &self.threads)?;
        st.serialize_field("wallTimeMs", &(self.wall_secs * 1000.0))?;
        if full {
            st.serialize_field("trials", &self.ranked_trials())?;
            st.serialize_field("top", &self.top)?;
        }
        st.end()
    }
}

/// [`OptimizationReport::summary`].
#[derive(Debug, Clone, Copy)]
pub struct ReportSummary<'a>(&'a OptimizationReport);

impl Serialize for ReportSummary<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_with(s, false)
    }
}

impl Serialize for OptimizationReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.serialize_with(s, true)
    }
}

/// Checks cancellation every few thousand sub-bars of a trial.
struct CancelCheck<'a>(&'a AtomicBool);

impl Observer for CancelCheck<'_> {
    const TRACKS_PROGRESS: bool = true;

    #[inline]
    fn progress(&mut self, _processed: u64) -> bool {
        !self.0.load(AtomicOrdering::Relaxed)
    }
}

/// The best trials so far with what their reports need; shared by all
/// workers, locked once per trial that could enter it, never inside the
/// bar loop. An entering trial's equity buffer is moved in, not copied, and
/// the buffer of the trial it pushes out goes to `spare` for the next one.
struct TopK {
    capacity: usize,
    entries: Vec<(RankKey, TrialMetrics, Finished)>,
    spare: Vec<Vec<i64>>,
}

impl TopK {
    fn admits(&self, key: &RankKey) -> bool {
        self.entries.len() < self.capacity
            || self
                .entries
                .last()
                .is_some_and(|(worst, _, _)| key.cmp(worst) == Ordering::Less)
    }

    /// Inserts a trial that [`TopK::admits`].
    fn insert(&mut self, key: RankKey, metrics: TrialMetrics, run: Finished) {
        let at = self
            .entries
            .partition_point(|(k, _, _)| k.cmp(&key) == Ordering::Less);
        self.entries.insert(at, (key, metrics, run));
        if self.entries.len() > self.capacity {
            if let Some((_, _, out)) = self.entries.pop() {
                self.spare.push(out.equity);
            }
        }
    }
}

/// Interns backtraces so a million trials failing at the same line store
/// one copy of it.
#[derive(Default)]
struct Backtraces(Mutex<HashSet<Arc<str>>>);

impl Backtraces {
    fn intern(&self, text: String) -> Arc<str> {
        let mut set = lock(&self.0);
        if let Some(hit) = set.get(text.as_str()) {
            return Arc::clone(hit);
        }
        let arc: Arc<str> = Arc::from(text);
        set.insert(Arc::clone(&arc));
        arc
    }
}

/// Everything one worker thread reuses from trial to trial.
struct Worker {
    broker: Broker,
    equity: Vec<i64>,
    combo: Vec<(&'static str, ParamValue)>,
    params: Params,
}

/// What the workers share.
struct Shared<'a> {
    data: &'a MarketData,
    cfg: &'a BacktestConfig,
    spec: &'a OptimizeSpec,
    slots: Vec<usize>,
    common: RunCommon,
    progress: &'a OptimizationProgress,
    top: Mutex<TopK>,
    backtraces: Backtraces,
    series: SeriesCache,
    /// Main-bar times, shared by the best trials' equity curves.
    times: Arc<[i64]>,
}

enum TrialRun {
    Done(Trial),
    Skipped,
    Cancelled,
}

impl Shared<'_> {
    fn worker(&self) -> Worker {
        Worker {
            broker: Broker::new(self.data.instrument.clone(), *self.cfg),
            equity: Vec::new(), // sized by the first trial, with fresh zeroed memory
            combo: Vec::with_capacity(self.slots.len()),
            params: self.spec.base.clone(),
        }
    }

    fn run_chunk<S: Strategy>(&self, w: &mut Worker, range: std::ops::Range<u64>) -> Vec<Trial> {
        let mut out = Vec::with_capacity((range.end - range.start) as usize);
        for index in range {
            if self.progress.is_cancelled() {
                break;
            }
            match self.run_one::<S>(w, index) {
                TrialRun::Done(t) => out.push(t),
                TrialRun::Skipped => {
                    self.progress.skipped.fetch_add(1, AtomicOrdering::Relaxed);
                }
                TrialRun::Cancelled => break,
            }
        }
        out
    }

    fn failed(&self, index: u64, message: String, backtrace: String) -> TrialRun {
        self.progress.failed.fetch_add(1, AtomicOrdering::Relaxed);
        TrialRun::Done(Trial {
            index,
            outcome: TrialOutcome::Failed(Box::new(TrialFailure {
                message: message.into_boxed_str(),
                backtrace: self.backtraces.intern(backtrace),
            })),
        })
    }

    fn run_one<S: Strategy>(&self, w: &mut Worker, index: u64) -> TrialRun {
        self.spec.grid.decode_into(index, &mut w.combo);
        if !self.spec.allows(&w.combo) {
            return TrialRun::Skipped;
        }
        for (&slot, &(_, v)) in self.slots.iter().zip(&w.combo) {
            w.params.set_at(slot, v);
        }
        let started = Instant::now();
        let typed = match S::Params::from_params(&w.params) {
            Ok(p) => p,
            Err(e) => return self.failed(index, e.to_string(), String::new()),
        };
        w.broker.reset(*self.cfg);
        let mut obs = CancelCheck(&self.progress.cancelled);
        let sim = catch(|| {
            let ind = Indicators::new(self.data.main_bars(), &self.series);
            let mut strategy = match S::new(typed, &ind) {
                Ok(s) => s,
                Err(e) => {
                    return Err(SimError::Strategy(StrategyError {
                        message: e.to_string(),
                        backtrace: String::new(),
                    }))
                }
            };
            simulate(
                self.data,
                &mut strategy,
                &mut w.broker,
                &mut w.equity,
                &mut obs,
            )
        });
        let stats = match sim {
            Ok(Ok(stats)) => stats,
            Ok(Err(SimError::Cancelled { .. })) => return TrialRun::Cancelled,
            Ok(Err(SimError::Strategy(e))) => return self.failed(index, e.message, e.backtrace),
            Ok(Err(e)) => return self.failed(index, e.to_string(), String::new()),
            Err(f) => return self.failed(index, f.message, f.backtrace),
        };
        let input = MetricsInput {
            instrument: &self.data.instrument,
            initial_cash: self.cfg.initial_cash.raw(),
            equity: &w.equity,
            curve: Some(&stats.curve),
            times: &self.data.main_bars().ts,
            bar_ms: self.data.main_timeframe.millis(),
            trades: w.broker.trades(),
            exposure_bars: stats.exposure_bars,
            total_commission: w.broker.total_commission(),
            sub_bars: stats.sub_bars,
            wall_secs: 0.0,
        };
        let metrics = compute_trial(&input);
        let key = RankKey::completed(index, &metrics, self.spec.fitness, &self.common);
        let mut top = lock(&self.top);
        if top.admits(&key) {
            let spare = top.spare.pop().unwrap_or_default();
            let equity = std::mem::replace(&mut w.equity, spare);
            top.insert(
                key,
                metrics,
                Finished::capture(&w.broker, equity, stats, started.elapsed().as_secs_f64()),
            );
            let leaders = top
                .entries
                .iter()
                .take(LEADERBOARD_SIZE)
                .map(|(k, m, _)| Leader {
                    index: k.index,
                    fitness: (k.class == 0).then_some(k.score),
                    metrics: *m,
                })
                .collect();
            // published under the top list's lock, so a slower thread can
            // never overwrite a newer leaderboard with an older one
            *lock(&self.progress.leaders) = leaders;
        }
        drop(top);
        self.progress
            .completed
            .fetch_add(1, AtomicOrdering::Relaxed);
        TrialRun::Done(Trial {
            index,
            outcome: TrialOutcome::Completed(metrics),
        })
    }
}

/// Combinations per chunk: enough chunks for every thread to stay busy to
/// the end, few enough that handing them out costs nothing.
/// The thread pool and the shared state of one run over `spec`.
fn setup<'a>(
    data: &'a MarketData,
    cfg: &'a BacktestConfig,
    spec: &'a OptimizeSpec,
    progress: &'a OptimizationProgress,
    threads: usize,
    top_capacity: usize,
    slots: Vec<usize>,
) -> Result<(rayon::ThreadPool, Shared<'a>), OptimizeError> {
    let threads = threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("atf-trial-{i}"))
        .build()
        .map_err(|e| OptimizeError::Threads {
            threads,
            reason: e.to_string(),
        })?;
    let main = data.main_bars();
    let shared = Shared {
        data,
        cfg,
        spec,
        slots,
        common: common_of(data, cfg),
        progress,
        top: Mutex::new(TopK {
            capacity: top_capacity,
            entries: Vec::new(),
            spare: Vec::new(),
        }),
        backtraces: Backtraces::default(),
        series: SeriesCache::new(series::DEFAULT_BUDGET),
        times: Arc::from(main.ts.as_slice()),
    };
    Ok((pool, shared))
}

fn common_of(data: &MarketData, cfg: &BacktestConfig) -> RunCommon {
    RunCommon {
        initial_equity: data.instrument.money_f64(cfg.initial_cash),
        main_bars: data.main_bars().len() as u64,
        sub_bars: data.total_sub_bars(),
    }
}

fn slots_of(spec: &OptimizeSpec) -> Result<Vec<usize>, OptimizeError> {
    spec.grid
        .axes()
        .iter()
        .map(|a| {
            spec.base
                .position(a.name)
                .ok_or_else(|| OptimizeError::UnknownAxis(a.name.to_owned()))
        })
        .collect()
}

/// Runs the combinations of `range` on the pool, trials back in index order.
fn run_trials<S: Strategy>(
    pool: &rayon::ThreadPool,
    shared: &Shared<'_>,
    range: std::ops::Range<u64>,
) -> Vec<Trial> {
    let threads = pool.current_num_threads();
    let len = range.end.saturating_sub(range.start);
    let chunk = chunk_size(len, threads);
    let chunks = len.div_ceil(chunk);
    // One worker state per pool thread, made on first use: rayon may split
    // the chunks into many more jobs than threads, and a fresh equity
    // buffer per job would cost fresh (zeroed) pages each time.
    let workers: Vec<Mutex<Option<Worker>>> = (0..threads).map(|_| Mutex::new(None)).collect();
    let per_chunk: Vec<Vec<Trial>> = pool.install(|| {
        (0..chunks)
            .into_par_iter()
            .map(|c| {
                let slot = &workers[rayon::current_thread_index().unwrap_or(0) % threads];
                let mut guard = lock(slot);
                let w = guard.get_or_insert_with(|| shared.worker());
                let from = range.start + c * chunk;
                shared.run_chunk::<S>(w, from..(from + chunk).min(range.end))
            })
            .collect()
    });
    let mut trials = Vec::with_capacity(per_chunk.iter().map(Vec::len).sum());
    for c in per_chunk {
        trials.extend(c);
    }
    trials
}

/// Runs the combinations `range` of `spec` — one chunk of a grid, as a
/// remote worker takes it — on `threads` threads; trials come back in
/// index order (skipped combinations are counted in `progress`, not
/// returned). The whole grid's report is put together by [`assemble`] from
/// every chunk's trials, wherever they ran.
///
/// # Errors
/// As [`optimize`].
pub fn run_range<S: Strategy>(
    data: &MarketData,
    cfg: &BacktestConfig,
    spec: &OptimizeSpec,
    range: std::ops::Range<u64>,
    progress: &OptimizationProgress,
    threads: usize,
) -> Result<Vec<Trial>, OptimizeError> {
    let slots = slots_of(spec)?;
    let end = range.end.min(spec.grid.size());
    let (pool, shared) = setup(data, cfg, spec, progress, threads, LEADERBOARD_SIZE, slots)?;
    Ok(run_trials::<S>(&pool, &shared, range.start.min(end)..end))
}

/// The report of a whole grid from its trials, gathered from any number of
/// chunks in any order (a trial recorded twice counts once): ranked like
/// [`optimize`], the best `spec.top` run again in full for their reports.
/// The trials and their ranking equal a single-machine [`optimize`] of the
/// same grid, trial for trial.
///
/// `skipped` is the number of combinations constraints refused (not in
/// `trials`); `cancelled` marks a partial report.
///
/// # Errors
/// As [`optimize`].
#[allow(clippy::too_many_arguments, reason = "each is one input of the report")]
pub fn assemble<S: Strategy>(
    data: &MarketData,
    cfg: &BacktestConfig,
    spec: &OptimizeSpec,
    mut trials: Vec<Trial>,
    skipped: u64,
    cancelled: bool,
    threads: usize,
    wall_secs: f64,
) -> Result<OptimizationReport, OptimizeError> {
    if spec.top == 0 {
        return Err(OptimizeError::NoTop);
    }
    slots_of(spec)?;
    trials.sort_by_key(|t| t.index);
    trials.dedup_by_key(|t| t.index);
    let common = common_of(data, cfg);
    let (mut completed, mut failed) = (0, 0);
    for t in &trials {
        match t.outcome {
            TrialOutcome::Completed(_) => completed += 1,
            TrialOutcome::Failed(_) => failed += 1,
        }
    }
    let keys: Vec<RankKey> = trials
        .iter()
        .map(|t| RankKey::of(t, spec.fitness, &common))
        .collect();
    let mut order: Vec<usize> = (0..trials.len()).collect();
    order.sort_unstable_by(|&a, &b| keys[a].cmp(&keys[b]));
    let best: Vec<&RankKey> = order
        .iter()
        .map(|&i| &keys[i])
        .filter(|k| k.class < 2)
        .take(spec.top)
        .collect();
    let threads = threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("atf-trial-{i}"))
        .build()
        .map_err(|e| OptimizeError::Threads {
            threads,
            reason: e.to_string(),
        })?;
    let top: Vec<TopTrial> = pool.install(|| {
        best.par_iter()
            .enumerate()
            .filter_map(|(i, key)| {
                let params = spec.params_of(key.index);
                let report =
                    crate::report::backtest::<S, _>(data, cfg, &params, &mut crate::run::Silent)
                        .ok()?;
                Some(TopTrial {
                    index: key.index,
                    rank: i + 1,
                    fitness: (key.class == 0).then_some(key.score),
                    report,
                })
            })
            .collect()
    });
    let main = data.main_bars();
    Ok(OptimizationReport {
        strategy: S::NAME,
        strategy_version: S::VERSION,
        spec: spec.clone(),
        common,
        symbol: data.instrument.symbol.clone(),
        timeframe: data.main_timeframe.to_string(),
        from_ms: main.ts.first().copied().unwrap_or(0),
        to_ms: main.ts.last().copied().unwrap_or(0),
        completed,
        failed,
        skipped,
        cancelled,
        trials,
        top,
        threads,
        wall_secs,
    })
}

fn chunk_size(total: u64, threads: usize) -> u64 {
    (total / (threads as u64 * 16)).clamp(1, 1024)
}

/// Runs every combination of `spec` over `data` for strategy `S` on
/// `threads` threads, reporting into `progress`.
///
/// Returns a partial report (with `cancelled` set) if `progress` is
/// cancelled.
///
/// # Errors
/// [`OptimizeError`] when the spec does not fit the strategy or threads
/// cannot start; failing trials are not errors.
pub fn optimize<S: Strategy>(
    data: &MarketData,
    cfg: &BacktestConfig,
    spec: &OptimizeSpec,
    progress: &OptimizationProgress,
    threads: usize,
) -> Result<OptimizationReport, OptimizeError> {
    if spec.top == 0 {
        return Err(OptimizeError::NoTop);
    }
    let slots = slots_of(spec)?;
    let started = Instant::now();
    let (pool, shared) = setup(
        data,
        cfg,
        spec,
        progress,
        threads,
        spec.top.max(LEADERBOARD_SIZE),
        slots,
    )?;
    let threads = pool.current_num_threads();
    let total = spec.grid.size();
    let main = data.main_bars();
    let trials = run_trials::<S>(&pool, &shared, 0..total);
    let top_entries = std::mem::take(&mut lock(&shared.top).entries);
    let top: Vec<TopTrial> = pool.install(|| {
        top_entries
            .into_par_iter()
            .take(spec.top)
            .enumerate()
            .map(|(i, (key, _, run))| TopTrial {
                index: key.index,
                rank: i + 1,
                fitness: (key.class == 0).then_some(key.score),
                report: build_report::<S>(
                    data,
                    Arc::clone(&shared.times),
                    cfg,
                    &spec.params_of(key.index),
                    run,
                ),
            })
            .collect()
    });
    let cancelled = progress.is_cancelled() && (trials.len() as u64) + progress.skipped() < total;
    Ok(OptimizationReport {
        strategy: S::NAME,
        strategy_version: S::VERSION,
        spec: spec.clone(),
        common: shared.common,
        symbol: data.instrument.symbol.clone(),
        timeframe: data.main_timeframe.to_string(),
        from_ms: main.ts.first().copied().unwrap_or(0),
        to_ms: main.ts.last().copied().unwrap_or(0),
        completed: progress.completed(),
        failed: progress.failed(),
        skipped: progress.skipped(),
        cancelled,
        trials,
        top,
        threads,
        wall_secs: started.elapsed().as_secs_f64(),
    })
}
