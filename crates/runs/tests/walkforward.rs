//! Walk-forward runs as a user sees them: every fold's winner is the best
//! trial of an ordinary optimization over its in-sample window, its
//! out-of-sample metrics those of an ordinary backtest of those parameters
//! on its out-of-sample window; the stitched equity is one account; an
//! edge that flips halfway collapses out of sample while the full-period
//! optimization looks good.

use atf_data::{Catalog, ImportOptions};
use atf_engine::optimize::OptimizationProgress;
use atf_engine::{PerformanceMetrics, Registry};
use atf_runs::plan::{self, GridLimits, Work};
use atf_runs::request::{BacktestRequest, OptimizationRequest};
use atf_runs::walkforward::{
    self, WalkForwardProgress, WalkForwardReport, WalkForwardRequest, IS_CURVE_POINTS,
};
use atf_runs::warmup;
use serde_json::{json, Value};

fn catalog() -> (tempfile::TempDir, Catalog) {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path()).unwrap();
    catalog.ensure_demo().unwrap();
    (dir, catalog)
}

fn run_walkforward(catalog: &Catalog, body: &Value, threads: usize) -> WalkForwardReport {
    let reg = Registry::builtin();
    let req = WalkForwardRequest::from_json(body).unwrap();
    let ds = catalog.get(&req.optimization.run.dataset).unwrap();
    let job = walkforward::check_walkforward(&reg, &req, ds, GridLimits::default(), None).unwrap();
    let bars = job.load(catalog.data_dir()).unwrap();
    let progress = WalkForwardProgress::new();
    let report = walkforward::run(&job, &bars, &progress, threads).unwrap();
    assert_eq!(progress.processed(), job.total, "every fold's combinations");
    assert_eq!(progress.folds_done(), job.windows.len() as u64);
    report
}

fn untimed(mut m: PerformanceMetrics) -> PerformanceMetrics {
    m.wall_time_ms = None;
    m.sub_bars_per_second = None;
    m
}

/// `to` as the request writes it for a window ending (excluded) at `end_ms`:
/// an instant's `to` is included, so the last included millisecond.
fn last_ms(end_ms: i64) -> String {
    (end_ms - 1).to_string()
}

