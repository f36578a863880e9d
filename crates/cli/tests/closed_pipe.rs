//! `atf … | head -1`: a command whose stdout reader has gone ends quietly
//! with status 141 (what a shell reports for a filter killed by SIGPIPE),
//! never with a panic about a broken pipe.

mod common;

use std::process::{Command, Stdio};

/// Runs `atf ARGS…` with its stdout's reader closed before it writes
/// anything: `(exit code, stderr)`.
fn with_stdout_closed(args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(common::exe())
        .env_remove("ATF_SERVER")
        .arg("--data-dir")
        .arg(dir.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs atf");
    // the reader goes at once: every write to stdout fails with EPIPE
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_command_that_prints_results_ends_quietly_on_a_closed_pipe() {
    let grid = [
        "--dataset",
        "spy-1d",
        "--axis",
        "fast=5,10",
        "--axis",
        "slow=20,40",
        "--no-progress",
    ];
    let wf: Vec<&str> = ["walkforward"]
        .iter()
        .chain(&grid)
        .chain(&["--in-sample", "720d", "--out-of-sample", "360d"])
        .copied()
        .collect();
    let optimize: Vec<&str> = ["optimize"].iter().chain(&grid).copied().collect();
    let optimize_json: Vec<&str> = optimize.iter().chain(&["--json"]).copied().collect();
    let wf_json: Vec<&str> = wf.iter().chain(&["--json"]).copied().collect();
    let cases: [&[&str]; 8] = [
        &["strategies"],
        &["data", "list"],
        &["backtest", "--dataset", "spy-1d", "--no-progress"],
        &["backtest", "--dataset", "spy-1d", "--no-progress", "--json"],
        &optimize,
        &optimize_json,
        &wf,
        &wf_json,
    ];
    for args in cases {
        let (code, stderr) = with_stdout_closed(args);
        assert_eq!(code, Some(141), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}: nothing on stderr");
    }
}
