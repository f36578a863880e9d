//! The run database against a real SQLite file.

use super::*;
use crate::key::RunSpec;
use atf_engine::grid::{Axis, Grid};
use atf_engine::optimize::{OptimizationProgress, OptimizeSpec};
use atf_engine::{Bar, Bars, Instrument, MarketData, Timeframe};
use serde_json::{json, Value};

fn walk(n: usize) -> MarketData {
    let mut bars = Bars::with_capacity(n);
    let (mut x, mut p) = (88_172_645_463_325_252_u64, 10_000_i64);
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let open = p;
        p = (p + (x % 41) as i64 - 20).max(100);
        bars.push(Bar {
            ts: i as i64 * 60_000,
            open,
            high: open.max(p) + 3,
            low: (open.min(p) - 2).max(1),
            close: p,
            volume: 1,
        });
    }
    MarketData::new(Instrument::new("W", 2), bars, Timeframe::M1, Timeframe::M1).unwrap()
}

fn cfg() -> atf_engine::BacktestConfig {
    atf_engine::BacktestConfig {
        initial_cash: atf_engine::Money::from_raw(1_000_000),
        costs: atf_engine::Costs::default(),
        sizing: atf_engine::Sizing::default(),
    }
}

fn no_params() -> atf_engine::Params {
    atf_engine::Registry::builtin()
        .find("sma-cross")
        .unwrap()
        .info()
        .params
        .resolve([])
        .unwrap()
}

/// Equal, or the first JSON path where they differ.
fn same(got: &atf_engine::BacktestReport, want: &atf_engine::BacktestReport) {
    fn diff(a: &Value, b: &Value, path: &str) -> Option<String> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for k in x.keys().chain(y.keys()) {
                    let d = diff(
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                        &format!("{path}.{k}"),
                    );
                    if d.is_some() {
                        return d;
                    }
                }
                None
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (a, b))| diff(a, b, &format!("{path}[{i}]"))),
            _ => (a != b).then(|| format!("{path}: {a} ≠ {b}")),
        }
    }
    let (a, b) = (
        serde_json::to_value(got).unwrap(),
        serde_json::to_value(want).unwrap(),
    );
    assert_eq!(diff(&a, &b, ""), None);
    assert!(
        got == want,
        "equal as JSON but not as values (parameter order?)"
    );
}

fn key_spec(kind: RunKind, strategy: &str) -> RunSpec {
    RunSpec {
        kind,
        strategy: strategy.into(),
        strategy_version: "1".into(),
        engine_version: "1".into(),
        build: "test".into(),
        dataset_id: 1,
        dataset_sha256: "ab".repeat(32),
        from_ms: None,
        to_ms: None,
        warmup_bars: 0,
        timeframe: "1m".into(),
        params: Default::default(),
        axes: Vec::new(),
        constraints: Vec::new(),
        maximize: (kind == RunKind::Optimization).then(|| "net-profit".into()),
        top: (kind == RunKind::Optimization).then_some(2),
        search: None,
        cash_raw: 1,
        commission_rate_raw: 0,
        commission_fixed_raw: 0,
        slippage_ticks: 0,
        sizing: "pct:1".into(),
        qty_decimals: 0,
        walk_forward: None,
    }
}

fn header(id: &str, status: RunStatus) -> RunHeader {
    RunHeader {
        id: id.into(),
        run_key: "k".repeat(64),
        status,
        strategy: "sma-cross".into(),
        strategy_version: "1".into(),
        dataset_id: 1,
        dataset: "walk".into(),
        dataset_sha256: "ab".repeat(32),
        timeframe: "1m".into(),
        from_ms: None,
        to_ms: None,
        total: 5_000,
        error_message: None,
        error_stack_trace: None,
        submitted_at_ms: 1,
        started_at_ms: Some(2),
        finished_at_ms: 3,
        request: json!({"strategy": "sma-cross", "dataset": "walk"}),
        spec: key_spec(RunKind::Backtest, "sma-cross"),
    }
}

fn open() -> (tempfile::TempDir, RunStore) {
    let dir = tempfile::tempdir().unwrap();
    let s = RunStore::open(&dir.path().join("runs.db")).unwrap();
    (dir, s)
}

