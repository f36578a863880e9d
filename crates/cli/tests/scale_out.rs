//! Scale-out end to end (DESIGN §6), with real processes and a real
//! `redis-server` (missing = failure, never a skip): an `atf serve
//! --redis-url` coordinator and `atf worker` processes give the results of
//! a single machine trial for trial, survive a `kill -9` of a worker with
//! every combination recorded once, stop on cancel everywhere, and refuse
//! data whose checksum is not the job's.
//!
//! The tests read what the system says — statuses, counters, the chunk
//! stream's state in Redis, files — never its logs (kept for failure
//! messages only); waits are liveness bounds, not latency targets (those
//! are `cargo bench -p atf-server --bench api`'s).

mod common;

use atf_testkit::chunks;
use atf_testkit::http::{is_terminal, Api};
use atf_testkit::process::{self, Proc};
use atf_testkit::redis::RedisServer;
use atf_testkit::wait::{eventually, PATIENCE};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

/// `exe` logging (at info) to `logs/{name}.log`.
fn atf_cmd(exe: &Path, logs: &Path, name: &str) -> (Command, std::path::PathBuf) {
    let log = logs.join(format!("{name}.log"));
    let mut cmd = process::command(exe, Some(&log));
    cmd.env("ATF_LOG", "info");
    (cmd, log)
}

/// `atf serve` on a free port; the process and a client of it.
fn serve(logs: &Path, data: &Path, extra: &[&str]) -> (Proc, Api) {
    let (mut cmd, log) = atf_cmd(&common::exe(), logs, "serve");
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(extra);
    let (proc, url) = process::serve(&mut cmd, Some(&log));
    (proc, Api::new(url))
}

fn worker(logs: &Path, name: &str, redis: &str, extra: &[&str]) -> Proc {
    worker_of(&common::exe(), logs, name, redis, extra)
}

/// `exe worker …` on one thread: a worker of any build.
fn worker_of(exe: &Path, logs: &Path, name: &str, redis: &str, extra: &[&str]) -> Proc {
    let (mut cmd, log) = atf_cmd(exe, logs, name);
    cmd.args([
        "worker",
        "--redis-url",
        redis,
        "--name",
        name,
        "--threads",
        "1",
    ])
    .arg("--cache-dir")
    .arg(logs.join(format!("{name}-cache")))
    .args(extra);
    Proc::spawn(&mut cmd, Some(&log))
}

/// Submits an optimization; its submission answer.
fn submit(api: &Api, body: &Value) -> Value {
    let (code, sub) = api.post("/api/optimizations", body);
    assert_eq!(code, 202, "{sub}");
    sub
}

fn id_of(sub: &Value) -> String {
    sub["id"].as_str().unwrap().to_owned()
}

/// Every trial, best first, without what differs between two runs of the
/// same grid (ids of stored reports).
fn all_trials(api: &Api, id: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let page = api.ok(&format!(
            "/api/optimizations/{id}/trials?offset={}&limit=500",
            out.len()
        ));
        let items = page["items"].as_array().unwrap().clone();
        if items.is_empty() {
            return out;
        }
        for mut t in items {
            if let Some(o) = t.as_object_mut() {
                o.remove("backtestId");
            }
            out.push(t);
        }
    }
}

fn grid(fast_max: u32, slow_max: u32) -> Value {
    json!({
        "strategy": "sma-cross", "dataset": "spy-1m",
        "axes": {"fast": {"min": 2, "max": fast_max, "step": 1}, "slow": {"min": 10, "max": slow_max, "step": 1}},
        "constraints": ["fast < slow"], "maximize": "sharpe", "top": 5
    })
}

/// Waits until every worker of `names` holds a chunk of the stream.
fn until_holding(redis: &RedisServer, names: &[&str], logs: &[&Proc]) {
    eventually(PATIENCE, || {
        let held = chunks::held(&redis.url);
        if names.iter().all(|n| held.get(*n).is_some_and(|&c| c > 0)) {
            Ok(())
        } else {
            let tails: Vec<String> = logs.iter().map(|p| p.log_tail(20)).collect();
            Err(format!(
                "workers {names:?} do not all hold a chunk: {held:?}\n{}",
                tails.join("\n")
            ))
        }
    });
}

