//! Scale-out end to end (DESIGN §6), with real processes and a real
//! `redis-server` (missing = failure, never a skip): an `atf serve
//! --redis-url` coordinator and `atf worker` processes give the results of
//! a single machine trial for trial, survive a `kill -9` of a worker with
//! every combination recorded once, stop on cancel everywhere, and refuse
//! data whose checksum is not the job's; a search (batch by batch) and a
//! resumed run give the single machine's report on any worker count.
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
    let mut body = grid(60, 300);
    // workers read the warm-up before `from` as the coordinator does
    body["from"] = json!("2011-01-05");
    body["warmupBars"] = json!(300);
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
    let warmup = |api: &Api, id: &str| {
        api.ok(&format!("/api/optimizations/{id}"))["result"]["warmupBars"].clone()
    };
    assert_eq!(warmup(&api, &id), json!(300));
    assert_eq!(warmup(&plain, &plain_id), json!(300));
    // and is the winner real: the same DSR, N̂, neighbourhood, PBO and spread
    let robustness = |api: &Api, id: &str| {
        api.ok(&format!("/api/optimizations/{id}"))["result"]["robustness"].clone()
    };
    let distributed = robustness(&api, &id);
    assert!(distributed["sharpe"]["dsr"].is_number(), "{distributed}");
    // PBO too: the chunks carried every trial's block sums
    assert!(distributed["pbo"]["pbo"].is_number(), "{distributed}");
    assert_eq!(distributed, robustness(&plain, &plain_id));
}

/// `v` without what depends on timing or the machine (wall times, rates,
/// thread counts), at any depth.
fn without_timing(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for k in ["wallTimeMs", "subBarsPerSecond", "threads"] {
                    m.remove(k);
                }
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// `atf optimize` of a genetic search of `budget` trials (`seed` when
/// given) over 20,000 combinations, as `--json`, with `extra` arguments.
fn search_args<'a>(budget: &'a str, seed: Option<&'a str>, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "optimize",
        "--strategy",
        "sma-cross",
        "--dataset",
        "spy-1m",
        "--axis",
        "fast=2..200:1",
        "--axis",
        "slow=3..401:2",
        "--constraint",
        "fast<slow",
        "--method",
        "genetic",
        "--budget",
        budget,
        "--top",
        "3",
        "--json",
    ];
    if let Some(seed) = seed {
        args.extend(["--seed", seed]);
    }
    args.extend(extra);
    args
}

