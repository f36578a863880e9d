//! Is the winner real, on data with a known answer: the real optimizer
//! over bars built here from a seeded generator (a xorshift, so the data is
//! the same on every machine).
//!
//! - On a pure random walk, the best of a large grid of SMA crosses looks
//!   good on its own (a high Sharpe ratio) but its deflated Sharpe ratio
//!   stays below 0.95: selection explains it.
//! - On a series with a planted, persistent edge (returns that carry on:
//!   an AR(1) with φ > 0, which trend following earns from), the winner's
//!   DSR is ≥ 0.95.
//! - PBO tells the two apart too: on the random walk the in-sample best of
//!   a split often ranks in the bottom half out of sample (PBO well above
//!   0 on every path, about ½ on average); with the edge it almost never
//!   does.
//! - The per-block sums PBO reads, gathered in the bar loop, are those of
//!   the trial's own equity curve.
//! - The robustness is bit for bit the same whatever the thread count.

use atf_engine::grid::{Axis, Constraint, Grid};
use atf_engine::optimize::{Fitness, OptimizationProgress, OptimizationReport, OptimizeSpec};
use atf_engine::robustness::{BlockReturns, Robustness, BLOCKS};
use atf_engine::{
    BacktestConfig, Bar, Bars, Costs, Instrument, MarketData, Money, Registry, Sizing, Timeframe,
};

/// A xorshift64 with a roughly normal draw (the sum of 12 uniforms − 6).
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
    }
}

/// `n` one-minute bars whose per-bar log returns follow
/// `r_t = φ·r_{t−1} + σ·ε_t` (φ = 0: a random walk), prices in cents
/// from 1,000.00.
fn bars(n: usize, phi: f64, seed: u64) -> Vec<Bar> {
    let mut rng = Rng(seed);
    let sigma = 0.001;
    let mut bars = Vec::with_capacity(n);
    let (mut log_p, mut r) = (100_000f64.ln(), 0.0);
    let mut prev = 100_000i64;
    for i in 0..n {
        r = phi * r + sigma * rng.normal();
        log_p += r;
        let close = log_p.exp().round() as i64;
        let open = prev;
        bars.push(Bar {
            ts: i as i64 * 60_000,
            open,
            high: open.max(close) + 5,
            low: open.min(close) - 5,
            close,
            volume: 1,
        });
        prev = close;
    }
    bars
}

fn series(n: usize, phi: f64, seed: u64) -> MarketData {
    let mut all = Bars::with_capacity(n);
    for b in bars(n, phi, seed) {
        all.push(b);
    }
    MarketData::new(Instrument::new("GEN", 2), all, Timeframe::M1, Timeframe::M1).unwrap()
}

/// The same bars, the first `warmup` of them as warm-up before the window.
fn series_with_warmup(n: usize, warmup: usize, phi: f64, seed: u64) -> MarketData {
    let (mut before, mut window) = (Bars::with_capacity(warmup), Bars::with_capacity(n));
    for (i, b) in bars(n, phi, seed).into_iter().enumerate() {
        if i < warmup {
            before.push(b);
        } else {
            window.push(b);
        }
    }
    MarketData::with_warmup(
        Instrument::new("GEN", 2),
        &before,
        window,
        Timeframe::M1,
        Timeframe::M1,
        warmup,
    )
    .unwrap()
}

/// An SMA-cross grid (fast 2..40 × slow 10..200, long and short, 400
/// combinations less those with fast ≥ slow) ranked by Sharpe.
fn optimize(data: &MarketData, threads: usize) -> OptimizationReport {
    let registry = Registry::builtin();
    let strategy = registry.find("sma-cross").unwrap();
    let space = strategy.info().params;
    let spec = OptimizeSpec {
        grid: Grid::new(
            vec![
                Axis::parse("fast=2..40:2", &space).unwrap(),
                Axis::parse("slow=10..200:10", &space).unwrap(),
            ],
            1_000_000,
        )
        .unwrap(),
        constraints: vec![Constraint::parse("fast<slow", &space).unwrap()],
        base: space.resolve([("long_only", "false")]).unwrap(),
        fitness: Fitness::Sharpe,
        top: 10,
        assess: true,
        search: None,
    };
    let cfg = BacktestConfig {
        initial_cash: Money::from_raw(10_000_000),
        costs: Costs::default(),
        sizing: Sizing::default(),
    };
    strategy
        .optimize(data, &cfg, &spec, &OptimizationProgress::new(), threads)
        .unwrap()
}

/// The robustness of [`optimize`]'s grid.
fn robustness_of(data: &MarketData, threads: usize) -> Robustness {
    optimize(data, threads)
        .robustness
        .expect("a completed trial")
}

