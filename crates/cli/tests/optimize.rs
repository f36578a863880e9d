//! End-to-end tests of `atf optimize` on the bundled demo data: the ranked
//! table, failed trials recorded with message and stack trace, the
//! every-trial CSV, JSON identical across thread counts, bad axes refused
//! with one line and exit 2, and progress on a terminal.

mod common;

use common::{json, ok, on_terminal, usage_error};
use serde_json::Value;

const SMA_GRID: [&str; 6] = [
    "optimize",
    "--timeframe",
    "1h",
    "--axis",
    "fast=5..50:5",
    "--axis",
];

fn sma(extra: &[&str]) -> Vec<String> {
    SMA_GRID
        .iter()
        .chain(&["slow=20..200:10"])
        .chain(extra)
        .map(|s| (*s).to_owned())
        .collect()
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn prints_a_ranked_table_with_skips_counted_apart() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(
        dir.path(),
        &args(&sma(&["--constraint", "fast<slow", "--top", "5"])),
    );
    assert!(
        out.contains("190 combinations: 174 completed, 0 failed, 16 skipped"),
        "{out}"
    );
    // below the counts: is the winner real (DSR over the 174 trials that
    // ran, PSR, the winner's neighbourhood), PBO and the fitness spread
    let robustness = out.lines().nth(2).unwrap_or_default();
    assert!(
        robustness.starts_with("DSR ")
            && robustness.contains("(N=174, effective N≈")
            && robustness.contains(" · PSR ")
            && robustness.contains("of the winner's fitness ("),
        "{out}"
    );
    // PBO by CSCV over the 174 trials' block sums
    assert!(
        out.lines()
            .nth(3)
            .is_some_and(|l| l.starts_with("PBO ") && l.contains("(12870 splits of 16 blocks)")),
        "{out}"
    );
    assert!(
        out.lines()
            .nth(4)
            .is_some_and(|l| l.starts_with("fitness over 174 trials: median ")),
        "{out}"
    );
    let header = out
        .lines()
        .find(|l| l.trim_start().starts_with("rank"))
        .unwrap_or_else(|| panic!("no table header: {out}"));
    assert!(header.contains("fast") && header.contains("slow") && header.contains("[sharpe]"));
    let rows: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("rank"))
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(rows.len(), 5, "{out}");
    // ranked by the sharpe column, best first
    // rank, fast, slow, net profit, return %, max DD %, return/DD, [sharpe]
    let col = 7;
    let sharpe: Vec<f64> = rows
        .iter()
        .map(|r| r.split_whitespace().nth(col).unwrap().parse().unwrap())
        .collect();
    assert!(sharpe.windows(2).all(|w| w[0] >= w[1]), "{sharpe:?}");
}

#[test]
fn failing_trials_are_recorded_in_the_csv_and_the_rest_complete() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("trials.csv");
    let out = ok(
        dir.path(),
        &[
            "optimize",
            "--strategy",
            "fault-injection",
            "--axis",
            "period=10..50:10",
            "--axis",
            "fault=none,panic,error",
            "--csv",
            csv.to_str().unwrap(),
        ],
    );
    assert!(
        out.contains("15 combinations: 5 completed, 10 failed, 0 skipped"),
        "{out}"
    );
    assert!(out.contains("10 trials failed"), "{out}");
    let mut reader = csv::Reader::from_path(&csv).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 15);
    for r in &rows {
        let (fault, status) = (&r[col("fault")], &r[col("status")]);
        let (message, trace) = (&r[col("error_message")], &r[col("error_stack_trace")]);
        match fault {
            "none" => {
                assert_eq!(status, "completed");
                assert!(message.is_empty());
                assert!(r[col("final_equity")].parse::<f64>().unwrap() > 0.0);
            }
            "panic" => {
                assert_eq!(status, "failed");
                assert!(message.contains("injected panic at bar 50"), "{message}");
                assert!(trace.contains("fault_injection"), "{trace}");
            }
            _ => {
                assert_eq!(status, "failed");
                assert!(message.contains("injected error at bar 50"), "{message}");
                assert!(!trace.is_empty());
            }
        }
    }
    // completed trials rank first
    let ranks: Vec<(&str, u32)> = rows
        .iter()
        .map(|r| (&r[col("status")], r[col("rank")].parse().unwrap()))
        .collect();
    assert!(ranks[..5].iter().all(|(s, _)| *s == "completed"));
    assert_eq!(
        ranks.iter().map(|r| r.1).collect::<Vec<_>>(),
        (1..=15).collect::<Vec<_>>()
    );
}

fn strip_timing(mut v: Value) -> Value {
    let o = v.as_object_mut().unwrap();
    o.remove("wallTimeMs");
    o.remove("threads");
    for t in o["top"].as_array_mut().unwrap() {
        let m = t["metrics"].as_object_mut().unwrap();
        m.remove("wallTimeMs");
        m.remove("subBarsPerSecond");
    }
    v
}

