//! End-to-end tests of the `atf` binary as a user runs it: importing the
//! real datasets in `../shared/data`, rejecting broken input with one line
//! and exit code 2, backtest output (table, JSON, trades CSV), determinism,
//! every strategy, the progress bar on a terminal, and local runs refused
//! by the API's own planner (one validation path).
//!
//! Each test works in its own temporary `--data-dir`. A missing
//! `../shared/data` fails the tests; it never skips them.

mod common;

use atf_runs::plan;
use atf_runs::request::{BacktestRequest, OptimizationRequest};
use atf_runs::FieldError;
use common::{atf, json, ok, on_terminal, stderr, stdout, usage_error};
use serde_json::{json as body, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn shared_dir() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        p.is_dir(),
        "{} is missing: the tests need ../shared/data beside the checkout",
        p.display()
    );
    p
}

/// `data list --json` as name → rows.
fn list_rows(dir: &Path) -> BTreeMap<String, u64> {
    let list = json(&ok(dir, &["data", "list", "--json"]));
    list.as_array()
        .expect("data list --json is an array")
        .iter()
        .map(|d| {
            (
                d["name"].as_str().expect("name").to_owned(),
                d["rows"].as_u64().expect("rows"),
            )
        })
        .collect()
}

fn dataset_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("datasets"))
        .expect("datasets/ exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

const DEMO: [(&str, u64); 2] = [("spy-1m", 31_757), ("spy-1d", 5_849)];

/// Rows of each shared file (the dataset name is the file name without `.csv.gz`).
const SHARED: [(&str, u64); 11] = [
    ("spy_1m_lean_2013-10", 4_839),
    ("eurusd_1m_histdata_2017h1", 186_348),
    ("gbpusd_1m_fxcm_bid_2012-02", 30_117),
    ("btcperp_1m_2022-01", 45_031),
    ("6eh4_1m_cme_2024-01", 29_996),
    ("spy_1h_lean_1998_2021", 40_832),
    ("eurusd_1h_oanda_bid_lean_2007_2018", 74_439),
    ("goog_1d_backtestingpy_2004_2013", 2_148),
    ("eurusd_1h_backtestingpy_2017_2018", 5_000),
    ("spy_1d_lean_1998_2021", 5_849),
    ("spy_1m_ninjatrader_2011-01_2011-03", 31_757),
];

/// Rows per file from MANIFEST.md's summary table.
fn manifest_rows(dir: &Path) -> BTreeMap<String, u64> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.md")).expect("MANIFEST.md");
    text.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let file = cells.get(1)?.strip_prefix('`')?.strip_suffix(".csv.gz`")?;
            let rows = cells.get(2)?.replace(',', "").parse().ok()?;
            Some((file.to_owned(), rows))
        })
        .collect()
}

#[test]
fn every_shared_file_imports_with_the_manifest_row_count() {
    let shared = shared_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&shared)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".csv.gz"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 11, "expected 11 .csv.gz files in {shared:?}");

    let expected: BTreeMap<String, u64> = SHARED.iter().map(|&(n, r)| (n.to_owned(), r)).collect();
    assert_eq!(
        manifest_rows(&shared),
        expected,
        "MANIFEST.md's row counts differ from this test's"
    );

    let dir = tempfile::tempdir().unwrap();
    for f in &files {
        let out = ok(dir.path(), &["data", "import", f.to_str().unwrap()]);
        assert!(out.starts_with("imported '"), "{f:?}: {out}");
    }

    let mut want = expected;
    for (n, r) in DEMO {
        want.insert(n.to_owned(), r);
    }
    assert_eq!(list_rows(dir.path()), want);
    assert_eq!(dataset_files(dir.path()).len(), 13);
}

