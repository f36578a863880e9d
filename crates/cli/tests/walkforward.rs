//! End-to-end tests of `atf walkforward` on the bundled demo data: the
//! folds table with the criteria, every fold equal to an ordinary `atf
//! optimize` of its in-sample window and an ordinary `atf backtest` of its
//! winner on its out-of-sample window, one account across folds, refusals
//! naming the flag, and the progress bar on a terminal.

mod common;

use common::{json, ok, on_terminal, usage_error};
use serde_json::Value;

const WF: [&str; 20] = [
    "walkforward",
    "--dataset",
    "spy-1d",
    "--from",
    "2005-01-01",
    "--to",
    "2012-12-31",
    "--axis",
    "fast=5..20:5",
    "--axis",
    "slow=20,40,60",
    "--constraint",
    "fast<slow",
    "--commission-pct",
    "0.1",
    "--cash",
    "25000",
    "--in-sample",
    "720d",
    "--out-of-sample",
];

fn wf(extra: &[&str]) -> Vec<String> {
    WF.iter()
        .chain(&["180d"])
        .chain(extra)
        .map(|s| (*s).to_owned())
        .collect()
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn prints_the_folds_the_stitched_summary_and_the_criteria() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(dir.path(), &args(&wf(&[])));
    assert!(
        out.contains("rolling, 12 folds × 12 combinations, winners by sharpe"),
        "{out}"
    );
    let rows = out
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("fold"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .count();
    assert_eq!(rows, 12, "{out}");
    assert!(out.contains("Stitched out-of-sample"), "{out}");
    assert!(out.contains("WFE "), "{out}");
    let criteria: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with("PASS") || l.trim_start().starts_with("FAIL"))
        .collect();
    assert_eq!(criteria.len(), 4, "{out}");
    assert!(
        out.lines()
            .any(|l| l == "Overall: PASS" || l == "Overall: FAIL"),
        "{out}"
    );
}

/// The exactness a user can check by hand: each fold's winner is the best
/// trial of `atf optimize` over its in-sample window, and its out-of-sample
/// metrics are those of `atf backtest` of those parameters on its
/// out-of-sample window, with the equity the previous fold ended with.
#[test]
fn every_fold_is_an_ordinary_optimize_then_an_ordinary_backtest() {
    assert_every_fold_ordinary(&[]);
}

/// The same with warm-up: each window's runs warm up on the 60 daily bars
/// before it (data before 2005 exists), as `--warmup 60` does for an
/// ordinary `atf optimize` / `atf backtest` of that window.
#[test]
fn every_fold_with_warm_up_is_an_ordinary_optimize_then_backtest_with_that_warm_up() {
    let folds = assert_every_fold_ordinary(&["--warmup", "60"]);
    for f in &folds {
        assert_eq!(
            (&f["isWarmupBars"], &f["oosWarmupBars"]),
            (&60.into(), &60.into())
        );
    }
}

/// Checks every fold of `atf walkforward … extra` against ordinary
/// `atf optimize` and `atf backtest` runs given `extra` too; returns the
/// folds.
fn assert_every_fold_ordinary(extra: &[&str]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let mut flags = extra.to_vec();
    flags.push("--json");
    let report = json(&ok(dir.path(), &args(&wf(&flags))));
    let folds = report["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 12);
    assert_eq!(report["stitched"]["initialEquity"], 25000.0);
    let mut carried = 25000.0;
    for f in folds {
        let ms = |k: &str| f[k].as_i64().unwrap();
        assert_eq!(f["startEquity"].as_f64().unwrap(), carried, "one account");
        carried = f["endEquity"].as_f64().unwrap();
        let (is_from, is_to) = (ms("isFromMs").to_string(), (ms("isToMs") - 1).to_string());
        let with = |run: &[&'static str]| -> Vec<String> {
            run.iter().chain(extra).map(|s| (*s).to_owned()).collect()
        };
        let opt = json(&ok(
            dir.path(),
            &args(&with(&["optimize"]))
                .into_iter()
                .chain([
                    "--dataset",
                    "spy-1d",
                    "--from",
                    &is_from,
                    "--to",
                    &is_to,
                    "--axis",
                    "fast=5..20:5",
                    "--axis",
                    "slow=20,40,60",
                    "--constraint",
                    "fast<slow",
                    "--commission-pct",
                    "0.1",
                    "--cash",
                    "25000",
                    "--json",
                    "--no-progress",
                ])
                .collect::<Vec<_>>(),
        ));
        assert_eq!(opt["warmupBars"], f["isWarmupBars"], "fold {}", f["fold"]);
        let best = &opt["trials"][0];
        let win = &f["winner"];
        assert_eq!(win["index"], best["index"], "fold {}", f["fold"]);
        assert_eq!(win["params"], best["params"]);
        assert_eq!(win["isFitness"], best["fitness"]);

        let (oos_from, oos_to) = (ms("oosFromMs").to_string(), (ms("oosToMs") - 1).to_string());
        let cash = f["startEquity"].to_string();
        let p = |name: &str| format!("{name}={}", win["params"][name]);
        let (fast, slow) = (p("fast"), p("slow"));
        let bt = json(&ok(
            dir.path(),
            &args(&with(&["backtest"]))
                .into_iter()
                .chain([
                    "--dataset",
                    "spy-1d",
                    "--from",
                    &oos_from,
                    "--to",
                    &oos_to,
                    "--param",
                    &fast,
                    "--param",
                    &slow,
                    "--commission-pct",
                    "0.1",
                    "--cash",
                    &cash,
                    "--json",
                    "--no-progress",
                ])
                .collect::<Vec<_>>(),
        ));
        assert_eq!(bt["warmupBars"], f["oosWarmupBars"], "fold {}", f["fold"]);
        let mut metrics = bt["metrics"].clone();
        let m = metrics.as_object_mut().unwrap();
        m.remove("wallTimeMs");
        m.remove("subBarsPerSecond");
        assert_eq!(win["oosMetrics"], metrics, "fold {}", f["fold"]);
        assert_eq!(
            win["closedAtEnd"].is_null(),
            bt["openPosition"].is_null(),
            "fold {}",
            f["fold"]
        );
    }
    assert_eq!(report["stitched"]["finalEquity"].as_f64().unwrap(), carried);
    let curve = report["equityCurve"].as_array().unwrap();
    assert_eq!(curve.last().unwrap()["equity"].as_f64().unwrap(), carried);
    folds.clone()
}

#[test]
fn the_json_is_the_same_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let one = ok(dir.path(), &args(&wf(&["--json", "--threads", "1"])));
    let four = ok(dir.path(), &args(&wf(&["--json", "--threads", "4"])));
    assert_eq!(one, four);
    let v: Value = json(&one);
    assert_eq!(v["checks"].as_array().unwrap().len(), 4);
}

