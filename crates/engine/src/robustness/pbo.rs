//! The probability of backtest overfitting by combinatorially symmetric
//! cross-validation, CSCV (Bailey, Borwein, López de Prado & Zhu, "The
//! Probability of Backtest Overfitting", Journal of Computational Finance
//! 20(4), 2017; working paper 2015).
//!
//! The bars are cut into `S` blocks; every trial's returns are summarised
//! per block by their count, sum and sum of squares. For each of the
//! C(S, S/2) ways to pick half the blocks as in-sample (the rest is
//! out-of-sample) the best in-sample trial is found and its out-of-sample
//! relative rank ω̄ ∈ (0, 1) taken; the logit λ = ln(ω̄ ÷ (1 − ω̄)) is ≤ 0
//! when it ranks at or below the median out of sample. PBO is the share of
//! splits with λ ≤ 0. The performance of a set of blocks is the Sharpe
//! ratio of their returns pooled (mean ÷ sample standard deviation; 0 when
//! there is no variance).

use super::spread::Quantiles;
use serde::{Deserialize, Serialize};

/// Blocks by default (the paper's example uses 16).
pub const DEFAULT_BLOCKS: usize = 16;
/// Most blocks accepted: C(20, 10) = 184,756 splits.
pub const MAX_BLOCKS: usize = 20;
/// Bins of the logit histogram.
pub const HISTOGRAM_BINS: usize = 20;

/// One trial's returns over one block.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BlockSums {
    /// Returns in the block.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
    /// The sum of their squares.
    pub sum_sq: f64,
}

impl BlockSums {
    /// The sums of `returns`.
    #[must_use]
    pub fn of(returns: &[f64]) -> Self {
        returns.iter().fold(Self::default(), |mut b, &r| {
            b.count += 1;
            b.sum += r;
            b.sum_sq += r * r;
            b
        })
    }

    fn add(&mut self, other: &Self) {
        self.count += other.count;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
    }

    /// The Sharpe ratio of the pooled returns (0 without variance).
    #[must_use]
    pub fn sharpe(&self) -> f64 {
        if self.count < 2 {
            return 0.0;
        }
        let n = self.count as f64;
        let mean = self.sum / n;
        let var = (self.sum_sq - self.sum * mean) / (n - 1.0);
        if var > 0.0 {
            mean / var.sqrt()
        } else {
            0.0
        }
    }
}

/// Why PBO cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PboError {
    /// `S` must be even, at least 2 and at most [`MAX_BLOCKS`].
    #[error("CSCV needs an even number of blocks between 2 and {MAX_BLOCKS}, got {0}")]
    Blocks(usize),
    /// Overfitting needs a choice: two trials at least.
    #[error("CSCV needs at least 2 trials, got {0}")]
    Trials(usize),
    /// The matrix is not trials × blocks.
    #[error("a {trials} × {blocks} matrix needs {} cells, got {cells}", trials * blocks)]
    Shape {
        /// Trials.
        trials: usize,
        /// Blocks.
        blocks: usize,
        /// Cells given.
        cells: usize,
    },
}

/// How the logits are distributed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogitDistribution {
    /// Mean logit.
    pub mean: f64,
    /// Quantiles.
    pub quantiles: Quantiles,
    /// Lower edge of the histogram: −ln N (the lowest possible logit).
    pub histogram_from: f64,
    /// Upper edge: ln N.
    pub histogram_to: f64,
    /// Splits per equal-width bin between the edges.
    pub histogram: Vec<u64>,
}

/// The performance degradation: how the in-sample winner's out-of-sample
/// Sharpe ratio follows its in-sample one over the splits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Degradation {
    /// Least-squares slope of OOS on IS performance (`null` when the IS
    /// performance never varies).
    pub slope: Option<f64>,
    /// Its intercept.
    pub intercept: Option<f64>,
    /// Share of splits where the IS winner loses out of sample (OOS Sharpe < 0).
    pub probability_of_loss: f64,
}

/// The result of CSCV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pbo {
    /// Blocks S.
    pub blocks: u64,
    /// Splits C(S, S/2).
    pub splits: u64,
    /// Trials compared.
    pub trials: u64,
    /// Probability of backtest overfitting: share of splits with λ ≤ 0.
    pub pbo: f64,
    /// The logits λ.
    pub logits: LogitDistribution,
    /// The performance degradation.
    pub degradation: Degradation,
}

