//! Single-core engine throughput: SMA crossover over 1,000,000 one-minute
//! bars, with and without progress tracking and cancellation checks.
//!
//! `cargo bench -p atf-engine --bench backtest` prints sub-bars per second
//! (median of interleaved repetitions) and the relative cost of progress.
//! Data: a seeded geometric random walk (same shape as the peers'
//! `gen_data.py`: 4 decimals, σ = 0.05 % per minute), generated before timing.

use atf_engine::{
    BacktestConfig, Bar, Bars, Costs, Instrument, MarketData, Money, Progress, Registry, Sizing,
    Timeframe,
};
use std::hint::black_box;
use std::time::Instant;

const BARS: usize = 1_000_000;
const REPS: usize = 21;

fn random_walk(n: usize) -> Bars {
    // xorshift64* and Box–Muller: deterministic, no dependency
    let mut s: u64 = 42;
    let mut uniform = move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        ((s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut normal =
        move || (-2.0 * uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * uniform()).cos();
    let mut bars = Bars::with_capacity(n);
    let mut close = 100.0f64;
    for i in 0..n {
        let open = close * (0.0001 * normal()).exp();
        close *= (0.0005 * normal()).exp();
        let high = open.max(close) * (0.0003 * normal()).abs().exp();
        let low = open.min(close) * (-(0.0003 * normal()).abs()).exp();
        let q = |x: f64| (x * 10_000.0).round() as i64;
        let (o, c) = (q(open), q(close));
        bars.push(Bar {
            ts: 1_577_836_800_000 + i as i64 * 60_000,
            open: o,
            high: q(high).max(o).max(c),
            low: q(low).min(o).min(c),
            close: c,
            volume: 1,
        });
    }
    bars
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let bars = random_walk(BARS);
    let only_grid = std::env::var("ATF_BENCH").is_ok_and(|v| v == "grid");
    let inst = Instrument::new("SYNTH", 4);
    let cfg = BacktestConfig {
        initial_cash: Money::from_raw(10_000 * 10_000),
        costs: Costs::default(),
        sizing: Sizing::default(),
    };
    let registry = Registry::builtin();
    let sma = registry.find("sma-cross").expect("registered");
    let params = sma
        .info()
        .params
        .resolve([("fast", "10"), ("slow", "30")])
        .expect("valid");
    if only_grid {
        optimize_grid(&bars, &inst, &cfg);
        return;
    }
    println!("SMA crossover (10, 30), long only, all-in, {BARS} one-minute bars, one thread, median of {REPS}");
    {
        // The bar loop alone, buffers reused (as an optimizer thread does):
        // isolates the cost of progress + cancellation checks.
        use atf_engine::strategies::{SmaCross, SmaCrossParams};
        use atf_engine::{simulate, Broker, Silent};
        let data = MarketData::new(inst.clone(), bars.clone(), Timeframe::M1, Timeframe::M1)
            .expect("data");
        let (mut silent, mut tracked) = (Vec::new(), Vec::new());
        let mut broker = Broker::new(inst.clone(), cfg);
        let mut eq = Vec::new();
        for rep in 0..REPS * 2 {
            broker.reset(cfg);
            let mut s = SmaCross::bar_by_bar(&SmaCrossParams {
                fast: 10,
                slow: 30,
                long_only: true,
            });
            let progress = Progress::new();
            let t = Instant::now();
            if rep % 2 == 0 {
                simulate(black_box(&data), &mut s, &mut broker, &mut eq, &mut Silent).expect("run");
                silent.push(t.elapsed().as_secs_f64());
            } else {
                simulate(
                    black_box(&data),
                    &mut s,
                    &mut broker,
                    &mut eq,
                    &mut &progress,
                )
                .expect("run");
                tracked.push(t.elapsed().as_secs_f64());
                assert_eq!(progress.processed(), BARS as u64);
            }
            assert!(broker.trades().len() > 100);
        }
        let (a, b) = (median(silent), median(tracked));
        println!(
            "  bar loop only (simulate), main 1m: {:>6.1} M sub-bars/s silent, {:>6.1} M/s with progress + cancel checks ({:+.2} %)",
            BARS as f64 / a / 1e6,
            BARS as f64 / b / 1e6,
            (b / a - 1.0) * 100.0
        );
    }
    for main_tf in [Timeframe::M1, Timeframe::H1] {
        let data =
            MarketData::new(inst.clone(), bars.clone(), Timeframe::M1, main_tf).expect("data");
        let (mut silent, mut tracked) = (Vec::new(), Vec::new());
        let mut trades = 0;
        for _ in 0..REPS {
            let t = Instant::now();
            let r = sma
                .backtest(black_box(&data), &cfg, &params, None)
                .expect("run");
            silent.push(t.elapsed().as_secs_f64());
            trades = r.metrics.trade_count;
            let fingerprint = (r.metrics.trade_count, r.metrics.final_equity.to_bits());
            // free the first report before the second run, so both runs see
            // the same allocator state (fresh pages cost page faults)
            drop(r);
            let progress = Progress::new();
            let t = Instant::now();
            let r2 = sma
                .backtest(black_box(&data), &cfg, &params, Some(&progress))
                .expect("run");
            tracked.push(t.elapsed().as_secs_f64());
            assert_eq!(
                progress.processed(),
                BARS as u64,
                "progress reached the total"
            );
            assert_eq!(
                fingerprint,
                (r2.metrics.trade_count, r2.metrics.final_equity.to_bits()),
                "progress does not change results"
            );
        }
        assert!(trades > 100, "the strategy traded ({trades} trades)");
        let (a, b) = (median(silent), median(tracked));
        println!(
            "  full backtest() incl. metrics and report, main {main_tf:>2}: {:>7.1} M sub-bars/s silent, {:>7.1} M/s with progress ({:+.2} %), {trades} trades",
            BARS as f64 / a / 1e6,
            BARS as f64 / b / 1e6,
            (b / a - 1.0) * 100.0
        );
    }
    optimize_grid(&bars, &inst, &cfg);
}

/// DESIGN §8's grid: 190 combinations over 100,000 one-minute bars, at 1
/// and 2 threads (the engine's own time, data already in memory).
fn optimize_grid(bars: &Bars, inst: &Instrument, cfg: &BacktestConfig) {
    use atf_engine::grid::{Axis, Grid};
    use atf_engine::optimize::{Fitness, OptimizationProgress, OptimizeSpec};
    let mut first = Bars::with_capacity(100_000);
    for i in 0..100_000 {
        first.push(bars.get(i));
    }
    let data = MarketData::new(inst.clone(), first, Timeframe::M1, Timeframe::M1).expect("data");
    let sma = Registry::builtin().find("sma-cross").expect("registered");
    let space = sma.info().params;
    let spec = OptimizeSpec {
        grid: Grid::new(
            vec![
                Axis::parse("fast=5..50:5", &space).expect("axis"),
                Axis::parse("slow=20..200:10", &space).expect("axis"),
            ],
            1_000_000,
        )
        .expect("grid"),
        constraints: Vec::new(),
        base: space.defaults(),
        fitness: Fitness::NetProfit,
        top: 20,
        assess: true,
        search: None,
    };
    println!("Grid: SMA crossover fast 5..50:5 x slow 20..200:10 (190 combinations) over 100,000 one-minute bars");
    // ATF_BENCH_THREADS=1 and ATF_BENCH_REPS=31: a steadier figure for
    // comparing two builds on a noisy machine (compare the best times)
    let env = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
    };
    let thread_counts = env("ATF_BENCH_THREADS").map_or(vec![1, 2], |t| vec![t]);
    let reps = env("ATF_BENCH_REPS").unwrap_or(11).max(1);
    for threads in thread_counts {
        let mut times = Vec::new();
        for _ in 0..reps {
            let t = Instant::now();
            let r = sma
                .optimize(
                    black_box(&data),
                    cfg,
                    &spec,
                    &OptimizationProgress::new(),
                    threads,
                )
                .expect("optimize");
            times.push(t.elapsed().as_secs_f64());
            assert_eq!(r.completed, 190);
        }
        let best = times.iter().copied().fold(f64::MAX, f64::min);
        let med = median(times);
        println!(
            "  {threads} thread(s): {:>6.0} combinations/s median ({:.0} best), {:>6.1} M bar-steps/s",
            190.0 / med,
            190.0 / best,
            190.0 * 100_000.0 / med / 1e6
        );
    }
}
