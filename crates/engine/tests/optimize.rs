//! Grid optimization: isolation of failing trials, constraints, ranking,
//! determinism across thread counts, agreement with single backtests and
//! cancellation.

use atf_engine::grid::{Axis, Constraint, Grid};
use atf_engine::optimize::{Fitness, OptimizationProgress, OptimizeSpec, TrialOutcome};
use atf_engine::strategies::FaultInjection;
use atf_engine::{BacktestConfig, Costs, MarketData, Money, Ratio, Registry, Sizing};
use std::sync::LazyLock;

/// The built-ins and the test-only strategy that fails on purpose.
static REGISTRY: LazyLock<Registry> =
    LazyLock::new(|| Registry::builtin().with::<FaultInjection>());
use std::sync::Arc;
use std::time::Duration;

fn walk(n: usize) -> MarketData {
    atf_testkit::walk::market_data(n, 0x2545_F491_4F6C_DD1D)
}

fn cfg() -> BacktestConfig {
    BacktestConfig {
        initial_cash: Money::from_raw(1_000_000),
        costs: Costs {
            commission_rate: Ratio::from_percent_str("0.05").unwrap(),
            ..Costs::default()
        },
        sizing: Sizing::default(),
    }
}

fn spec(strategy: &str, axes: &[&str], constraints: &[&str], fitness: Fitness) -> OptimizeSpec {
    let space = REGISTRY.find(strategy).unwrap().info().params;
    OptimizeSpec {
        grid: Grid::new(
            axes.iter()
                .map(|a| Axis::parse(a, &space).unwrap())
                .collect(),
            1_000_000,
        )
        .unwrap(),
        constraints: constraints
            .iter()
            .map(|c| Constraint::parse(c, &space).unwrap())
            .collect(),
        base: space.defaults(),
        fitness,
        top: 5,
        assess: true,
        search: None,
    }
}

#[test]
fn failing_trials_are_recorded_and_the_rest_complete() {
    let data = walk(2_000);
    let s = REGISTRY.find("fault-injection").unwrap();
    let spec = spec(
        "fault-injection",
        &["period=10..50:10", "fault=none,panic,error"],
        &[],
        Fitness::NetProfit,
    );
    let progress = OptimizationProgress::new();
    let r = s.optimize(&data, &cfg(), &spec, &progress, 2).unwrap();
    assert_eq!(r.total_combinations(), 15);
    assert_eq!((r.completed, r.failed, r.skipped), (5, 10, 0));
    assert_eq!(
        (
            progress.completed(),
            progress.failed(),
            progress.processed()
        ),
        (5, 10, 15)
    );
    assert!(!r.cancelled);
    assert_eq!(r.trials.len(), 15);
    for t in &r.trials {
        let params = spec.params_of(t.index);
        let period = params.int("period");
        match (params.choice("fault"), &t.outcome) {
            ("none", TrialOutcome::Completed(m)) => assert!(m.trade_count() > 0),
            ("panic", TrialOutcome::Failed(f)) => {
                assert!(
                    f.message
                        .contains(&format!("injected panic at bar 50 (period {period})")),
                    "{}",
                    f.message
                );
                assert!(f.message.contains("fault_injection.rs"), "{}", f.message);
                assert!(f.backtrace.contains("fault_injection"), "{}", f.backtrace);
            }
            ("error", TrialOutcome::Failed(f)) => {
                assert_eq!(
                    &*f.message,
                    format!("injected error at bar 50 (period {period})")
                );
                assert!(!f.backtrace.is_empty());
            }
            (fault, outcome) => panic!("fault={fault} gave {outcome:?}"),
        }
    }
    // failed trials rank after every completed one
    let ranking = r.ranking();
    assert!(ranking[..5]
        .iter()
        .all(|&i| matches!(r.trials[i].outcome, TrialOutcome::Completed(_))));
    assert_eq!(r.top.len(), 5);
}

#[test]
fn constraints_skip_combinations_without_failing_them() {
    let data = walk(3_000);
    let s = REGISTRY.find("sma-cross").unwrap();
    let spec = spec(
        "sma-cross",
        &["fast=5..50:5", "slow=20..200:10"],
        &["fast<slow"],
        Fitness::Sharpe,
    );
    let r = s
        .optimize(&data, &cfg(), &spec, &OptimizationProgress::new(), 2)
        .unwrap();
    assert_eq!(r.total_combinations(), 190);
    assert_eq!((r.completed, r.failed, r.skipped), (174, 0, 16));
    assert_eq!(r.trials.len(), 174);
    for t in &r.trials {
        let p = spec.params_of(t.index);
        assert!(p.int("fast") < p.int("slow"), "{:?}", p);
    }
    // trials come back in index order
    assert!(r.trials.windows(2).all(|w| w[0].index < w[1].index));
}