#[test]
fn a_backtest_reads_back_exactly_as_it_was_reported() {
    let (_d, store) = open();
    let data = walk(5_000);
    let sma = atf_engine::Registry::builtin().find("sma-cross").unwrap();
    let params = sma
        .info()
        .params
        .resolve([("fast", "5"), ("slow", "20")])
        .unwrap();
    let cfg = cfg();
    let report = sma.backtest(&data, &cfg, &params, None).unwrap();
    assert!(report.trades.len() > 3);
    let h = header("b1", RunStatus::Completed);
    store
        .save_backtest(&BacktestEnd {
            header: &h,
            processed: 5_000,
            params: &params,
            report: Some(&report),
        })
        .unwrap();
    let got = store.backtest("b1").unwrap().unwrap();
    assert_eq!(got.header, h);
    same(&got.result.unwrap(), &report);
    assert_eq!(got.params, atf_engine::ParamMap::from(&params));
    assert_eq!(
        store
            .find_completed(RunKind::Backtest, &h.run_key)
            .unwrap()
            .as_deref(),
        Some("b1")
    );
    let page = store.list(Some(RunKind::Backtest), None, 0, 10).unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].metrics.as_ref(), Some(&report.metrics));
    assert!(store.backtest("nope").unwrap().is_none());

    // a row written by an earlier version (a headline without the curve
    // and trades fields) reads back the same
    {
        let w = super::lock(&store.writer);
        w.execute(
            "UPDATE backtest_runs SET report_json =
                json_remove(report_json, '$.equityCurve', '$.trades') WHERE id = 'b1'",
            [],
        )
        .unwrap();
    }
    let old = store.backtest("b1").unwrap().unwrap().result.unwrap();
    assert_eq!(old.equity_curve, report.equity_curve);
    assert_eq!(old.trades, report.trades);
}

#[test]
fn a_failed_backtest_keeps_its_error_and_is_not_a_dedup_hit() {
    let (_d, store) = open();
    let mut h = header("f1", RunStatus::Failed);
    h.error_message = Some("boom at bar 7".into());
    h.error_stack_trace = Some("at strategy.rs:1".into());
    let params = no_params();
    store
        .save_backtest(&BacktestEnd {
            header: &h,
            processed: 7,
            params: &params,
            report: None,
        })
        .unwrap();
    let got = store.backtest("f1").unwrap().unwrap();
    assert_eq!(got.header.error_message.as_deref(), Some("boom at bar 7"));
    assert_eq!(
        got.header.error_stack_trace.as_deref(),
        Some("at strategy.rs:1")
    );
    assert_eq!(got.result, None);
    assert_eq!(
        store.find_completed(RunKind::Backtest, &h.run_key).unwrap(),
        None
    );
    let failed = store
        .list(Some(RunKind::Backtest), Some(RunStatus::Failed), 0, 10)
        .unwrap();
    assert_eq!(failed.total, 1);
    assert_eq!(
        store
            .list(Some(RunKind::Backtest), Some(RunStatus::Completed), 0, 10)
            .unwrap()
            .total,
        0
    );
}

