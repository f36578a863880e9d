//! Latency and overhead of the run API under load (`cargo bench -p
//! atf-server --bench api`): a real server on loopback over the demo data,
//! an optimization saturating every core, and a client on the same machine.
//!
//! Prints p50/p99 of `POST /api/backtests` and `GET …/status`, the
//! cancellation latency (answer, status, threads stopped and persisted), and
//! the throughput of an optimization through the server against the same
//! grid run directly by the engine.

use atf_testkit::http::call;
use atf_testkit::server::{Options, TestServer};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The server `atf serve` runs (same wiring), on a free port over a fresh
/// data dir, with the built-in strategies and `atf serve`'s defaults.
fn start(dir: &std::path::Path) -> TestServer {
    let defaults = atf_server::serve::ServeConfig::new(dir.to_owned());
    TestServer::with(
        dir,
        Options {
            optimizer_threads: defaults.optimizer_threads,
            publish_every: defaults.publish_every,
            registry: Arc::new(atf_engine::Registry::builtin()),
            ..Options::default()
        },
    )
}

fn post(a: &ureq::Agent, url: &str, body: &Value) -> (u16, Value) {
    call(a, "POST", url, Some(body), None)
}

fn get(a: &ureq::Agent, url: &str) -> Value {
    call(a, "GET", url, None, None).1
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn summary(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{name:<34} n={:<5} p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms",
        ms.len(),
        pct(&ms, 0.5),
        pct(&ms, 0.99),
        ms[ms.len() - 1]
    );
}

fn big_grid(tag: u64) -> Value {
    json!({
        "strategy": "sma-cross", "dataset": "spy-1m",
        "axes": {"fast": {"min": 2, "max": 400, "step": 1}, "slow": {"min": 3, "max": 401, "step": 2}},
        "constraints": ["fast < slow"], "cash": 10000 + tag,
    })
}

fn wait_status(a: &ureq::Agent, url: &str, want: &[&str]) -> Value {
    loop {
        let s = get(a, url);
        if want.contains(&s["status"].as_str().unwrap_or("")) {
            return s;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn latency(srv: &TestServer, a: &ureq::Agent) {
    let (_, opt) = post(a, &format!("{}/api/optimizations", srv.url), &big_grid(0));
    let opt_id = opt["id"].as_str().unwrap().to_owned();
    let status_url = format!("{}/api/optimizations/{opt_id}/status", srv.url);
    wait_status(a, &status_url, &["Running"]);
    std::thread::sleep(Duration::from_millis(300));
    let n = 2_000;
    let mut gets = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let s = get(a, &status_url);
        gets.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(
            s["status"], "Running",
            "the optimization must still be running"
        );
    }
    let mut posts = Vec::with_capacity(500);
    for i in 0..500u64 {
        let body = json!({"strategy": "sma-cross", "dataset": "spy-1m", "params": {"fast": 10, "slow": 30}, "cash": 20_000 + i});
        let t = Instant::now();
        let (code, _) = post(a, &format!("{}/api/backtests", srv.url), &body);
        posts.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(code, 202);
    }
    println!(
        "with an optimization running on every core ({} threads):",
        srv.service().config().optimizer_threads
    );
    summary("GET /api/optimizations/{id}/status", gets);
    summary("POST /api/backtests", posts);
    post(
        a,
        &format!("{}/api/optimizations/{opt_id}/cancel", srv.url),
        &json!({}),
    );
    // let the queued backtests drain
    loop {
        let h = get(a, &format!("{}/api/health", srv.url));
        if h["queueDepth"] == 0 && h["running"] == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn cancellation(srv: &TestServer, a: &ureq::Agent) {
    let mut answer = Vec::new();
    let mut stopped = Vec::new();
    for i in 0..10 {
        let (_, opt) = post(
            a,
            &format!("{}/api/optimizations", srv.url),
            &big_grid(100 + i),
        );
        let id = opt["id"].as_str().unwrap().to_owned();
        let status_url = format!("{}/api/optimizations/{id}/status", srv.url);
        wait_status(a, &status_url, &["Running"]);
        std::thread::sleep(Duration::from_millis(500));
        let t = Instant::now();
        let (code, _) = post(
            a,
            &format!("{}/api/optimizations/{id}/cancel", srv.url),
            &json!({}),
        );
        assert_eq!(code, 200);
        let s = get(a, &status_url);
        answer.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(s["status"], "Cancelled");
        // stopped = its (partial) result is persisted: every thread is done
        loop {
            let r = a
                .get(&format!("{}/api/optimizations/{id}", srv.url))
                .call()
                .unwrap();
            if r.status() == 200 {
                let v: Value = r.into_body().read_json().unwrap();
                if v.get("finishedAtMs").is_some() && !v["result"].is_null() {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        stopped.push(t.elapsed().as_secs_f64() * 1e3);
    }
    summary("cancel → status Cancelled", answer);
    summary("cancel → threads stopped, saved", stopped);
}

fn throughput(srv: &TestServer, a: &ureq::Agent) {
    // the same grid, through the server and directly
    let body = json!({
        "strategy": "sma-cross", "dataset": "spy-1m",
        "axes": {"fast": {"min": 2, "max": 300, "step": 1}, "slow": {"min": 3, "max": 601, "step": 2}},
        "constraints": ["fast < slow"], "cash": 12345,
    });
    let (_, sub) = post(a, &format!("{}/api/optimizations", srv.url), &body);
    let id = sub["id"].as_str().unwrap().to_owned();
    let total = sub["totalCombinations"].as_u64().unwrap();
    let url = format!("{}/api/optimizations/{id}/status", srv.url);
    let t = Instant::now();
    let s = wait_status(a, &url, &["Completed"]);
    let client_secs = t.elapsed().as_secs_f64();
    let engine_ms = s["result"]["wallTimeMs"].as_f64().unwrap();

    // direct: the engine on the same data, same threads
    let req = atf_runs::request::OptimizationRequest::from_json(&body).unwrap();
    let ds = srv.service().with_catalog(|c| c.get("spy-1m")).unwrap();
    let plan = atf_runs::plan::optimization(
        &srv.service().config().registry,
        &req,
        ds.clone(),
        atf_runs::plan::GridLimits::default(),
    )
    .unwrap();
    let atf_runs::plan::Work::Optimization(spec) = &plan.work else {
        unreachable!()
    };
    let bars = srv
        .service()
        .with_catalog(|c| c.load(&ds, None, None))
        .unwrap();
    let data =
        atf_engine::MarketData::new(ds.instrument(), bars, ds.timeframe, ds.timeframe).unwrap();
    let threads = srv.service().config().optimizer_threads;
    let mut direct = Vec::new();
    for _ in 0..1 {
        let progress = atf_engine::optimize::OptimizationProgress::new();
        let t = Instant::now();
        let r = plan
            .target
            .strategy
            .optimize(&data, &plan.target.config, spec, &progress, threads)
            .unwrap();
        direct.push(t.elapsed().as_secs_f64());
        assert_eq!(r.total_combinations(), total);
    }
    direct.sort_by(f64::total_cmp);
    let direct_secs = direct[0];
    println!(
        "optimization of {total} combinations: direct {:.3} s ({:.0}/s), via server: engine {:.3} s, submit→Completed seen by the client {:.3} s → {:.1} % of direct",
        direct_secs,
        total as f64 / direct_secs,
        engine_ms / 1e3,
        client_secs,
        100.0 * direct_secs / client_secs
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let srv = start(dir.path());
    let a = atf_testkit::http::agent();
    latency(&srv, &a);
    cancellation(&srv, &a);
    throughput(&srv, &a);
}