#[test]
fn broken_csv_is_rejected_with_file_line_and_reason_and_nothing_is_stored() {
    const HEADER: &str = "timestamp,open,high,low,close,volume\n";
    let cases: [(&str, String, &[&str]); 5] = [
        (
            "high_below_low.csv",
            format!(
                "{HEADER}2020-01-01T00:00:00Z,1,2,0.5,1.5,10\n\
                 2020-01-01T00:01:00Z,1,2,0.5,1.5,10\n\
                 2020-01-01T00:02:00Z,1,0.4,0.5,0.45,10\n\
                 2020-01-01T00:03:00Z,1,2,0.5,1.5,10\n"
            ),
            &[":4:", "high", "low"],
        ),
        (
            "bad_number.csv",
            format!(
                "{HEADER}2020-01-01T00:00:00Z,1,2,0.5,1.5,10\n\
                 2020-01-01T00:01:00Z,1,2,0.5,abc,10\n"
            ),
            &[":3:", "close", "'abc'", "not a number"],
        ),
        (
            "duplicate.csv",
            format!(
                "{HEADER}2020-01-01T00:00:00Z,1,2,0.5,1.5,10\n\
                 2020-01-01T00:01:00Z,1,2,0.5,1.5,10\n\
                 2020-01-01T00:01:00Z,1,2,0.5,1.5,10\n"
            ),
            &[":4:", "duplicate timestamp", "2020-01-01T00:01:00Z"],
        ),
        // No rows at all: there is no line to name, only the reason.
        ("empty.csv", String::new(), &["no data rows"]),
        ("header_only.csv", HEADER.to_owned(), &["no data rows"]),
    ];

    let dir = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let before = list_rows(dir.path());
    let files_before = dataset_files(dir.path());
    assert_eq!(files_before.len(), 2, "{files_before:?}");

    for (name, content, needles) in cases {
        let path = src.path().join(name);
        std::fs::write(&path, content).unwrap();
        let line = usage_error(dir.path(), &["data", "import", path.to_str().unwrap()]);
        assert!(
            line.contains(path.to_str().unwrap()),
            "{name}: message should name the file: {line}"
        );
        for n in needles {
            assert!(line.contains(n), "{name}: expected {n:?} in: {line}");
        }
        assert_eq!(
            list_rows(dir.path()),
            before,
            "{name} left a dataset behind"
        );
        assert_eq!(
            dataset_files(dir.path()),
            files_before,
            "{name} left a file in datasets/"
        );
    }
}

/// A small gzip that would inflate to 80 MiB of rows (far past the 64 MiB
/// a file of its size may expand to) is refused with one line, read no
/// further than its limit, and leaves the catalog as it was.
#[test]
fn a_gzip_bomb_is_refused_and_leaves_nothing_behind() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let before = list_rows(dir.path());
    let files_before = dataset_files(dir.path());
    let row = b"2020-01-01T00:00:00Z,1,2,0.5,1.5,10\n";
    let block: Vec<u8> = row.iter().copied().cycle().take(1 << 20).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(b"timestamp,open,high,low,close,volume\n")
        .unwrap();
    for _ in 0..80 {
        gz.write_all(&block).unwrap();
    }
    let path = src.path().join("bomb.csv.gz");
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    let line = usage_error(dir.path(), &["data", "import", path.to_str().unwrap()]);
    assert!(
        line.contains("bomb.csv.gz: gzip expands to more than"),
        "{line}"
    );
    assert_eq!(list_rows(dir.path()), before);
    assert_eq!(dataset_files(dir.path()), files_before);
}

#[test]
fn importing_the_same_name_twice_suggests_name() {
    let dir = tempfile::tempdir().unwrap();
    let f = shared_dir().join("goog_1d_backtestingpy_2004_2013.csv.gz");
    let f = f.to_str().unwrap();
    ok(dir.path(), &["data", "import", f]);
    let before = list_rows(dir.path());
    let files_before = dataset_files(dir.path());

    let line = usage_error(dir.path(), &["data", "import", f]);
    assert!(line.contains("goog_1d_backtestingpy_2004_2013"), "{line}");
    assert!(line.contains("--name"), "{line}");

    // Clashing with a demo dataset's name is the same error.
    let line = usage_error(dir.path(), &["data", "import", f, "--name", "spy-1m"]);
    assert!(
        line.contains("'spy-1m'") && line.contains("--name"),
        "{line}"
    );

    assert_eq!(list_rows(dir.path()), before);
    assert_eq!(dataset_files(dir.path()), files_before);

    // And --name is indeed the way out.
    ok(dir.path(), &["data", "import", f, "--name", "goog-again"]);
    assert_eq!(list_rows(dir.path())["goog-again"], 2_148);
}