/// For every fold: the winner is the best trial of an ordinary
/// optimization of that in-sample window (same grid, costs, cash), and its
/// out-of-sample metrics equal an ordinary backtest of those parameters on
/// that window starting with the fold's carried equity.
fn assert_exact(catalog: &Catalog, body: &Value, report: &WalkForwardReport) {
    let reg = Registry::builtin();
    assert!(!report.folds.is_empty());
    for f in &report.folds {
        let w = &f.window;
        let mut opt = body.clone();
        let o = opt.as_object_mut().unwrap();
        for k in [
            "mode",
            "inSample",
            "outOfSample",
            "folds",
            "oosFraction",
            "criteria",
        ] {
            o.remove(k);
        }
        o.insert("from".into(), json!(w.is_from_ms.to_string()));
        o.insert("to".into(), json!(last_ms(w.is_to_ms)));
        let req = OptimizationRequest::from_json(&opt).unwrap();
        let ds = catalog.get(&req.run.dataset).unwrap();
        let job = plan::check_optimization(&reg, &req, ds, GridLimits::default(), None).unwrap();
        let Work::Optimization(spec) = &job.work else {
            panic!("not an optimization")
        };
        let t = &job.target;
        let (before, bars) = warmup::load(t, catalog.data_dir()).unwrap();
        assert_eq!(bars.len(), f.is_bars.to - f.is_bars.from, "fold {}", w.fold);
        let data = warmup::market_data(t, &before, bars).unwrap();
        assert_eq!(
            data.warmup_bars(),
            f.is_warmup_bars as usize,
            "fold {}: in-sample warm-up",
            w.fold
        );
        let ordinary = t
            .strategy
            .optimize(&data, &t.config, spec, &OptimizationProgress::new(), 1)
            .unwrap();
        let best = &ordinary.top[0];
        let win = f.winner.as_ref().expect("a winner");
        assert_eq!(win.index, best.index, "fold {}: winner", w.fold);
        assert_eq!(
            win.is_fitness.map(f64::to_bits),
            best.fitness.map(f64::to_bits),
            "fold {}",
            w.fold
        );
        assert_eq!(win.params, best.report.params);
        assert_eq!(win.is_metrics, untimed(best.report.metrics.clone()));
        // the chart's in-sample curve: the ordinary winner's, thinned
        let full: std::collections::BTreeMap<i64, u64> = best
            .report
            .equity_curve
            .points()
            .map(|p| (p.time, p.equity.to_bits()))
            .collect();
        let thin = &win.is_equity_curve;
        assert!(
            thin.len() <= IS_CURVE_POINTS.min(full.len()),
            "fold {}",
            w.fold
        );
        assert_eq!(thin.first().map(|p| p.time), full.keys().next().copied());
        assert_eq!(thin.last().map(|p| p.time), full.keys().last().copied());
        assert!(
            thin.iter()
                .all(|p| full.get(&p.time) == Some(&p.equity.to_bits())),
            "fold {}: a point not on the winner's curve",
            w.fold
        );

        // the out-of-sample backtest, ordinary, with the carried cash
        let mut bt = opt.clone();
        let b = bt.as_object_mut().unwrap();
        for k in ["axes", "constraints", "maximize", "top"] {
            b.remove(k);
        }
        b.insert("from".into(), json!(w.oos_from_ms.to_string()));
        b.insert("to".into(), json!(last_ms(w.oos_to_ms)));
        b.insert("cash".into(), json!(f.start_equity));
        let mut params = b
            .get("params")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (name, v) in win.params.iter() {
            if spec.grid.axes().iter().any(|a| a.name == name) {
                params.insert(name.to_owned(), serde_json::to_value(v).unwrap());
            }
        }
        b.insert("params".into(), Value::Object(params));
        let req = BacktestRequest::from_json(&bt).unwrap();
        let ds = catalog.get(&req.run.dataset).unwrap();
        let job = plan::check_backtest(&reg, &req, ds, None).unwrap();
        let Work::Backtest(p) = &job.work else {
            panic!("not a backtest")
        };
        let t = &job.target;
        let (before, bars) = warmup::load(t, catalog.data_dir()).unwrap();
        assert_eq!(bars.len(), f.oos_bars.to - f.oos_bars.from);
        // the out-of-sample warm-up is the end of the in-sample window
        assert!(before.ts.iter().all(|&ts| ts < w.oos_from_ms));
        let data = warmup::market_data(t, &before, bars).unwrap();
        assert_eq!(
            data.warmup_bars(),
            f.oos_warmup_bars as usize,
            "fold {}: out-of-sample warm-up",
            w.fold
        );
        let r = t.strategy.backtest(&data, &t.config, p, None).unwrap();
        assert_eq!(
            win.oos_metrics,
            untimed(r.metrics),
            "fold {}: out-of-sample metrics",
            w.fold
        );
        assert_eq!(win.closed_at_end, r.open_position, "fold {}", w.fold);
    }
}

/// One account: the stitched curve starts at the cash, each fold starts
/// where the previous ended, and the curve's last point is the end.
fn assert_stitched(report: &WalkForwardReport, cash: f64) {
    assert_eq!(report.stitched.initial_equity, cash);
    assert_eq!(report.folds[0].start_equity, cash);
    for p in report.folds.windows(2) {
        assert_eq!(p[1].start_equity.to_bits(), p[0].end_equity.to_bits());
        assert_eq!(p[1].window.oos_from_ms, p[0].window.oos_to_ms);
    }
    let last = report.folds.last().unwrap();
    assert_eq!(report.stitched.final_equity, last.end_equity);
    assert_eq!(
        report.equity_curve.last().unwrap().equity,
        report.stitched.final_equity
    );
    for f in &report.folds {
        let w = f.winner.as_ref().unwrap();
        assert_eq!(w.oos_metrics.initial_equity, f.start_equity);
        assert_eq!(w.oos_metrics.final_equity, f.end_equity);
    }
    assert!(report
        .equity_curve
        .windows(2)
        .all(|p| p[0].time < p[1].time));
}

#[test]
fn every_fold_equals_an_ordinary_optimization_and_backtest_daily() {
    let (_dir, catalog) = catalog();
    let body = json!({
        "strategy": "sma-cross", "dataset": "spy-1d", "from": "2005-01-01", "to": "2014-12-31",
        "axes": {"fast": {"min": 5, "max": 20, "step": 5}, "slow": [20, 40, 60]},
        "constraints": ["fast < slow"], "commissionPct": 0.1, "cash": 25000,
        "inSample": "720d", "outOfSample": "180d"
    });
    let report = run_walkforward(&catalog, &body, 2);
    assert_eq!(report.folds.len(), 16, "(3652 - 720) / 180 folds");
    assert!(!report.cancelled);
    assert_exact(&catalog, &body, &report);
    assert_stitched(&report, 25_000.0);
    // the same report whatever the thread count, bit for bit
    let one = run_walkforward(&catalog, &body, 1);
    assert_eq!(
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&report).unwrap()
    );
    // the report reads back as itself (it will be stored and served as JSON)
    let text = serde_json::to_string(&report).unwrap();
    let back: WalkForwardReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report);
    // stability: one entry per axis, a value per fold
    assert_eq!(report.stability.len(), 2);
    assert!(report.stability.iter().all(|s| s.values.len() == 16));
    assert_eq!(report.checks.len(), 4);
}