#[test]
fn results_are_identical_whatever_the_thread_count() {
    let data = walk(5_000);
    let s = REGISTRY.find("sma-cross").unwrap();
    let spec = spec(
        "sma-cross",
        &["fast=2..20:2", "slow=10..60:5", "long_only=true,false"],
        &[],
        Fitness::ReturnOverDrawdown,
    );
    let runs: Vec<_> = [1, 2, 3, 4]
        .into_iter()
        .map(|threads| {
            s.optimize(&data, &cfg(), &spec, &OptimizationProgress::new(), threads)
                .unwrap()
        })
        .collect();
    let json = |r: &atf_engine::optimize::OptimizationReport| {
        let mut v = serde_json::to_value(r.outcome(true)).unwrap();
        let obj = v.as_object_mut().unwrap();
        obj.remove("wallTimeMs");
        obj.remove("threads");
        for t in obj["top"].as_array_mut().unwrap() {
            let m = t["metrics"].as_object_mut().unwrap();
            m.remove("wallTimeMs");
            m.remove("subBarsPerSecond");
        }
        v
    };
    let first = json(&runs[0]);
    for r in &runs[1..] {
        assert_eq!(runs[0].trials, r.trials, "{} threads", r.threads);
        assert_eq!(first, json(r), "{} threads", r.threads);
    }
}

#[test]
fn every_trial_equals_the_backtest_of_its_parameters() {
    let data = walk(4_000);
    let s = REGISTRY.find("donchian-breakout").unwrap();
    let spec = spec(
        "donchian-breakout",
        &["entry=10..40:10", "stop_loss_pct=0,2"],
        &[],
        Fitness::Sharpe,
    );
    let r = s
        .optimize(&data, &cfg(), &spec, &OptimizationProgress::new(), 2)
        .unwrap();
    assert_eq!(r.trials.len(), 8);
    for t in &r.trials {
        let params = spec.params_of(t.index);
        let single = s.backtest(&data, &cfg(), &params, None).unwrap();
        let TrialOutcome::Completed(m) = &t.outcome else {
            panic!("trial {} failed", t.index)
        };
        let mut expected = single.metrics.clone();
        (expected.wall_time_ms, expected.sub_bars_per_second) = (None, None);
        assert_eq!(m.expand(&r.common, None), expected, "{params:?}");
    }
    // the kept best reports are the full backtests of their parameters
    for top in &r.top {
        let single = s
            .backtest(&data, &cfg(), &spec.params_of(top.index), None)
            .unwrap();
        assert_eq!(top.report.trades, single.trades);
        assert_eq!(top.report.equity_curve, single.equity_curve);
    }
}

#[test]
fn ranking_is_by_fitness_then_index_and_top_k_matches_it() {
    let data = walk(3_000);
    let s = REGISTRY.find("sma-cross").unwrap();
    for fitness in Fitness::ALL {
        let spec = spec(
            "sma-cross",
            &["fast=3..15:3", "slow=20..50:10"],
            &[],
            fitness,
        );
        let r = s
            .optimize(&data, &cfg(), &spec, &OptimizationProgress::new(), 2)
            .unwrap();
        let ranking = r.ranking();
        let scores: Vec<(Option<f64>, u64)> = ranking
            .iter()
            .map(|&i| (r.fitness_of(&r.trials[i]), r.trials[i].index))
            .collect();
        for w in scores.windows(2) {
            let ((a, ia), (b, ib)) = (w[0], w[1]);
            let ordered = match (a, b) {
                (Some(a), Some(b)) => a > b || (a == b && ia < ib),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => ia < ib,
            };
            assert!(ordered, "{fitness}: {:?} before {:?}", w[0], w[1]);
        }
        assert_eq!(r.top.len(), 5);
        for (k, top) in r.top.iter().enumerate() {
            assert_eq!(top.rank, k + 1);
            assert_eq!(top.index, r.trials[ranking[k]].index, "{fitness}");
        }
    }
}

#[test]
fn cancellation_stops_every_thread_at_its_current_trial() {
    let data = walk(200_000);
    let s = REGISTRY.find("sma-cross").unwrap();
    let spec = spec(
        "sma-cross",
        &["fast=1..100:1", "slow=1..100:1"],
        &[],
        Fitness::Sharpe,
    );
    let threads = 2;
    let progress = Arc::new(OptimizationProgress::new());
    let watcher = {
        let p = Arc::clone(&progress);
        std::thread::spawn(move || {
            while p.processed() < 4 {
                std::thread::sleep(Duration::from_millis(1));
            }
            p.cancel();
            // every trial counted from here on was already running
            p.processed()
        })
    };
    let r = s
        .optimize(&data, &cfg(), &spec, &progress, threads)
        .unwrap();
    let done_at_cancel = watcher.join().unwrap();
    assert!(r.cancelled);
    assert_eq!(r.trials.len() as u64, r.completed + r.failed);
    // no thread starts another trial once cancelled: at most the one each
    // was running ends after the cancel (the rest of the grid never runs)
    assert!(
        r.completed + r.failed <= done_at_cancel + threads as u64,
        "{} trials ended, {done_at_cancel} of them before the cancel",
        r.completed + r.failed
    );
}