fn backtest_json(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["backtest", "--json"];
    args.extend_from_slice(extra);
    let text = ok(dir, &args);
    assert_eq!(
        text.trim_end().lines().count(),
        1,
        "--json should print one line"
    );
    json(&text)
}

/// `--warmup N`: sma-cross (slow = 50) needs 50 bars before its first
/// crossover; warmed up on the 50 bars before `--from` it can trade in the
/// period's first 50 bars, cold it cannot. The period's own bars, cash and
/// curve are the same; at the start of the data there is nothing to warm up
/// on, and the result says so; out of bounds is one line naming the flag.
#[test]
fn backtest_warms_up_on_the_bars_before_from_and_says_how_many() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "--dataset",
            "spy-1d",
            "--param",
            "fast=10",
            "--param",
            "slow=50",
            "--to",
            "2005-12-31",
        ];
        args.extend_from_slice(extra);
        backtest_json(dir.path(), &args)
    };
    let cold = run(&["--from", "2005-01-01"]);
    let warm = run(&["--from", "2005-01-01", "--warmup", "50"]);
    assert_eq!(
        (&cold["warmupBars"], &warm["warmupBars"]),
        (&0.into(), &50.into())
    );
    assert_eq!(cold["fromMs"], warm["fromMs"]);
    let curve = |r: &Value| r["equityCurve"].as_array().unwrap().clone();
    assert_eq!(curve(&cold).len(), curve(&warm).len());
    assert_eq!(
        curve(&warm)[0]["time"],
        warm["fromMs"],
        "nothing recorded before"
    );
    assert_eq!(warm["metrics"]["initialEquity"], 10_000.0);
    // the time of the period's 50th bar: the first a cold slow average has
    let fiftieth = curve(&cold)[49]["time"].as_i64().unwrap();
    let first_entry = |r: &Value| r["trades"][0]["entryTime"].as_i64().unwrap();
    assert!(first_entry(&cold) > fiftieth);
    assert!(first_entry(&warm) < fiftieth, "{}", warm["trades"][0]);
    // at the data's first bar: no bar before it, 0 used
    let start = run(&["--warmup", "50"]);
    assert_eq!(start["warmupBars"], 0);
    for (n, why) in [
        ("100001", "must be between 0 and 100000"),
        ("ten", "'ten' is not a whole number"),
    ] {
        assert_eq!(
            usage_error(dir.path(), &["backtest", "--warmup", n]),
            format!("error: --warmup: {why}")
        );
    }
}

#[test]
fn backtest_prints_a_table_when_piped_and_json_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();

    let out = atf(dir.path(), &["backtest", "--timeframe", "1h"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.contains("Final equity"), "{table}");
    assert!(
        table.contains("spy-1m"),
        "default dataset is spy-1m: {table}"
    );
    assert!(table.contains("sma-cross"), "default strategy: {table}");
    let err = stderr(&out);
    for bar in ["Processed", "[=", "\u{1b}[", "\r", "ETA"] {
        assert!(
            !err.contains(bar),
            "no progress bar when stderr is not a terminal; stderr: {err:?}"
        );
    }

    let a = backtest_json(dir.path(), &["--timeframe", "1h"]);
    let m = &a["metrics"];
    for key in [
        "finalEquity",
        "tradeCount",
        "wallTimeMs",
        "subBarsPerSecond",
        "mainBars",
    ] {
        assert!(m[key].is_number(), "metrics.{key} missing: {m}");
    }
    let curve = a["equityCurve"].as_array().expect("equityCurve array");
    let trades = a["trades"].as_array().expect("trades array");
    assert_eq!(curve.len() as u64, m["mainBars"].as_u64().unwrap());
    assert_eq!(trades.len() as u64, m["tradeCount"].as_u64().unwrap());
    assert!(m["tradeCount"].as_u64().unwrap() > 0, "{m}");
    assert_eq!(m["subBars"].as_u64(), Some(31_757));
    // 1h bars from ~3 months of 1m data with gaps: far fewer than sub-bars.
    assert!(
        curve.len() > 100 && curve.len() < 31_757 / 30,
        "{}",
        curve.len()
    );
    assert_eq!(a["dataset"]["name"], "spy-1m");
    assert_eq!(a["timeframe"], "1h");

    // The table and the JSON describe the same run.
    let final_equity = format!("{:.2}", m["finalEquity"].as_f64().unwrap());
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("Final equity") && l.trim_end().ends_with(&final_equity)),
        "table's final equity differs from JSON's {final_equity}: {table}"
    );

    let b = backtest_json(dir.path(), &["--timeframe", "1h"]);
    assert_eq!(a["trades"], b["trades"], "trades differ between runs");
    assert_eq!(a["equityCurve"], b["equityCurve"], "equity differs");
    assert_eq!(m["finalEquity"], b["metrics"]["finalEquity"]);
}

