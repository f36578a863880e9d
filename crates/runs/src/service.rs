//! The run service: submission, the job queue, cancellation, and the
//! hand-over of a finished run from the progress cache to SQLite.
//!
//! - **Submit** checks and sizes the request from the catalog entry
//!   ([`crate::plan`]), deduplicates by run key (a run in flight holds its
//!   key in the cache; a completed one is found in SQLite), publishes a
//!   `Pending` snapshot and queues the job. It never reads bars.
//! - **Lanes**: backtests and optimizations wait in two queues, each worked
//!   by a fixed number of threads (defaults 2 and 1), so extra runs stay
//!   `Pending`. An optimization fans out on its own rayon pool.
//! - **Progress**: the engine bumps atomic counters; a publisher thread
//!   copies them into the cache every [`ServiceConfig::publish_every`]
//!   (never per bar or per trial).
//! - **End**: the run is written to SQLite in one transaction, then its
//!   snapshot turns terminal with a time to live, then its key claim is
//!   released — so a reader never sees `Completed` without a result.
//! - **Priority**: the lane threads (and the optimizer threads they start,
//!   which inherit it) run at a lower CPU priority (nice +10 on Unix), so
//!   the HTTP API keeps answering in milliseconds while every core works on
//!   an optimization; alone on the machine they lose nothing.
//! - **Cancel**: a pending run ends at once (persisted as `Cancelled`); a
//!   running one is flagged, reports `Cancelled` immediately, and its
//!   threads stop at their next check (every 4,096 sub-bars at most).

mod distributed_run;

use crate::cache::{CacheError, ProgressCache};
use crate::key::RunKind;
use crate::plan::{self, Plan, Work};
use crate::request::{BacktestRequest, OptimizationRequest};
use crate::settings::FieldError;
use crate::snapshot::RunSnapshot;
use crate::status::RunStatus;
use crate::store::{
    now_ms, BacktestEnd, OptimizationEnd, Page, RunHeader, RunStore, RunSummary, StoreError,
    TrialOrder, TrialSort,
};
use atf_data::{Catalog, DataError, DatasetInfo};
use atf_engine::metrics::RunCommon;
use atf_engine::optimize::{
    OptimizationProgress, OptimizationReport, TrialOutcome, TrialRecord, TrialStatus,
};
use atf_engine::{BacktestReport, MarketData, Progress, Registry, RunFailure};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};
use tracing::{error, info, warn};

/// How many trials a status or run answer carries inline (the rest page
/// through [`RunService::trials`]).
pub const INLINE_TRIALS: u64 = 1_000;
/// Leaderboard length in an optimization's status.
pub const LEADERS: usize = 10;
/// Failed trials logged one by one at the end of an optimization (the rest
/// are counted in one line).
const LOGGED_TRIAL_FAILURES: usize = 20;

/// Start-up settings.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Where `catalog.db`, `runs.db` and the datasets live.
    pub data_dir: PathBuf,
    /// The strategies runs may name.
    pub registry: Arc<Registry>,
    /// Backtests running at once.
    pub backtest_slots: usize,
    /// Optimizations running at once.
    pub optimization_slots: usize,
    /// Threads of each optimization.
    pub optimizer_threads: usize,
    /// Largest grid accepted.
    pub max_combinations: u64,
    /// How often live counters are copied to the cache.
    pub publish_every: Duration,
    /// How long a terminal cache entry lives after the run is persisted.
    pub terminal_ttl: Duration,
}

impl ServiceConfig {
    /// The defaults for `data_dir` and `registry`: 2 backtests and 1
    /// optimization at a time, every core for an optimization, 1,000,000
    /// combinations at most.
    #[must_use]
    pub fn new(data_dir: PathBuf, registry: Arc<Registry>) -> Self {
        Self {
            data_dir,
            registry,
            backtest_slots: 2,
            optimization_slots: 1,
            optimizer_threads: std::thread::available_parallelism().map_or(1, usize::from),
            max_combinations: atf_engine::grid::DEFAULT_MAX_COMBINATIONS,
            publish_every: Duration::from_millis(250),
            terminal_ttl: crate::cache::TERMINAL_TTL,
        }
    }
}