#[test]
fn workers_give_the_single_machine_result_even_when_one_is_killed() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    let (coordinator, api) = serve(
        logs,
        &logs.join("data"),
        &[
            "--redis-url",
            &redis.url,
            "--threads",
            "1",
            "--reclaim-after",
            "2",
        ],
    );
    let mut doomed = worker(logs, "doomed", &redis.url, &["--reclaim-after", "2"]);
    let other = worker(logs, "other", &redis.url, &["--reclaim-after", "2"]);
    let body = grid(60, 300);
    let sub = submit(&api, &body);
    let id = id_of(&sub);
    let total = sub["totalCombinations"].as_u64().unwrap();
    // once the doomed worker has taken a chunk, kill it mid-chunk
    until_holding(&redis, &["doomed"], &[&doomed]);
    doomed.kill(); // SIGKILL
    let orphaned = chunks::held(&redis.url).get("doomed").copied();
    assert!(
        orphaned.is_some_and(|n| n > 0),
        "killed holding no chunk: {:?}",
        chunks::held(&redis.url)
    );
    let before = api.status("optimizations", &id);
    assert_eq!(
        before["status"], "Running",
        "killed too late to matter: {before}"
    );
    let done = api.wait("optimizations", &id, PATIENCE, is_terminal);
    assert_eq!(done["status"], "Completed", "{done}");
    let (c, f, s) = (
        done["completedCombinations"].as_u64().unwrap(),
        done["failedCombinations"].as_u64().unwrap(),
        done["skippedCombinations"].as_u64().unwrap(),
    );
    assert_eq!(c + f + s, total, "every combination once: {done}");
    // the dead worker's chunks were taken over (and recorded) by the others
    assert_eq!(
        chunks::held(&redis.url).get("doomed"),
        None,
        "its chunks were never reclaimed:\n{}\n{}",
        other.log_tail(20),
        coordinator.log_tail(20)
    );
    let distributed = all_trials(&api, &id);
    assert_eq!(distributed.len() as u64, c + f);

    // the same grid on a server without Redis
    let (_plain, plain) = serve(logs, &logs.join("plain"), &["--threads", "2"]);
    let plain_id = id_of(&submit(&plain, &body));
    let single = plain.wait("optimizations", &plain_id, PATIENCE, is_terminal);
    assert_eq!(single["status"], "Completed");
    for k in [
        "completedCombinations",
        "failedCombinations",
        "skippedCombinations",
    ] {
        assert_eq!(done[k], single[k], "{k}");
    }
    let local = all_trials(&plain, &plain_id);
    assert_eq!(distributed.len(), local.len());
    for (a, b) in distributed.iter().zip(&local) {
        assert_eq!(a, b, "trial differs");
    }
    // the best trials' full reports too
    let top = |api: &Api, id: &str| {
        let mut r = api.ok(&format!("/api/optimizations/{id}"))["result"]["top"].clone();
        for t in r.as_array_mut().unwrap() {
            let o = t.as_object_mut().unwrap();
            o.remove("backtestId");
            if let Some(m) = o.get_mut("metrics").and_then(Value::as_object_mut) {
                m.remove("wallTimeMs");
                m.remove("subBarsPerSecond");
            }
        }
        r
    };
    assert_eq!(top(&api, &id), top(&plain, &plain_id));
}

#[test]
fn cancel_reaches_every_worker() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    let (_serve, api) = serve(
        logs,
        &logs.join("data"),
        &["--redis-url", &redis.url, "--no-local-worker"],
    );
    let workers = [
        worker(logs, "w1", &redis.url, &[]),
        worker(logs, "w2", &redis.url, &[]),
    ];
    assert_eq!(api.ok("/api/health")["cacheBackend"], "redis");
    eventually(PATIENCE, || {
        let health = api.ok("/api/health");
        if health["activeWorkers"] == 2 {
            Ok(())
        } else {
            Err(format!("workers not counted: {health}"))
        }
    });
    let id = id_of(&submit(&api, &grid(150, 400)));
    until_holding(&redis, &["w1", "w2"], &[&workers[0], &workers[1]]);
    let (code, cancel) = api.post(&format!("/api/optimizations/{id}/cancel"), &json!({}));
    assert_eq!(code, 200, "{cancel}");
    assert_eq!(cancel["status"], "Cancelled");
    // reached: every worker let go of its chunk (stopped it, or — ending at
    // that very moment — had its result refused), and the run's remaining
    // chunks are gone from the stream, so nothing of it can run any more
    eventually(PATIENCE, || {
        let (held, published) = (chunks::held(&redis.url), chunks::published(&redis.url));
        if held.is_empty() && published == 0 {
            Ok(())
        } else {
            Err(format!(
                "after the cancel, workers hold {held:?} and {published} chunks are published\n{}\n{}",
                workers[0].log_tail(20),
                workers[1].log_tail(20)
            ))
        }
    });
    let s = api.wait("optimizations", &id, PATIENCE, is_terminal);
    assert_eq!(s["status"], "Cancelled");
    assert!(
        s["processedCombinations"].as_u64().unwrap() < s["totalCombinations"].as_u64().unwrap(),
        "{s}"
    );
    // and the workers are free: the next run is theirs
    let next = id_of(&submit(&api, &grid(10, 30)));
    let done = api.wait("optimizations", &next, PATIENCE, is_terminal);
    assert_eq!(done["status"], "Completed", "{done}");
}

