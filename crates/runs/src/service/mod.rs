//! The run service: submission, the job queue, cancellation, and the
//! hand-over of a finished run from the progress cache to SQLite.
//!
//! - **Submit** checks and sizes the request from the catalog entry
//!   ([`crate::plan`]), deduplicates by run key (a run in flight holds its
//!   key in the cache; a completed one is found in SQLite), publishes a
//!   `Pending` snapshot and queues the job. It never reads bars.
//! - **Lanes**: backtests in one queue, optimizations and walk-forwards
//!   (a walk-forward is one optimization per fold, each over every core)
//!   in the other, each worked by a fixed number of threads (defaults 2
//!   and 1), so extra runs stay `Pending`. An optimization fans out on its
//!   own rayon pool.
//! - **Progress**: the engine bumps atomic counters; a publisher thread
//!   copies them into the cache every [`ServiceConfig::publish_every`]
//!   (never per bar or per trial).
//! - **End**: the run is written to SQLite in one transaction, then its
//!   snapshot turns terminal with a time to live, then its key claim is
//!   released — so a reader never sees `Completed` without a result. A
//!   save that fails is retried; failing that, the run ends `Failed` with
//!   the reason in a small row, or — if even that cannot be written — in
//!   a cache entry kept, in effect, for good (`save`).
//! - **Shutdown**: every run in flight, queued or running, is cancelled
//!   and saved as `Cancelled` before the process exits (`shutdown`).
//! - **Priority**: the lane threads (and the optimizer threads they start,
//!   which inherit it) run at a lower CPU priority (nice +10 on Unix), so
//!   the HTTP API keeps answering in milliseconds while every core works on
//!   an optimization; alone on the machine they lose nothing.
//! - **Cancel**: a pending run ends at once (persisted as `Cancelled`); a
//!   running one is flagged, reports `Cancelled` immediately, and its
//!   threads stop at their next check (every 4,096 sub-bars at most).
//!
//! Layout: this file (configuration, errors, start), `submit`
//! (submission and cancel), `live` (a run in flight and its snapshot),
//! `lanes` (execution and the hand-over to SQLite), `save` (retries and
//! the durable record of a save that failed), `shutdown` (cancel and
//! drain), `queries` (states,
//! trials, lists), `distributed_run` (an optimization on the workers),
//! `walkforward_run` (a walk-forward, its folds here or on the workers).

mod distributed_run;
mod lanes;
mod live;
mod queries;
mod save;
mod shutdown;
mod submit;
mod walkforward_run;

pub use save::{DEFAULT_SAVE_ATTEMPTS, DEFAULT_SAVE_BACKOFF};
pub use submit::ResumeError;

use lanes::log_failed_trials;
use live::{lock, LiveRun, LiveState, Phase};

use crate::cache::{CacheError, ProgressCache};
use crate::clock::{Clock, SystemClock};
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
use atf_engine::{BacktestReport, Progress, Registry, RunFailure};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
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
    /// Optimizations and walk-forwards running at once (one lane).
    pub optimization_slots: usize,
    /// Threads of each optimization.
    pub optimizer_threads: usize,
    /// Largest grid accepted.
    pub max_combinations: u64,
    /// Most equity-curve points an optimization's kept trials may hold
    /// together ([`crate::plan::GridLimits::max_kept_points`]).
    pub max_kept_points: u64,
    /// How often live counters are copied to the cache.
    pub publish_every: Duration,
    /// How long a terminal cache entry lives after the run is persisted.
    pub terminal_ttl: Duration,
    /// Runs of one kind waiting for a slot at most; a submission beyond it
    /// is refused ([`SubmitError::QueueFull`], HTTP 429).
    pub max_pending: usize,
    /// Attempts at saving a finished run before it is recorded `Failed`
    /// (at least 1; see [`DEFAULT_SAVE_ATTEMPTS`]).
    pub save_attempts: u32,
    /// The wait before the second attempt; it doubles after each failure
    /// (see [`DEFAULT_SAVE_BACKOFF`]).
    pub save_backoff: Duration,
    /// Where retries' waits come from (tests move a manual clock instead
    /// of sleeping).
    pub clock: Arc<dyn Clock>,
}

/// Runs of one kind that may wait for a slot unless configured.
pub const DEFAULT_MAX_PENDING: usize = 64;

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
            max_kept_points: crate::plan::DEFAULT_MAX_KEPT_POINTS,
            publish_every: Duration::from_millis(250),
            terminal_ttl: crate::cache::TERMINAL_TTL,
            max_pending: DEFAULT_MAX_PENDING,
            save_attempts: DEFAULT_SAVE_ATTEMPTS,
            save_backoff: DEFAULT_SAVE_BACKOFF,
            clock: Arc::new(SystemClock::default()),
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
    /// `limit` runs of this kind are already waiting (HTTP 429).
    #[error("{limit} {} runs are already waiting (the limit): try again later", kind.as_str())]
    QueueFull {
        /// The kind whose queue is full.
        kind: RunKind,
        /// [`ServiceConfig::max_pending`].
        limit: usize,
    },
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
    /// The data directory cannot be written: a server there would accept
    /// runs it cannot save.
    #[error("data directory {} is not writable: {source}", path.display())]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What writing a file there answered.
        source: std::io::Error,
    },
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
    /// A walk-forward's folds (`None` for the other kinds).
    pub folds: Option<u64>,
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
    /// A walk-forward's report (partial when cancelled).
    WalkForward(Box<crate::walkforward::WalkForwardReport>),
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

#[derive(Default)]
struct Lane {
    queue: Mutex<VecDeque<Arc<LiveRun>>>,
    ready: Condvar,
    /// Submissions admitted but not yet queued (counted against
    /// `max_pending` with the queue, under its lock).
    admitting: std::sync::atomic::AtomicUsize,
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
    WalkForward(Option<Box<crate::walkforward::WalkForwardReport>>),
}

impl Ended {
    /// The end of a run of `kind` that has no result.
    fn none(kind: RunKind) -> Self {
        match kind {
            RunKind::Backtest => Self::Backtest(None),
            RunKind::Optimization => Self::Optimization(None),
            RunKind::WalkForward => Self::WalkForward(None),
        }
    }
}

/// Walk-forwards share the optimizations' lane: each fold is an
/// optimization over every core, so one at a time of either.
fn lane_of(kind: RunKind) -> usize {
    match kind {
        RunKind::Backtest => 0,
        RunKind::Optimization | RunKind::WalkForward => 1,
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
        save::probe_data_dir(&cfg.data_dir)?;
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
}
