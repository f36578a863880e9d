//! Faults around `atf serve`'s results, with the real binary (DESIGN §13,
//! issue 15): SIGTERM (or Ctrl-C) while an optimization runs (here or,
//! with `--redis-url`, on the scale-out's workers), one waits in the queue
//! and an event stream is open (the process exits within seconds and,
//! after a restart, the runs read `Cancelled`, the running one with the
//! trials it finished); a data directory that fills during a save (the run
//! ends `Failed` with the reason, which survives a restart; earlier
//! results are intact and nothing is half-written); a read-only or
//! unusable data directory (one line, non-zero exit, nothing lost); a
//! search stopped by SIGTERM resumes after the restart (issue 17).
//!
//! The disk fills through a file-size limit (`ulimit -f`, with SIGXFSZ
//! ignored so writes fail with EFBIG instead of killing the process): it
//! needs no root, unlike mounting a small tmpfs, and the data survives the
//! restart. The read-only directory is a read-only bind mount in a user
//! and mount namespace of its own (`unshare -r -m`, util-linux): as root,
//! a `chmod a-w` would not stop any write.

mod common;

use atf_testkit::http::Api;
use atf_testkit::process::{self, Proc};
use atf_testkit::redis::RedisServer;
use atf_testkit::wait::PATIENCE;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// How long a stopped server may take to exit: "within seconds" (a
/// liveness bound for a loaded machine, not a timing).
const EXIT_BOUND: Duration = Duration::from_secs(10);

/// `exe serve` on a free port over `data` (through `wrap`, a command line
/// put in front: `sh -c …`, `unshare …`); the command, not yet started.
fn serve_cmd(logs: &Path, name: &str, data: &Path, wrap: &[&str], extra: &[&str]) -> Command {
    let log = logs.join(format!("{name}.log"));
    let mut cmd = match wrap.split_first() {
        Some((first, rest)) => {
            let mut c = process::command(Path::new(first), Some(&log));
            c.args(rest).arg(common::exe());
            c
        }
        None => process::command(&common::exe(), Some(&log)),
    };
    cmd.env("ATF_LOG", "info")
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(extra);
    cmd
}

fn serve(logs: &Path, name: &str, data: &Path, wrap: &[&str], extra: &[&str]) -> (Proc, Api) {
    let mut cmd = serve_cmd(logs, name, data, wrap, extra);
    let (proc, url) = process::serve(&mut cmd, Some(&logs.join(format!("{name}.log"))));
    (proc, Api::new(url))
}

/// `signal`, then the exit within [`EXIT_BOUND`]: it must be a clean one.
fn stop(mut proc: Proc, signal: fn(&Proc)) {
    signal(&proc);
    let st = proc.wait_exit(EXIT_BOUND);
    assert!(
        st.success(),
        "atf serve exited {st:?} when stopped:\n{}",
        proc.log_tail(30)
    );
}

fn submit(api: &Api, kind: &str, body: &Value) -> String {
    let (code, sub) = api.post(&format!("/api/{kind}"), body);
    assert_eq!(code, 202, "{sub}");
    sub["id"].as_str().unwrap().to_owned()
}

/// A grid that takes minutes on one thread; `top` kept small so that its
/// cancelled save is quick.
fn long_optimization(cash: i64) -> Value {
    json!({
        "strategy": "sma-cross",
        "dataset": "spy-1m",
        "axes": {"fast": {"min": 2, "max": 400, "step": 1}, "slow": {"min": 3, "max": 401, "step": 2}},
        "constraints": ["fast < slow"],
        "cash": cash,
        "top": 3,
    })
}

#[test]
fn sigterm_cancels_and_saves_the_runs_in_flight_and_exits_within_seconds() {
    stopped_with_runs_in_flight(Proc::terminate, &[]);
}

#[test]
fn ctrl_c_cancels_and_saves_the_runs_in_flight_of_a_scale_out_coordinator() {
    let redis = RedisServer::start();
    stopped_with_runs_in_flight(Proc::interrupt, &["--redis-url", &redis.url]);
}