#[test]
fn trades_csv_has_a_header_and_one_row_per_trade() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("trades.csv");
    let r = backtest_json(
        dir.path(),
        &["--timeframe", "1h", "--trades-csv", csv.to_str().unwrap()],
    );
    let text = std::fs::read_to_string(&csv).expect("trades CSV written");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "side,quantity,entry_time,entry_price,exit_time,exit_price,pnl,commission,exit_reason"
    );
    let count = r["metrics"]["tradeCount"].as_u64().unwrap();
    assert!(count > 0);
    assert_eq!(lines.len() as u64 - 1, count, "{text}");
    for l in &lines[1..] {
        assert_eq!(l.split(',').count(), 9, "{l}");
    }
    // Each row's P&L matches the JSON's trade at the CSV's 4 decimals.
    for (l, t) in lines[1..].iter().zip(r["trades"].as_array().unwrap()) {
        let pnl: f64 = l.split(',').nth(6).unwrap().parse().unwrap();
        assert!(
            (pnl - t["pnl"].as_f64().unwrap()).abs() < 1e-4,
            "{l} vs {t}"
        );
    }
}

#[test]
fn bad_backtest_input_exits_2_with_one_helpful_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let strategies = [
        "sma-cross",
        "ema-cross",
        "rsi-reversion",
        "bollinger-reversion",
        "donchian-breakout",
    ];

    let line = usage_error(d, &["backtest", "--strategy", "nope"]);
    assert!(line.contains("'nope'"), "{line}");
    for s in strategies {
        assert!(line.contains(s), "should list {s}: {line}");
    }

    let line = usage_error(d, &["backtest", "--param", "fast=0"]);
    assert!(
        line.contains("fast") && line.contains("1..=10000"),
        "{line}"
    );

    let line = usage_error(d, &["backtest", "--param", "nope=1"]);
    assert!(line.contains("unknown parameter 'nope'"), "{line}");
    assert!(line.contains("fast") && line.contains("slow"), "{line}");

    let line = usage_error(d, &["backtest", "--from", "2030-01-01"]);
    assert!(line.contains("empty period"), "{line}");
    assert!(
        line.contains("2011-01-03T09:00:00Z"),
        "names the data's range: {line}"
    );

    let line = usage_error(
        d,
        &["backtest", "--from", "2011-03-01", "--to", "2011-02-01"],
    );
    assert!(line.contains("empty period"), "{line}");

    let line = usage_error(d, &["backtest", "--timeframe", "7x"]);
    assert!(line.contains("'7x'"), "{line}");

    let line = usage_error(d, &["backtest", "--dataset", "missing"]);
    assert!(line.contains("'missing'"), "{line}");
    assert!(
        line.contains("spy-1m") && line.contains("spy-1d"),
        "lists available datasets: {line}"
    );

    let line = usage_error(d, &["backtest", "--commission-pct", "abc"]);
    assert!(
        line.contains("--commission-pct") && line.contains("'abc'"),
        "{line}"
    );

    let line = usage_error(d, &["backtest", "--param", "long_only=maybe"]);
    assert!(line.contains("long_only"), "{line}");

    // None of this touched the catalog.
    assert_eq!(
        list_rows(d),
        DEMO.iter().map(|&(n, r)| (n.to_owned(), r)).collect()
    );
}