#[test]
fn json_is_identical_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let run = |threads: &str| {
        strip_timing(json(&ok(
            dir.path(),
            &args(&sma(&[
                "--json",
                "--curves",
                "--threads",
                threads,
                "--top",
                "3",
                "--param",
                "long_only=false",
            ])),
        )))
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert_eq!(one, run("3"));
    assert_eq!(one["totalCombinations"], 190);
    assert_eq!(one["completedCombinations"], 190);
    assert_eq!(one["baseParams"]["long_only"], false);
    let trials = one["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 190);
    assert_eq!(trials[0]["rank"], 1);
    assert_eq!(one["top"].as_array().unwrap().len(), 3);
    assert_eq!(one["top"][0]["index"], trials[0]["index"]);
    assert!(!one["top"][0]["equityCurve"].as_array().unwrap().is_empty());
    // without --curves: the same summary and trials, no full reports
    // (a 190-combination run's --json was 88 MB with them)
    let mut plain = json(&ok(
        dir.path(),
        &args(&sma(&[
            "--json",
            "--top",
            "3",
            "--param",
            "long_only=false",
        ])),
    ));
    assert!(plain.get("top").is_none());
    plain
        .as_object_mut()
        .unwrap()
        .insert("top".into(), one["top"].clone());
    assert_eq!(strip_timing(plain), one);
}

#[test]
fn bad_axes_exit_2_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let err = |a: &[&str]| {
        let mut v = vec!["optimize"];
        v.extend_from_slice(a);
        usage_error(d, &v)
    };
    assert!(err(&["--axis", "fast=5..50:0"]).contains("step must be positive"));
    assert!(err(&["--axis", "fast=50..5:5"]).contains("min is greater than max"));
    assert!(err(&["--axis", "fats=5..50:5"]).contains("unknown parameter 'fats'"));
    assert!(err(&["--axis", "fast=0..50:5"]).contains("outside the allowed range"));
    assert!(
        err(&["--axis", "fast=1..5000:1", "--axis", "slow=1..5000:1"])
            .contains("exceeds the limit of 1000000")
    );
    assert!(err(&[
        "--axis",
        "fast=1..10:1",
        "--axis",
        "slow=1..10:1",
        "--max-combinations",
        "50"
    ])
    .contains("grid of 100 combinations exceeds the limit of 50"));
    assert!(err(&["--axis", "fast=1..10:1", "--param", "fast=3"]).contains("also given in params"));
    assert!(err(&["--axis", "fast=1..10:1", "--constraint", "fast<<slow"]).contains("constraint"));
    assert!(err(&["--axis", "fast=1..10:1", "--maximize", "luck"]).contains("unknown fitness"));
    assert!(err(&["--axis", "fast=1..10:1", "--dataset", "nope"]).contains("nope"));
}

#[test]
fn shows_progress_in_combinations_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let (status, text) = on_terminal(
        dir.path(),
        "optimize --strategy fault-injection --axis period=2..400:2 --axis fault=none,error",
    );
    assert!(status.success(), "{text}");
    assert!(
        text.contains("Processed") && text.contains("/ 400 combinations"),
        "no progress bar on a terminal: {text:?}"
    );
    assert!(text.contains("rank"), "{text}");
}

/// Issue 17: `--method random|genetic --budget N --seed S` searches a
/// space far above the grid limit, within its budget, identically on 1 and
/// 2 threads; a grid above the limit is told it can be searched.
#[test]
fn a_search_beyond_the_grid_limit_is_identical_on_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 5,000 × 5,000 = 25,000,000 combinations
    let space = [
        "optimize",
        "--timeframe",
        "1h",
        "--axis",
        "fast=1..5000:1",
        "--axis",
        "slow=1..5000:1",
        "--constraint",
        "fast<slow",
    ];
    let refusal = usage_error(d, &space);
    assert!(
        refusal.contains("exceeds the limit of 1000000")
            && refusal.contains("search it instead with method random or genetic")
            && refusal.contains("--max-combinations"),
        "{refusal}"
    );
    for method in ["random", "genetic"] {
        let run = |threads: &str| {
            let mut a = space.to_vec();
            a.extend([
                "--method",
                method,
                "--budget",
                "60",
                "--seed",
                "11",
                "--json",
                "--curves",
                "--top",
                "2",
                "--threads",
                threads,
            ]);
            strip_timing(json(&ok(d, &a)))
        };
        let one = run("1");
        assert_eq!(one, run("2"), "{method}");
        assert_eq!(one["totalCombinations"], 25_000_000u64);
        assert_eq!(one["completedCombinations"], 60, "{method}: the budget");
        assert_eq!(one["trials"].as_array().unwrap().len(), 60);
        assert_eq!(one["search"]["method"], method);
        assert_eq!(one["search"]["seed"], 11);
        for t in one["trials"].as_array().unwrap() {
            assert!(t["params"]["fast"].as_i64() < t["params"]["slow"].as_i64());
        }
    }
    // no seed: one is chosen and reported
    let mut a = space.to_vec();
    a.extend(["--method", "random", "--budget", "5"]);
    let out = ok(d, &a);
    assert!(
        out.lines()
            .any(|l| l.starts_with("random search: budget 5, seed ")),
        "{out}"
    );
    let budgetless = usage_error(d, &[&space[..], &["--method", "genetic"]].concat());
    assert!(
        budgetless.starts_with("error: --budget: required"),
        "{budgetless}"
    );
    let seeded_grid = usage_error(d, &["optimize", "--axis", "fast=5,10", "--seed", "3"]);
    assert!(
        seeded_grid.contains("--seed: only for a search"),
        "{seeded_grid}"
    );
}