#[test]
fn every_fold_equals_an_ordinary_optimization_and_backtest_minute_anchored_with_warm_up() {
    let (_dir, catalog) = catalog();
    let body = json!({
        "strategy": "sma-cross", "dataset": "spy-1m", "timeframe": "15m", "from": "2011-02-23",
        "axes": {"fast": [3, 5, 8], "slow": [13, 21]}, "maximize": "net-profit",
        "mode": "anchored", "folds": 4, "oosFraction": 0.25, "warmupBars": 30
    });
    let report = run_walkforward(&catalog, &body, 2);
    assert_eq!(report.folds.len(), 4);
    // the data has no February: the first window's warm-up is January's end
    assert_eq!(report.folds[0].is_warmup_bars, 30);
    assert!(report
        .folds
        .iter()
        .all(|f| f.window.is_from_ms == report.folds[0].window.is_from_ms));
    assert_exact(&catalog, &body, &report);
    assert_stitched(&report, 10_000.0);
}

#[test]
fn every_fold_with_warm_up_equals_ordinary_runs_with_the_same_warm_up() {
    let (_dir, catalog) = catalog();
    let body = json!({
        "strategy": "sma-cross", "dataset": "spy-1d", "from": "2005-01-01", "to": "2012-12-31",
        "axes": {"fast": {"min": 5, "max": 20, "step": 5}, "slow": [20, 40, 60]},
        "constraints": ["fast < slow"], "commissionPct": 0.1,
        "inSample": "720d", "outOfSample": "180d", "warmupBars": 60
    });
    let report = run_walkforward(&catalog, &body, 2);
    assert_eq!(report.folds.len(), 12);
    assert_exact(&catalog, &body, &report);
    assert_stitched(&report, 10_000.0);
    // data before 2005: every window warms up on the 60 bars asked for
    for f in &report.folds {
        assert_eq!((f.is_warmup_bars, f.oos_warmup_bars), (60, 60), "{f:?}");
    }
    // and it matters: the slow averages are ready at each window's start
    let mut cold = body.clone();
    cold.as_object_mut().unwrap().remove("warmupBars");
    let cold = run_walkforward(&catalog, &cold, 2);
    assert!(cold.folds.iter().all(|f| f.is_warmup_bars == 0));
    assert_ne!(
        serde_json::to_string(&cold.folds).unwrap(),
        serde_json::to_string(&report.folds).unwrap()
    );
}

#[test]
fn a_walkforward_at_the_start_of_the_data_warms_up_only_on_what_came_before() {
    let (_dir, catalog) = catalog();
    // no `from`: the first in-sample window starts at the data's first bar
    let body = json!({
        "strategy": "sma-cross", "dataset": "spy-1d", "to": "2002-12-31",
        "axes": {"fast": [5, 10], "slow": [20, 40]},
        "inSample": "360d", "outOfSample": "180d", "warmupBars": 100
    });
    let report = run_walkforward(&catalog, &body, 2);
    let first = &report.folds[0];
    assert_eq!(first.is_warmup_bars, 0, "nothing before the data");
    // its out-of-sample window warms up on the in-sample window's end
    assert_eq!(first.oos_warmup_bars, 100);
    assert!(report.folds[1..].iter().all(|f| f.is_warmup_bars == 100));
    assert_exact(&catalog, &body, &report);
}

/// xorshift64*: a fixed-seed generator, so the data is the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal, mean 0, standard deviation 1.
    fn gauss(&mut self) -> f64 {
        (0..12).map(|_| self.next()).sum::<f64>() - 6.0
    }
}

