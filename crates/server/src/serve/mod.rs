//! The whole server from one value (DESIGN §10: "the server's wiring is
//! one function used by `atf serve` and by the tests"): the catalog (the
//! demo datasets imported on first start), the progress cache in memory
//! or Redis, the run service, the scale-out coordinator and its local
//! worker, the router, and a graceful shutdown.
//!
//! `atf serve` (and so every user's binary through `atf::main`) and every
//! test that needs a server go through [`Server::start`] and
//! [`Server::serve`]; nothing else assembles these pieces, so what the
//! tests run is what users run.
//!
//! Two steps, because callers need the bound address before serving (a
//! port-0 test server, the line `atf serve` prints for scripts):
//! [`Server::start`] binds and starts everything but HTTP, synchronously;
//! [`Server::serve`] answers requests until the shutdown future resolves.
//! [`run`] is both for callers that need neither.

mod config;
mod error;
mod http;
mod scale_out;
mod signal;

pub use config::{
    ScaleOutConfig, ServeConfig, DEFAULT_BIND, DEFAULT_BLOCKING_THREADS, DEFAULT_HEADER_TIMEOUT,
    DEFAULT_SHUTDOWN_GRACE,
};
pub use error::ServeError;
pub use signal::shutdown_signal;

use atf_engine::Registry;
use atf_runs::cache::{MemoryCache, ProgressCache};
use atf_runs::redis_cache::RedisCache;
use atf_runs::service::RunService;
use axum::Router;
use scale_out::ScaleOut;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A started server: bound, its runs service and workers up, not yet
/// answering HTTP. Dropped without [`Server::serve`], it stops them again.
#[derive(Debug)]
pub struct Server {
    listener: std::net::TcpListener,
    local_addr: SocketAddr,
    app: Router,
    streams: Arc<crate::streams::EventStreams>,
    http: http::Http,
    blocking_threads: usize,
    running: Running,
}

/// What works besides HTTP. Dropping it stops taking runs and stops the
/// local worker, so a server that fails half-way leaves nothing behind.
#[derive(Debug)]
struct Running {
    service: RunService,
    scale_out: Option<ScaleOut>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.service.shutdown();
    }
}

impl Server {
    /// Binds `cfg.bind`, opens the catalog (importing the demo datasets on
    /// first start) and the run database, connects to Redis when
    /// `cfg.scale_out` says so (advertising this server to workers and
    /// starting the local worker), and starts the run service's threads.
    /// Blocks while it does (an import of the demo data takes a moment).
    ///
    /// # Errors
    /// [`ServeError`]: a non-loopback address without a token, an address
    /// that cannot be bound, Redis unreachable, the data dir unusable.
    pub fn start(mut cfg: ServeConfig, registry: Arc<Registry>) -> Result<Self, ServeError> {
        if cfg.http.api_token.as_deref() == Some("") {
            cfg.http.api_token = None;
        }
        if !cfg.bind.ip().is_loopback() && cfg.http.api_token.is_none() {
            return Err(ServeError::TokenRequired { addr: cfg.bind });
        }
        let bind_error = |source| ServeError::Bind {
            addr: cfg.bind,
            source,
        };
        let listener = std::net::TcpListener::bind(cfg.bind).map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let cache: Arc<dyn ProgressCache> = match &cfg.scale_out {
            Some(s) => Arc::new(RedisCache::connect_with(&s.redis_url, &s.redis)?),
            None => Arc::new(MemoryCache::new()),
        };
        let scale_out = cfg
            .scale_out
            .as_ref()
            .map(|s| ScaleOut::start(s, &cfg.data_dir, cfg.optimizer_threads, &registry))
            .transpose()?;
        let service_cfg = cfg.service(registry);
        let service = match &scale_out {
            Some(s) => RunService::start_distributed(service_cfg, cache, s.coordinator()),
            None => RunService::start(service_cfg, cache),
        }?;
        let running = Running { service, scale_out };
        if let (Some(s), Some(c)) = (&running.scale_out, &cfg.scale_out) {
            s.advertise(c.advertise_url.as_deref(), local_addr)?;
        }
        // workers reach this server by its advertised URL: its host is ours
        if let Some(host) = cfg
            .scale_out
            .as_ref()
            .and_then(|s| s.advertise_url.as_deref())
            .and_then(crate::edge::authority_of)
        {
            cfg.http.allow_hosts.push(host);
        }
        let state = crate::AppState::new(running.service.clone(), cfg.http);
        let streams = Arc::clone(&state.streams);
        let app = crate::router(state, local_addr);
        Ok(Self {
            listener,
            local_addr,
            app,
            streams,
            http: http::Http {
                header_timeout: cfg.header_timeout,
                grace: cfg.shutdown_grace,
            },
            blocking_threads: cfg.blocking_threads.max(1),
            running,
        })
    }