/// `signal` (SIGTERM or SIGINT) to `atf serve EXTRA…` while an
/// optimization runs, another waits and an event stream follows the
/// first: it exits, cleanly, within [`EXIT_BOUND`]; then a restart.
fn stopped_with_runs_in_flight(signal: fn(&Proc), extra: &[&str]) {
    let scale_out = !extra.is_empty();
    let logs = tempfile::tempdir().unwrap();
    let data = logs.path().join("data");
    let mut args = vec!["--threads", "1", "--optimization-slots", "1"];
    args.extend(extra);
    let (server, api) = serve(logs.path(), "serve", &data, &[], &args);
    let running = submit(&api, "optimizations", &long_optimization(10_000));
    let queued = submit(&api, "optimizations", &long_optimization(20_000));
    let first = api.wait("optimizations", &running, PATIENCE, |s| {
        s["completedCombinations"].as_u64().unwrap_or(0) > 0
    });
    assert_eq!(first["status"], "Running", "{first}");
    assert_eq!(api.status("optimizations", &queued)["status"], "Pending");
    // a client following the running one
    let watcher = {
        let api = Api::new(api.base());
        let id = running.clone();
        std::thread::spawn(move || api.events("optimizations", &id))
    };
    api.wait("optimizations", &running, PATIENCE, |s| {
        s["processedCombinations"].as_u64() > first["processedCombinations"].as_u64()
    });

    stop(server, signal);
    // the stream ended, with the run's end
    let events = watcher.join().expect("the event stream ends");
    let (name, last) = events.last().expect("events");
    assert_eq!(name, "cancelled", "{last}");
    assert_eq!(last["status"], "Cancelled");

    // after a restart on the same data, both runs are stored Cancelled
    let (_server, api) = serve(logs.path(), "restart", &data, &[], extra);
    let (code, stored) = api.get(&format!("/api/optimizations/{running}"));
    assert_eq!(code, 200, "{stored}");
    assert_eq!(stored["status"], "Cancelled", "{stored}");
    let done = stored["completed"].as_u64().unwrap();
    assert!(done > 0, "the trials it finished are counted: {stored}");
    if scale_out {
        // as an explicit cancel: a scale-out drops the chunks recorded so far
        assert_eq!(stored["result"], Value::Null, "{stored}");
    } else {
        // as an explicit cancel: the trials it finished are kept
        assert_eq!(stored["result"]["cancelled"], true, "{stored}");
        let (_, trials) = api.get(&format!("/api/optimizations/{running}/trials?limit=1"));
        assert_eq!(
            trials["total"].as_u64().unwrap(),
            done + stored["failed"].as_u64().unwrap(),
            "{trials}"
        );
    }
    let status = api.status("optimizations", &running);
    assert_eq!(status["status"], "Cancelled", "{status}");
    let (code, q) = api.get(&format!("/api/optimizations/{queued}"));
    assert_eq!(code, 200, "the queued run is saved too: {q}");
    assert_eq!(q["status"], "Cancelled", "{q}");
    assert_eq!(q["completed"], 0, "it never started: {q}");
    assert_eq!(q["startedAtMs"], Value::Null, "{q}");
}