/// Issue 17: a search's batches go to the workers, and its `--json` report
/// is bit-identical with 0 workers (a local run on 1 or 2 threads), 1 or 2
/// workers; a request without a seed gets one on the coordinator that its
/// workers use too; and a search cancelled on the workers resumes there to
/// the uninterrupted result.
#[test]
fn a_search_is_the_same_on_0_1_or_2_workers_and_resumes_on_them() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    let local_dir = logs.join("local");
    let (coordinator, api) = serve(
        logs,
        &logs.join("data"),
        &[
            "--redis-url",
            &redis.url,
            "--no-local-worker",
            "--threads",
            "1",
        ],
    );
    let remote = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--server", api.base()]);
        let out = common::atf(&local_dir, &all);
        assert!(
            out.status.success(),
            "atf {all:?} exited {:?}: {}\n{}",
            out.status.code(),
            common::stderr(&out),
            coordinator.log_tail(20)
        );
        without_timing(common::json(&common::stdout(&out)))
    };
    let local = |args: &[&str]| without_timing(common::json(&common::ok(&local_dir, args)));

    let one_thread = local(&search_args("1500", Some("9"), &["--threads", "1"]));
    let two_threads = local(&search_args("1500", Some("9"), &["--threads", "2"]));
    assert_eq!(one_thread["completedCombinations"], 1500, "{one_thread}");
    assert!(
        one_thread["search"]["generations"].as_u64().unwrap() > 10,
        "a search of many batches: {}",
        one_thread["search"]
    );
    assert_eq!(one_thread, two_threads);

    // each batch goes to the workers as one chunk or more
    let generations = one_thread["search"]["generations"].as_u64().unwrap();
    let handed_out = |run: &dyn Fn()| {
        let before = chunks::ever_published(&redis.url);
        run();
        chunks::ever_published(&redis.url) - before
    };
    let first = worker(logs, "first", &redis.url, &[]);
    let n = handed_out(&|| {
        assert_eq!(
            remote(&search_args("1500", Some("9"), &[])),
            one_thread,
            "1 worker\n{}",
            first.log_tail(20)
        );
    });
    assert!(n >= generations, "{n} chunks for {generations} batches");
    // another seed: the same request would be answered with the run above
    let other_seed = local(&search_args("1500", Some("11"), &["--threads", "1"]));
    assert_ne!(other_seed["trials"], one_thread["trials"]);
    let second = worker(logs, "second", &redis.url, &[]);
    let n = handed_out(&|| {
        assert_eq!(
            remote(&search_args("1500", Some("11"), &[])),
            other_seed,
            "2 workers\n{}\n{}",
            first.log_tail(20),
            second.log_tail(20)
        );
    });
    assert!(n >= generations, "{n} chunks for {generations} batches");

    // no seed: the coordinator's choice, which the workers plan with too
    let chosen = remote(&search_args("500", None, &[]));
    let seed = chosen["search"]["seed"].as_u64().unwrap().to_string();
    assert_eq!(
        chosen,
        local(&search_args("500", Some(&seed), &["--threads", "1"]))
    );

    // cancelled while no worker runs it (both killed mid-search), then
    // resumed on new workers: the uninterrupted search's report
    let (mut first, mut second) = (first, second);
    let sub = submit(
        &api,
        &json!({
            "strategy": "sma-cross", "dataset": "spy-1m",
            "axes": {"fast": {"min": 2, "max": 200, "step": 1}, "slow": {"min": 3, "max": 401, "step": 2}},
            "constraints": ["fast < slow"], "method": "genetic", "budget": 2000, "seed": 4, "top": 3
        }),
    );
    let id = id_of(&sub);
    api.wait("optimizations", &id, PATIENCE, |s| {
        s["processedCombinations"].as_u64().unwrap_or(0) >= 300
    });
    first.kill();
    second.kill();
    let running = api.status("optimizations", &id);
    assert_eq!(running["status"], "Running", "finished too soon: {running}");
    let (code, _) = api.post(&format!("/api/optimizations/{id}/cancel"), &json!({}));
    assert_eq!(code, 200);
    let cancelled = api.wait("optimizations", &id, PATIENCE, is_terminal);
    assert_eq!(cancelled["status"], "Cancelled", "{cancelled}");
    let before = chunks::ever_published(&redis.url);
    let _third = worker(logs, "third", &redis.url, &[]);
    let _fourth = worker(logs, "fourth", &redis.url, &[]);
    // resumable once the cancelled run is saved (until then: in flight)
    let resumed = eventually(PATIENCE, || {
        let out = common::atf(
            &local_dir,
            &[
                "optimize",
                "--resume",
                &id,
                "--json",
                "--server",
                api.base(),
            ],
        );
        if out.status.success() {
            Ok(without_timing(common::json(&common::stdout(&out))))
        } else {
            Err(common::stderr(&out))
        }
    });
    assert_eq!(resumed["completedCombinations"], 2000, "{resumed}");
    assert!(
        chunks::ever_published(&redis.url) > before,
        "the resumed search ran on the workers"
    );
    assert_eq!(
        resumed,
        local(&search_args("2000", Some("4"), &["--threads", "2"]))
    );
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
    assert!(message.contains("failed 3 times"), "{message}");
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

// ---- limits and failure (DESIGN §13): every distributed run ends ----

/// A status whose error message says `what`.
fn failed_with(s: &Value, what: &str) -> bool {
    s["status"] == "Failed" && s["errorMessage"].as_str().is_some_and(|m| m.contains(what))
}

/// Submits a grid that takes the local worker (one thread) tens of
/// seconds and waits until its chunks are being worked on.
fn a_long_run(api: &Api, redis: &RedisServer, serve: &Proc) -> String {
    let id = id_of(&submit(api, &grid(150, 400)));
    eventually(PATIENCE, || {
        let held = chunks::held(&redis.url);
        if api.status("optimizations", &id)["status"] == "Running" && !held.is_empty() {
            Ok(())
        } else {
            Err(format!("no chunk taken: {held:?}\n{}", serve.log_tail(20)))
        }
    });
    id
}