/// Why a submission was refused or could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// A field of the request is wrong (HTTP 422).
    #[error(transparent)]
    Field(#[from] FieldError),
    /// Storage or cache failed (HTTP 500/503).
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Why a query of stored runs was refused or could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// A query parameter is wrong (HTTP 422).
    #[error(transparent)]
    Field(#[from] FieldError),
    /// Storage failed (HTTP 500).
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// The service's storage failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The progress cache.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The run database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The dataset catalog.
    #[error("dataset catalog: {0}")]
    Catalog(#[from] DataError),
}

/// The answer to a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The run (new, or the identical one already in flight or finished).
    pub id: String,
    /// Its key.
    pub run_key: String,
    /// Its status now.
    pub status: RunStatus,
    /// Its total work.
    pub total: u64,
    /// Whether an identical run answered instead of a new one.
    pub existing: bool,
}

/// A run as status readers see it: the snapshot and, once it ended with
/// one, the result.
#[derive(Debug, Clone, PartialEq)]
pub struct RunState {
    /// Status, counters, error.
    pub snapshot: RunSnapshot,
    /// The result, `None` until there is one.
    pub result: Option<RunResult>,
}

/// A finished run's result, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum RunResult {
    /// A backtest's report.
    Backtest(Box<atf_engine::BacktestReport>),
    /// An optimization's summary, first ranked trials and kept best trials.
    Optimization(Box<crate::store::OptimizationResult>),
}

/// The answer to a cancel request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It is (now) cancelled.
    Cancelled,
    /// It had already ended with this status.
    AlreadyEnded(RunStatus),
    /// No such run.
    NotFound,
}

/// Queue and worker counts for `/api/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// Runs waiting for a slot.
    pub pending: usize,
    /// Runs working.
    pub running: usize,
    /// Worker threads (backtest + optimization slots).
    pub workers: usize,
}

/// Where a live run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Pending,
    Running,
    /// Decided, being written to SQLite.
    Finishing(RunStatus),
    Done(RunStatus),
}

impl Phase {
    /// The status readers see: a cancelled run says so at once; a run
    /// being saved still says `Running` until its result can be read.
    fn visible(self) -> RunStatus {
        match self {
            Self::Pending => RunStatus::Pending,
            Self::Running | Self::Finishing(RunStatus::Completed | RunStatus::Failed) => {
                RunStatus::Running
            }
            Self::Finishing(s) | Self::Done(s) => s,
        }
    }
}

#[derive(Debug)]
struct LiveState {
    phase: Phase,
    started_at_ms: Option<i64>,
    finished_at_ms: Option<i64>,
    error: Option<(String, String)>,
}

/// A run this process accepted and has not finished with.
struct LiveRun {
    id: String,
    plan: Plan,
    request: Value,
    submitted_at_ms: i64,
    total: AtomicU64,
    state: Mutex<LiveState>,
    bars: Progress,
    trials: OptimizationProgress,
    common: OnceLock<RunCommon>,
    /// When a cancel reached it while running (logged: how fast it stopped).
    cancelled_at: OnceLock<Instant>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LiveRun {
    fn kind(&self) -> RunKind {
        self.plan.kind()
    }

    fn snapshot(&self) -> RunSnapshot {
        self.snapshot_with(&lock(&self.state))
    }

    /// The snapshot, with the state already locked by the caller (who
    /// publishes it before unlocking, so an older snapshot can never
    /// overwrite a newer one in the cache).
    fn snapshot_with(&self, st: &LiveState) -> RunSnapshot {
        let status = st.phase.visible();
        let (completed, failed, skipped) = match self.kind() {
            RunKind::Backtest => (self.bars.processed(), 0, 0),
            RunKind::Optimization => (
                self.trials.completed(),
                self.trials.failed(),
                self.trials.skipped(),
            ),
        };
        let leaders = match (&self.plan.work, self.common.get()) {
            (Work::Optimization(spec), Some(common)) => self
                .trials
                .leaders()
                .iter()
                .take(LEADERS)
                .enumerate()
                .map(|(i, l)| TrialRecord {
                    index: l.index,
                    rank: i as u64 + 1,
                    params: (&spec.params_of(l.index)).into(),
                    status: TrialStatus::Completed,
                    fitness: l.fitness,
                    metrics: Some(l.metrics.expand(common, None)),
                    error_message: None,
                    error_stack_trace: None,
                    backtest_id: None,
                })
                .collect(),
            _ => Vec::new(),
        };
        RunSnapshot {
            id: self.id.clone(),
            kind: self.kind(),
            run_key: self.plan.key.to_string(),
            status,
            strategy: self.plan.spec.strategy.clone(),
            dataset: self.plan.target.dataset.name.clone(),
            submitted_at_ms: self.submitted_at_ms,
            started_at_ms: st.started_at_ms,
            finished_at_ms: st.finished_at_ms,
            total: self.total.load(Ordering::Relaxed),
            completed,
            failed,
            skipped,
            error_message: st.error.as_ref().map(|e| e.0.clone()),
            error_stack_trace: st.error.as_ref().map(|e| e.1.clone()),
            leaders,
        }
    }

    fn header(&self, status: RunStatus) -> RunHeader {
        let st = lock(&self.state);
        let t = &self.plan.target;
        RunHeader {
            id: self.id.clone(),
            run_key: self.plan.key.to_string(),
            status,
            strategy: self.plan.spec.strategy.clone(),
            strategy_version: self.plan.spec.strategy_version.clone(),
            dataset_id: t.dataset.id,
            dataset: t.dataset.name.clone(),
            dataset_sha256: t.dataset.sha256.clone(),
            timeframe: t.timeframe.to_string(),
            from_ms: t.period.from_ms,
            to_ms: t.period.to_ms,
            total: self.total.load(Ordering::Relaxed),
            error_message: st.error.as_ref().map(|e| e.0.clone()),
            error_stack_trace: st.error.as_ref().map(|e| e.1.clone()),
            submitted_at_ms: self.submitted_at_ms,
            started_at_ms: st.started_at_ms,
            finished_at_ms: st.finished_at_ms.unwrap_or_else(now_ms),
            request: self.request.clone(),
            spec: self.plan.spec.clone(),
        }
    }

    fn cancel_engine(&self) {
        self.bars.cancel();
        self.trials.cancel();
    }
}

#[derive(Default)]
struct Lane {
    queue: Mutex<VecDeque<Arc<LiveRun>>>,
    ready: Condvar,
}

struct Inner {
    cfg: ServiceConfig,
    catalog: Mutex<Catalog>,
    store: RunStore,
    cache: Arc<dyn ProgressCache>,
    live: Mutex<HashMap<String, Arc<LiveRun>>>,
    lanes: [Lane; 2],
    running: AtomicU64,
    stop: AtomicBool,
    /// Set when optimizations are spread over workers through Redis.
    coordinator: Option<Arc<crate::distributed::Coordinator>>,
}

/// The run service (cheap to clone; clones share everything).
#[derive(Clone)]
pub struct RunService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RunService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunService")
            .field("data_dir", &self.inner.cfg.data_dir)
            .field("cache", &self.inner.cache.backend())
            .finish_non_exhaustive()
    }
}

