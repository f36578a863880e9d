//! A real server for the end-to-end tests: the run service on a temporary
//! data dir (real SQLite file), the axum router on a free loopback port,
//! and a small JSON-over-HTTP client.

#![allow(dead_code)]

use atf_runs::cache::{MemoryCache, ProgressCache};
use atf_runs::redis_cache::RedisCache;
use atf_runs::service::{RunService, ServiceConfig};
use atf_runs::test_support::RedisServer;
use atf_server::ServerConfig;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which progress cache the server uses.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Memory,
    Redis,
}

/// Every scenario runs on both caches; Redis is a real `redis-server`
/// started for the test (missing = the test fails, never skips).
pub fn backends() -> [Backend; 2] {
    [Backend::Memory, Backend::Redis]
}

pub struct TestServer {
    pub url: String,
    pub service: RunService,
    pub dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _redis: Option<Arc<RedisServer>>,
}

pub struct Options {
    pub backtest_slots: usize,
    pub optimization_slots: usize,
    pub api_token: Option<String>,
    pub redis: Option<Arc<RedisServer>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            backtest_slots: 2,
            optimization_slots: 1,
            api_token: None,
            redis: None,
        }
    }
}

impl TestServer {
    pub fn start(dir: &Path, backend: Backend) -> Self {
        let redis = match backend {
            Backend::Memory => None,
            Backend::Redis => Some(Arc::new(RedisServer::start())),
        };
        Self::with(
            dir,
            Options {
                redis,
                ..Options::default()
            },
        )
    }

    pub fn with(dir: &Path, opts: Options) -> Self {
        let cache: Arc<dyn ProgressCache> = match &opts.redis {
            Some(r) => Arc::new(RedisCache::connect(&r.url).expect("redis")),
            None => Arc::new(MemoryCache::new()),
        };
        // the built-ins and the strategy that fails on purpose
        let registry =
            atf_engine::Registry::builtin().with::<atf_engine::strategies::FaultInjection>();
        let mut cfg = ServiceConfig::new(dir.to_owned(), Arc::new(registry));
        cfg.backtest_slots = opts.backtest_slots;
        cfg.optimization_slots = opts.optimization_slots;
        cfg.optimizer_threads = 2;
        cfg.publish_every = Duration::from_millis(50);
        let service = RunService::start(cfg, cache).expect("service starts");
        let app = atf_server::router(
            service.clone(),
            ServerConfig {
                api_token: opts.api_token,
                ..ServerConfig::default()
            },
        );
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", std_listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Self {
            url,
            service,
            dir: dir.to_owned(),
            shutdown: Some(tx),
            thread: Some(thread),
            _redis: opts.redis,
        }
    }

    /// Stops it like a process exit: HTTP down, workers stopped, runs in
    /// flight abandoned.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.service.shutdown();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        call(
            &self.agent(),
            "GET",
            &format!("{}{path}", self.url),
            None,
            None,
        )
    }

    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        call(
            &self.agent(),
            "POST",
            &format!("{}{path}", self.url),
            Some(body),
            None,
        )
    }

    pub fn agent(&self) -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into()
    }

    /// Polls `/status` until `done` holds (or panics after `secs`).
    pub fn wait(&self, kind: &str, id: &str, secs: u64, done: impl Fn(&Value) -> bool) -> Value {
        let t0 = Instant::now();
        loop {
            let (code, s) = self.get(&format!("/api/{kind}/{id}/status"));
            assert_eq!(code, 200, "{s}");
            if done(&s) {
                return s;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(secs),
                "gave up waiting after {secs} s: {s}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn wait_terminal(&self, kind: &str, id: &str) -> Value {
        self.wait(kind, id, 120, |s| {
            matches!(
                s["status"].as_str(),
                Some("Completed" | "Failed" | "Cancelled")
            )
        })
    }

    /// Reads `/events` to its end: `(event name, data)` pairs.
    pub fn events(&self, kind: &str, id: &str) -> Vec<(String, Value)> {
        let res = self
            .agent()
            .get(&format!("{}/api/{kind}/{id}/events", self.url))
            .call()
            .unwrap();
        assert_eq!(res.status(), 200);
        let ct = res
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        let reader = BufReader::new(res.into_body().into_reader());
        let mut out = Vec::new();
        let mut name = String::new();
        for line in reader.lines() {
            let line = line.unwrap();
            if let Some(n) = line.strip_prefix("event: ") {
                name = n.to_owned();
            } else if let Some(d) = line.strip_prefix("data: ") {
                out.push((name.clone(), serde_json::from_str(d).unwrap()));
            }
        }
        out
    }

    /// The run database, opened read-only beside the server.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(
            self.dir.join("runs.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.halt();
    }
}

pub fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> (u16, Value) {
    let res = match (method, body) {
        ("GET", _) => {
            let mut r = agent.get(url);
            if let Some(t) = token {
                r = r.header("Authorization", &format!("Bearer {t}"));
            }
            r.call()
        }
        (_, b) => {
            let mut r = agent.post(url);
            if let Some(t) = token {
                r = r.header("Authorization", &format!("Bearer {t}"));
            }
            match b {
                Some(b) => r.send_json(b),
                None => r.send_empty(),
            }
        }
    }
    .unwrap();
    let code = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or("").to_owned())
        .unwrap_or_default();
    let text = res.into_body().read_to_string().unwrap();
    if code >= 400 {
        assert_eq!(ct, "application/problem+json", "{code} {text}");
    }
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (code, v)
}

/// A grid big enough to still be running when the test acts on it
/// (sma-cross over the demo minute data, ~80k combinations).
pub fn big_optimization(tag: i64) -> Value {
    serde_json::json!({
        "strategy": "sma-cross",
        "dataset": "spy-1m",
        "axes": {"fast": {"min": 2, "max": 400, "step": 1}, "slow": {"min": 3, "max": 401, "step": 2}},
        "constraints": ["fast < slow"],
        "cash": 10000 + tag,
    })
}