/// The optimization slot is free: a small run after it completes.
fn slot_is_free(api: &Api) {
    let next = id_of(&submit(api, &grid(10, 30)));
    let done = api.wait("optimizations", &next, PATIENCE, is_terminal);
    assert_eq!(
        done["status"], "Completed",
        "the slot was not freed: {done}"
    );
}

#[test]
fn flushall_mid_run_fails_it_with_a_clear_message_and_frees_the_slot() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    let (serve, api) = serve(
        logs,
        &logs.join("data"),
        &["--redis-url", &redis.url, "--threads", "1"],
    );
    let id = a_long_run(&api, &redis, &serve);
    redis.flush_all();
    let done = api.wait("optimizations", &id, PATIENCE, is_terminal);
    assert!(
        failed_with(&done, "Redis lost this run's state"),
        "{done}\n{}",
        serve.log_tail(20)
    );
    slot_is_free(&api);
}

#[test]
fn redis_restarted_without_persistence_mid_run_fails_it_and_frees_the_slot() {
    let mut redis = RedisServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    let (serve, api) = serve(
        logs,
        &logs.join("data"),
        &["--redis-url", &redis.url, "--threads", "1"],
    );
    let id = a_long_run(&api, &redis, &serve);
    redis.restart();
    // back within the grace: the state is found gone; or not back in time
    let done = api.wait("optimizations", &id, PATIENCE, is_terminal);
    assert!(
        failed_with(&done, "Redis lost this run's state")
            || failed_with(&done, "lost Redis mid-run"),
        "{done}\n{}",
        serve.log_tail(20)
    );
    slot_is_free(&api);
}

#[test]
fn a_run_no_worker_takes_fails_after_the_stall_timeout() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    let (serve, api) = serve(
        logs,
        &logs.join("data"),
        &[
            "--redis-url",
            &redis.url,
            "--no-local-worker",
            "--stall-timeout",
            "2",
        ],
    );
    let id = id_of(&submit(&api, &grid(10, 30)));
    let done = api.wait("optimizations", &id, PATIENCE, is_terminal);
    assert!(
        failed_with(&done, "no progress for 2 s") && failed_with(&done, "0 live workers"),
        "{done}\n{}",
        serve.log_tail(20)
    );
    // its chunks are withdrawn: nothing is left for a worker to pick up
    assert_eq!(chunks::published(&redis.url), 0);
}

#[test]
fn a_chunk_that_always_fails_is_delivered_a_bounded_number_of_times() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    let (serve, api) = serve(
        logs,
        &logs.join("data"),
        &[
            "--redis-url",
            &redis.url,
            "--no-local-worker",
            "--chunk-attempts",
            "2",
        ],
    );
    // a worker that fails every chunk: its server gives it no data
    let broken = worker(
        logs,
        "broken",
        &redis.url,
        &["--server", "http://127.0.0.1:1", "--reclaim-after", "1"],
    );
    for _ in 0..2 {
        // the second run proves the slot was freed (it starts, and ends too)
        let id = id_of(&submit(&api, &grid(10, 30)));
        let done = api.wait("optimizations", &id, PATIENCE, is_terminal);
        assert!(
            failed_with(&done, "failed 2 times (the limit is --chunk-attempts 2)"),
            "{done}\n{}\n{}",
            broken.log_tail(20),
            serve.log_tail(20)
        );
        let message = done["errorMessage"].as_str().unwrap();
        assert!(message.starts_with("chunk 0.."), "{message}");
        assert!(message.contains("refused by worker broken"), "{message}");
        assert!(message.contains("http://127.0.0.1:1"), "{message}");
        // nothing of it is delivered any more
        eventually(PATIENCE, || {
            let (held, published) = (chunks::held(&redis.url), chunks::published(&redis.url));
            if held.is_empty() && published == 0 {
                Ok(())
            } else {
                Err(format!("still {held:?} held, {published} published"))
            }
        });
    }
}