#[test]
fn on_a_random_walk_the_best_of_a_large_grid_is_not_significant() {
    let mut pbos = Vec::new();
    for seed in [0x9E37_79B9_7F4A_7C15, 11, 12_345, 1, 2, 3, 4, 5] {
        let r = robustness_of(&series(20_000, 0.0, seed), 2);
        let s = r.sharpe.expect("the winner's returns vary");
        eprintln!(
            "random walk {seed}: N {} SR/bar {:.4} PSR {:.4} SR0 {:.4} DSR {:.4} N̂ {:?} DSR(N̂) {:?}",
            r.trials, s.sharpe, s.psr, s.expected_max_sharpe, s.dsr, s.effective_trials, s.dsr_effective
        );
        assert!(r.trials > 300, "{} trials", r.trials);
        assert!(s.dsr < 0.95, "seed {seed}: DSR {} on pure noise", s.dsr);
        // fewer independent trials than combinations, and still not significant
        let n_eff = s.effective_trials.expect("a sample of trials to correlate");
        assert!(1.0 <= n_eff && n_eff < r.trials as f64, "N̂ {n_eff}");
        assert!(s.dsr_effective.unwrap() < 0.95, "seed {seed}: DSR at N̂");
        // selection is what DSR takes off: the winner alone looks better
        assert!(s.psr > s.dsr);
        let p = r.pbo.expect("PBO over the grid's block sums");
        eprintln!(
            "random walk {seed}: PBO {:.3} over {} splits of {} trials, logit median {:.3}, slope {:?}",
            p.pbo, p.splits, p.trials, p.logits.quantiles.median, p.degradation.slope
        );
        assert_eq!(
            (p.blocks, p.splits, p.possible_splits, p.trials),
            (16, 12_870, 12_870, r.trials)
        );
        assert!(p.pbo > 0.05, "seed {seed}: PBO {} on pure noise", p.pbo);
        pbos.push(p.pbo);
    }
    // one path's PBO varies a lot (the trials are few independent bets:
    // N̂ ≈ 170 of 366); over paths it is about ½, as for coin flips
    let mean = pbos.iter().sum::<f64>() / pbos.len() as f64;
    assert!(mean > 0.3, "mean PBO {mean} over {pbos:?}");
}

/// The planted edge: each bar's return carries this share of the last one.
const PHI: f64 = 0.2;

#[test]
fn a_planted_persistent_edge_is_significant() {
    for seed in [0x9E37_79B9_7F4A_7C15, 11, 12_345] {
        let r = robustness_of(&series(20_000, PHI, seed), 2);
        let s = r.sharpe.expect("the winner's returns vary");
        eprintln!(
            "edge {seed}: N {} SR/bar {:.4} PSR {:.4} SR0 {:.4} DSR {:.4} N̂ {:?} DSR(N̂) {:?}",
            r.trials,
            s.sharpe,
            s.psr,
            s.expected_max_sharpe,
            s.dsr,
            s.effective_trials,
            s.dsr_effective
        );
        assert!(s.dsr >= 0.95, "seed {seed}: DSR {} with a real edge", s.dsr);
        let p = r.pbo.expect("PBO over the grid's block sums");
        eprintln!(
            "edge {seed}: PBO {:.3}, logit median {:.3}, slope {:?}, P(loss) {:.3}",
            p.pbo,
            p.logits.quantiles.median,
            p.degradation.slope,
            p.degradation.probability_of_loss
        );
        assert!(p.pbo < 0.05, "seed {seed}: PBO {} with a real edge", p.pbo);
        assert!(p.logits.quantiles.median > 0.0);
        // and the in-sample winner almost never loses out of sample
        assert!(p.degradation.probability_of_loss < 0.05);
    }
}

/// Checks each best trial's block sums against its equity curve.
fn block_sums_match_the_curves(report: &OptimizationReport) {
    for top in &report.top {
        let raw = top
            .report
            .equity_curve
            .raw()
            .expect("the engine's integers");
        let mut prev = 10_000_000i64;
        let returns: Vec<f64> = raw
            .iter()
            .map(|&e| {
                let r = (e - prev) as f64 / prev as f64;
                prev = e;
                r
            })
            .collect();
        let want = BlockReturns::of(&returns).unwrap();
        let trial = report.trials.iter().find(|t| t.index == top.index).unwrap();
        let got = trial.blocks.expect("a completed trial's block sums");
        for k in 0..BLOCKS {
            let (g, w) = (got.cells()[k], want.cells()[k]);
            assert!(
                (g[0] - w[0]).abs() < 1e-12 && (g[1] - w[1]).abs() < 1e-12,
                "trial {} block {k}: loop {g:?}, curve {w:?}",
                top.index
            );
        }
        // a trading strategy's blocks differ from one another
        assert!(got.cells().iter().any(|c| c[0] != got.cells()[0][0]));
    }
}

#[test]
fn block_sums_are_those_of_the_trials_own_equity_curve() {
    block_sums_match_the_curves(&optimize(&series(5_000, PHI, 3), 2));
}

/// With warm-up bars in front, the blocks cut the window alone.
#[test]
fn block_sums_cover_the_window_after_a_warm_up() {
    let report = optimize(&series_with_warmup(5_000, 1_000, PHI, 3), 2);
    assert_eq!(report.top[0].report.equity_curve.len(), 4_000);
    assert_eq!(report.common.main_bars, 4_000);
    block_sums_match_the_curves(&report);
}

#[test]
fn robustness_is_identical_whatever_the_thread_count() {
    let data = series(5_000, 0.1, 7);
    assert_eq!(robustness_of(&data, 1), robustness_of(&data, 3));
}