#[test]
fn an_optimization_keeps_every_trial_and_its_best_in_full() {
    let (_d, store) = open();
    let data = walk(3_000);
    let entry = atf_engine::Registry::empty()
        .with::<atf_engine::strategies::FaultInjection>()
        .find("fault-injection")
        .unwrap();
    let space = entry.info().params;
    let spec = OptimizeSpec {
        grid: Grid::new(
            vec![
                Axis::parse("period=5..30:5", &space).unwrap(),
                Axis::parse("fault=none,panic", &space).unwrap(),
            ],
            1_000,
        )
        .unwrap(),
        constraints: Vec::new(),
        base: space.resolve([("fault_bar", "100")]).unwrap(),
        fitness: atf_engine::optimize::Fitness::NetProfit,
        top: 3,
        assess: true,
        search: None,
    };
    let cfg = cfg();
    let report = entry
        .optimize(&data, &cfg, &spec, &OptimizationProgress::new(), 2)
        .unwrap();
    assert_eq!((report.completed, report.failed), (6, 6));
    let mut h = header("o1", RunStatus::Completed);
    h.total = 12;
    let key_spec = RunSpec {
        top: Some(3),
        ..key_spec(RunKind::Optimization, "fault-injection")
    };
    store
        .save_optimization(&OptimizationEnd {
            header: &h,
            spec: &key_spec,
            completed: 6,
            failed: 6,
            skipped: 0,
            report: Some(&report),
        })
        .unwrap();
    let got = store.optimization("o1", 5).unwrap().unwrap();
    let result = got.result.unwrap();
    assert_eq!(result.trial_count, 12);
    assert_eq!(result.trials.len(), 5, "first page only");
    assert_eq!(result.summary, report.summary());
    // ranked trials read back as the engine reported them
    let want: Vec<_> = report.records().collect();
    let all = store.trials("o1", 0, 100).unwrap();
    assert_eq!(all.items.len(), 12);
    for (w, g) in want.iter().zip(&all.items) {
        let mut g = g.clone();
        assert_eq!(
            g.backtest_id.is_some(),
            g.rank <= 3,
            "kept trials say where"
        );
        g.backtest_id = None;
        assert_eq!(&g, w);
    }
    let failed = &all.items[11];
    assert_eq!(failed.status, atf_engine::optimize::TrialStatus::Failed);
    assert!(failed.error_message.as_ref().unwrap().contains("fault"));
    assert!(!failed.error_stack_trace.as_ref().unwrap().is_empty());
    // the best three are full backtests of the optimization
    assert_eq!(result.top.len(), 3);
    let best = store.backtest(&result.top[0].backtest_id).unwrap().unwrap();
    assert_eq!(best.optimization_id.as_deref(), Some("o1"));
    same(&best.result.unwrap(), &report.top[0].report);
    // and the whole record survives JSON (what the API and the cache carry)
    let stored = store.optimization("o1", 5).unwrap().unwrap();
    let text = serde_json::to_string(&stored).unwrap();
    assert_eq!(
        serde_json::from_str::<StoredOptimization>(&text).unwrap(),
        stored
    );
    // kept trials are not listed as backtests of their own
    assert_eq!(
        store
            .list(Some(RunKind::Backtest), None, 0, 10)
            .unwrap()
            .total,
        0
    );
    let opts = store
        .list(Some(RunKind::Optimization), None, 0, 10)
        .unwrap();
    // both kinds in one list, newest first
    let both = store.list(None, None, 0, 10).unwrap();
    assert_eq!(both.total, 1);
    assert_eq!(both.items[0].kind, RunKind::Optimization);
    assert_eq!(opts.items[0].failed, 6);
    assert!(opts.items[0].metrics.is_some());
}

#[test]
fn migrations_apply_once_and_reopen_keeps_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    {
        let s = RunStore::open(&path).unwrap();
        let h = header("r1", RunStatus::Cancelled);
        s.save_backtest(&BacktestEnd {
            header: &h,
            processed: 1,
            params: &no_params(),
            report: None,
        })
        .unwrap();
    }
    let s = RunStore::open(&path).unwrap();
    assert_eq!(
        s.backtest("r1").unwrap().unwrap().header.status,
        RunStatus::Cancelled
    );
}

/// An optimization of 12 trials (6 failed) saved as `id`.
fn saved_optimization(store: &RunStore, id: &str) {
    let data = walk(3_000);
    let entry = atf_engine::Registry::empty()
        .with::<atf_engine::strategies::FaultInjection>()
        .find("fault-injection")
        .unwrap();
    let space = entry.info().params;
    let spec = OptimizeSpec {
        grid: Grid::new(
            vec![
                Axis::parse("period=5..30:5", &space).unwrap(),
                Axis::parse("fault=none,panic", &space).unwrap(),
            ],
            1_000,
        )
        .unwrap(),
        constraints: Vec::new(),
        base: space.resolve([("fault_bar", "100")]).unwrap(),
        fitness: atf_engine::optimize::Fitness::NetProfit,
        top: 2,
        assess: true,
        search: None,
    };
    let report = entry
        .optimize(&data, &cfg(), &spec, &OptimizationProgress::new(), 2)
        .unwrap();
    let mut h = header(id, RunStatus::Completed);
    h.total = 12;
    let key_spec = key_spec(RunKind::Optimization, "fault-injection");
    store
        .save_optimization(&OptimizationEnd {
            header: &h,
            spec: &key_spec,
            completed: report.completed,
            failed: report.failed,
            skipped: 0,
            report: Some(&report),
        })
        .unwrap();
}