/// PBO by CSCV over `cells`, a trials × `blocks` matrix in row-major order
/// (trial 0's blocks first). Deterministic: the splits are taken in
/// increasing bitmask order, the IS winner is the first trial (lowest
/// index) with the highest IS Sharpe, and ties out of sample share their
/// average rank.
///
/// # Errors
/// [`PboError`] for a bad shape, an odd or out-of-range `blocks`, fewer
/// than two trials.
pub fn pbo(cells: &[BlockSums], blocks: usize) -> Result<Pbo, PboError> {
    if blocks < 2 || blocks % 2 == 1 || blocks > MAX_BLOCKS {
        return Err(PboError::Blocks(blocks));
    }
    let trials = cells.len() / blocks;
    if trials * blocks != cells.len() {
        return Err(PboError::Shape {
            trials,
            blocks,
            cells: cells.len(),
        });
    }
    if trials < 2 {
        return Err(PboError::Trials(trials));
    }
    let half = blocks / 2;
    let mut logits = Vec::new();
    let mut is_perf = Vec::new();
    let mut oos_perf = Vec::new();
    let (mut is, mut oos) = (vec![0.0; trials], vec![0.0; trials]);
    for mask in 0u32..(1u32 << blocks) {
        if mask.count_ones() as usize != half {
            continue;
        }
        for (t, row) in cells.chunks_exact(blocks).enumerate() {
            let (mut a, mut b) = (BlockSums::default(), BlockSums::default());
            for (k, cell) in row.iter().enumerate() {
                if mask & (1 << k) != 0 {
                    a.add(cell);
                } else {
                    b.add(cell);
                }
            }
            is[t] = a.sharpe();
            oos[t] = b.sharpe();
        }
        let mut best = 0;
        for t in 1..trials {
            if is[t] > is[best] {
                best = t;
            }
        }
        let target = oos[best];
        let below = oos.iter().filter(|&&x| x < target).count() as f64;
        let equal = oos.iter().filter(|&&x| x == target).count() as f64;
        // rank 1..N, ties at their average; ω̄ = rank ÷ (N + 1)
        let rank = below + (equal + 1.0) / 2.0;
        let omega = rank / (trials as f64 + 1.0);
        logits.push((omega / (1.0 - omega)).ln());
        is_perf.push(is[best]);
        oos_perf.push(target);
    }
    let splits = logits.len();
    let overfit = logits.iter().filter(|&&l| l <= 0.0).count();
    let edge = (trials as f64).ln();
    let mut histogram = vec![0u64; HISTOGRAM_BINS];
    for &l in &logits {
        let bin = ((l + edge) / (2.0 * edge) * HISTOGRAM_BINS as f64).floor();
        histogram[(bin.max(0.0) as usize).min(HISTOGRAM_BINS - 1)] += 1;
    }
    let (slope, intercept) = ols(&is_perf, &oos_perf).unzip();
    Ok(Pbo {
        blocks: blocks as u64,
        splits: splits as u64,
        trials: trials as u64,
        pbo: overfit as f64 / splits as f64,
        logits: LogitDistribution {
            mean: logits.iter().sum::<f64>() / splits as f64,
            quantiles: Quantiles::of(&logits).unwrap_or(Quantiles {
                min: 0.0,
                p5: 0.0,
                p25: 0.0,
                median: 0.0,
                p75: 0.0,
                p95: 0.0,
                max: 0.0,
            }),
            histogram_from: -edge,
            histogram_to: edge,
            histogram,
        },
        degradation: Degradation {
            slope,
            intercept,
            probability_of_loss: oos_perf.iter().filter(|&&x| x < 0.0).count() as f64
                / splits as f64,
        },
    })
}

/// Least squares `y = intercept + slope·x`; `None` if `x` has no variance.
fn ols(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    (sxx > 0.0).then(|| {
        let slope = sxy / sxx;
        (slope, my - slope * mx)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `trials × blocks` cells from a generator of per-block returns.
    fn matrix(
        trials: usize,
        blocks: usize,
        f: impl Fn(usize, usize) -> Vec<f64>,
    ) -> Vec<BlockSums> {
        (0..trials)
            .flat_map(|t| (0..blocks).map(move |b| (t, b)))
            .map(|(t, b)| BlockSums::of(&f(t, b)))
            .collect()
    }

    /// A small deterministic noise source (xorshift) in (−0.5, 0.5).
    fn noise(seed: u64, n: usize) -> Vec<f64> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect()
    }

    #[test]
    fn a_real_edge_is_not_overfit() {
        // trial 0 earns +0.2 per return everywhere; the others are noise
        let cells = matrix(10, 8, |t, b| {
            let mut r = noise((t * 100 + b) as u64, 50);
            if t == 0 {
                r.iter_mut().for_each(|x| *x += 0.2);
            }
            r
        });
        let p = pbo(&cells, 8).unwrap();
        assert_eq!(p.splits, 70);
        assert_eq!(p.pbo, 0.0);
        assert_eq!(p.histogram_total(), 70);
        assert!(p.logits.quantiles.min > 0.0);
    }

    #[test]
    fn pure_noise_is_overfit_about_half_the_time() {
        let cells = matrix(50, 16, |t, b| noise((t * 1000 + b) as u64, 40));
        let p = pbo(&cells, 16).unwrap();
        assert_eq!(p.splits, 12_870);
        assert!(p.pbo > 0.2 && p.pbo < 0.8, "{}", p.pbo);
        assert_eq!(p.histogram_total(), 12_870);
    }

    #[test]
    fn refuses_bad_shapes() {
        let cells = vec![BlockSums::default(); 12];
        assert_eq!(pbo(&cells, 3), Err(PboError::Blocks(3)));
        assert_eq!(pbo(&cells, 22), Err(PboError::Blocks(22)));
        assert_eq!(pbo(&cells, 12), Err(PboError::Trials(1)));
        assert!(matches!(pbo(&cells[..11], 4), Err(PboError::Shape { .. })));
    }

    impl Pbo {
        fn histogram_total(&self) -> u64 {
            self.logits.histogram.iter().sum()
        }
    }
}
