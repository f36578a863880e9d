//! End-to-end tests of `atf backtest|optimize --server URL`: each test
//! starts its own server (in process, through the wiring `atf serve` uses)
//! on a free loopback port over a temporary data directory and checks that
//! a remote run prints what the same local run prints, that refusals name the flag (exit 2), that an unreachable server
//! and a failing strategy exit 1 with a clear message, and that Ctrl-C
//! cancels the remote run.

mod common;

use atf_testkit::server::{Backend, TestServer};
use atf_testkit::wait::{eventually, PATIENCE};
use common::{atf, json, ok, stderr, stdout, usage_error};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A server in this process, started through the wiring `atf serve`
/// uses, over a data directory of its own; stopped on drop.
struct Server {
    srv: TestServer,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for Server {
    type Target = TestServer;

    fn deref(&self) -> &TestServer {
        &self.srv
    }
}

impl Server {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            srv: TestServer::start(dir.path(), Backend::Memory),
            _dir: dir,
        }
    }
}

/// Runs `atf --data-dir DIR ARGS… --server URL`.
fn remote(dir: &Path, server: &Server, args: &[&str]) -> Output {
    let mut all = args.to_vec();
    all.extend(["--server", server.url.as_str()]);
    atf(dir, &all)
}

fn remote_ok(dir: &Path, server: &Server, args: &[&str]) -> String {
    let out = remote(dir, server, args);
    assert!(
        out.status.success(),
        "atf {args:?} --server exited {:?}: {}",
        out.status.code(),
        stderr(&out)
    );
    stdout(&out)
}

/// `v` without what depends on timing or the machine (wall times,
/// rates, thread counts), at any depth.
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

const SMA: [&str; 9] = [
    "backtest",
    "--strategy",
    "sma-cross",
    "--dataset",
    "spy-1m",
    "--param",
    "fast=10",
    "--param",
    "slow=30",
];

#[test]
fn a_remote_backtest_reports_what_a_local_one_does() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let mut args = SMA.to_vec();
    args.push("--json");
    // --json is the same document locally and from the server (timings aside)
    let local = json(&ok(dir.path(), &args));
    let remote = json(&remote_ok(dir.path(), &server, &args));
    assert_eq!(remote["dataset"]["name"], "spy-1m");
    assert_eq!(remote["metrics"]["subBars"], 31_757);
    assert_eq!(without_timing(remote), without_timing(local));

    // the table too, all but the wall time
    let table = |text: String| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with("Wall time"))
            .map(str::to_owned)
            .collect()
    };
    let csv = dir.path().join("remote-trades.csv");
    let mut with_csv = SMA.to_vec();
    with_csv.extend(["--trades-csv", csv.to_str().unwrap()]);
    let remote_table = remote_ok(dir.path(), &server, &with_csv);
    assert!(
        remote_table
            .contains("Strategy            sma-cross 1.0.0 (fast=10, slow=30, long_only=true)"),
        "{remote_table}"
    );
    assert_eq!(table(remote_table), table(ok(dir.path(), &SMA)));
    let local_csv = dir.path().join("local-trades.csv");
    let mut local_with_csv = SMA.to_vec();
    local_with_csv.extend(["--trades-csv", local_csv.to_str().unwrap()]);
    ok(dir.path(), &local_with_csv);
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        std::fs::read_to_string(&local_csv).unwrap()
    );
}