/// Outcome of executing a job, before it is persisted.
enum Ended {
    Backtest(Option<Box<BacktestReport>>),
    Optimization(Option<Box<OptimizationReport>>),
}

fn lane_of(kind: RunKind) -> usize {
    match kind {
        RunKind::Backtest => 0,
        RunKind::Optimization => 1,
    }
}

fn trace_here() -> String {
    std::backtrace::Backtrace::force_capture().to_string()
}

impl RunService {
    /// Opens the catalog (importing the demo datasets on first start) and
    /// the run database, and starts the worker and publisher threads.
    ///
    /// # Errors
    /// [`ServiceError`] when the catalog or the database cannot be opened.
    pub fn start(cfg: ServiceConfig, cache: Arc<dyn ProgressCache>) -> Result<Self, ServiceError> {
        Self::start_with(cfg, cache, None)
    }

    /// As [`RunService::start`], but optimizations run on the workers of
    /// `coordinator` (DESIGN §6); backtests still run here.
    ///
    /// # Errors
    /// As [`RunService::start`].
    pub fn start_distributed(
        cfg: ServiceConfig,
        cache: Arc<dyn ProgressCache>,
        coordinator: Arc<crate::distributed::Coordinator>,
    ) -> Result<Self, ServiceError> {
        Self::start_with(cfg, cache, Some(coordinator))
    }

    fn start_with(
        cfg: ServiceConfig,
        cache: Arc<dyn ProgressCache>,
        coordinator: Option<Arc<crate::distributed::Coordinator>>,
    ) -> Result<Self, ServiceError> {
        // every submission's key needs the build's fingerprint: hash the
        // executable now, off the first request's path
        std::thread::spawn(|| crate::build::fingerprint().len());
        std::fs::create_dir_all(&cfg.data_dir).map_err(|source| DataError::Io {
            path: cfg.data_dir.clone(),
            source,
        })?;
        let catalog = Catalog::open(&cfg.data_dir)?;
        catalog.ensure_demo()?;
        let store = RunStore::open(&cfg.data_dir.join("runs.db"))?;
        let svc = Self {
            inner: Arc::new(Inner {
                catalog: Mutex::new(catalog),
                store,
                cache,
                live: Mutex::new(HashMap::new()),
                lanes: [Lane::default(), Lane::default()],
                running: AtomicU64::new(0),
                stop: AtomicBool::new(false),
                coordinator,
                cfg,
            }),
        };
        for (lane, slots) in [
            (0, svc.inner.cfg.backtest_slots),
            (1, svc.inner.cfg.optimization_slots),
        ] {
            for n in 0..slots.max(1) {
                let s = svc.clone();
                std::thread::Builder::new()
                    .name(format!("atf-{}-{n}", ["backtest", "optimize"][lane]))
                    .spawn(move || s.work_lane(lane))
                    .map_err(|e| DataError::Io {
                        path: PathBuf::from("<thread>"),
                        source: e,
                    })?;
            }
        }
        let s = svc.clone();
        std::thread::Builder::new()
            .name("atf-publish".into())
            .spawn(move || s.publish_loop())
            .map_err(|e| DataError::Io {
                path: PathBuf::from("<thread>"),
                source: e,
            })?;
        Ok(svc)
    }

