//! `atf walkforward --server URL` end to end: a walk-forward submitted to
//! a server (in this process, through the wiring `atf serve` uses) prints
//! what the same local run prints — `--json` and the folds table — sends
//! its API token like `atf optimize --server`, and names the flag of a
//! refused window.

mod common;

use atf_testkit::server::{Backend, Options, TestServer};
use common::{atf, json, ok, on_terminal, stderr, stdout, usage_error};

const WF: [&str; 18] = [
    "walkforward",
    "--dataset",
    "spy-1d",
    "--from",
    "2008-01-01",
    "--to",
    "2013-12-31",
    "--axis",
    "fast=5..20:5",
    "--axis",
    "slow=20,40,60",
    "--constraint",
    "fast<slow",
    "--commission-pct",
    "0.1",
    "--folds",
    "4",
    "--oos-fraction",
];

fn wf(extra: &[&str]) -> Vec<String> {
    WF.iter()
        .chain(&["0.25"])
        .chain(extra)
        .map(|s| (*s).to_owned())
        .collect()
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn with_server<'a>(args: &'a [String], url: &'a str) -> Vec<&'a str> {
    args.iter()
        .map(String::as_str)
        .chain(["--server", url])
        .collect()
}

#[test]
fn a_remote_walkforward_prints_what_a_local_one_does() {
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::start(data.path(), Backend::Memory);
    let dir = tempfile::tempdir().unwrap();
    let json_args = wf(&["--json"]);
    let local = json(&ok(dir.path(), &args(&json_args)));
    let out = atf(dir.path(), &with_server(&json_args, &srv.url));
    assert!(out.status.success(), "{}", stderr(&out));
    let remote = json(&stdout(&out));
    assert_eq!(remote["dataset"]["name"], "spy-1d");
    assert_eq!(remote["plannedFolds"], 4);
    assert_eq!(remote, local, "the same document from the server");

    // the table too (the identical run, answered from the server's store)
    let plain = wf(&[]);
    let local_table = ok(dir.path(), &args(&plain));
    let out = atf(dir.path(), &with_server(&plain, &srv.url));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(local_table.contains("Criteria"), "{local_table}");
    assert_eq!(stdout(&out), local_table);
    let (_, list) = srv.get("/api/walkforwards");
    assert_eq!(
        list["total"], 1,
        "run once, then answered by its key: {list}"
    );
}

#[test]
fn a_remote_walkforward_sends_its_token_and_refusals_name_the_flag() {
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::with(
        data.path(),
        Options {
            api_token: Some("s3cret".into()),
            ..Options::on(Backend::Memory)
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let quiet = wf(&["--json", "--no-progress"]);
    let line = usage_error(dir.path(), &with_server(&quiet, &srv.url));
    assert!(line.contains("requires an API token"), "{line}");
    let mut with_token = with_server(&quiet, &srv.url);
    with_token.extend(["--api-token", "s3cret"]);
    let out = ok(dir.path(), &with_token);
    assert_eq!(json(&out)["folds"].as_array().unwrap().len(), 4);

    // a window that does not fit the period, refused by the server
    let mut too_long: Vec<String> = WF[..WF.len() - 3].iter().map(|s| (*s).to_owned()).collect();
    too_long.extend(
        [
            "--in-sample",
            "3000d",
            "--out-of-sample",
            "180d",
            "--api-token",
            "s3cret",
        ]
        .map(str::to_owned),
    );
    let line = usage_error(dir.path(), &with_server(&too_long, &srv.url));
    assert!(line.starts_with("error: --in-sample: "), "{line}");
    assert!(line.contains("do not fit the period"), "{line}");
    // --threads is the server's
    let mut threads = with_token.clone();
    threads.extend(["--threads", "2"]);
    let line = usage_error(dir.path(), &threads);
    assert!(
        line.contains("--threads applies to local runs only"),
        "{line}"
    );
}

#[test]
fn a_remote_walkforward_draws_the_local_progress_bar_on_a_terminal() {
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::start(data.path(), Backend::Memory);
    let dir = tempfile::tempdir().unwrap();
    let (status, text) = on_terminal(
        dir.path(),
        &format!(
            "walkforward --dataset spy-1m --axis fast=2..40:2 --axis slow=50..300:25 \
             --in-sample 20d --out-of-sample 10d --server {}",
            srv.url
        ),
    );
    assert!(status.success(), "{text}");
    assert!(text.contains("submitted to"), "{text}");
    assert!(
        text.contains("Processed") && text.contains("combinations") && text.contains("fold "),
        "no progress bar on a terminal: {text:?}"
    );
    assert!(text.contains("Overall: "), "{text}");
}