#[test]
fn trials_sort_by_any_metric_or_parameter_nulls_last_ties_by_rank() {
    let (_d, store) = open();
    saved_optimization(&store, "o1");
    let sorted = |sort: Option<&str>, order: Option<&str>| -> Vec<Value> {
        let o = TrialOrder::parse(sort, order).unwrap();
        let page = store.sorted_trials("o1", 0, 100, &o).unwrap();
        assert_eq!(page.total, 12);
        // pages of 5 read the same order
        let mut paged = Vec::new();
        for off in (0..12).step_by(5) {
            paged.extend(store.sorted_trials("o1", off, 5, &o).unwrap().items);
        }
        assert_eq!(paged, page.items, "{sort:?} {order:?} pages");
        page.items
            .iter()
            .map(|t| serde_json::to_value(t).unwrap())
            .collect::<Vec<Value>>()
    };
    let ranks =
        |v: &[Value]| -> Vec<u64> { v.iter().map(|t| t["rank"].as_u64().unwrap()).collect() };
    let num = |t: &Value, ptr: &str| t.pointer(ptr).and_then(Value::as_f64);
    // every value of `ptr` in order (NULLs last), ties by rank
    let check = |v: &[Value], ptr: &str, desc: bool| {
        let mut seen_null = false;
        for w in v.windows(2) {
            let (a, b) = (num(&w[0], ptr), num(&w[1], ptr));
            match (a, b) {
                (Some(a), Some(b)) => {
                    assert!(!seen_null, "{ptr}: a value after a null");
                    let ok = if desc { a >= b } else { a <= b };
                    assert!(ok, "{ptr}: {a} then {b}");
                    if a == b {
                        assert!(w[0]["rank"].as_u64() < w[1]["rank"].as_u64(), "{ptr} tie");
                    }
                }
                (Some(_), None) => seen_null = true,
                (None, Some(_)) => panic!("{ptr}: a null before a value"),
                (None, None) => {
                    assert!(
                        w[0]["rank"].as_u64() < w[1]["rank"].as_u64(),
                        "{ptr} nulls by rank"
                    );
                }
            }
        }
    };

    // the default is rank order, and equals the unsorted page
    let by_rank = sorted(None, None);
    assert_eq!(ranks(&by_rank), (1..=12).collect::<Vec<_>>());
    assert_eq!(
        by_rank,
        serde_json::to_value(store.trials("o1", 0, 100).unwrap().items)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    );
    assert_eq!(
        ranks(&sorted(Some("rank"), Some("desc"))),
        (1..=12).rev().collect::<Vec<_>>()
    );
    let by_index = sorted(Some("index"), None);
    let idx: Vec<u64> = by_index
        .iter()
        .map(|t| t["index"].as_u64().unwrap())
        .collect();
    assert_eq!(idx, (0..12).collect::<Vec<_>>());

    // fitness: descending by default, the 6 failed trials (NULL) last
    let by_fitness = sorted(Some("fitness"), None);
    check(&by_fitness, "/fitness", true);
    assert!(by_fitness[6..].iter().all(|t| t["status"] == "Failed"));
    let by_fitness_asc = sorted(Some("fitness"), Some("asc"));
    check(&by_fitness_asc, "/fitness", false);
    assert!(by_fitness_asc[6..].iter().all(|t| t["status"] == "Failed"));
    // every metric sorts, both ways
    for m in atf_engine::PerformanceMetrics::fields() {
        for (order, desc) in [("asc", false), ("desc", true)] {
            check(
                &sorted(Some(m), Some(order)),
                &format!("/metrics/{m}"),
                desc,
            );
        }
    }
    let by_trades = sorted(Some("tradeCount"), Some("asc"));
    assert!(num(&by_trades[0], "/metrics/tradeCount").is_some());
    assert!(by_trades[6..].iter().all(|t| t["status"] == "Failed"));

    // a parameter: failed trials have params too, so all 12 sort by it
    let by_period = sorted(Some("params.period"), None);
    check(&by_period, "/params/period", true);
    assert_eq!(by_period[0]["params"]["period"], 30);
    assert_eq!(by_period[11]["params"]["period"], 5);
    check(
        &sorted(Some("params.period"), Some("asc")),
        "/params/period",
        false,
    );
    let by_fault = sorted(Some("params.fault"), Some("asc"));
    assert!(by_fault[..6].iter().all(|t| t["params"]["fault"] == "none"));
    // an absent parameter is NULL everywhere: rank order
    assert_eq!(
        ranks(&sorted(Some("params.nope"), None)),
        (1..=12).collect::<Vec<_>>()
    );

    // its parameter names, from the stored trials
    let names = store.trial_param_names("o1").unwrap().unwrap();
    assert!(
        ["period", "fault", "fault_bar"]
            .iter()
            .all(|n| names.iter().any(|x| x == n)),
        "{names:?}"
    );
    assert_eq!(store.trial_param_names("none").unwrap(), None);
}

