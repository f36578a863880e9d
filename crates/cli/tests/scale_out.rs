//! Scale-out end to end (DESIGN §6), with real processes and a real
//! `redis-server` (missing = failure, never a skip): an `atf serve
//! --redis-url` coordinator and `atf worker` processes give the results of
//! a single machine trial for trial, survive a `kill -9` of a worker with
//! every combination recorded once, stop on cancel everywhere, and refuse
//! data whose checksum is not the job's.

mod common;

use atf_runs::test_support::RedisServer;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed on drop; its stderr goes to `log`.
struct Proc {
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn atf_cmd(logs: &Path, name: &str) -> (Command, PathBuf) {
    atf_cmd_of(&common::exe(), logs, name)
}

/// The command of the binary `exe`, logging to `logs/{name}.log`.
fn atf_cmd_of(exe: &Path, logs: &Path, name: &str) -> (Command, PathBuf) {
    let log = logs.join(format!("{name}.log"));
    let mut cmd = Command::new(exe);
    cmd.env_remove("ATF_API_TOKEN")
        .env_remove("ATF_REDIS_URL")
        .env_remove("ATF_SERVER")
        .env("ATF_LOG", "info")
        .stdin(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    (cmd, log)
}

/// `atf serve` on a free port; its URL.
fn serve(logs: &Path, data: &Path, extra: &[&str]) -> (Proc, String) {
    let (mut cmd, log) = atf_cmd(logs, "serve");
    let mut child = cmd
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts atf serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let proc = Proc { child, log };
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("atf serve did not say where: {line:?}\n{}", proc.log()))
        .to_owned();
    (proc, url)
}

fn worker(logs: &Path, name: &str, redis: &str, extra: &[&str]) -> Proc {
    worker_of(&common::exe(), logs, name, redis, extra)
}

/// `exe worker …`: a worker of any build.
fn worker_of(exe: &Path, logs: &Path, name: &str, redis: &str, extra: &[&str]) -> Proc {
    let (mut cmd, log) = atf_cmd_of(exe, logs, name);
    let child = cmd
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
        .arg(logs.join(format!("{name}-cache")))
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .expect("starts atf worker");
    Proc { child, log }
}

fn get(url: &str) -> Value {
    ureq::get(url)
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap()
}

fn post(url: &str, body: &Value) -> Value {
    ureq::post(url)
        .send_json(body)
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap()
}

/// Waits for `until` on the run's status (polled every 50 ms).
fn wait(base: &str, id: &str, within: Duration, until: impl Fn(&Value) -> bool) -> Value {
    let t0 = Instant::now();
    loop {
        let s = get(&format!("{base}/api/optimizations/{id}/status"));
        if until(&s) {
            return s;
        }
        assert!(t0.elapsed() < within, "run {id} still {s}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ended(s: &Value) -> bool {
    matches!(
        s["status"].as_str(),
        Some("Completed" | "Failed" | "Cancelled")
    )
}

/// Every trial, best first, without what differs between two runs of the
/// same grid (ids of stored reports).
fn all_trials(base: &str, id: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let page = get(&format!(
            "{base}/api/optimizations/{id}/trials?offset={}&limit=500",
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

#[test]
fn workers_give_the_single_machine_result_even_when_one_is_killed() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    let (_serve, base) = serve(
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
    let _other = worker(logs, "other", &redis.url, &["--reclaim-after", "2"]);
    let body = grid(60, 300);
    let sub = post(&format!("{base}/api/optimizations"), &body);
    let id = sub["id"].as_str().unwrap().to_owned();
    let total = sub["totalCombinations"].as_u64().unwrap();
    // once the doomed worker has run a chunk, kill it mid-run
    let t0 = Instant::now();
    while !doomed.log().contains("job prepared") {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "worker never started: {}",
            doomed.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let _ = doomed.child.kill(); // SIGKILL
    let _ = doomed.child.wait();
    let before = get(&format!("{base}/api/optimizations/{id}/status"));
    assert_eq!(
        before["status"], "Running",
        "killed too late to matter: {before}"
    );
    let done = wait(&base, &id, Duration::from_secs(40), ended);
    assert_eq!(done["status"], "Completed", "{done}");
    let (c, f, s) = (
        done["completedCombinations"].as_u64().unwrap(),
        done["failedCombinations"].as_u64().unwrap(),
        done["skippedCombinations"].as_u64().unwrap(),
    );
    assert_eq!(c + f + s, total, "every combination once: {done}");
    assert!(
        _other.log().contains("reclaimed a chunk") || _serve.log().contains("reclaimed a chunk"),
        "the killed worker's chunk was not reclaimed:\n{}\n{}",
        _other.log(),
        _serve.log()
    );
    let distributed = all_trials(&base, &id);
    assert_eq!(distributed.len() as u64, c + f);

    // the same grid on a server without Redis
    let (_plain, plain_base) = serve(logs, &logs.join("plain"), &["--threads", "2"]);
    let plain_id = post(&format!("{plain_base}/api/optimizations"), &body)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let single = wait(&plain_base, &plain_id, Duration::from_secs(40), ended);
    assert_eq!(single["status"], "Completed");
    for k in [
        "completedCombinations",
        "failedCombinations",
        "skippedCombinations",
    ] {
        assert_eq!(done[k], single[k], "{k}");
    }
    let local = all_trials(&plain_base, &plain_id);
    assert_eq!(distributed.len(), local.len());
    for (a, b) in distributed.iter().zip(&local) {
        assert_eq!(a, b, "trial differs");
    }
    // the best trials' full reports too
    let top = |base: &str, id: &str| {
        let mut r = get(&format!("{base}/api/optimizations/{id}"))["result"]["top"].clone();
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
    assert_eq!(top(&base, &id), top(&plain_base, &plain_id));
}

#[test]
fn cancel_reaches_every_worker() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    let (serve, base) = serve(
        logs,
        &logs.join("data"),
        &["--redis-url", &redis.url, "--no-local-worker"],
    );
    let workers = [
        worker(logs, "w1", &redis.url, &[]),
        worker(logs, "w2", &redis.url, &[]),
    ];
    let health = get(&format!("{base}/api/health"));
    assert_eq!(health["cacheBackend"], "redis");
    let t0 = Instant::now();
    while get(&format!("{base}/api/health"))["activeWorkers"] != 2 {
        assert!(t0.elapsed() < Duration::from_secs(5), "workers not counted");
        std::thread::sleep(Duration::from_millis(50));
    }
    let id = post(&format!("{base}/api/optimizations"), &grid(150, 400))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let t0 = Instant::now();
    while !workers.iter().all(|w| w.log().contains("job prepared")) {
        assert!(t0.elapsed() < Duration::from_secs(20), "workers idle");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    let cancel = post(&format!("{base}/api/optimizations/{id}/cancel"), &json!({}));
    assert_eq!(cancel["status"], "Cancelled");
    let asked = Instant::now();
    // reached = it stopped its chunk, or dropped the next one, or (its chunk
    // ending at that very moment) saw its result refused as the run had ended
    while !workers.iter().all(|w| {
        let log = w.log();
        log.contains("chunk dropped: run cancelled") || log.contains("new=false")
    }) {
        // a liveness bound, not the latency target (that is measured by
        // `cargo bench -p atf-server --bench api`): other tests share the cores
        assert!(
            asked.elapsed() < Duration::from_secs(10),
            "cancel did not reach every worker:\n{}\n{}",
            workers[0].log(),
            workers[1].log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let done_before: Vec<usize> = workers
        .iter()
        .map(|w| w.log().matches("chunk done").count())
        .collect();
    let s = wait(&base, &id, Duration::from_secs(5), ended);
    assert_eq!(s["status"], "Cancelled");
    assert!(
        s["processedCombinations"].as_u64().unwrap() < s["totalCombinations"].as_u64().unwrap()
    );
    // the run's remaining chunks are dropped: nothing more is run
    std::thread::sleep(Duration::from_millis(1_500));
    for (w, before) in workers.iter().zip(done_before) {
        assert_eq!(w.log().matches("chunk done").count(), before, "{}", w.log());
    }
    drop(serve);
}

#[test]
fn a_worker_refuses_data_whose_checksum_is_not_the_jobs() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    let data = logs.join("data");
    let (_serve, base) = serve(
        logs,
        &data,
        &["--redis-url", &redis.url, "--no-local-worker"],
    );
    let datasets = get(&format!("{base}/api/datasets"));
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
    std::fs::copy(
        data.join(daily["file"].as_str().unwrap()),
        cache.join(format!("{}.parquet", minute["sha256"].as_str().unwrap())),
    )
    .unwrap();
    let liar = worker(logs, "liar", &redis.url, &["--reclaim-after", "1"]);
    let id = post(&format!("{base}/api/optimizations"), &grid(10, 30))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let t0 = Instant::now();
    while !liar.log().contains("refusing chunk") {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "no refusal: {}",
            liar.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = liar.log();
    assert!(log.contains("checksum"), "{log}");
    // the bad copy is dropped; fetched again from the server, it matches
    let done = wait(&base, &id, Duration::from_secs(20), ended);
    assert_eq!(done["status"], "Completed", "{done}\n{}", liar.log());
    assert!(liar.log().contains("dataset fetched"));
}

#[test]
fn a_worker_of_another_build_refuses_and_the_run_fails_with_its_reason() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    // the coordinator runs atf-extras (built-ins + rsi-dip), the only
    // worker our plain atf: it lacks rsi-dip, and its build differs
    let (_serve, base) = serve(
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
    let id = post(&format!("{base}/api/optimizations"), &rsi_dip)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = wait(&base, &id, Duration::from_secs(30), ended);
    assert_eq!(done["status"], "Failed", "{done}");
    let message = done["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("workers refused this run 3 times"),
        "{message}"
    );
    assert!(message.contains("unknown strategy 'rsi-dip'"), "{message}");
    // a strategy both builds have: refused all the same, the code may differ
    let id = post(&format!("{base}/api/optimizations"), &grid(10, 30))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = wait(&base, &id, Duration::from_secs(30), ended);
    assert_eq!(done["status"], "Failed", "{done}");
    let message = done["errorMessage"].as_str().unwrap();
    assert!(message.contains("is not the coordinator's"), "{message}");
    // the slot is free again: a later run is taken (and refused, not queued)
    assert_eq!(get(&format!("{base}/api/health"))["status"], "ok");
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
