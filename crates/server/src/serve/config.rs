//! What a server is started with, as one value: `atf serve` fills it from
//! its flags, tests and embedders write it out, and [`super::Server`]
//! turns it into a running server.

use crate::ServerConfig;
use atf_engine::Registry;
use atf_runs::service::ServiceConfig;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The default address: loopback only (DESIGN §5 safety).
pub const DEFAULT_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);

/// How long, once shutdown has begun, the runs in flight may take to be
/// saved as `Cancelled` and open connections (event streams, uploads) to
/// finish; then the server stops regardless (DESIGN §13: "shut down
/// gracefully within seconds").
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Threads that run requests' blocking work (SQLite and Redis reads,
/// submissions, imports) at most: beyond, that work waits for one. Without
/// a cap a burst of slow requests grows the pool (and its memory, a heap
/// per thread) to Tokio's 512.
pub const DEFAULT_BLOCKING_THREADS: usize = 64;

/// How long a client may take to send a request's head (slowloris); also
/// how long an idle keep-alive connection stays open.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything a server needs besides its strategies.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where to listen; port 0 takes a free port (read it back with
    /// [`super::Server::local_addr`]). Anything but loopback requires
    /// [`ServerConfig::api_token`].
    pub bind: SocketAddr,
    /// Where `catalog.db`, `runs.db` and the datasets live (the demo
    /// datasets are imported there on first start).
    pub data_dir: PathBuf,
    /// The HTTP layer: API token and body limits.
    pub http: ServerConfig,
    /// Backtests running at once (the rest wait as `Pending`).
    pub backtest_slots: usize,
    /// Optimizations running at once.
    pub optimization_slots: usize,
    /// Threads of each optimization (and of the local scale-out worker).
    pub optimizer_threads: usize,
    /// Largest grid accepted.
    pub max_combinations: u64,
    /// Most equity-curve points an optimization's kept trials may hold.
    pub max_kept_points: u64,
    /// How often live counters are copied to the progress cache.
    pub publish_every: Duration,
    /// Progress in Redis and optimizations shared with workers (DESIGN
    /// §6); `None`: progress in this process's memory, runs run here.
    pub scale_out: Option<ScaleOutConfig>,
    /// See [`DEFAULT_SHUTDOWN_GRACE`].
    pub shutdown_grace: Duration,
    /// See [`DEFAULT_HEADER_TIMEOUT`] (`--header-timeout`).
    pub header_timeout: Duration,
    /// See [`DEFAULT_BLOCKING_THREADS`] (`--blocking-threads`); applies
    /// to [`super::Server::run`]'s own runtime.
    pub blocking_threads: usize,
    /// Runs of one kind waiting for a slot at most (`--max-pending`);
    /// beyond, a submission answers `429`.
    pub max_pending: usize,
    /// Attempts at saving a finished run before it is recorded `Failed`
    /// with the reason ([`atf_runs::service::DEFAULT_SAVE_ATTEMPTS`]).
    pub save_attempts: u32,
    /// The first wait between two save attempts, doubling after each
    /// ([`atf_runs::service::DEFAULT_SAVE_BACKOFF`]).
    pub save_backoff: Duration,
}

impl ServeConfig {
    /// The defaults of `atf serve` over `data_dir`: loopback port 8080, no
    /// token, the run service's own defaults, no Redis.
    #[must_use]
    pub fn new(data_dir: PathBuf) -> Self {
        // the service's defaults, whatever registry it will get
        let service = ServiceConfig::new(data_dir, Arc::new(Registry::empty()));
        Self {
            bind: DEFAULT_BIND,
            http: ServerConfig::default(),
            backtest_slots: service.backtest_slots,
            optimization_slots: service.optimization_slots,
            optimizer_threads: service.optimizer_threads,
            max_combinations: service.max_combinations,
            max_kept_points: service.max_kept_points,
            publish_every: service.publish_every,
            scale_out: None,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            blocking_threads: DEFAULT_BLOCKING_THREADS,
            max_pending: service.max_pending,
            save_attempts: service.save_attempts,
            save_backoff: service.save_backoff,
            data_dir: service.data_dir,
        }
    }

    /// The run service's settings for `registry`.
    pub(crate) fn service(&self, registry: Arc<Registry>) -> ServiceConfig {
        let mut cfg = ServiceConfig::new(self.data_dir.clone(), registry);
        cfg.backtest_slots = self.backtest_slots;
        cfg.optimization_slots = self.optimization_slots;
        cfg.optimizer_threads = self.optimizer_threads;
        cfg.max_combinations = self.max_combinations;
        cfg.max_kept_points = self.max_kept_points;
        cfg.publish_every = self.publish_every;
        cfg.max_pending = self.max_pending;
        cfg.save_attempts = self.save_attempts;
        cfg.save_backoff = self.save_backoff;
        cfg
    }
}

/// A server that coordinates a scale-out through Redis.
#[derive(Debug, Clone)]
pub struct ScaleOutConfig {
    /// `redis://[[user]:password@]host[:port][/db]`: the progress cache and
    /// the chunk stream.
    pub redis_url: String,
    /// Whether this server also runs chunks itself.
    pub local_worker: bool,
    /// The local worker's consumer name.
    pub worker_name: String,
    /// Chunks left pending this long by another worker are taken over.
    pub reclaim_after: Duration,
    /// The URL workers fetch datasets from; default `http://{bound address}`.
    pub advertise_url: Option<String>,
    /// A CA file for `rediss://`, and the lease of in-flight snapshots.
    pub redis: atf_runs::redis_client::RedisOptions,
    /// The bounds of distributed runs (delivery limit, deadlines).
    pub limits: atf_runs::distributed::limits::DistLimits,
}

impl ScaleOutConfig {
    /// Coordinating through `redis_url` with a local worker named
    /// `{host}-{pid}-serve` and the workers' default reclaim time.
    #[must_use]
    pub fn new(redis_url: impl Into<String>) -> Self {
        Self {
            redis_url: redis_url.into(),
            local_worker: true,
            worker_name: format!("{}-serve", atf_runs::distributed::worker::default_name()),
            reclaim_after: atf_runs::distributed::worker::DEFAULT_RECLAIM_AFTER,
            advertise_url: None,
            redis: atf_runs::redis_client::RedisOptions::default(),
            limits: atf_runs::distributed::limits::DistLimits::default(),
        }
    }
}
