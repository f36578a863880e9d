//! Issue 17's benchmark (run by `bench/search_vs_grid.sh`, not a test):
//! a ~10^6-combination, 4-parameter grid of `donchian-breakout` on SPY
//! daily bars, run in full once; then `random` and `genetic` searches with
//! a 2 % budget for several seeds: the best fitness each found, its rank
//! in the full grid, the evaluations it took to reach it (and to reach any
//! of the grid's top 10), wall time. It also writes the full grid's
//! fitness by combination index, for Optuna's TPE on the same objective.
//!
//! `search_bench DATA.csv.gz FITNESS_OUT [THREADS] [SEEDS]`

use atf_engine::grid::{Axis, Grid};
use atf_engine::optimize::search::{Search, SearchMethod};
use atf_engine::optimize::{Fitness, OptimizationProgress, OptimizationReport, OptimizeSpec};
use atf_engine::{
    BacktestConfig, Bar, Bars, Costs, Instrument, MarketData, Money, Registry, Sizing, Timeframe,
};
use std::io::{Read, Write};
use std::time::Instant;

/// The grid: 32 values on each of four axes = 1,048,576 combinations.
const AXES: [&str; 4] = [
    "entry=5..160:5",
    "exit=2..64:2",
    "stop_loss_pct=0.5..16:0.5",
    "take_profit_pct=1..32:1",
];
/// The searches' budget: 2 % of the grid.
const BUDGET_PCT: u64 = 2;

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Daily bars of a `timestamp,open,high,low,close,volume` gzip CSV
/// (`YYYY-MM-DDT00:00:00Z` times), prices at up to 4 decimals (Lean's).
fn load(path: &str) -> MarketData {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("dataset"))
        .read_to_string(&mut text)
        .expect("gzip csv");
    let instrument = Instrument::new("SPY", 4);
    let scale = instrument.price_scale;
    let mut bars = Bars::default();
    for line in text.lines().skip(1).filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        let num = |s: &str| s.parse::<i64>().expect("date");
        let day = days_from_civil(num(&f[0][0..4]), num(&f[0][5..7]), num(&f[0][8..10]));
        let price = |s: &str| scale.parse(s).expect("price");
        bars.push(Bar {
            ts: day * 86_400_000,
            open: price(f[1]),
            high: price(f[2]),
            low: price(f[3]),
            close: price(f[4]),
            volume: f[5].split('.').next().unwrap_or("0").parse().unwrap_or(0),
        });
    }
    MarketData::new(instrument, bars, Timeframe::D1, Timeframe::D1).expect("bars")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let data_path = args.get(1).expect("DATA.csv.gz");
    let fitness_out = args.get(2).expect("FITNESS_OUT");
    let threads: usize = args.get(3).map_or(2, |t| t.parse().expect("threads"));
    let seeds: u64 = args.get(4).map_or(5, |t| t.parse().expect("seeds"));
    let data = load(data_path);
    let strategy = Registry::builtin()
        .find("donchian-breakout")
        .expect("strategy");
    let space = strategy.info().params;
    let cfg = BacktestConfig {
        initial_cash: Money::from_raw(1_000_000),
        costs: Costs::default(),
        sizing: Sizing::default(),
    };
    let grid = Grid::new(
        AXES.iter()
            .map(|a| Axis::parse(a, &space).expect("axis"))
            .collect(),
        u64::MAX,
    )
    .expect("grid");
    let n = grid.size();
    let spec = |search| OptimizeSpec {
        grid: grid.clone(),
        constraints: Vec::new(),
        base: space.defaults(),
        fitness: Fitness::Sharpe,
        top: 1,
        assess: false,
        search,
    };
    let run = |spec: &OptimizeSpec| -> (OptimizationReport, f64) {
        let t0 = Instant::now();
        let r = strategy
            .optimize(&data, &cfg, spec, &OptimizationProgress::new(), threads)
            .expect("optimize");
        (r, t0.elapsed().as_secs_f64())
    };
    eprintln!(
        "grid: {n} combinations of donchian-breakout on {} daily bars, {threads} threads",
        data.main_bars().len()
    );
    let (full, full_secs) = run(&spec(None));
    // rank (1 = best) and fitness of every combination, as the optimizer ranks
    let mut rank = vec![0u32; n as usize];
    for (r, i) in full.ranking().into_iter().enumerate() {
        rank[full.trials[i].index as usize] = r as u32 + 1;
    }
    let fitness: Vec<Option<f64>> = full.trials.iter().map(|t| full.fitness_of(t)).collect();
    let mut out = std::io::BufWriter::new(std::fs::File::create(fitness_out).expect("out"));
    writeln!(out, "# index fitness rank; axes {}", AXES.join(" ")).expect("write");
    for (i, f) in fitness.iter().enumerate() {
        let f = f.map_or("nan".to_owned(), |f| format!("{f:.17e}"));
        writeln!(out, "{i} {f} {}", rank[i]).expect("write");
    }
    drop(out);
    let best = full.ranking()[0];
    println!(
        "full grid: {n} trials in {full_secs:.1} s ({:.0} trials/s); best sharpe {:.4}",
        n as f64 / full_secs,
        full.fitness_of(&full.trials[best]).unwrap_or(f64::NAN)
    );
    let budget = n * BUDGET_PCT / 100;
    println!(
        "\n| method | seed | budget | best sharpe | its grid rank | evaluations to it | evaluations to a top-10 | wall s |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for method in SearchMethod::ALL {
        let mut hits = 0;
        for seed in 1..=seeds {
            let (r, secs) = run(&spec(Some(Search {
                method,
                budget,
                seed,
            })));
            let order = &r.search.as_ref().expect("a search").order;
            let top = r.ranking()[0];
            let found = r.trials[top].index;
            let at = order.iter().position(|&i| i == found).map_or(0, |p| p + 1);
            let top10 = order
                .iter()
                .position(|&i| rank[i as usize] <= 10)
                .map(|p| p + 1);
            hits += u32::from(top10.is_some());
            println!(
                "| {method} | {seed} | {budget} | {:.4} | {} | {at} | {} | {secs:.1} |",
                r.fitness_of(&r.trials[top]).unwrap_or(f64::NAN),
                rank[found as usize],
                top10.map_or("—".to_owned(), |p| p.to_string()),
            );
        }
        println!("| {method} | top-10 found in {hits}/{seeds} seeds | | | | | | |");
    }
}