#[test]
fn refusals_name_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let base = ["walkforward", "--dataset", "spy-1d", "--axis", "fast=5,10"];
    let refuse = |extra: &[&str]| {
        let all: Vec<&str> = base.iter().chain(extra).copied().collect();
        usage_error(dir.path(), &all)
    };
    assert!(refuse(&[]).starts_with("error: --in-sample: required"));
    assert_eq!(
        refuse(&["--folds", "0", "--oos-fraction", "0.2"]),
        "error: --folds: must be between 1 and 500"
    );
    assert_eq!(
        refuse(&["--folds", "3", "--oos-fraction", "1.5"]),
        "error: --oos-fraction: must be between 0 and 1 (both excluded)"
    );
    assert_eq!(
        refuse(&["--folds", "3"]),
        "error: --oos-fraction: required with folds"
    );
    assert!(refuse(&[
        "--in-sample",
        "10d",
        "--out-of-sample",
        "5d",
        "--folds",
        "3"
    ])
    .starts_with("error: --folds: give inSample and outOfSample, or folds"));
    assert!(refuse(&["--in-sample", "soon", "--out-of-sample", "5d"])
        .starts_with("error: --in-sample: 'soon' is not a duration"));
    let e = refuse(&[
        "--from",
        "2021-01-01",
        "--in-sample",
        "180d",
        "--out-of-sample",
        "30d",
    ]);
    assert!(
        e.starts_with(
            "error: --in-sample: in-sample 180d + out-of-sample 30d do not fit the period"
        ),
        "{e}"
    );
    assert_eq!(
        refuse(&[
            "--in-sample",
            "180d",
            "--out-of-sample",
            "30d",
            "--max-drawdown",
            "120"
        ]),
        "error: --max-drawdown: must be between 0 and 100"
    );
    for (n, why) in [
        ("100001", "must be between 0 and 100000"),
        ("-5", "'-5' is not a whole number"),
    ] {
        assert_eq!(
            refuse(&[
                "--in-sample",
                "180d",
                "--out-of-sample",
                "30d",
                "--warmup",
                n
            ]),
            format!("error: --warmup: {why}")
        );
    }
    assert!(refuse(&[
        "--in-sample",
        "180d",
        "--out-of-sample",
        "30d",
        "--server",
        "http://127.0.0.1:9",
        "--threads",
        "2"
    ])
    .contains("--threads applies to local runs only"));
}

#[test]
fn draws_a_progress_bar_over_every_folds_combinations_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let (status, text) = on_terminal(
        dir.path(),
        "walkforward --dataset spy-1m --axis fast=2..40:2 --axis slow=50..300:25 --in-sample 20d --out-of-sample 10d",
    );
    assert!(status.success(), "{text}");
    assert!(
        text.contains("Processed") && text.contains("combinations") && text.contains("fold "),
        "no progress bar on a terminal: {text:?}"
    );
    assert!(text.contains("Overall: "), "{text}");
}
