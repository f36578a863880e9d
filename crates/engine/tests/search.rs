//! Searches (random, genetic) instead of the whole grid: within their
//! budget, without repeats, each trial the grid's own, and bit-identical
//! whatever the thread count.

use atf_engine::grid::{Axis, Constraint, Grid};
use atf_engine::optimize::search::{Search, SearchMethod};
use atf_engine::optimize::{Fitness, OptimizationProgress, OptimizationReport, OptimizeSpec};
use atf_engine::{BacktestConfig, Costs, MarketData, Money, Ratio, Registry, Sizing};
use std::collections::HashSet;

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

fn spec(axes: &[&str], constraints: &[&str], search: Option<Search>) -> OptimizeSpec {
    let space = Registry::builtin().find("sma-cross").unwrap().info().params;
    OptimizeSpec {
        grid: Grid::new(
            axes.iter()
                .map(|a| Axis::parse(a, &space).unwrap())
                .collect(),
            u64::MAX,
        )
        .unwrap(),
        constraints: constraints
            .iter()
            .map(|c| Constraint::parse(c, &space).unwrap())
            .collect(),
        base: space.defaults(),
        fitness: Fitness::Sharpe,
        top: 5,
        assess: true,
        search,
    }
}

fn run(data: &MarketData, spec: &OptimizeSpec, threads: usize) -> OptimizationReport {
    Registry::builtin()
        .find("sma-cross")
        .unwrap()
        .optimize(data, &cfg(), spec, &OptimizationProgress::new(), threads)
        .unwrap()
}

/// The report as JSON without what depends on the machine (wall time,
/// thread count).
fn json(r: &OptimizationReport) -> serde_json::Value {
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
}

const AXES: [&str; 3] = ["fast=2..40:1", "slow=10..120:2", "long_only=true,false"];

#[test]
fn searches_are_identical_on_one_and_two_threads() {
    let data = walk(3_000);
    for method in SearchMethod::ALL {
        let search = Search {
            method,
            budget: 300,
            seed: 42,
        };
        let s = spec(&AXES, &["fast<slow"], Some(search));
        let one = run(&data, &s, 1);
        let two = run(&data, &s, 2);
        assert_eq!(one.trials, two.trials, "{method}");
        assert_eq!(one.search, two.search, "{method}: same order, generations");
        assert_eq!(json(&one), json(&two), "{method}");
        assert_eq!(one.trials.len(), 300, "{method}: the whole budget");
        assert!(!one.cancelled);
        let summary = one.summary().search.unwrap();
        assert_eq!((summary.method, summary.seed), (method, 42));
        // another seed, another search
        let other = run(
            &data,
            &spec(&AXES, &["fast<slow"], Some(Search { seed: 43, ..search })),
            2,
        );
        assert_ne!(
            one.search.unwrap().order,
            other.search.unwrap().order,
            "{method}"
        );
    }
}

#[test]
fn a_search_evaluates_its_budget_without_repeats_each_trial_the_grids_own() {
    let data = walk(3_000);
    let grid = run(&data, &spec(&AXES, &["fast<slow"], None), 2);
    for method in SearchMethod::ALL {
        let s = spec(
            &AXES,
            &["fast<slow"],
            Some(Search {
                method,
                budget: 400,
                seed: 7,
            }),
        );
        let r = run(&data, &s, 2);
        let order = &r.search.as_ref().unwrap().order;
        assert_eq!(order.len(), 400);
        assert_eq!(
            order.iter().collect::<HashSet<_>>().len(),
            400,
            "no repeats"
        );
        assert_eq!(r.completed + r.failed, 400, "skips do not count");
        assert_eq!(r.total_combinations(), grid.total_combinations());
        for t in &r.trials {
            let at = grid
                .trials
                .binary_search_by_key(&t.index, |g| g.index)
                .expect("an allowed combination");
            assert_eq!(&grid.trials[at], t, "trial {} as in the grid", t.index);
        }
        // the robustness counts the trials evaluated, not the grid
        assert_eq!(r.robustness.as_ref().unwrap().trials, 400);
    }
}

#[test]
fn the_genetic_search_beats_its_first_generation() {
    let data = walk(3_000);
    let s = spec(
        &AXES,
        &[],
        Some(Search {
            method: SearchMethod::Genetic,
            budget: 800,
            seed: 3,
        }),
    );
    let r = run(&data, &s, 2);
    let out = r.search.as_ref().unwrap();
    assert!(out.summary.generations >= 10, "{:?}", out.summary);
    let fitness = |index: u64| {
        let at = r.trials.binary_search_by_key(&index, |t| t.index).unwrap();
        r.fitness_of(&r.trials[at]).unwrap_or(f64::MIN)
    };
    let first_gen = out.order.len() / out.summary.generations as usize;
    let best_first = out.order[..first_gen]
        .iter()
        .map(|&i| fitness(i))
        .fold(f64::MIN, f64::max);
    let best = r.fitness_of(&r.trials[r.ranking()[0]]).unwrap();
    assert!(best > best_first, "{best} after, {best_first} at first");
}