/// Issue 17: a search interrupted by SIGTERM is saved `Cancelled` with the
/// trials it recorded; after a restart `POST …/resume` finishes it, and it
/// ends exactly as the same request run without interruption elsewhere.
#[test]
fn a_search_stopped_by_sigterm_resumes_after_a_restart_to_the_uninterrupted_result() {
    // long enough to be stopped mid-search in an optimized build too
    // (a trial takes ~15 ms unoptimized, well under 1 ms optimized)
    let budget: u64 = if cfg!(debug_assertions) {
        1_200
    } else {
        30_000
    };
    let body = json!({
        "strategy": "sma-cross", "dataset": "spy-1m",
        "axes": {"fast": {"min": 2, "max": 1000, "step": 1}, "slow": {"min": 3, "max": 2001, "step": 1}},
        "constraints": ["fast < slow"], "method": "genetic", "budget": budget, "seed": 11, "top": 3
    });
    // what the result says, without what names the run or times it
    let result_of = |api: &Api, id: &str| {
        let (code, run) = api.get(&format!("/api/optimizations/{id}"));
        assert_eq!(code, 200, "{run}");
        assert_eq!(run["status"], "Completed", "{run}");
        let mut r = run["result"].clone();
        for t in r["trials"].as_array_mut().unwrap() {
            t.as_object_mut().unwrap().remove("backtestId");
        }
        for k in ["top", "wallTimeMs", "threads"] {
            r.as_object_mut().unwrap().remove(k);
        }
        r
    };
    let logs = tempfile::tempdir().unwrap();
    let data = logs.path().join("data");
    let args = ["--threads", "1"];
    let (server, api) = serve(logs.path(), "serve", &data, &[], &args);
    let id = submit(&api, "optimizations", &body);
    api.wait("optimizations", &id, PATIENCE, |s| {
        s["processedCombinations"].as_u64().unwrap_or(0) >= 50
    });
    stop(server, Proc::terminate);

    let (_server, api) = serve(logs.path(), "restart", &data, &[], &args);
    let (code, stored) = api.get(&format!("/api/optimizations/{id}"));
    assert_eq!(code, 200, "{stored}");
    assert_eq!(stored["status"], "Cancelled", "{stored}");
    let done = stored["completed"].as_u64().unwrap() + stored["failed"].as_u64().unwrap();
    assert!((50..budget).contains(&done), "stopped mid-search: {stored}");
    let (code, resumed) = api.post(&format!("/api/optimizations/{id}/resume"), &json!({}));
    assert_eq!(code, 202, "{resumed}");
    let new_id = resumed["id"].as_str().unwrap().to_owned();
    let last = api.wait_terminal("optimizations", &new_id);
    assert_eq!(last["status"], "Completed", "{last}");

    // the same request, never interrupted, on a server of its own
    let (_other, fresh) = serve(logs.path(), "fresh", &logs.path().join("fresh"), &[], &args);
    let reference = submit(&fresh, "optimizations", &body);
    fresh.wait_terminal("optimizations", &reference);
    assert_eq!(result_of(&api, &new_id), result_of(&fresh, &reference));
}

/// The size of the largest file under `dir`.
fn largest_file(dir: &Path) -> u64 {
    let mut max = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let m = e.metadata().unwrap();
        max = max.max(if m.is_dir() {
            largest_file(&e.path())
        } else {
            m.len()
        });
    }
    max
}

