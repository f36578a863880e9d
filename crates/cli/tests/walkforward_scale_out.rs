//! Walk-forwards on the scale-out workers (DESIGN §6, §11), with real
//! processes and a real `redis-server` (missing = failure, never a skip):
//! an `atf serve --redis-url` coordinator without a worker of its own hands
//! each fold's in-sample optimization to `atf worker` processes, and the
//! report is the one a single machine computes, fold for fold.

mod common;

use atf_testkit::http::{is_terminal, Api};
use atf_testkit::process::{self, Proc};
use atf_testkit::redis::RedisServer;
use atf_testkit::wait::PATIENCE;
use serde_json::{json, Value};
use std::path::Path;

/// `atf serve` on a free port; the process and a client of it.
fn serve(logs: &Path, name: &str, extra: &[&str]) -> (Proc, Api) {
    let log = logs.join(format!("{name}.log"));
    let data = logs.join(name);
    let mut cmd = process::command(&common::exe(), Some(&log));
    cmd.env("ATF_LOG", "info")
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .args(extra);
    let (proc, url) = process::serve(&mut cmd, Some(&log));
    (proc, Api::new(url))
}

/// `atf worker` on one thread.
fn worker(logs: &Path, name: &str, redis: &str) -> Proc {
    let log = logs.join(format!("{name}.log"));
    let mut cmd = process::command(&common::exe(), Some(&log));
    cmd.env("ATF_LOG", "info")
        .args([
            "worker",
            "--redis-url",
            redis,
            "--name",
            name,
            "--threads",
            "1",
        ])
        .arg("--cache-dir")
        .arg(logs.join(format!("{name}-cache")));
    Proc::spawn(&mut cmd, Some(&log))
}

fn walkforward() -> Value {
    json!({
        "strategy": "sma-cross", "dataset": "spy-1m",
        "axes": {"fast": {"min": 2, "max": 12, "step": 1}, "slow": {"min": 10, "max": 40, "step": 3}},
        "constraints": ["fast < slow"], "maximize": "sharpe",
        "mode": "anchored", "folds": 3, "oosFraction": 0.25
    })
}

/// Submits the walk-forward and follows it to its end.
fn run(api: &Api) -> Value {
    let (code, sub) = api.post("/api/walkforwards", &walkforward());
    assert_eq!(code, 202, "{sub}");
    assert_eq!(sub["totalFolds"], 3);
    let id = sub["id"].as_str().unwrap();
    let done = api.wait("walkforwards", id, PATIENCE, is_terminal);
    assert_eq!(done["status"], "Completed", "{done}");
    assert_eq!(done["processedCombinations"], sub["totalCombinations"]);
    done
}

#[test]
fn workers_give_the_single_machine_walkforward() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    let (coordinator, api) = serve(
        logs,
        "coordinator",
        &[
            "--redis-url",
            &redis.url,
            "--no-local-worker",
            "--threads",
            "1",
        ],
    );
    let a = worker(logs, "a", &redis.url);
    let b = worker(logs, "b", &redis.url);
    let distributed = run(&api);
    // the workers did the folds: the coordinator has none of its own
    let health = api.ok("/api/health");
    assert!(
        health["activeWorkers"].as_u64().unwrap() >= 1,
        "{health}\n{}\n{}\n{}",
        coordinator.log_tail(20),
        a.log_tail(20),
        b.log_tail(20)
    );

    let (_plain, plain) = serve(logs, "plain", &["--threads", "2"]);
    let single = run(&plain);
    let (d, s) = (&distributed["result"], &single["result"]);
    assert_eq!(d["folds"].as_array().unwrap().len(), 3, "{d}");
    assert!(d["folds"][2]["winner"].is_object(), "{d}");
    assert_eq!(d, s, "the same report, fold for fold");
    assert_eq!(distributed["runKey"], single["runKey"]);
}