#[test]
fn both_kinds_list_together_newest_first() {
    let (_d, store) = open();
    saved_optimization(&store, "o1");
    let mut h = header("b2", RunStatus::Failed);
    h.submitted_at_ms = 5;
    store
        .save_backtest(&BacktestEnd {
            header: &h,
            processed: 1,
            params: &no_params(),
            report: None,
        })
        .unwrap();
    let all = store.list(None, None, 0, 10).unwrap();
    assert_eq!(all.total, 2);
    let seen: Vec<(&str, RunKind)> = all.items.iter().map(|r| (r.id.as_str(), r.kind)).collect();
    assert_eq!(
        seen,
        [("b2", RunKind::Backtest), ("o1", RunKind::Optimization)]
    );
    assert!(
        all.items[1].metrics.is_some(),
        "an optimization's best trial"
    );
    let failed = store.list(None, Some(RunStatus::Failed), 0, 10).unwrap();
    assert_eq!((failed.total, failed.items.len()), (1, 1));
    let second = store.list(None, None, 1, 1).unwrap();
    assert_eq!(second.items[0].id, "o1");
}

#[test]
fn a_database_that_opens_only_read_only_is_refused_rather_than_failing_every_save() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    drop(RunStore::open(&path).unwrap());
    // what SQLite falls back to, without a word, for a file it cannot write
    let read_only = PathBuf::from(format!("file:{}?mode=ro", path.display()));
    let e = RunStore::open(&read_only).unwrap_err();
    assert!(matches!(e, StoreError::ReadOnly { .. }), "{e}");
    assert!(
        e.to_string()
            .ends_with("opened read-only; runs could not be saved"),
        "{e}"
    );
    RunStore::open(&path).expect("writable again");
}

#[test]
fn an_optimizations_robustness_reads_back_and_older_rows_read_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    let store = RunStore::open(&path).unwrap();
    saved_optimization(&store, "o1");
    let summary = |store: &RunStore| {
        store
            .optimization("o1", 1)
            .unwrap()
            .unwrap()
            .result
            .unwrap()
            .summary
    };
    let got = summary(&store);
    let robustness = got.robustness.clone().expect("stored with the run");
    assert_eq!(robustness.trials, 6, "N counts the completed trials");
    // in its own column, not twice
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (summary_json, robustness_json): (String, String) = conn
        .query_row(
            "SELECT summary_json, robustness_json FROM optimization_runs WHERE id = 'o1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(!summary_json.contains("robustness"));
    assert!(
        robustness_json.contains("\"trials\":6"),
        "{robustness_json}"
    );
    // a run stored before migration 2 has no robustness: it reads as None
    conn.execute("UPDATE optimization_runs SET robustness_json = NULL", [])
        .unwrap();
    let old = summary(&store);
    assert_eq!(old.robustness, None);
    assert_eq!(
        old,
        atf_engine::optimize::OptimizationSummary {
            robustness: None,
            ..got
        }
    );
}

/// A walk-forward cancelled before its first fold ended: its (empty)
/// partial report.
fn cancelled_walkforward_report() -> crate::walkforward::WalkForwardReport {
    serde_json::from_value(json!({
        "strategy": "sma-cross", "strategyVersion": "1", "symbol": "W", "timeframe": "1m",
        "mode": "anchored", "maximize": "sharpe", "combinationsPerFold": 12, "plannedFolds": 4,
        "folds": [],
        "stitched": {"initialEquity": 10000.0, "finalEquity": 10000.0, "netProfit": 0.0,
            "totalReturnPct": 0.0, "annualizedReturnPct": null, "maxDrawdown": 0.0,
            "maxDrawdownPct": 0.0, "sharpe": null, "sharpeTStat": null, "bars": 0,
            "tradeCount": 0, "profitableFolds": 0, "folds": 0},
        "equityCurve": [], "isAnnualizedReturnPct": null, "wfePct": null, "stability": [],
        "criteria": {"minWfePct": 50.0, "minProfitableFoldsPct": 50.0,
            "maxFoldProfitSharePct": 50.0, "maxDrawdownPct": 25.0},
        "checks": [], "passed": false, "cancelled": true
    }))
    .unwrap()
}