fn runs_db(data: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        data.join("runs.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap()
}

#[test]
fn a_disk_that_fills_during_a_save_fails_the_run_with_the_reason_and_keeps_earlier_results() {
    let logs = tempfile::tempdir().unwrap();
    let data = logs.path().join("data");
    // an earlier result, saved on a roomy disk
    let (server, api) = serve(logs.path(), "init", &data, &[], &[]);
    let earlier = submit(
        &api,
        "backtests",
        &json!({"strategy": "sma-cross", "dataset": "spy-1m"}),
    );
    assert_eq!(
        api.wait_terminal("backtests", &earlier)["status"],
        "Completed"
    );
    let (_, earlier_run) = api.get(&format!("/api/backtests/{earlier}"));
    stop(server, Proc::terminate);

    // now files may grow only 1 MiB past the largest there is: a small
    // row fits, an optimization keeping 20 full reports does not
    let limit = largest_file(&data) + (1 << 20);
    let blocks = (limit / 512).to_string();
    let (server, api) = serve(
        logs.path(),
        "full",
        &data,
        &[
            "sh",
            "-c",
            r#"trap "" XFSZ; ulimit -f "$0" && exec "$@""#,
            &blocks,
        ],
        &[
            "--threads",
            "1",
            "--save-attempts",
            "2",
            "--save-backoff-ms",
            "10",
        ],
    );
    let big = submit(
        &api,
        "optimizations",
        &json!({
            "strategy": "sma-cross",
            "dataset": "spy-1m",
            "axes": {"fast": {"min": 2, "max": 21, "step": 1}, "slow": [30]},
            "top": 20,
        }),
    );
    let end = api.wait_terminal("optimizations", &big);
    assert_eq!(end["status"], "Failed", "{end}");
    let reason = end["errorMessage"].as_str().unwrap().to_owned();
    assert!(
        reason.starts_with("could not save the result: run database") && reason.contains("disk"),
        "{reason}"
    );
    stop(server, Proc::terminate);

    // after a restart (no limit): the reason survives, the earlier result
    // is as it was, and nothing of the failed save was written
    let (_server, api) = serve(logs.path(), "after", &data, &[], &[]);
    let (code, stored) = api.get(&format!("/api/optimizations/{big}"));
    assert_eq!(code, 200, "{stored}");
    assert_eq!(stored["status"], "Failed", "{stored}");
    assert_eq!(stored["errorMessage"], reason.as_str());
    assert_eq!(stored["result"], Value::Null, "{stored}");
    let (_, again) = api.get(&format!("/api/backtests/{earlier}"));
    assert_eq!(again, earlier_run, "the earlier result is intact");
    let db = runs_db(&data);
    let count = |sql: &str| -> i64 { db.query_row(sql, [&big], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT COUNT(*) FROM optimization_trials WHERE optimization_id = ?1"),
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM backtest_runs WHERE optimization_id = ?1"),
        0
    );
    let ok: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

/// Runs `atf serve` to its end (it must not start); exit code and stderr.
fn refused(logs: &Path, name: &str, data: &Path, wrap: &[&str]) -> (Option<i32>, String) {
    let mut cmd = serve_cmd(logs, name, data, wrap, &[]);
    let out = cmd.output().expect("runs atf serve");
    let log = std::fs::read_to_string(logs.join(format!("{name}.log"))).unwrap();
    assert!(out.stdout.is_empty(), "it never said it listens");
    (out.status.code(), log)
}

/// The `error: …` lines of a log.
fn errors(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.starts_with("error: ")).collect()
}

#[test]
fn a_read_only_or_unusable_data_dir_is_refused_with_one_line_and_loses_nothing() {
    let logs = tempfile::tempdir().unwrap();
    let data = logs.path().join("data");
    let (server, api) = serve(logs.path(), "init", &data, &[], &[]);
    let earlier = submit(
        &api,
        "backtests",
        &json!({"strategy": "sma-cross", "dataset": "spy-1m"}),
    );
    assert_eq!(
        api.wait_terminal("backtests", &earlier)["status"],
        "Completed"
    );
    let (_, earlier_run) = api.get(&format!("/api/backtests/{earlier}"));
    stop(server, Proc::terminate);

    let (code, log) = refused(
        logs.path(),
        "read-only",
        &data,
        &[
            "unshare",
            "-r",
            "-m",
            "sh",
            "-c",
            r#"mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@""#,
            data.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(1), "{log}");
    let errs = errors(&log);
    assert_eq!(errs.len(), 1, "{log}");
    assert!(
        errs[0].contains(&format!(
            "data directory {} is not writable",
            data.display()
        )) && errs[0].contains("Read-only file system"),
        "{}",
        errs[0]
    );
    assert!(!log.contains("panicked"), "{log}");

    // a data dir that is a file
    let file = logs.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let (code, log) = refused(logs.path(), "file", &file, &[]);
    assert_eq!(code, Some(1), "{log}");
    let errs = errors(&log);
    assert_eq!(errs.len(), 1, "{log}");
    assert!(errs[0].contains("is not writable"), "{}", errs[0]);

    // writable again: everything is there
    let (_server, api) = serve(logs.path(), "after", &data, &[], &[]);
    let (_, again) = api.get(&format!("/api/backtests/{earlier}"));
    assert_eq!(again, earlier_run);
}