/// Daily bars whose first half trends (returns persist: trend-following
/// earns) and whose second half reverts (returns reverse: it loses).
fn flipping_series(days: usize) -> String {
    let mut rng = Rng(0x00c0_ffee_1234_5678);
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    let (mut price, mut prev_r) = (100.0f64, 0.0f64);
    let start = 946_684_800i64; // 2000-01-01
    for d in 0..days {
        let phi = if d < days / 2 { 0.9 } else { -0.9 };
        let r = phi * prev_r + 0.004 * rng.gauss();
        prev_r = r;
        let open = price;
        price *= 1.0 + r;
        let (hi, lo) = (open.max(price) * 1.001, open.min(price) * 0.999);
        csv.push_str(&format!(
            "{},{open:.4},{hi:.4},{lo:.4},{price:.4},1000\n",
            start + d as i64 * 86_400
        ));
    }
    csv
}

#[test]
fn an_edge_that_flips_halfway_collapses_out_of_sample() {
    let (_dir, catalog) = catalog();
    let days = 1600;
    let imported = catalog
        .import_bytes(
            "flip.csv",
            flipping_series(days).as_bytes(),
            &ImportOptions {
                name: Some("flip".into()),
                ..ImportOptions::default()
            },
        )
        .unwrap();
    let flip_ms = imported.dataset.first_ts_ms + (days as i64 / 2) * 86_400_000;
    let grid = json!({"fast": [2, 3, 5, 8], "slow": [10, 15, 20, 30]});
    // the full period, optimized once: looks good
    let reg = Registry::builtin();
    let req = OptimizationRequest::from_json(&json!({
        "strategy": "sma-cross", "dataset": "flip", "axes": grid,
        "constraints": ["fast < slow"], "params": {"long_only": false}
    }))
    .unwrap();
    let job = plan::check_optimization(
        &reg,
        &req,
        imported.dataset.clone(),
        GridLimits::default(),
        None,
    )
    .unwrap();
    let Work::Optimization(spec) = &job.work else {
        panic!()
    };
    let t = &job.target;
    let bars = catalog.load(&t.dataset, None, None).unwrap();
    let data =
        atf_engine::MarketData::new(t.instrument.clone(), bars, t.dataset.timeframe, t.timeframe)
            .unwrap();
    let full = t
        .strategy
        .optimize(&data, &t.config, spec, &OptimizationProgress::new(), 2)
        .unwrap();
    let best = &full.top[0].report.metrics;
    println!(
        "full period: sharpe {:?} return {:.1} %",
        best.sharpe, best.total_return_pct
    );
    assert!(best.sharpe.unwrap() > 1.0, "the full period looks good");
    assert!(best.total_return_pct > 50.0);

    // walked forward: good out of sample before the flip, collapsed after
    let body = json!({
        "strategy": "sma-cross", "dataset": "flip", "axes": grid,
        "constraints": ["fast < slow"], "params": {"long_only": false},
        "inSample": "200d", "outOfSample": "100d"
    });
    let report = run_walkforward(&catalog, &body, 2);
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for f in &report.folds {
        let r = f.winner.as_ref().unwrap().oos_metrics.total_return_pct;
        if f.window.oos_to_ms <= flip_ms {
            before.push(r);
        } else if f.window.oos_from_ms >= flip_ms {
            after.push(r);
        }
    }
    println!("OOS returns before the flip {before:?}, after {after:?}");
    assert!(before.len() >= 3 && after.len() >= 3);
    assert!(
        before.iter().all(|&r| r > 0.0),
        "every fold before the flip earns: {before:?}"
    );
    let losing = after.iter().filter(|&&r| r < 0.0).count();
    assert!(
        losing * 4 >= after.len() * 3,
        "at least 3 folds in 4 lose after the flip: {after:?}"
    );
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(mean(&before) > 10.0, "{before:?}");
    assert!(mean(&after) < 0.0, "{after:?}");
    assert!(
        !report.passed,
        "the walk-forward does not pass: {:?}",
        report.checks
    );
}

#[test]
fn a_cancelled_walkforward_stops_between_folds() {
    let (_dir, catalog) = catalog();
    let reg = Registry::builtin();
    let req = WalkForwardRequest::from_json(&json!({
        "strategy": "sma-cross", "dataset": "spy-1d",
        "axes": {"fast": [5, 10]}, "inSample": "720d", "outOfSample": "360d"
    }))
    .unwrap();
    let ds = catalog.get("spy-1d").unwrap();
    let job = walkforward::check_walkforward(&reg, &req, ds, GridLimits::default(), None).unwrap();
    let bars = catalog.load(&job.target.dataset, None, None).unwrap();
    let progress = WalkForwardProgress::new();
    progress.cancel();
    let r = walkforward::run(&job, &bars, &progress, 1).unwrap();
    assert!(r.cancelled && r.folds.is_empty() && !r.passed);
    assert_eq!(r.stitched.final_equity, 10_000.0);
}