    /// Stops taking jobs (running ones are abandoned with the process).
    pub fn shutdown(&self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        for lane in &self.inner.lanes {
            lane.ready.notify_all();
        }
        for run in lock(&self.inner.live).values() {
            run.cancel_engine();
        }
    }

    /// The cache backend's name.
    #[must_use]
    pub fn cache_backend(&self) -> &'static str {
        self.inner.cache.backend()
    }

    /// The settings it started with.
    #[must_use]
    pub fn config(&self) -> &ServiceConfig {
        &self.inner.cfg
    }

    /// Runs `f` with the dataset catalog (datasets list, import).
    pub fn with_catalog<T>(&self, f: impl FnOnce(&Catalog) -> T) -> T {
        f(&lock(&self.inner.catalog))
    }

    fn dataset(&self, name_or_id: &str) -> Result<DatasetInfo, SubmitError> {
        match lock(&self.inner.catalog).get(name_or_id) {
            Ok(ds) => Ok(ds),
            Err(e @ DataError::DatasetNotFound { .. }) => {
                Err(FieldError::new("dataset", e.to_string()).into())
            }
            Err(e) => Err(ServiceError::Catalog(e).into()),
        }
    }

    /// Accepts a backtest (or answers with the identical one).
    ///
    /// # Errors
    /// [`SubmitError::Field`] for bad input; [`SubmitError::Service`] when
    /// storage fails.
    pub fn submit_backtest(
        &self,
        req: &BacktestRequest,
        body: Value,
    ) -> Result<Submitted, SubmitError> {
        let ds = self.dataset(&req.run.dataset)?;
        let plan = plan::backtest(&self.inner.cfg.registry, req, ds)?;
        self.submit(plan, body)
    }

    /// Accepts an optimization (or answers with the identical one).
    ///
    /// # Errors
    /// As [`RunService::submit_backtest`]; `axes` when the grid is larger
    /// than [`ServiceConfig::max_combinations`].
    pub fn submit_optimization(
        &self,
        req: &OptimizationRequest,
        body: Value,
    ) -> Result<Submitted, SubmitError> {
        let ds = self.dataset(&req.run.dataset)?;
        let plan = plan::optimization(
            &self.inner.cfg.registry,
            req,
            ds,
            self.inner.cfg.max_combinations,
        )?;
        self.submit(plan, body)
    }

    fn submit(&self, plan: Plan, body: Value) -> Result<Submitted, SubmitError> {
        let inner = &self.inner;
        let id = uuid::Uuid::new_v4().to_string();
        let key = plan.key.to_string();
        let kind = plan.kind();
        for _ in 0..3 {
            let Some(holder) = inner.cache.claim(&key, &id).map_err(ServiceError::from)? else {
                break;
            };
            let live = lock(&inner.live).get(&holder).cloned();
            if let Some(run) = live {
                let snap = run.snapshot();
                return Ok(Submitted {
                    id: holder,
                    run_key: key,
                    status: snap.status,
                    total: snap.total,
                    existing: true,
                });
            }
            // a claim left by a process that is gone: take it over
            inner
                .cache
                .release(&key, &holder)
                .map_err(ServiceError::from)?;
        }
        if let Some(done) = inner
            .store
            .find_completed(kind, &key)
            .map_err(ServiceError::from)?
        {
            inner.cache.release(&key, &id).map_err(ServiceError::from)?;
            let total = self
                .state(kind, &done)?
                .map_or(plan.total, |s| s.snapshot.total);
            return Ok(Submitted {
                id: done,
                run_key: key,
                status: RunStatus::Completed,
                total,
                existing: true,
            });
        }
        let run = Arc::new(LiveRun {
            id: id.clone(),
            total: AtomicU64::new(plan.total),
            request: body,
            submitted_at_ms: now_ms(),
            state: Mutex::new(LiveState {
                phase: Phase::Pending,
                started_at_ms: None,
                finished_at_ms: None,
                error: None,
            }),
            bars: Progress::new(),
            trials: OptimizationProgress::new(),
            common: OnceLock::new(),
            cancelled_at: OnceLock::new(),
            plan,
        });
        let snap = run.snapshot();
        if let Err(e) = inner.cache.put(&snap, None) {
            let _ = inner.cache.release(&key, &id);
            return Err(ServiceError::from(e).into());
        }
        lock(&inner.live).insert(id.clone(), Arc::clone(&run));
        info!(run = %id, kind = kind.as_str(), strategy = %snap.strategy, dataset = %snap.dataset,
            total = snap.total, "run accepted");
        let lane = &inner.lanes[lane_of(kind)];
        lock(&lane.queue).push_back(run);
        lane.ready.notify_one();
        Ok(Submitted {
            id,
            run_key: key,
            status: RunStatus::Pending,
            total: snap.total,
            existing: false,
        })
    }

    /// A run's status and, once it has one, its result: the cache first,
    /// then SQLite; `None` if neither knows it.
    ///
    /// # Errors
    /// [`ServiceError`] when storage fails.
    pub fn state(&self, kind: RunKind, id: &str) -> Result<Option<RunState>, ServiceError> {
        if let Some(snap) = self.inner.cache.get(id)? {
            if snap.kind != kind {
                return Ok(None);
            }
            if !snap.status.is_terminal() || snap.status == RunStatus::Failed {
                return Ok(Some(RunState {
                    snapshot: snap,
                    result: None,
                }));
            }
            // terminal: the result is in SQLite (written before the snapshot turned)
            if let Some(stored) = self.stored(kind, id)? {
                return Ok(Some(stored));
            }
            return Ok(Some(RunState {
                snapshot: snap,
                result: None,
            }));
        }
        self.stored(kind, id)
    }

    fn stored(&self, kind: RunKind, id: &str) -> Result<Option<RunState>, ServiceError> {
        let store = &self.inner.store;
        Ok(match kind {
            RunKind::Backtest => store.backtest(id)?.map(|b| RunState {
                snapshot: snapshot_of(&b.header, kind, b.processed, 0, 0, Vec::new()),
                result: b.result.map(|r| RunResult::Backtest(Box::new(r))),
            }),
            RunKind::Optimization => store.optimization(id, INLINE_TRIALS)?.map(|o| {
                let leaders = o
                    .result
                    .as_ref()
                    .map(|r| r.trials.iter().take(LEADERS).cloned().collect())
                    .unwrap_or_default();
                RunState {
                    snapshot: snapshot_of(
                        &o.header,
                        kind,
                        o.completed,
                        o.failed,
                        o.skipped,
                        leaders,
                    ),
                    result: o.result.map(|r| RunResult::Optimization(Box::new(r))),
                }
            }),
        })
    }

    /// A page of an optimization's trials, best first.
    ///
    /// # Errors
    /// [`ServiceError`] when storage fails.
    pub fn trials(
        &self,
        id: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Page<TrialRecord>, ServiceError> {
        Ok(self.inner.store.trials(id, offset, limit)?)
    }

    /// A page of an optimization's trials in `order` (NULLs last, ties by
    /// rank). A parameter to sort by must be one of the optimization's own.
    ///
    /// # Errors
    /// [`QueryError::Field`] (`sort`) for a parameter the optimization does
    /// not have; [`QueryError::Service`] when storage fails.
    pub fn sorted_trials(
        &self,
        id: &str,
        offset: u64,
        limit: u64,
        order: &TrialOrder,
    ) -> Result<Page<TrialRecord>, QueryError> {
        let store = &self.inner.store;
        if let TrialSort::Param(name) = &order.sort {
            let names = store.trial_param_names(id).map_err(ServiceError::from)?;
            if let Some(names) = names.filter(|n| !n.contains(name)) {
                return Err(FieldError::new(
                    "sort",
                    format!(
                        "unknown parameter '{name}' (this optimization's: {})",
                        names.join(", ")
                    ),
                )
                .into());
            }
        }
        Ok(store
            .sorted_trials(id, offset, limit, order)
            .map_err(ServiceError::from)?)
    }

    /// Runs of `kind`, newest first: this process's runs in flight, then
    /// the finished ones from SQLite.
    ///
    /// # Errors
    /// [`ServiceError`] when storage fails.
    pub fn list(
        &self,
        kind: Option<RunKind>,
        status: Option<RunStatus>,
        offset: u64,
        limit: u64,
    ) -> Result<Page<RunSummary>, ServiceError> {
        let mut live: Vec<RunSnapshot> = lock(&self.inner.live)
            .values()
            .filter(|r| {
                kind.is_none_or(|k| r.kind() == k)
                    && !matches!(lock(&r.state).phase, Phase::Done(_))
            })
            .map(|r| r.snapshot())
            .filter(|s| status.is_none_or(|want| s.status == want))
            .collect();
        live.sort_by(|a, b| {
            b.submitted_at_ms
                .cmp(&a.submitted_at_ms)
                .then(b.id.cmp(&a.id))
        });
        let n_live = live.len() as u64;
        let mut items: Vec<RunSummary> = live
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|s| RunSummary {
                processed: s.processed(),
                id: s.id,
                kind: s.kind,
                status: s.status,
                strategy: s.strategy,
                dataset: s.dataset,
                timeframe: String::new(),
                total: s.total,
                failed: s.failed,
                error_message: s.error_message,
                submitted_at_ms: s.submitted_at_ms,
                finished_at_ms: 0,
                metrics: None,
            })
            .collect();
        let room = limit.saturating_sub(items.len() as u64);
        let stored_offset = offset.saturating_sub(n_live);
        let stored = self.inner.store.list(kind, status, stored_offset, room)?;
        let total = n_live + stored.total;
        items.extend(stored.items);
        Ok(Page {
            items,
            total,
            offset,
            limit,
        })
    }

    /// Cancels run `id` of `kind`.
    ///
    /// # Errors
    /// [`ServiceError`] when storage fails.
    pub fn cancel(&self, kind: RunKind, id: &str) -> Result<CancelOutcome, ServiceError> {
        let live = lock(&self.inner.live).get(id).cloned();
        if let Some(run) = live.filter(|r| r.kind() == kind) {
            let mut st = lock(&run.state);
            match st.phase {
                Phase::Pending => {
                    st.phase = Phase::Finishing(RunStatus::Cancelled);
                    st.finished_at_ms = Some(now_ms());
                    drop(st);
                    let lane = &self.inner.lanes[lane_of(kind)];
                    lock(&lane.queue).retain(|r| r.id != run.id);
                    info!(run = %run.id, "pending run cancelled");
                    let ended = match kind {
                        RunKind::Backtest => Ended::Backtest(None),
                        RunKind::Optimization => Ended::Optimization(None),
                    };
                    self.finish(&run, RunStatus::Cancelled, ended, None);
                    return Ok(CancelOutcome::Cancelled);
                }
                Phase::Running => {
                    st.phase = Phase::Finishing(RunStatus::Cancelled);
                    let _ = run.cancelled_at.set(Instant::now());
                    run.cancel_engine();
                    info!(run = %run.id, "cancel requested");
                    // readers see Cancelled now, not at the next publish
                    self.inner.cache.put(&run.snapshot_with(&st), None)?;
                    return Ok(CancelOutcome::Cancelled);
                }
                Phase::Finishing(s) | Phase::Done(s) => {
                    return Ok(CancelOutcome::AlreadyEnded(s));
                }
            }
        }
        Ok(match self.state(kind, id)? {
            Some(s) if s.snapshot.status.is_terminal() => {
                CancelOutcome::AlreadyEnded(s.snapshot.status)
            }
            // known to the cache but run by no one here (another process)
            Some(_) | None => CancelOutcome::NotFound,
        })
    }

    /// Queue depth, running runs and worker threads.
    #[must_use]
    pub fn load(&self) -> Load {
        let pending = self.inner.lanes.iter().map(|l| lock(&l.queue).len()).sum();
        Load {
            pending,
            running: usize::try_from(self.inner.running.load(Ordering::Relaxed)).unwrap_or(0),
            workers: match &self.inner.coordinator {
                Some(c) => c.active_workers(),
                None => self.inner.cfg.backtest_slots + self.inner.cfg.optimization_slots,
            },
        }
    }

    fn work_lane(&self, lane: usize) {
        lower_priority();
        let l = &self.inner.lanes[lane];
        loop {
            let run = {
                let mut q = lock(&l.queue);
                loop {
                    if self.inner.stop.load(Ordering::Relaxed) {
                        return;
                    }
                    if let Some(r) = q.pop_front() {
                        break r;
                    }
                    q = l.ready.wait(q).unwrap_or_else(PoisonError::into_inner);
                }
            };
            self.execute(&run);
        }
    }

    fn publish_loop(&self) {
        while !self.inner.stop.load(Ordering::Relaxed) {
            std::thread::sleep(self.inner.cfg.publish_every);
            let runs: Vec<Arc<LiveRun>> = lock(&self.inner.live).values().cloned().collect();
            for run in runs {
                let st = lock(&run.state);
                if matches!(st.phase, Phase::Done(_)) {
                    continue;
                }
                if let Err(e) = self.inner.cache.put(&run.snapshot_with(&st), None) {
                    warn!(run = %run.id, error = %e, "cannot publish progress");
                }
            }
        }
    }

    fn execute(&self, run: &Arc<LiveRun>) {
        {
            let mut st = lock(&run.state);
            if st.phase != Phase::Pending {
                return; // cancelled while waiting
            }
            st.phase = Phase::Running;
            st.started_at_ms = Some(now_ms());
            let _ = self.inner.cache.put(&run.snapshot_with(&st), None);
        }
        self.inner.running.fetch_add(1, Ordering::Relaxed);
        let t0 = Instant::now();
        info!(run = %run.id, kind = run.kind().as_str(), "run started");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.compute(run)))
            .unwrap_or_else(|p| {
                let msg = p
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into());
                Err((format!("internal error: {msg}"), trace_here()))
            });
        if let Some(at) = run.cancelled_at.get() {
            info!(run = %run.id, stop_ms = at.elapsed().as_secs_f64() * 1e3, "engine stopped after cancel");
        }
        let (status, ended, error) = match outcome {
            Ok((ended, cancelled)) => (
                if cancelled {
                    RunStatus::Cancelled
                } else {
                    RunStatus::Completed
                },
                ended,
                None,
            ),
            Err(e) => (
                RunStatus::Failed,
                match run.kind() {
                    RunKind::Backtest => Ended::Backtest(None),
                    RunKind::Optimization => Ended::Optimization(None),
                },
                Some(e),
            ),
        };
        self.finish(run, status, ended, error);
        self.inner.running.fetch_sub(1, Ordering::Relaxed);
        let wall = t0.elapsed().as_secs_f64();
        let final_status = match lock(&run.state).phase {
            Phase::Done(s) | Phase::Finishing(s) => s,
            _ => status,
        };
        match final_status {
            RunStatus::Failed => {
                let st = lock(&run.state);
                let msg = st.error.as_ref().map_or("", |e| e.0.as_str());
                error!(run = %run.id, wall_secs = wall, error = msg, "run failed");
            }
            s => info!(run = %run.id, wall_secs = wall, status = %s, "run ended"),
        }
    }

    /// Loads the data and runs the engine: `(outcome, cancelled)` or the
    /// run's error and stack trace.
    fn compute(&self, run: &LiveRun) -> Result<(Ended, bool), (String, String)> {
        let t = &run.plan.target;
        let catalog =
            Catalog::open(&self.inner.cfg.data_dir).map_err(|e| (e.to_string(), trace_here()))?;
        let bars = catalog
            .load(&t.dataset, t.period.from_ms, t.period.to_ms)
            .map_err(|e| (e.to_string(), trace_here()))?;
        drop(catalog);
        let data = MarketData::new(t.instrument.clone(), bars, t.dataset.timeframe, t.timeframe)
            .map_err(|e| (format!("no data to run on: {e}"), trace_here()))?;
        info!(run = %run.id, sub_bars = data.total_sub_bars(), "data loaded");
        if run.kind() == RunKind::Backtest {
            run.total.store(data.total_sub_bars(), Ordering::Relaxed);
        }
        let _ = run.common.set(RunCommon {
            initial_equity: t.instrument.money_scale.to_f64(t.config.initial_cash.raw()),
            main_bars: data.main_bars().len() as u64,
            sub_bars: data.total_sub_bars(),
        });
        match &run.plan.work {
            Work::Backtest(params) => {
                match t
                    .strategy
                    .backtest(&data, &t.config, params, Some(&run.bars))
                {
                    Ok(report) => Ok((Ended::Backtest(Some(Box::new(report))), false)),
                    Err(RunFailure::Cancelled { .. }) => Ok((Ended::Backtest(None), true)),
                    Err(RunFailure::Failed(f)) => Err((f.message, f.backtrace)),
                    Err(e) => Err((e.to_string(), trace_here())),
                }
            }
            Work::Optimization(_) if self.inner.coordinator.is_some() => {
                self.compute_distributed(run, &data)
            }
            Work::Optimization(spec) => {
                match t.strategy.optimize(
                    &data,
                    &t.config,
                    spec,
                    &run.trials,
                    self.inner.cfg.optimizer_threads,
                ) {
                    Ok(report) => {
                        let cancelled = report.cancelled;
                        log_failed_trials(&run.id, &report);
                        Ok((Ended::Optimization(Some(Box::new(report))), cancelled))
                    }
                    Err(e) => Err((e.to_string(), trace_here())),
                }
            }
        }
    }

    /// Persists the run, then turns its snapshot terminal, then releases
    /// its key and forgets it.
    fn finish(
        &self,
        run: &Arc<LiveRun>,
        computed: RunStatus,
        ended: Ended,
        error: Option<(String, String)>,
    ) {
        let status = {
            let mut st = lock(&run.state);
            let status = match st.phase {
                // a cancel that arrived while the engine was finishing wins
                Phase::Finishing(RunStatus::Cancelled) => RunStatus::Cancelled,
                _ => computed,
            };
            st.phase = Phase::Finishing(status);
            st.finished_at_ms = Some(now_ms());
            if status == RunStatus::Failed {
                st.error = error;
            }
            status
        };
        let header = run.header(status);
        let t_save = Instant::now();
        let saved = match &ended {
            Ended::Backtest(report) => {
                let params = match &run.plan.work {
                    Work::Backtest(p) => p.clone(),
                    Work::Optimization(s) => s.base.clone(),
                };
                let report = report.as_deref().filter(|_| status == RunStatus::Completed);
                self.inner.store.save_backtest(&BacktestEnd {
                    header: &header,
                    processed: run.bars.processed(),
                    params: &params,
                    report,
                })
            }
            Ended::Optimization(report) => self.inner.store.save_optimization(&OptimizationEnd {
                header: &header,
                spec: &run.plan.spec,
                completed: run.trials.completed(),
                failed: run.trials.failed(),
                skipped: run.trials.skipped(),
                report: report.as_deref(),
            }),
        };
        {
            let mut st = lock(&run.state);
            if let Err(e) = &saved {
                error!(run = %run.id, error = %e, "cannot save the run; it is lost");
                st.error = Some((
                    format!("the run ended but could not be saved: {e}"),
                    trace_here(),
                ));
                st.phase = Phase::Done(RunStatus::Failed);
            } else {
                st.phase = Phase::Done(status);
            }
            let snap = run.snapshot_with(&st);
            if let Err(e) = self
                .inner
                .cache
                .put(&snap, Some(self.inner.cfg.terminal_ttl))
            {
                warn!(run = %run.id, error = %e, "cannot publish the final status");
            }
        }
        info!(run = %run.id, save_ms = t_save.elapsed().as_secs_f64() * 1e3, "run saved");
        if let Err(e) = self.inner.cache.release(run.plan.key.as_str(), &run.id) {
            warn!(run = %run.id, error = %e, "cannot release the run key");
        }
        lock(&self.inner.live).remove(&run.id);
        if let Err(e) = self.inner.store.checkpoint() {
            warn!(run = %run.id, error = %e, "cannot checkpoint the run database");
        }
    }
}