#[test]
fn a_worker_refuses_data_whose_checksum_is_not_the_jobs() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    let data = logs.join("data");
    let (_serve, api) = serve(
        logs,
        &data,
        &["--redis-url", &redis.url, "--no-local-worker"],
    );
    let datasets = api.ok("/api/datasets");
    let find = |name: &str| {
        datasets
            .as_array()
            .or_else(|| datasets["items"].as_array())
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .cloned()
            .unwrap()
    };
    let (minute, daily) = (find("spy-1m"), find("spy-1d"));
    // the worker's cache holds other bars under spy-1m's checksum
    let cache = logs.join("liar-cache");
    std::fs::create_dir_all(&cache).unwrap();
    let cached = cache.join(format!("{}.parquet", minute["sha256"].as_str().unwrap()));
    let served = data.join(minute["file"].as_str().unwrap());
    std::fs::copy(data.join(daily["file"].as_str().unwrap()), &cached).unwrap();
    let liar = worker(logs, "liar", &redis.url, &["--reclaim-after", "1"]);
    let id = id_of(&submit(&api, &grid(10, 30)));
    let done = api.wait("optimizations", &id, PATIENCE, is_terminal);
    assert_eq!(done["status"], "Completed", "{done}\n{}", liar.log_tail(20));
    // it ran on the right bars: the bad copy was refused, deleted and
    // fetched again from the server
    assert!(
        std::fs::read(&cached).unwrap() == std::fs::read(&served).unwrap(),
        "{} is still not the server's copy\n{}",
        cached.display(),
        liar.log_tail(20)
    );
}

#[test]
fn a_worker_of_another_build_refuses_and_the_run_fails_with_its_reason() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    // the coordinator runs atf-extras (built-ins + rsi-dip), the only
    // worker our plain atf: it lacks rsi-dip, and its build differs
    let (_serve, api) = serve(
        logs,
        &logs.join("data"),
        &["--redis-url", &redis.url, "--no-local-worker"],
    );
    let plain = Path::new(env!("CARGO_BIN_EXE_atf"));
    let _other = worker_of(plain, logs, "other-build", &redis.url, &[]);
    let rsi_dip = json!({
        "strategy": "rsi-dip", "dataset": "spy-1d",
        "axes": {"period": {"min": 5, "max": 20, "step": 5}},
    });
    let id = id_of(&submit(&api, &rsi_dip));
    let done = api.wait("optimizations", &id, PATIENCE, is_terminal);
    assert_eq!(done["status"], "Failed", "{done}");
    let message = done["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("failed 3 times"),
        "{message}"
    );
    assert!(message.contains("unknown strategy 'rsi-dip'"), "{message}");
    // a strategy both builds have: refused all the same, the code may differ
    let id = id_of(&submit(&api, &grid(10, 30)));
    let done = api.wait("optimizations", &id, PATIENCE, is_terminal);
    assert_eq!(done["status"], "Failed", "{done}");
    let message = done["errorMessage"].as_str().unwrap();
    assert!(message.contains("is not the coordinator's"), "{message}");
    // the slot is free again: a later run is taken (and refused, not queued)
    assert_eq!(api.ok("/api/health")["status"], "ok");
}

#[test]
fn an_unreachable_redis_is_one_clear_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_atf"))
        .args(["worker", "--redis-url", "redis://:hunter2@127.0.0.1:1"])
        .arg("--data-dir")
        .arg(tmp.path())
        .env_remove("ATF_REDIS_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("redis://:***@127.0.0.1:1"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}