#[test]
fn a_remote_optimization_prints_the_local_ranking() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let grid = [
        "optimize",
        "--axis",
        "fast=5..20:5",
        "--axis",
        "slow=20..60:10",
        "--constraint",
        "fast<slow",
        "--top",
        "5",
    ];
    let local = ok(dir.path(), &grid);
    let remote = remote_ok(dir.path(), &server, &grid);
    let lines = |t: &str| t.lines().map(str::to_owned).collect::<Vec<_>>();
    let (local, remote) = (lines(&local), lines(&remote));
    assert_eq!(remote[0], local[0], "the summary line");
    assert!(
        remote[1].starts_with("20 combinations: 19 completed, 0 failed, 1 skipped in "),
        "{}",
        remote[1]
    );
    // is the winner real: the same DSR, PSR and neighbourhood
    assert!(remote[2].starts_with("DSR "), "{}", remote[2]);
    assert_eq!(remote[2], local[2], "the robustness line");
    // the ranked table: header and every row, the first one above all
    let header = remote
        .iter()
        .position(|l| l.trim_start().starts_with("rank  fast  slow"))
        .unwrap_or_else(|| panic!("no table header: {remote:?}"));
    assert_eq!(remote[header + 1], local[header + 1], "first row");
    assert_eq!(remote[2..], local[2..]);

    // every trial in the CSV, as a local run writes it
    let (lcsv, rcsv) = (dir.path().join("l.csv"), dir.path().join("r.csv"));
    let with = |p: &Path| {
        let mut a = grid.to_vec();
        a.extend(["--csv", p.to_str().unwrap()]);
        a.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let la = with(&lcsv);
    ok(
        dir.path(),
        &la.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let ra = with(&rcsv);
    remote_ok(
        dir.path(),
        &server,
        &ra.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    assert_eq!(read(&rcsv).lines().count(), 20, "header and 19 trials");
    assert_eq!(read(&rcsv), read(&lcsv));

    // --json (and with --curves, the best trials' full reports) is the
    // same document locally and from the server, timings aside
    for extra in [&["--json"][..], &["--json", "--curves"]] {
        let mut as_json = grid.to_vec();
        as_json.extend(extra);
        let remote = json(&remote_ok(dir.path(), &server, &as_json));
        let local = json(&ok(dir.path(), &as_json));
        assert_eq!(remote["totalCombinations"], 20);
        assert_eq!(remote["trials"].as_array().unwrap().len(), 19);
        assert_eq!(remote.get("top").is_some(), extra.len() == 2, "{extra:?}");
        assert_eq!(without_timing(remote), without_timing(local), "{extra:?}");
    }
}

#[test]
fn failed_trials_show_as_they_do_locally() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let grid = [
        "optimize",
        "--strategy",
        "fault-injection",
        "--axis",
        "period=10..30:10",
        "--axis",
        "fault=none,panic",
        "--param",
        "fault_bar=100",
        "--top",
        "6",
    ];
    let local = ok(dir.path(), &grid);
    let remote = remote_ok(dir.path(), &server, &grid);
    assert!(
        remote.contains("6 combinations: 3 completed, 3 failed"),
        "{remote}"
    );
    assert!(
        remote.contains("3 trials failed; first by rank"),
        "{remote}"
    );
    let after_timing = |t: &str| t.lines().skip(2).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(after_timing(&remote), after_timing(&local));
}

#[test]
fn refusals_name_the_flag_and_exit_2() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let refused = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--server", server.url.as_str()]);
        usage_error(dir.path(), &all)
    };
    assert_eq!(
        refused(&["backtest", "--commission-pct", "50"]),
        "error: --commission-pct: must be between 0 and 10"
    );
    let e = refused(&["backtest", "--param", "fast=0"]);
    assert!(
        e.starts_with("error: --param 'fast': ") && e.contains("outside"),
        "{e}"
    );
    let e = refused(&["backtest", "--dataset", "no-such-data"]);
    assert!(e.starts_with("error: --dataset: "), "{e}");
    let e = refused(&["optimize", "--axis", "fast=5..50:0"]);
    assert!(e.starts_with("error: --axis 'fast=5..50:0': "), "{e}");
    let e = refused(&["optimize", "--axis", "fast=5..50:5", "--threads", "2"]);
    assert!(e.starts_with("error: --threads "), "{e}");

    // ATF_SERVER does what --server does
    let out = Command::new(common::exe())
        .env("ATF_SERVER", &server.url)
        .env_remove("ATF_API_TOKEN")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["backtest", "--size-pct", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("error: --size-pct: "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn local_and_remote_runs_refuse_the_same_input_with_the_same_line() {
    // one planner behind both (atf_runs::plan), one field → flag table in
    // the CLI: the line does not depend on where the run was checked
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let cases: [&[&str]; 16] = [
        &["backtest", "--strategy", "nope"],
        &["backtest", "--dataset", "missing"],
        &["backtest", "--param", "fast=0"],
        &["backtest", "--param", "nope=1"],
        &["backtest", "--param", "long_only=maybe"],
        &["backtest", "--from", "soon"],
        &["backtest", "--from", "2011-03-01", "--to", "2011-02-01"],
        &["backtest", "--from", "2030-01-01"],
        &["backtest", "--timeframe", "90s"],
        &["backtest", "--commission-pct", "abc"],
        &["backtest", "--size-qty", "0.5"],
        &["optimize", "--axis", "fast=5,10", "--param", "fast=3"],
        &["optimize", "--axis", "fast=5..50:0"],
        &["optimize", "--axis", "fats=5..50:5"],
        &[
            "optimize",
            "--axis",
            "fast=5,10",
            "--constraint",
            "fast<<slow",
        ],
        &["optimize", "--axis", "fast=5,10", "--top", "0"],
    ];
    // the list of strategies is each process's own (the test server has
    // no rsi-dip): compared up to it
    let same_up_to_registry = |line: String| match line.find(" (available: ") {
        Some(at) => line[..at].to_owned(),
        None => line,
    };
    for args in cases {
        let local = usage_error(dir.path(), args);
        let mut all = args.to_vec();
        all.extend(["--server", server.url.as_str()]);
        assert_eq!(
            same_up_to_registry(usage_error(dir.path(), &all)),
            same_up_to_registry(local),
            "{args:?}"
        );
    }
}

#[test]
fn an_unreachable_server_exits_1_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    // a port nobody listens on
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let out = atf(dir.path(), &["backtest", "--server", &url]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(&format!("error: cannot reach the server at {url}: ")),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_failing_strategy_exits_1_with_its_error_and_stack_trace() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let out = remote(
        dir.path(),
        &server,
        &[
            "backtest",
            "--strategy",
            "fault-injection",
            "--param",
            "fault=panic",
            "--param",
            "fault_bar=100",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("error: backtest failed: ") && err.contains("injected panic at bar 100"),
        "{err}"
    );
    assert!(err.contains("\nstack trace:\n"), "{err}");
    assert!(out.stdout.is_empty());
}

/// Ctrl-C while following, stdin not a terminal: the remote run is
/// cancelled without a question.
#[cfg(unix)]
#[test]
fn ctrl_c_cancels_the_remote_run() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    // ~200,000 combinations: minutes of work, interrupted long before
    let child = Command::new(common::exe())
        .env_remove("ATF_SERVER")
        .env_remove("ATF_API_TOKEN")
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "optimize",
            "--axis",
            "fast=2..201:1",
            "--axis",
            "slow=10..1009:1",
            "--server",
            &server.url,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    eventually(PATIENCE, || {
        let running = server.ok("/api/optimizations?status=Running");
        if running["total"].as_u64() == Some(1) {
            Ok(())
        } else {
            Err(format!("the run never started: {running}"))
        }
    });
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    let id = err
        .trim()
        .strip_prefix("cancelled the remote optimization ")
        .unwrap_or_else(|| panic!("{err}"));
    let status = server.status("optimizations", id);
    assert_eq!(status["status"], "Cancelled", "{status}");
}

/// Issue 17: `atf optimize --server URL --resume ID` finishes a cancelled
/// optimization (here a genetic search) and prints what the same search
/// run locally, never interrupted, prints; without --server it is refused.
#[test]
fn a_cancelled_remote_optimization_resumes_to_the_local_result() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let search = [
        "optimize",
        "--axis",
        "fast=2..200:1",
        "--axis",
        "slow=3..401:2",
        "--constraint",
        "fast<slow",
        "--method",
        "genetic",
        "--budget",
        "1500",
        "--seed",
        "9",
        "--top",
        "3",
        "--json",
    ];
    let (code, sub) = server.post(
        "/api/optimizations",
        &serde_json::json!({
            "strategy": "sma-cross", "dataset": "spy-1m",
            "axes": {"fast": {"min": 2, "max": 200, "step": 1}, "slow": {"min": 3, "max": 401, "step": 2}},
            "constraints": ["fast < slow"], "method": "genetic", "budget": 1500, "seed": 9, "top": 3
        }),
    );
    assert_eq!(code, 202, "{sub}");
    let id = sub["id"].as_str().unwrap().to_owned();
    server.wait(
        "optimizations",
        &id,
        std::time::Duration::from_secs(120),
        |s| s["processedCombinations"].as_u64().unwrap_or(0) >= 100,
    );
    let (code, _) = server.post(
        &format!("/api/optimizations/{id}/cancel"),
        &serde_json::json!({}),
    );
    assert_eq!(code, 200);
    let refused = usage_error(d, &["optimize", "--resume", &id]);
    assert!(refused.contains("--resume needs --server"), "{refused}");
    // resumed once the cancelled run is saved (until then: still in flight)
    let resumed = eventually(PATIENCE, || {
        let out = remote(d, &server, &["optimize", "--resume", &id, "--json"]);
        if out.status.success() {
            Ok(stdout(&out))
        } else {
            Err(stderr(&out))
        }
    });
    let resumed = json(&resumed);
    assert_eq!(resumed["completedCombinations"], 1500);
    assert_eq!(resumed["search"]["seed"], 9);
    let local = json(&ok(d, &search));
    assert_eq!(without_timing(resumed), without_timing(local));
}