#[test]
fn every_strategy_backtests_both_ways_on_the_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let list = json(&ok(dir.path(), &["strategies", "--json"]));
    let list = list.as_array().expect("strategies --json is an array");
    // the built-ins, the scaffold's rsi-dip and fault-injection (atf-extras)
    assert_eq!(list.len(), 7, "{list:?}");
    for s in list {
        let name = s["name"].as_str().unwrap();
        let has_long_only = s["params"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "long_only");
        let mut args = vec![
            "--strategy",
            name,
            "--dataset",
            "spy-1m",
            "--timeframe",
            "15m",
        ];
        if has_long_only {
            args.extend(["--param", "long_only=false"]);
        }
        let r = backtest_json(dir.path(), &args);
        assert_eq!(r["strategy"], name);
        // fault-injection is here too: with its default fault=none it trades normally
        assert_eq!(r["timeframe"], "15m");
        let m = &r["metrics"];
        assert!(m["finalEquity"].as_f64().unwrap() > 0.0, "{name}: {m}");
        assert_eq!(
            r["equityCurve"].as_array().unwrap().len() as u64,
            m["mainBars"].as_u64().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn progress_bar_draws_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let (status, text) = on_terminal(dir.path(), "backtest --dataset spy-1m");
    assert!(status.success(), "{text}");
    assert!(
        text.contains("Processed") && text.contains("bars"),
        "no progress bar on a terminal: {text:?}"
    );
    assert!(text.contains("Final equity"), "{text}");

    // --no-progress turns it off even on a terminal.
    let (status, text) = on_terminal(dir.path(), "backtest --dataset spy-1m --no-progress");
    assert!(status.success(), "{text}");
    assert!(!text.contains("Processed"), "{text:?}");
    assert!(text.contains("Final equity"), "{text}");
}

/// What the HTTP API answers `body` with: the handler's
/// `from_json`, then the service's planning (`RunService::submit_*`) on the
/// dataset the body names; the refusal its problem `detail` is made of
/// (`{field}: {reason}`).
fn api_refusal(dir: &Path, body: &Value, max_combinations: u64) -> FieldError {
    let registry = atf_engine::Registry::builtin();
    let catalog = atf_data::Catalog::open(dir).expect("the CLI made the catalog");
    let ds = catalog
        .get(body["dataset"].as_str().expect("names a dataset"))
        .expect("the dataset exists");
    let refused = if body.get("axes").is_some() {
        let req = OptimizationRequest::from_json(body).expect("a well-formed body");
        let limits = plan::GridLimits {
            max_combinations,
            ..plan::GridLimits::default()
        };
        plan::optimization(&registry, &req, ds, limits).map(|_| ())
    } else {
        let req = BacktestRequest::from_json(body).expect("a well-formed body");
        plan::backtest(&registry, &req, ds).map(|_| ())
    };
    refused.expect_err("the API refuses it")
}

#[test]
fn local_runs_are_refused_by_the_apis_planner_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let max = atf_engine::grid::DEFAULT_MAX_COMBINATIONS;
    // (command line, the same run as an API body, limit, field, flag)
    let cases: Vec<(Vec<&str>, Value, u64, &str, &str)> = vec![
        (
            vec!["backtest", "--from", "soon"],
            body!({"strategy": "sma-cross", "dataset": "spy-1m", "from": "soon"}),
            max,
            "from",
            "--from",
        ),
        (
            vec!["backtest", "--from", "2011-03-01", "--to", "2011-02-01"],
            body!({"strategy": "sma-cross", "dataset": "spy-1m", "from": "2011-03-01", "to": "2011-02-01"}),
            max,
            "to",
            "--to",
        ),
        (
            vec!["backtest", "--dataset", "spy-1d", "--from", "2030-01-01"],
            body!({"strategy": "sma-cross", "dataset": "spy-1d", "from": "2030-01-01"}),
            max,
            "from",
            "--from",
        ),
        (
            vec!["backtest", "--timeframe", "90s"],
            body!({"strategy": "sma-cross", "dataset": "spy-1m", "timeframe": "90s"}),
            max,
            "timeframe",
            "--timeframe",
        ),
        (
            vec!["backtest", "--commission-pct", "50"],
            body!({"strategy": "sma-cross", "dataset": "spy-1m", "commissionPct": 50}),
            max,
            "commissionPct",
            "--commission-pct",
        ),
        (
            vec!["backtest", "--cash", "0"],
            body!({"strategy": "sma-cross", "dataset": "spy-1m", "cash": 0}),
            max,
            "cash",
            "--cash",
        ),
        (
            vec!["optimize", "--axis", "fast=5,10", "--param", "fast=3"],
            body!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": [5, 10]}, "params": {"fast": 3}}),
            max,
            "axes.fast",
            "--axis fast",
        ),
        (
            vec!["optimize", "--axis", "fast=5,10", "--top", "0"],
            body!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": [5, 10]}, "top": 0}),
            max,
            "top",
            "--top",
        ),
        (
            vec![
                "optimize",
                "--axis",
                "fast=5..50:5",
                "--axis",
                "slow=20..200:10",
                "--max-combinations",
                "50",
            ],
            body!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": {"min": 5, "max": 50, "step": 5}, "slow": {"min": 20, "max": 200, "step": 10}}}),
            50,
            "axes",
            "--axis",
        ),
    ];
    for (args, api_body, limit, field, flag) in cases {
        let line = usage_error(d, &args);
        let api = api_refusal(d, &api_body, limit);
        assert_eq!(api.field, field, "{args:?}: {api}");
        // the same reason, after the flag the field comes from
        let prefix = format!("error: {flag}: ");
        let rest = line
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{args:?}: {line:?} should start with {prefix:?}"));
        assert!(
            rest.starts_with(&api.reason),
            "{args:?}: the CLI says {rest:?}, the API {:?}",
            api.reason
        );
    }

    // A parameter's reason names the parameter itself: the flag says it once.
    let line = usage_error(d, &["backtest", "--param", "fast=0"]);
    let api = api_refusal(
        d,
        &body!({"strategy": "sma-cross", "dataset": "spy-1m", "params": {"fast": 0}}),
        max,
    );
    assert_eq!(
        api.reason,
        "parameter 'fast': 0 is outside the allowed range 1..=10000"
    );
    assert_eq!(
        line,
        "error: --param 'fast': 0 is outside the allowed range 1..=10000"
    );
    // The grid limit is this command's: the line says how to raise it.
    let line = usage_error(
        d,
        &[
            "optimize",
            "--axis",
            "fast=5..50:5",
            "--axis",
            "slow=20..200:10",
            "--max-combinations",
            "50",
        ],
    );
    assert_eq!(
        line,
        "error: --axis: grid of 190 combinations exceeds the limit of 50: search it instead with method random or genetic, limited by budget (--method, --budget), or raise the limit with --max-combinations or ATF_MAX_COMBINATIONS"
    );
}

