//! Running the trials: chunks of consecutive combinations on a rayon pool,
//! one reused broker per worker, the best K kept as they come.

use super::progress::lock;
use super::report::RankKey;
use super::{
    Leader, OptimizationProgress, OptimizationReport, OptimizeError, OptimizeSpec, TopTrial, Trial,
    TrialFailure, TrialOutcome, LEADERBOARD_SIZE,
};
use crate::bars::MarketData;
use crate::broker::Broker;
use crate::failure::catch;
use crate::lines::Indicators;
use crate::metrics::{compute_trial, CurveStats, MetricsInput, RunCommon, TrialMetrics};
use crate::order::BacktestConfig;
use crate::params::{ParamValue, Params, StrategyParams};
use crate::report::{build_report, Finished};
use crate::robustness::BlockRecorder;
use crate::run::{simulate, Observer, SimError};
use crate::series::{self, SeriesCache};
use crate::strategy::{Strategy, StrategyError};
use rayon::prelude::*;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Checks cancellation every few thousand sub-bars of a trial and takes
/// the curve's running sums at each block's end (PBO's per-block sums).
struct TrialObserver<'a> {
    cancelled: &'a AtomicBool,
    blocks: &'a mut BlockRecorder,
}

impl Observer for TrialObserver<'_> {
    const TRACKS_PROGRESS: bool = true;
    const MARKS: bool = true;

    #[inline]
    fn progress(&mut self, _processed: u64) -> bool {
        !self.cancelled.load(AtomicOrdering::Relaxed)
    }

    #[inline]
    fn next_mark(&self) -> usize {
        self.blocks.next_end()
    }

    #[inline]
    fn mark(&mut self, _bars: usize, curve: &CurveStats) {
        self.blocks.record(curve);
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
    blocks: BlockRecorder,
}

/// What the workers share.
pub(super) struct Shared<'a> {
    data: &'a MarketData,
    cfg: &'a BacktestConfig,
    pub(super) spec: &'a OptimizeSpec,
    slots: Vec<usize>,
    pub(super) common: RunCommon,
    pub(super) progress: &'a OptimizationProgress,
    top: Mutex<TopK>,
    backtraces: Backtraces,
    series: SeriesCache,
    /// Main-bar times, shared by the best trials' equity curves.
    times: Arc<[i64]>,
}

#[allow(
    clippy::large_enum_variant,
    reason = "returned once per trial and moved straight into the chunk's list: a box would add an allocation per trial"
)]
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
            blocks: BlockRecorder::new(self.data.window_times().len()),
        }
    }

    fn run_chunk<S: Strategy>(
        &self,
        w: &mut Worker,
        indices: impl ExactSizeIterator<Item = u64>,
    ) -> Vec<Trial> {
        let mut out = Vec::with_capacity(indices.len());
        for index in indices {
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
            blocks: None,
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
        w.blocks.reset();
        let mut obs = TrialObserver {
            cancelled: &self.progress.cancelled,
            blocks: &mut w.blocks,
        };
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
            times: self.data.window_times(),
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
            blocks: w.blocks.finish(),
        })
    }
}

/// Combinations per chunk: enough chunks for every thread to stay busy to
/// the end, few enough that handing them out costs nothing.
/// The thread pool and the shared state of one run over `spec`.
pub(super) fn setup<'a>(
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
        times: Arc::from(data.window_times()),
    };
    Ok((pool, shared))
}

fn common_of(data: &MarketData, cfg: &BacktestConfig) -> RunCommon {
    RunCommon {
        initial_equity: data.instrument.money_f64(cfg.initial_cash),
        main_bars: data.window_times().len() as u64,
        sub_bars: data.total_sub_bars(),
    }
}

pub(super) fn slots_of(spec: &OptimizeSpec) -> Result<Vec<usize>, OptimizeError> {
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

/// The combinations one call of [`run_trials`] runs: a range of a grid, or
/// a search's batch.
#[derive(Debug, Clone)]
pub(super) enum Batch<'a> {
    /// Consecutive indices.
    Range(std::ops::Range<u64>),
    /// Any indices, run in this order.
    List(&'a [u64]),
}

impl Batch<'_> {
    fn len(&self) -> u64 {
        match self {
            Self::Range(r) => r.end.saturating_sub(r.start),
            Self::List(l) => l.len() as u64,
        }
    }

    /// The indices at positions `from..to` of the batch.
    fn part(&self, from: u64, to: u64) -> Part<'_> {
        match self {
            Self::Range(r) => Part::Range((r.start + from)..(r.start + to)),
            Self::List(l) => Part::List(l[from as usize..to as usize].iter()),
        }
    }
}

/// Some positions of a [`Batch`], as the indices they hold.
enum Part<'a> {
    Range(std::ops::Range<u64>),
    List(std::slice::Iter<'a, u64>),
}