#[test]
fn a_space_beyond_any_grid_limit_is_searched_within_its_budget() {
    let data = walk(1_500);
    let strategy = Registry::builtin().find("donchian-breakout").unwrap();
    let space = strategy.info().params;
    // 10,000 × 10,000 × 100 × 100 = 10^12 combinations
    let axes = [
        "entry=1..10000:1",
        "exit=1..10000:1",
        "stop_loss_pct=0.5..50:0.5",
        "take_profit_pct=0.5..50:0.5",
    ];
    let s = OptimizeSpec {
        grid: Grid::new(
            axes.iter()
                .map(|a| Axis::parse(a, &space).unwrap())
                .collect(),
            u64::MAX,
        )
        .unwrap(),
        constraints: Vec::new(),
        base: space.defaults(),
        fitness: Fitness::Sharpe,
        top: 3,
        assess: true,
        search: Some(Search {
            method: SearchMethod::Random,
            budget: 40,
            seed: 1,
        }),
    };
    assert_eq!(s.grid.size(), 1_000_000_000_000);
    let r = strategy
        .optimize(&data, &cfg(), &s, &OptimizationProgress::new(), 2)
        .unwrap();
    assert_eq!(r.trials.len(), 40);
    assert_eq!(r.summary().total_combinations, 1_000_000_000_000);
}

#[test]
fn a_cancelled_search_says_so() {
    let data = walk(2_000);
    let s = spec(
        &AXES,
        &[],
        Some(Search {
            method: SearchMethod::Genetic,
            budget: 500,
            seed: 1,
        }),
    );
    let progress = OptimizationProgress::new();
    progress.cancel();
    let r = Registry::builtin()
        .find("sma-cross")
        .unwrap()
        .optimize(&data, &cfg(), &s, &progress, 2)
        .unwrap();
    assert!(r.cancelled);
    assert!(r.trials.is_empty());
}

/// Issue 17, resume: an interrupted grid or search, resumed from the
/// trials it recorded, runs only the rest and ends exactly as the
/// uninterrupted run.
#[test]
fn a_resumed_run_ends_as_the_uninterrupted_one() {
    use atf_engine::optimize::resume;
    let data = walk(3_000);
    for search in [
        None,
        Some(SearchMethod::Random),
        Some(SearchMethod::Genetic),
    ] {
        let search = search.map(|method| Search {
            method,
            budget: 300,
            seed: 5,
        });
        let s = spec(&AXES, &["fast<slow"], search);
        let full = run(&data, &s, 2);
        // what an interrupted run recorded: a part of the trials (for a
        // search, the first batches and some of a later one)
        let recorded: Vec<_> = match &full.search {
            None => full
                .trials
                .iter()
                .filter(|t| t.index % 3 != 0)
                .cloned()
                .collect(),
            Some(o) => {
                let kept: HashSet<u64> = o.order[..120]
                    .iter()
                    .chain(o.order[200..].iter().step_by(7))
                    .copied()
                    .collect();
                full.trials
                    .iter()
                    .filter(|t| kept.contains(&t.index))
                    .cloned()
                    .collect()
            }
        };
        let progress = OptimizationProgress::new();
        let resumed = resume::<atf_engine::strategies::SmaCross>(
            &data,
            &cfg(),
            &s,
            recorded.clone(),
            &progress,
            2,
        )
        .unwrap();
        let label = format!("{:?}", search.map(|s| s.method));
        assert_eq!(
            progress.completed() + progress.failed(),
            (full.trials.len() - recorded.len()) as u64,
            "{label}: only the trials not recorded ran"
        );
        assert_eq!(resumed.trials, full.trials, "{label}");
        assert_eq!(resumed.search, full.search, "{label}");
        assert_eq!(json(&resumed), json(&full), "{label}");
        assert!(!resumed.cancelled);
    }
}

/// A search stepped from outside ([`SearchDriver`]), each batch run as
/// separate lists in any order — as scale-out workers run it — ends as the
/// optimizer's own search: same trials, ranking, top and search summary.
#[test]
fn a_search_driven_batch_by_batch_from_outside_is_the_optimizers() {
    use atf_engine::metrics::RunCommon;
    use atf_engine::optimize::search::SearchDriver;
    let data = walk(3_000);
    let entry = Registry::builtin().find("sma-cross").unwrap();
    for method in SearchMethod::ALL {
        let search = Search {
            method,
            budget: 300,
            seed: 7,
        };
        let spec = spec(&AXES, &["fast < slow"], Some(search));
        let common = RunCommon {
            initial_equity: data.instrument.money_f64(cfg().initial_cash),
            main_bars: data.window_times().len() as u64,
            sub_bars: data.total_sub_bars(),
        };
        let mut driver = SearchDriver::new(&spec, search, common, Vec::new());
        let mut batches = 0;
        while let Some(todo) = driver.next_batch() {
            batches += 1;
            // two "workers", the second half's results arriving first
            let (a, b) = todo.split_at(todo.len() / 2);
            let progress = OptimizationProgress::new();
            let later = entry
                .run_list(&data, &cfg(), &spec, b, &progress, 1)
                .unwrap();
            let mut fresh = entry
                .run_list(&data, &cfg(), &spec, a, &progress, 2)
                .unwrap();
            fresh.extend(later);
            assert!(driver.feed(fresh));
        }
        let skipped = driver.skipped();
        let (trials, outcome) = driver.finish();
        let mut outside = entry
            .assemble(&data, &cfg(), &spec, trials, skipped, false, 1, 0.0)
            .unwrap();
        outside.search = Some(outcome);
        let inside = run(&data, &spec, 2);
        assert!(batches > 1 || method == SearchMethod::Random, "{method}");
        assert_eq!(json(&outside), json(&inside), "{method}");
    }
}