#[test]
fn walkforwards_read_back_with_their_report_or_their_error_and_list_with_the_others() {
    let (_d, store) = open();
    let report = cancelled_walkforward_report();
    let mut h = header("w1", RunStatus::Cancelled);
    h.spec.kind = RunKind::WalkForward;
    h.total = 48;
    h.submitted_at_ms = 7;
    store
        .save_walkforward(&WalkForwardEnd {
            header: &h,
            total_folds: 4,
            folds_processed: 0,
            processed: 5,
            failed: 1,
            report: Some(&report),
        })
        .unwrap();
    let w = store.walkforward("w1").unwrap().unwrap();
    assert_eq!(w.header, h);
    assert_eq!(
        (
            w.total_folds,
            w.folds_processed,
            w.processed_combinations,
            w.failed_trials
        ),
        (4, 0, 5, 1)
    );
    assert_eq!(w.result.as_ref(), Some(&report));

    // a failed one keeps its error and stack trace, and is no dedup hit
    let mut f = header("w2", RunStatus::Failed);
    f.spec.kind = RunKind::WalkForward;
    f.submitted_at_ms = 9;
    f.error_message = Some("fold 2: the out-of-sample backtest of the winner failed: boom".into());
    f.error_stack_trace = Some("at strategy.rs:1".into());
    store
        .save_walkforward(&WalkForwardEnd {
            header: &f,
            total_folds: 4,
            folds_processed: 1,
            processed: 24,
            failed: 0,
            report: None,
        })
        .unwrap();
    let w = store.walkforward("w2").unwrap().unwrap();
    assert_eq!(w.header.error_message, f.error_message);
    assert_eq!(w.header.error_stack_trace, f.error_stack_trace);
    assert_eq!(w.result, None);
    assert_eq!(
        store
            .find_completed(RunKind::WalkForward, &"k".repeat(64))
            .unwrap(),
        None
    );
    assert!(store.walkforward("nope").unwrap().is_none());

    saved_optimization(&store, "o1");
    let all = store.list(None, None, 0, 10).unwrap();
    let seen: Vec<(&str, RunKind)> = all.items.iter().map(|r| (r.id.as_str(), r.kind)).collect();
    assert_eq!(
        seen,
        [
            ("w2", RunKind::WalkForward),
            ("w1", RunKind::WalkForward),
            ("o1", RunKind::Optimization)
        ]
    );
    assert_eq!((all.items[1].processed, all.items[1].failed), (5, 1));
    assert_eq!(all.items[0].metrics, None);
    // a walk-forward's headline: from its report; none without one
    let line = super::WalkForwardLine {
        passed: false,
        wfe_pct: None,
        oos_return_pct: 0.0,
        oos_max_drawdown_pct: 0.0,
        folds: 0,
        profitable_folds: 0,
    };
    assert_eq!(all.items[1].walkforward.as_ref(), Some(&line));
    assert_eq!(all.items[0].walkforward, None);
    assert_eq!(all.items[2].walkforward, None, "an optimization has none");
    // a run stored before migration 6 gets it from its report
    let conn = rusqlite::Connection::open(&store.path).unwrap();
    conn.execute(
        "UPDATE walkforward_runs SET oos_return_pct = NULL, oos_max_drawdown_pct = NULL,
            folds_run = NULL, profitable_folds = NULL, report_json =
            json_set(report_json, '$.stitched.totalReturnPct', 4.5,
                '$.stitched.maxDrawdownPct', 2.25, '$.stitched.folds', 3,
                '$.stitched.profitableFolds', 2)
         WHERE id = 'w1'",
        [],
    )
    .unwrap();
    let migration = super::migrations::MIGRATIONS[5].1;
    conn.execute_batch(&migration[migration.find("UPDATE").unwrap()..])
        .unwrap();
    let all = store.list(Some(RunKind::WalkForward), None, 0, 10).unwrap();
    assert_eq!(
        all.items[1].walkforward,
        Some(super::WalkForwardLine {
            oos_return_pct: 4.5,
            oos_max_drawdown_pct: 2.25,
            folds: 3,
            profitable_folds: 2,
            ..line
        })
    );
    let only = store.list(Some(RunKind::WalkForward), None, 0, 10).unwrap();
    assert_eq!(only.total, 2);
    let failed = store
        .list(Some(RunKind::WalkForward), Some(RunStatus::Failed), 0, 10)
        .unwrap();
    assert_eq!((failed.total, failed.items[0].id.as_str()), (1, "w2"));
}