#[test]
fn a_killed_servers_run_stops_reading_running_after_its_lease() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    let (mut doomed, api) = serve(
        logs,
        &logs.join("data"),
        &[
            "--redis-url",
            &redis.url,
            "--threads",
            "1",
            "--redis-lease",
            "2",
        ],
    );
    let id = a_long_run(&api, &redis, &doomed);
    doomed.kill(); // SIGKILL: no shutdown, nothing cleaned up
                   // another server on the same Redis reads the run from there
    let (_other, other) = serve(
        logs,
        &logs.join("other"),
        &["--redis-url", &redis.url, "--no-local-worker"],
    );
    let read = other.status("optimizations", &id);
    assert!(
        read["status"] == "Running" || failed_with(&read, "the server running this run stopped"),
        "{read}"
    );
    let done = other.wait("optimizations", &id, PATIENCE, is_terminal);
    assert!(
        failed_with(&done, "the server running this run stopped"),
        "{done}"
    );
}

#[test]
fn a_worker_sends_its_token_only_where_it_is_told() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    // a coordinator with a token advertises its URL in Redis
    let (serve, api) = serve(
        logs,
        &logs.join("data"),
        &[
            "--redis-url",
            &redis.url,
            "--no-local-worker",
            "--api-token",
            "T0KEN",
        ],
    );
    let api = Api::new(api.base()).with_token("T0KEN");
    let out = Command::new(common::exe())
        .args(["worker", "--redis-url", &redis.url, "--api-token", "T0KEN"])
        .arg("--data-dir")
        .arg(logs)
        .env_remove("ATF_SERVER")
        .env_remove("ATF_REDIS_URL")
        .env_remove("ATF_API_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "not sending the API token to {}, an address read from Redis",
            api.base()
        )) && err.contains("give --server URL (or --trust-advertised-server)"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // told to trust it, the worker fetches the data with its token and runs
    let w = worker(
        logs,
        "trusting",
        &redis.url,
        &["--api-token", "T0KEN", "--trust-advertised-server"],
    );
    let id = id_of(&submit(&api, &grid(10, 30)));
    let done = api.wait("optimizations", &id, PATIENCE, is_terminal);
    assert_eq!(
        done["status"],
        "Completed",
        "{done}\n{}\n{}",
        w.log_tail(20),
        serve.log_tail(20)
    );
}

/// A CA and a certificate for 127.0.0.1 signed by it, made by `openssl`
/// in `dir`: `(ca.pem, server.pem, server.key)`.
fn certificates(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("openssl is needed (scripts/test.sh installs it): {e}"));
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=atf test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "1",
        "-extfile",
        "san.ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

#[test]
fn a_distributed_optimization_runs_over_rediss_with_a_private_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path();
    let (ca, cert, key) = certificates(logs);
    let redis = RedisServer::start_tls(&cert, &key, &ca);
    let tls = redis.tls_url.clone().unwrap();
    let ca_arg = ca.to_str().unwrap();
    // an untrusted certificate is refused: TLS is really checked
    let out = Command::new(common::exe())
        .args(["worker", "--redis-url", &tls])
        .arg("--data-dir")
        .arg(logs)
        .env_remove("ATF_REDIS_URL")
        .env_remove("ATF_REDIS_CA")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach Redis") && err.contains(&tls),
        "{err}"
    );
    // the coordinator (progress cache and chunks) and a worker, both over TLS
    let (serve, api) = serve(
        logs,
        &logs.join("data"),
        &[
            "--redis-url",
            &tls,
            "--redis-ca",
            ca_arg,
            "--no-local-worker",
        ],
    );
    let w = worker(logs, "tls", &tls, &["--redis-ca", ca_arg]);
    assert_eq!(api.ok("/api/health")["cacheBackend"], "redis");
    let id = id_of(&submit(&api, &grid(10, 30)));
    let done = api.wait("optimizations", &id, PATIENCE, is_terminal);
    assert_eq!(
        done["status"],
        "Completed",
        "{done}\n{}\n{}",
        w.log_tail(20),
        serve.log_tail(20)
    );
}