#[test]
fn windows_are_planned_from_the_catalog_entry_and_refused_by_field() {
    let (_dir, catalog) = catalog();
    let reg = Registry::builtin();
    let ds = catalog.get("spy-1d").unwrap();
    let check = |extra: Value| {
        let mut body =
            json!({"strategy": "sma-cross", "dataset": "spy-1d", "axes": {"fast": [5, 10]}});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let req = WalkForwardRequest::from_json(&body)?;
        walkforward::check_walkforward(&reg, &req, ds.clone(), GridLimits::default(), None)
    };
    let job =
        check(json!({"from": "2020-01-01", "inSample": "120d", "outOfSample": "30d"})).unwrap();
    // 2020-01-01 .. 2021-04-01 (the last bar's day): 456 days → (456 - 120) / 30 = 11 folds
    assert_eq!(job.windows.len(), 11);
    assert_eq!(job.total, 22, "folds × combinations");
    // windows start on a whole bar of the run's timeframe
    let req = WalkForwardRequest::from_json(&json!({
        "strategy": "sma-cross", "dataset": "spy-1m", "timeframe": "1d",
        "axes": {"fast": [5, 10]}, "inSample": "10d", "outOfSample": "5d"
    }))
    .unwrap();
    let minute = catalog.get("spy-1m").unwrap();
    assert_eq!(
        minute.first_ts_ms % 86_400_000,
        9 * 3_600_000,
        "starts at 09:00"
    );
    let job =
        walkforward::check_walkforward(&reg, &req, minute.clone(), GridLimits::default(), None)
            .unwrap();
    assert_eq!(
        job.windows[0].is_from_ms,
        minute.first_ts_ms - 9 * 3_600_000 + 86_400_000,
        "the next midnight"
    );
    let e =
        check(json!({"from": "2021-01-01", "inSample": "120d", "outOfSample": "30d"})).unwrap_err();
    assert_eq!(e.field, "inSample");
    assert!(e.reason.contains("do not fit the period"), "{e}");
    let e =
        check(json!({"timeframe": "1w", "inSample": "120d", "outOfSample": "30d"})).unwrap_err();
    assert_eq!(e.field, "inSample", "{e}");
    assert!(
        e.reason
            .contains("whole number of bars of the timeframe 1w"),
        "{e}"
    );
    let e = check(json!({"folds": 5, "oosFraction": 1.5})).unwrap_err();
    assert_eq!(e.field, "oosFraction");
    let e = check(
        json!({"inSample": "120d", "outOfSample": "30d", "criteria": {"maxDrawdownPct": -1}}),
    )
    .unwrap_err();
    assert_eq!(e.field, "criteria.maxDrawdownPct");
    let e = check(json!({"inSample": "120d", "outOfSample": "30d", "axes": {"fast": [0]}}))
        .unwrap_err();
    assert_eq!(
        e.field, "axes.fast",
        "the optimization's own checks come first"
    );
}

#[test]
fn a_walkforward_cancelled_within_a_fold_keeps_the_folds_before_it() {
    let (_dir, catalog) = catalog();
    let reg = Registry::builtin();
    let req = WalkForwardRequest::from_json(&json!({
        "strategy": "sma-cross", "dataset": "spy-1m",
        "axes": {"fast": {"min": 2, "max": 60, "step": 1}, "slow": {"min": 70, "max": 300, "step": 10}},
        "inSample": "20d", "outOfSample": "10d"
    }))
    .unwrap();
    let ds = catalog.get("spy-1m").unwrap();
    let job = walkforward::check_walkforward(&reg, &req, ds, GridLimits::default(), None).unwrap();
    let per_fold = job.spec.grid.size();
    let bars = catalog.load(&job.target.dataset, None, None).unwrap();
    let progress = std::sync::Arc::new(WalkForwardProgress::new());
    let watcher = {
        let progress = std::sync::Arc::clone(&progress);
        std::thread::spawn(move || {
            // once the second fold's optimization has started, cancel it
            while progress.processed() <= per_fold {
                std::thread::yield_now();
            }
            progress.cancel();
        })
    };
    let r = walkforward::run(&job, &bars, &progress, 2).unwrap();
    watcher.join().unwrap();
    assert!(r.cancelled && !r.passed);
    assert!(
        !r.folds.is_empty() && r.folds.len() < job.windows.len(),
        "{} of {} folds",
        r.folds.len(),
        job.windows.len()
    );
    // the folds kept are whole: the stitched account ends where the last one did
    assert_eq!(r.stitched.final_equity, r.folds.last().unwrap().end_equity);
}
