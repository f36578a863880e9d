//! [`Robustness`] of a finished optimization, from its trials (in index
//! order, with their per-block sums) and its best trials' equity curves.

use super::blocks::block_counts;
use super::sharpe::{
    deflated_sharpe, effective_trials, expected_max_sharpe, mean_pairwise_correlation,
    probabilistic_sharpe, sample_variance, ReturnMoments,
};
use super::{
    neighbour_stability, pbo, BlockReturns, FitnessSpread, Robustness, SharpeSignificance,
};
use crate::metrics::RunCommon;
use crate::optimize::{Fitness, TopTrial, Trial, TrialOutcome};

/// Trials whose returns give ρ̄: a systematic sample spread over the grid
/// (every pair: 120 correlations, 16 return series in memory at most),
/// re-run after the grid like the best trials.
pub const CORRELATED_TRIALS: usize = 16;

/// The combination indices of the ρ̄ sample: [`CORRELATED_TRIALS`] of the
/// completed trials (index order) at evenly spaced positions, first and
/// last included — all of them when there are fewer.
pub(crate) fn correlation_sample(completed: &[u64]) -> Vec<u64> {
    let n = completed.len();
    if n <= CORRELATED_TRIALS {
        return completed.to_vec();
    }
    (0..CORRELATED_TRIALS)
        .map(|k| completed[k * (n - 1) / (CORRELATED_TRIALS - 1)])
        .collect()
}

/// What [`assess`] reads.
pub(crate) struct AssessInput<'a> {
    /// Every trial that ran, in index order.
    pub trials: &'a [Trial],
    /// The ranking's fitness.
    pub fitness: Fitness,
    /// What the trials share.
    pub common: &'a RunCommon,
    /// The best trials in full, best first.
    pub top: &'a [TopTrial],
    /// Per-bar returns of the trials of [`correlation_sample`].
    pub sample: &'a [Vec<f64>],
    /// Each axis's number of values, in grid order.
    pub shape: Vec<u64>,
    /// Initial cash, money raw.
    pub initial_raw: i64,
    /// Main bars per year.
    pub periods_per_year: f64,
}

/// The robustness of the winner (`top[0]`); `None` without a completed
/// trial. PBO runs on the current rayon pool.
pub(crate) fn assess(inp: &AssessInput<'_>) -> Option<Robustness> {
    let winner = inp.top.first()?;
    let completed: Vec<_> = inp
        .trials
        .iter()
        .filter_map(|t| match &t.outcome {
            TrialOutcome::Completed(m) => Some((t.index, m)),
            TrialOutcome::Failed(_) => None,
        })
        .collect();
    let n = completed.len() as u64;
    let returns_of = |t: &TopTrial| {
        t.report
            .equity_curve
            .bar_returns(inp.initial_raw, inp.common.initial_equity)
    };
    // the metrics' Sharpe ratios are annualised by √(bars per year)
    let root = inp.periods_per_year.sqrt();
    let per_bar: Vec<f64> = if root > 0.0 {
        completed
            .iter()
            .filter_map(|(_, m)| m.sharpe())
            .map(|s| s / root)
            .collect()
    } else {
        Vec::new()
    };
    let winner_returns = returns_of(winner);
    let sharpe = ReturnMoments::of(&winner_returns).and_then(|mo| {
        let sr = mo.sharpe();
        let psr = probabilistic_sharpe(sr, 0.0, mo.count, mo.skewness, mo.kurtosis)?;
        let variance = sample_variance(&per_bar).unwrap_or(0.0);
        let dsr = deflated_sharpe(sr, mo.count, mo.skewness, mo.kurtosis, n as f64, variance)?;
        let refs: Vec<&[f64]> = inp.sample.iter().map(Vec::as_slice).collect();
        let rho = mean_pairwise_correlation(&refs);
        let effective = rho.map(|r| effective_trials(n as f64, r));
        Some(SharpeSignificance {
            winner_index: winner.index,
            returns: mo.count,
            sharpe: sr,
            skewness: mo.skewness,
            kurtosis: mo.kurtosis,
            psr,
            sharpe_trials: per_bar.len() as u64,
            sharpe_variance: variance,
            expected_max_sharpe: expected_max_sharpe(n as f64, variance),
            dsr,
            mean_correlation: rho,
            correlated_trials: refs.len() as u64,
            effective_trials: effective,
            dsr_effective: effective
                .and_then(|e| deflated_sharpe(sr, mo.count, mo.skewness, mo.kurtosis, e, variance)),
        })
    });
    let score = |m| inp.fitness.score(m, inp.common).filter(|f| !f.is_nan());
    let fitness: Vec<f64> = completed.iter().filter_map(|(_, m)| score(m)).collect();
    let lookup = |index: u64| {
        let at = completed.binary_search_by_key(&index, |(i, _)| *i).ok()?;
        score(completed[at].1)
    };
    let neighbours = (!inp.shape.is_empty())
        .then(|| neighbour_stability(&inp.shape, winner.index, lookup))
        .flatten();
    Some(Robustness {
        trials: n,
        periods_per_year: inp.periods_per_year,
        sharpe,
        neighbours,
        fitness_spread: FitnessSpread::of(&fitness),
        pbo: overfitting(inp.trials, inp.common.main_bars),
    })
}

/// PBO over every completed trial's block sums — `None` when one lacks
/// them (a chunk from a worker that does not send them), with fewer main
/// bars than blocks or fewer than two completed trials.
fn overfitting(trials: &[Trial], main_bars: u64) -> Option<super::Pbo> {
    let counts = block_counts(usize::try_from(main_bars).ok()?)?;
    let rows: Option<Vec<&BlockReturns>> = trials
        .iter()
        .filter(|t| matches!(t.outcome, TrialOutcome::Completed(_)))
        .map(|t| t.blocks.as_ref())
        .collect();
    pbo(&counts, &rows?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_correlation_sample_spans_the_grid() {
        let few: Vec<u64> = (0..10).collect();
        assert_eq!(correlation_sample(&few), few);
        let many: Vec<u64> = (0..301).map(|i| i * 2).collect();
        let s = correlation_sample(&many);
        assert_eq!(s.len(), CORRELATED_TRIALS);
        assert_eq!((s[0], s[15]), (0, 600));
        assert_eq!(s[1], 40, "every 20th completed trial");
    }
}