#[test]
fn local_defaults_are_the_apis() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // no cost flag at all, and every default spelt out as the API's
    // defaults: the same run
    let bare = json(&ok(d, &["backtest", "--json", "--timeframe", "1h"]));
    let spelt = json(&ok(
        d,
        &[
            "backtest",
            "--json",
            "--timeframe",
            "1h",
            "--cash",
            atf_runs::request::DEFAULT_CASH,
            "--commission-pct",
            atf_runs::request::DEFAULT_COMMISSION_PCT,
            "--commission-fixed",
            atf_runs::request::DEFAULT_COMMISSION_FIXED,
            "--size-pct",
            atf_runs::request::DEFAULT_SIZE_PCT,
        ],
    ));
    let metrics = |v: &Value| {
        let mut m = v["metrics"].clone();
        let o = m.as_object_mut().unwrap();
        o.remove("wallTimeMs");
        o.remove("subBarsPerSecond");
        m
    };
    assert_eq!(metrics(&bare), metrics(&spelt));
    assert_eq!(bare["trades"], spelt["trades"]);
    // the API plans the bare body with the same costs
    let registry = atf_engine::Registry::builtin();
    let catalog = atf_data::Catalog::open(d).unwrap();
    let req = BacktestRequest::from_json(
        &body!({"strategy": "sma-cross", "dataset": "spy-1m", "timeframe": "1h"}),
    )
    .unwrap();
    let job = plan::check_backtest(&registry, &req, catalog.get("spy-1m").unwrap(), None).unwrap();
    let final_equity = bare["metrics"]["finalEquity"].as_f64().unwrap();
    let net_profit = bare["metrics"]["netProfit"].as_f64().unwrap();
    let cash = job
        .target
        .instrument
        .money_scale
        .to_f64(job.target.config.initial_cash.raw());
    assert!(
        (final_equity - net_profit - cash).abs() < 1e-6,
        "initial cash {cash}: {final_equity} - {net_profit}"
    );
}
