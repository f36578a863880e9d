//! A real server inside the test process: [`atf_server::serve::Server`]
//! — the wiring `atf serve` runs — on a free loopback port over a data
//! directory the test owns, with the progress cache in memory or in a
//! throwaway Redis (then as a scale-out coordinator with its local worker,
//! exactly like `atf serve --redis-url`).

use crate::http::Api;
use crate::redis::RedisServer;
use atf_engine::Registry;
use atf_runs::service::RunService;
use atf_server::serve::{ScaleOutConfig, ServeConfig, ServeError, Server};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Where a test server keeps run progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// In the server's memory.
    Memory,
    /// In a `redis-server` started for the test (missing: the test fails).
    Redis,
}

/// Both backends: scenarios that must hold on each run on each.
#[must_use]
pub fn backends() -> [Backend; 2] {
    [Backend::Memory, Backend::Redis]
}

/// The built-in strategies and `fault-injection`, the one that fails on
/// purpose (not in what users see).
#[must_use]
pub fn test_registry() -> Registry {
    Registry::builtin().with::<atf_engine::strategies::FaultInjection>()
}

/// How a test server differs from `atf serve`'s defaults.
#[derive(Debug, Clone)]
pub struct Options {
    /// Backtests running at once.
    pub backtest_slots: usize,
    /// Optimizations running at once.
    pub optimization_slots: usize,
    /// Threads of an optimization.
    pub optimizer_threads: usize,
    /// How often progress is published (short: tests see it move sooner).
    pub publish_every: Duration,
    /// The API token every `/api` request then needs.
    pub api_token: Option<String>,
    /// Progress in this Redis, as a scale-out coordinator; `None`: memory.
    pub redis: Option<Arc<RedisServer>>,
    /// The strategies it serves.
    pub registry: Arc<Registry>,
    /// Last word on its settings (bounds, allowed hosts, …), applied
    /// after the fields above.
    pub configure: fn(&mut ServeConfig),
}

impl Default for Options {
    fn default() -> Self {
        Self {
            backtest_slots: 2,
            optimization_slots: 1,
            optimizer_threads: 2,
            publish_every: Duration::from_millis(50),
            api_token: None,
            redis: None,
            registry: Arc::new(test_registry()),
            configure: |_| {},
        }
    }
}

impl Options {
    /// The defaults, with a Redis of its own for [`Backend::Redis`].
    #[must_use]
    pub fn on(backend: Backend) -> Self {
        Self {
            redis: (backend == Backend::Redis).then(|| Arc::new(RedisServer::start())),
            ..Self::default()
        }
    }
}

/// A server answering on `url` until stopped or dropped.
#[derive(Debug)]
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its data directory.
    pub dir: PathBuf,
    api: Api,
    service: RunService,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), ServeError>>>,
    _redis: Option<Arc<RedisServer>>,
}

impl std::ops::Deref for TestServer {
    type Target = Api;

    /// The server's client (with its token, if it has one).
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl TestServer {
    /// A server over `dir` on `backend`, otherwise [`Options::default`].
    ///
    /// # Panics
    /// When it cannot start.
    #[must_use]
    pub fn start(dir: &Path, backend: Backend) -> Self {
        Self::with(dir, Options::on(backend))
    }

    /// A server over `dir` with `opts`.
    ///
    /// # Panics
    /// When it cannot start (the message is its [`ServeError`]).
    #[must_use]
    pub fn with(dir: &Path, opts: Options) -> Self {
        let mut cfg = ServeConfig::new(dir.to_owned());
        cfg.bind = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        cfg.http.api_token.clone_from(&opts.api_token);
        cfg.backtest_slots = opts.backtest_slots;
        cfg.optimization_slots = opts.optimization_slots;
        cfg.optimizer_threads = opts.optimizer_threads;
        cfg.publish_every = opts.publish_every;
        cfg.scale_out = opts.redis.as_ref().map(|r| ScaleOutConfig {
            worker_name: format!("test-serve-{}", std::process::id()),
            ..ScaleOutConfig::new(r.url.clone())
        });
        (opts.configure)(&mut cfg);
        let server = Server::start(cfg, opts.registry)
            .unwrap_or_else(|e| panic!("the test server does not start: {e}"));
        let url = format!("http://{}", server.local_addr());
        let service = server.service().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("atf-test-server".into())
            .spawn(move || {
                server.run(async move {
                    let _ = stopped.await;
                })
            })
            .expect("starts the server thread");
        let mut api = Api::new(url.clone());
        if let Some(t) = opts.api_token {
            api = api.with_token(t);
        }
        Self {
            url,
            dir: dir.to_owned(),
            api,
            service,
            stop: Some(stop),
            thread: Some(thread),
            _redis: opts.redis,
        }
    }

    /// Its run service (shared with the server).
    #[must_use]
    pub fn service(&self) -> &RunService {
        &self.service
    }

    /// Shuts it down as Ctrl-C does `atf serve` (runs in flight are
    /// abandoned, HTTP stops, the local worker stops) and waits for it.
    ///
    /// # Panics
    /// When serving failed.
    pub fn stop(mut self) {
        if let Err(e) = self.halt() {
            panic!("the test server failed: {e}");
        }
    }

    fn halt(&mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(served)) => served,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Ok(()),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // the test failed already: stop without adding a second panic
            let _ = self.stop.take().map(|s| s.send(()));
            return;
        }
        let _ = self.halt();
    }
}