    /// The address it listens on (the real port when bound to port 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Its run service (a clone shares everything with the server's).
    #[must_use]
    pub fn service(&self) -> &RunService {
        &self.running.service
    }

    /// Answers HTTP until `shutdown` resolves; then stops taking runs and
    /// accepting connections, cancels the runs in flight (queued or
    /// running) and saves them as `Cancelled` while open connections
    /// finish — both for [`ServeConfig::shutdown_grace`] at most — ends
    /// every event stream still open once the runs are saved, and stops the
    /// local worker.
    ///
    /// Must run inside a Tokio runtime with I/O and timers enabled; see
    /// [`Server::run`] for one that brings its own.
    ///
    /// # Errors
    /// [`ServeError::Serve`] when the listener fails.
    pub async fn serve<F>(self, shutdown: F) -> Result<(), ServeError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let Self {
            listener,
            local_addr,
            app,
            streams,
            http,
            running,
            ..
        } = self;
        let grace = http.grace;
        let listener =
            tokio::net::TcpListener::from_std(listener).map_err(|source| ServeError::Serve {
                addr: local_addr,
                source,
            })?;
        tracing::info!(%local_addr, cache = running.service.cache_backend(), "listening");
        let service = running.service.clone();
        let stop = async move {
            shutdown.await;
            tracing::info!("shutting down: runs in flight are cancelled and saved");
            service.shutdown();
        };
        // no new connections from here; the saves go on beside the open
        // connections' grace period. Event streams of this server's runs
        // end with their `cancelled` event as the runs are saved; then
        // every stream still open (a run saved by no one here, or not in
        // time) sends its run's state and ends — else it would hold its
        // connection, and so the exit, until that run ended
        let service = running.service.clone();
        let saves = async move {
            let saved = drain(service, grace).await;
            streams.close_all();
            saved
        };
        let saved = http::serve(listener, app, http, stop, saves).await;
        if saved.is_ok_and(|unsaved| unsaved.is_empty()) {
            // and one a request still open at the signal submitted since
            let _ = drain(running.service.clone(), grace).await;
        }
        drop(running);
        Ok(())
    }

    /// [`Server::serve`] on a multi-threaded Tokio runtime of its own;
    /// returns once the server has shut down.
    ///
    /// # Errors
    /// [`ServeError::Runtime`] when the runtime cannot start, else as
    /// [`Server::serve`].
    pub fn run<F>(self, shutdown: F) -> Result<(), ServeError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .max_blocking_threads(self.blocking_threads)
            .enable_all()
            .build()
            .map_err(ServeError::Runtime)?;
        // dropping the runtime afterwards ends connections still open
        rt.block_on(self.serve(shutdown))
    }
}

/// Cancels and saves `service`'s runs in flight ([`RunService::drain`]) on
/// a blocking thread, `grace` at most.
fn drain(service: RunService, grace: Duration) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::task::spawn_blocking(move || service.drain(grace))
}

/// Starts a server from `cfg` with the strategies of `registry` and serves
/// until `shutdown` resolves ([`Server::start`], then [`Server::run`]).
///
/// # Errors
/// As [`Server::start`] and [`Server::run`].
pub fn run<F>(cfg: ServeConfig, registry: Arc<Registry>, shutdown: F) -> Result<(), ServeError>
where
    F: Future<Output = ()> + Send + 'static,
{
    Server::start(cfg, registry)?.run(shutdown)
}