impl Iterator for Part<'_> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        match self {
            Self::Range(r) => r.next(),
            Self::List(l) => l.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match self {
            Self::Range(r) => usize::try_from(r.end.saturating_sub(r.start)).unwrap_or(usize::MAX),
            Self::List(l) => l.len(),
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for Part<'_> {}

/// Runs the combinations of `batch` on the pool, trials back in the
/// batch's order.
pub(super) fn run_trials<S: Strategy>(
    pool: &rayon::ThreadPool,
    shared: &Shared<'_>,
    batch: Batch<'_>,
) -> Vec<Trial> {
    let threads = pool.current_num_threads();
    let len = batch.len();
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
                let from = c * chunk;
                shared.run_chunk::<S>(w, batch.part(from, (from + chunk).min(len)))
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
    Ok(run_trials::<S>(
        &pool,
        &shared,
        Batch::Range(range.start.min(end)..end),
    ))
}

/// Runs the combinations `indices` of `spec`'s grid (a search's batch, or
/// what a resumed run still lacks — a scale-out chunk that is not a
/// range): their trials in the list's order, those a constraint refuses
/// counted as skipped in `progress`, indices past the grid ignored.
///
/// # Errors
/// As [`optimize`].
pub fn run_list<S: Strategy>(
    data: &MarketData,
    cfg: &BacktestConfig,
    spec: &OptimizeSpec,
    indices: &[u64],
    progress: &OptimizationProgress,
    threads: usize,
) -> Result<Vec<Trial>, OptimizeError> {
    let slots = slots_of(spec)?;
    let total = spec.grid.size();
    let inside: Vec<u64> = indices.iter().copied().filter(|&i| i < total).collect();
    let (pool, shared) = setup(data, cfg, spec, progress, threads, LEADERBOARD_SIZE, slots)?;
    Ok(run_trials::<S>(&pool, &shared, Batch::List(&inside)))
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
#[allow(
    clippy::too_many_arguments,
    reason = "the pieces of one optimization run, passed as they are owned"
)]
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
    let window = data.window_times();
    let robustness = robustness_of::<S>(&pool, cancelled, data, cfg, spec, &trials, &common, &top);
    Ok(OptimizationReport {
        strategy: S::NAME,
        strategy_version: S::VERSION,
        spec: spec.clone(),
        common,
        symbol: data.instrument.symbol.clone(),
        timeframe: data.main_timeframe.to_string(),
        from_ms: window.first().copied().unwrap_or(0),
        to_ms: window.last().copied().unwrap_or(0),
        warmup_bars: u32::try_from(data.warmup_bars()).unwrap_or(u32::MAX),
        completed,
        failed,
        skipped,
        cancelled,
        trials,
        top,
        threads,
        wall_secs,
        robustness,
        search: None,
    })
}

/// The robustness of a report's winner over `data` (see
/// [`crate::robustness`]): the trials of the correlation sample are run
/// again on `pool` for their returns (in parallel, collected in order) —
/// not after a cancel, which must end the run promptly (no ρ̄ then).
#[allow(
    clippy::too_many_arguments,
    reason = "the pieces of one optimization run, passed as they are owned"
)]
fn robustness_of<S: Strategy>(
    pool: &rayon::ThreadPool,
    cancelled: bool,
    data: &MarketData,
    cfg: &BacktestConfig,
    spec: &OptimizeSpec,
    trials: &[Trial],
    common: &RunCommon,
    top: &[TopTrial],
) -> Option<crate::robustness::Robustness> {
    if !spec.assess {
        return None;
    }
    let window = data.window_times();
    let completed: Vec<u64> = trials
        .iter()
        .filter(|t| matches!(t.outcome, TrialOutcome::Completed(_)))
        .map(|t| t.index)
        .collect();
    let sample: Vec<Vec<f64>> = pool.install(|| {
        let indices = if cancelled {
            Vec::new()
        } else {
            crate::robustness::correlation_sample(&completed)
        };
        indices
            .par_iter()
            .filter_map(|&index| {
                let report = crate::report::backtest::<S, _>(
                    data,
                    cfg,
                    &spec.params_of(index),
                    &mut crate::run::Silent,
                )
                .ok()?;
                Some(
                    report
                        .equity_curve
                        .bar_returns(cfg.initial_cash.raw(), common.initial_equity),
                )
            })
            .collect()
    });
    // on the run's pool: PBO's splits are the costly part of assessing
    pool.install(|| {
        crate::robustness::assess(&crate::robustness::AssessInput {
            trials,
            fitness: spec.fitness,
            common,
            top,
            sample: &sample,
            shape: spec
                .grid
                .axes()
                .iter()
                .map(|a| a.values.len() as u64)
                .collect(),
            initial_raw: cfg.initial_cash.raw(),
            periods_per_year: crate::metrics::periods_per_year(
                window,
                data.main_timeframe.millis(),
                window.len(),
            ),
        })
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
    let window = data.window_times();
    let (trials, search, search_cancelled) = match spec.search {
        None => (
            run_trials::<S>(&pool, &shared, Batch::Range(0..total)),
            None,
            false,
        ),
        Some(s) => {
            let (trials, outcome, cancelled) =
                super::search::run_search::<S>(&pool, &shared, s, Vec::new());
            (trials, Some(outcome), cancelled)
        }
    };
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
    let cancelled = match search {
        Some(_) => search_cancelled,
        None => progress.is_cancelled() && (trials.len() as u64) + progress.skipped() < total,
    };
    let robustness = robustness_of::<S>(
        &pool,
        cancelled,
        data,
        cfg,
        spec,
        &trials,
        &shared.common,
        &top,
    );
    Ok(OptimizationReport {
        strategy: S::NAME,
        strategy_version: S::VERSION,
        spec: spec.clone(),
        common: shared.common,
        symbol: data.instrument.symbol.clone(),
        timeframe: data.main_timeframe.to_string(),
        from_ms: window.first().copied().unwrap_or(0),
        to_ms: window.last().copied().unwrap_or(0),
        warmup_bars: u32::try_from(data.warmup_bars()).unwrap_or(u32::MAX),
        completed: progress.completed(),
        failed: progress.failed(),
        skipped: progress.skipped(),
        cancelled,
        trials,
        top,
        threads,
        wall_secs: started.elapsed().as_secs_f64(),
        robustness,
        search,
    })
}