/// Lowers the calling thread's CPU priority (threads it starts inherit it).
fn lower_priority() {
    #[cfg(unix)]
    if let Err(e) = rustix::process::nice(10) {
        warn!(error = %e, "cannot lower the priority of a worker thread");
    }
}

fn log_failed_trials(id: &str, report: &OptimizationReport) {
    let mut n = 0usize;
    for t in &report.trials {
        if let TrialOutcome::Failed(f) = &t.outcome {
            n += 1;
            if n <= LOGGED_TRIAL_FAILURES {
                warn!(run = %id, combination = t.index, error = &*f.message, "trial failed");
            }
        }
    }
    if n > LOGGED_TRIAL_FAILURES {
        warn!(run = %id, failed = n, "more trials failed (first {LOGGED_TRIAL_FAILURES} logged)");
    }
}

fn snapshot_of(
    h: &RunHeader,
    kind: RunKind,
    completed: u64,
    failed: u64,
    skipped: u64,
    leaders: Vec<TrialRecord>,
) -> RunSnapshot {
    RunSnapshot {
        id: h.id.clone(),
        kind,
        run_key: h.run_key.clone(),
        status: h.status,
        strategy: h.strategy.clone(),
        dataset: h.dataset.clone(),
        submitted_at_ms: h.submitted_at_ms,
        started_at_ms: h.started_at_ms,
        finished_at_ms: Some(h.finished_at_ms),
        total: h.total,
        completed,
        failed,
        skipped,
        error_message: h.error_message.clone(),
        error_stack_trace: h.error_stack_trace.clone(),
        leaders,
    }
}

impl RunService {
    /// A finished backtest as stored (with its result), if any.
    ///
    /// # Errors
    /// [`ServiceError`] when storage fails.
    pub fn stored_backtest(
        &self,
        id: &str,
    ) -> Result<Option<crate::store::StoredBacktest>, ServiceError> {
        Ok(self.inner.store.backtest(id)?)
    }

    /// A finished optimization as stored (summary and its first
    /// [`INLINE_TRIALS`] trials), if any.
    ///
    /// # Errors
    /// [`ServiceError`] when storage fails.
    pub fn stored_optimization(
        &self,
        id: &str,
    ) -> Result<Option<crate::store::StoredOptimization>, ServiceError> {
        Ok(self.inner.store.optimization(id, INLINE_TRIALS)?)
    }
}