#[test]
fn leaders_show_the_best_so_far() {
    let data = walk(2_000);
    let s = REGISTRY.find("sma-cross").unwrap();
    let spec = spec(
        "sma-cross",
        &["fast=2..30:2", "slow=10..100:10"],
        &[],
        Fitness::NetProfit,
    );
    let progress = OptimizationProgress::new();
    let r = s.optimize(&data, &cfg(), &spec, &progress, 2).unwrap();
    let leaders = progress.leaders();
    assert_eq!(leaders.len(), 10);
    let ranking = r.ranking();
    for (l, &i) in leaders.iter().zip(&ranking) {
        assert_eq!(l.index, r.trials[i].index);
    }
}

#[test]
fn a_grid_run_in_chunks_anywhere_equals_the_single_run_trial_for_trial() {
    let data = walk(3_000);
    let s = REGISTRY.find("sma-cross").unwrap();
    let spec = spec(
        "sma-cross",
        &["fast=2..20:2", "slow=5..60:5"],
        &["fast < slow"],
        Fitness::Sharpe,
    );
    let whole = s
        .optimize(&data, &cfg(), &spec, &OptimizationProgress::new(), 2)
        .unwrap();
    // chunks run out of order, on different thread counts, one of them twice
    // (a reclaimed chunk), as workers on several machines would
    let total = spec.grid.size();
    let mut ranges: Vec<std::ops::Range<u64>> = (0..total)
        .step_by(17)
        .map(|a| a..(a + 17).min(total))
        .collect();
    ranges.reverse();
    ranges.push(0..17);
    let mut trials = Vec::new();
    let mut skipped = 0;
    for (i, r) in ranges.iter().enumerate() {
        let p = OptimizationProgress::new();
        let got = s
            .run_range(&data, &cfg(), &spec, r.clone(), &p, 1 + i % 3)
            .unwrap();
        assert!(got.windows(2).all(|w| w[0].index < w[1].index));
        assert!(got.iter().all(|t| r.contains(&t.index)));
        if i < ranges.len() - 1 {
            skipped += p.skipped();
        }
        trials.extend(got);
    }
    let parts = s
        .assemble(&data, &cfg(), &spec, trials, skipped, false, 2, 0.0)
        .unwrap();
    assert_eq!(parts.trials, whole.trials, "every trial equal, bit for bit");
    assert_eq!(parts.ranking(), whole.ranking());
    assert_eq!(
        (parts.completed, parts.failed, parts.skipped),
        (whole.completed, whole.failed, whole.skipped)
    );
    assert_eq!(parts.top.len(), whole.top.len());
    for (a, b) in parts.top.iter().zip(&whole.top) {
        assert_eq!((a.index, a.rank, a.fitness), (b.index, b.rank, b.fitness));
        assert_eq!(a.report.equity_curve, b.report.equity_curve);
        assert_eq!(a.report.trades, b.report.trades);
        assert_eq!(a.report.metrics.final_equity, b.report.metrics.final_equity);
        assert_eq!(a.report.metrics.sharpe, b.report.metrics.sharpe);
    }
    // a trial travels between machines as bits and comes back identical
    for t in &whole.trials {
        if let atf_engine::optimize::TrialOutcome::Completed(m) = &t.outcome {
            assert_eq!(
                atf_engine::metrics::TrialMetrics::from_bits(&m.to_bits()),
                *m
            );
        }
    }
}

/// What leaves the engine reads back as what went in: the streamed
/// `--json` form equals the collected [`OptimizationOutcome`], and every
/// result type survives a JSON round trip bit for bit (failed trials,
/// undefined ratios and open positions included).
#[test]
fn results_round_trip_through_json() {
    use atf_engine::optimize::OptimizationOutcome;
    let data = walk(3_000);
    let s = REGISTRY.find("fault-injection").unwrap();
    let spec = spec(
        "fault-injection",
        &["period=10..50:10", "fault=none,panic,error"],
        &[],
        Fitness::Sharpe,
    );
    let report = s
        .optimize(&data, &cfg(), &spec, &OptimizationProgress::new(), 2)
        .unwrap();
    let collected = report.to_outcome(true);
    assert!(collected
        .trials
        .iter()
        .any(|t| t.error_stack_trace.is_some()));
    assert!(collected.trials.iter().any(|t| t.metrics.is_some()));
    let streamed = serde_json::to_string(&report.outcome(true)).unwrap();
    let read: OptimizationOutcome = serde_json::from_str(&streamed).unwrap();
    assert_eq!(read, collected);
    assert_eq!(serde_json::to_string(&read).unwrap(), streamed);
    let without_top: OptimizationOutcome =
        serde_json::from_str(&serde_json::to_string(&report.outcome(false)).unwrap()).unwrap();
    assert_eq!(without_top.top, None);
    assert_eq!(without_top.trials, collected.trials);
    for top in collected.top.unwrap() {
        let text = serde_json::to_string(&top.report).unwrap();
        let back: atf_engine::BacktestReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back, top.report);
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }
}
