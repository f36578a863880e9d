//! The probability of backtest overfitting by combinatorially symmetric
//! cross-validation, CSCV (Bailey, Borwein, López de Prado & Zhu, "The
//! Probability of Backtest Overfitting", Journal of Computational Finance
//! 20(4), 2017; working paper 2015).
//!
//! The bars are cut into `S` blocks; every trial's returns are summarised
//! per block by their sum and sum of squares (the count of a block is the
//! same for every trial, see [`super::blocks`]). For each of the
//! C(S, S/2) ways to pick half the blocks as in-sample (the rest is
//! out-of-sample) the best in-sample trial is found and its out-of-sample
//! relative rank ω̄ ∈ (0, 1) taken; the logit λ = ln(ω̄ ÷ (1 − ω̄)) is ≤ 0
//! when it ranks at or below the median out of sample. PBO is the share of
//! splits with λ ≤ 0. The performance of a set of blocks is the Sharpe
//! ratio of their returns pooled (mean ÷ sample standard deviation; 0 when
//! there is no variance).
//!
//! # Cost
//! C(16, 8) = 12,870 splits × N trials × 16 blocks: about 2.6·10⁹ additions
//! for 10,000 trials, 2.6·10¹¹ for a million. The trials are taken in tiles
//! of [`TILE`] that stay in cache over every split (a million trials' sums
//! are 256 MB: streamed once per split they would cost terabytes of memory
//! traffic), the tiles in parallel on the caller's rayon pool. Two passes:
//! the first finds each split's in-sample winner (the first best, over all
//! tiles), the second ranks its out-of-sample Sharpe ratio among all
//! trials'. Both combine per-tile results in tile order with an
//! associative rule (the leftmost maximum; integer counts), so the result
//! is the same bit for bit whatever the thread count.
//!
//! Beyond [`MAX_TRIAL_SPLITS`] trial-splits (about 2,600 trials at
//! S = 16) the splits are sampled: evenly spaced in their order, as many
//! as the budget allows, so a million trials take a few seconds, not
//! minutes. Every trial still competes in every sampled split; PBO is a
//! share of splits, and a few hundred of them pin it to a few hundredths
//! (its standard error is at most ½ ÷ √splits).

use super::spread::Quantiles;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Blocks by default (the paper's example uses 16).
pub const DEFAULT_BLOCKS: usize = 16;
/// Most blocks accepted: C(20, 10) = 184,756 splits.
pub const MAX_BLOCKS: usize = 20;
/// Bins of the logit histogram.
pub const HISTOGRAM_BINS: usize = 20;

/// Most trials × splits CSCV evaluates (2²⁵: about a second on one core).
pub const MAX_TRIAL_SPLITS: u64 = 1 << 25;

/// Fewest splits taken when sampling: PBO's standard error stays ≤ 0.04.
pub const MIN_SPLITS: usize = 160;

/// Trials per tile: 256 trials × 16 blocks × 2 sums = 64 KiB, at home in L2.
pub const TILE: usize = 256;

/// The Sharpe ratio of `n` pooled returns with this sum and sum of squares
/// (mean ÷ sample standard deviation; 0 without variance), written as
/// `s·√((n − 1)/n) ÷ √(q·n − s²)` — the same ratio with one division and
/// one square root, `scale` = √((n − 1)/n) taken once per split.
#[inline(always)]
fn sharpe(sum: f64, sum_sq: f64, n: f64, scale: f64) -> f64 {
    let d = sum_sq * n - sum * sum;
    if d > 0.0 {
        sum * scale / d.sqrt()
    } else {
        0.0
    }
}

/// `n` as a float and √((n − 1)/n) for [`sharpe`]; `None` below 2
/// returns (every Sharpe ratio is then 0).
fn factors(n: u64) -> Option<(f64, f64)> {
    (n >= 2).then(|| {
        let nf = n as f64;
        (nf, ((nf - 1.0) / nf).sqrt())
    })
}

/// The Sharpe ratio of `n` returns from their sums.
fn sharpe_of(sum: f64, sum_sq: f64, n: u64) -> f64 {
    factors(n).map_or(0.0, |(nf, scale)| sharpe(sum, sum_sq, nf, scale))
}

/// Whether block `k` is in-sample in split `mask`.
#[inline]
fn inside(mask: u32, k: usize) -> bool {
    mask & (1 << k) != 0
}

/// The pooled sums of one row's blocks on one side of a split, added in
/// block order from 0 — the same operations, in the same order, as
/// [`Tile::sharpes`] does for each of its trials.
fn pooled(row: &[[f64; 2]], mask: u32, side: bool) -> (f64, f64) {
    let (mut s, mut q) = (0.0, 0.0);
    for (k, cell) in row.iter().enumerate() {
        if inside(mask, k) == side {
            s += cell[0];
            q += cell[1];
        }
    }
    (s, q)
}

/// Up to [`TILE`] consecutive trials' sums, block-major (`sums[k·TILE + t]`
/// is trial `t`'s sum in block `k`) so each block adds to a whole tile in
/// one vectorisable loop.
struct Tile {
    len: usize,
    blocks: usize,
    sums: Vec<f64>,
    squares: Vec<f64>,
}

impl Tile {
    fn load<R: AsRef<[[f64; 2]]>>(rows: &[R], blocks: usize) -> Self {
        let mut sums = vec![0.0; blocks * TILE];
        let mut squares = vec![0.0; blocks * TILE];
        for (t, row) in rows.iter().enumerate() {
            for (k, cell) in row.as_ref().iter().enumerate() {
                sums[k * TILE + t] = cell[0];
                squares[k * TILE + t] = cell[1];
            }
        }
        Self {
            len: rows.len(),
            blocks,
            sums,
            squares,
        }
    }

    /// Each trial's Sharpe ratio over the blocks on `side` of `mask`
    /// (`n` returns there) into `out`.
    fn sharpes(&self, mask: u32, side: bool, n: u64, out: &mut [f64; TILE]) {
        let picked: [bool; MAX_BLOCKS] = std::array::from_fn(|k| inside(mask, k) == side);
        sharpes_kernel(
            &self.sums,
            &self.squares,
            &picked[..self.blocks],
            factors(n),
            &mut out[..self.len],
        );
    }
}

/// [`Tile::sharpes`]' arithmetic: whole-tile additions block by block, then
/// one Sharpe ratio per trial — independent lanes, compiled for AVX2 and
/// AVX-512 too and picked at run time; every lane's IEEE operation is the
/// scalar one, so the result is bit for bit the same on every CPU.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512dq+avx512vl+avx2+fma+bmi1+bmi2+popcnt+lzcnt",
    "x86_64+avx2+fma+bmi1+bmi2+popcnt+lzcnt",
))]
fn sharpes_kernel(
    sums: &[f64],
    squares: &[f64],
    picked: &[bool],
    factors: Option<(f64, f64)>,
    out: &mut [f64],
) {
    let len = out.len().min(TILE);
    let Some((n, scale)) = factors else {
        out.fill(0.0);
        return;
    };
    let (mut s, mut q) = ([0.0f64; TILE], [0.0f64; TILE]);
    for (k, _) in picked.iter().enumerate().filter(|(_, &p)| p) {
        let (bs, bq) = (
            &sums[k * TILE..k * TILE + len],
            &squares[k * TILE..k * TILE + len],
        );
        for (x, &a) in s[..len].iter_mut().zip(bs) {
            *x += a;
        }
        for (y, &b) in q[..len].iter_mut().zip(bq) {
            *y += b;
        }
    }
    for ((o, &a), &b) in out[..len].iter_mut().zip(&s[..len]).zip(&q[..len]) {
        *o = sharpe(a, b, n, scale);
    }
}

/// The splits: every mask of `blocks` bits with half of them set, in
/// increasing order.
fn splits_of(blocks: usize) -> Vec<u32> {
    (0u32..(1u32 << blocks))
        .filter(|m| m.count_ones() as usize == blocks / 2)
        .collect()
}

/// The splits evaluated for `trials` trials: all of them within
/// [`MAX_TRIAL_SPLITS`], else evenly spaced ones (at least [`MIN_SPLITS`]).
fn sampled(all: Vec<u32>, trials: usize) -> Vec<u32> {
    let budget = usize::try_from(MAX_TRIAL_SPLITS / trials.max(1) as u64).unwrap_or(usize::MAX);
    let take = budget.max(MIN_SPLITS);
    if take >= all.len() {
        return all;
    }
    (0..take).map(|i| all[i * all.len() / take]).collect()
}

/// Per split, the first trial with the highest in-sample Sharpe ratio:
/// `(its Sharpe ratio, its index)`.
fn winners<R: AsRef<[[f64; 2]]> + Sync>(
    rows: &[R],
    blocks: usize,
    masks: &[u32],
    is_n: &[u64],
) -> Vec<(f64, usize)> {
    rows.par_chunks(TILE)
        .enumerate()
        .map(|(c, chunk)| {
            let tile = Tile::load(chunk, blocks);
            let mut out = [0.0; TILE];
            masks
                .iter()
                .zip(is_n)
                .map(|(&mask, &n)| {
                    tile.sharpes(mask, true, n, &mut out);
                    let mut best = 0;
                    for t in 1..tile.len {
                        if out[t] > out[best] {
                            best = t;
                        }
                    }
                    (out[best], c * TILE + best)
                })
                .collect::<Vec<_>>()
        })
        // the leftmost maximum: associative, so any grouping of the tiles
        // gives the sequential answer
        .reduce_with(|a, b| {
            a.into_iter()
                .zip(b)
                .map(|(x, y)| if y.0 > x.0 { y } else { x })
                .collect()
        })
        .unwrap_or_default()
}

/// Per split, how many trials' out-of-sample Sharpe ratio is below and
/// equal to `targets`.
fn ranks<R: AsRef<[[f64; 2]]> + Sync>(
    rows: &[R],
    blocks: usize,
    masks: &[u32],
    oos_n: &[u64],
    targets: &[f64],
) -> Vec<(u64, u64)> {
    rows.par_chunks(TILE)
        .map(|chunk| {
            let tile = Tile::load(chunk, blocks);
            let mut out = [0.0; TILE];
            masks
                .iter()
                .zip(oos_n)
                .zip(targets)
                .map(|((&mask, &n), &target)| {
                    tile.sharpes(mask, false, n, &mut out);
                    let scores = &out[..tile.len];
                    (
                        scores.iter().filter(|&&x| x < target).count() as u64,
                        scores.iter().filter(|&&x| x == target).count() as u64,
                    )
                })
                .collect::<Vec<_>>()
        })
        .reduce_with(|a, b| {
            a.into_iter()
                .zip(b)
                .map(|(x, y)| (x.0 + y.0, x.1 + y.1))
                .collect()
        })
        .unwrap_or_default()
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
    /// A trial's row does not have one cell per block.
    #[error("trial {trial} has {cells} block sums, the counts {blocks} blocks")]
    Shape {
        /// The trial (position in the rows).
        trial: usize,
        /// Blocks (the counts' length).
        blocks: usize,
        /// Cells its row has.
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
    /// Splits evaluated: all C(S, S/2) of them, or an even sample of them
    /// for very many trials (see the module doc).
    pub splits: u64,
    /// C(S, S/2).
    pub possible_splits: u64,
    /// Trials compared.
    pub trials: u64,
    /// Probability of backtest overfitting: share of splits with λ ≤ 0.
    pub pbo: f64,
    /// The logits λ.
    pub logits: LogitDistribution,
    /// The performance degradation.
    pub degradation: Degradation,
}

/// PBO by CSCV over `rows` (one per trial, each `[sum, sum of squares]`
/// of its returns in every block) whose blocks hold `counts` returns each.
/// Deterministic: the splits are taken in increasing bitmask order, the IS
/// winner is the first trial (lowest position) with the highest IS Sharpe,
/// and ties out of sample share their average rank. Runs on the current
/// rayon pool.
///
/// # Errors
/// [`PboError`] for an odd or out-of-range number of blocks, a row without
/// one cell per block, fewer than two trials.
pub fn pbo<R: AsRef<[[f64; 2]]> + Sync>(counts: &[u64], rows: &[R]) -> Result<Pbo, PboError> {
    let blocks = counts.len();
    if blocks < 2 || blocks % 2 == 1 || blocks > MAX_BLOCKS {
        return Err(PboError::Blocks(blocks));
    }
    if let Some((trial, row)) = rows
        .iter()
        .enumerate()
        .find(|(_, r)| r.as_ref().len() != blocks)
    {
        return Err(PboError::Shape {
            trial,
            blocks,
            cells: row.as_ref().len(),
        });
    }
    let trials = rows.len();
    if trials < 2 {
        return Err(PboError::Trials(trials));
    }
    let all = splits_of(blocks);
    let possible = all.len();
    let masks = sampled(all, trials);
    let total: u64 = counts.iter().sum();
    let is_n: Vec<u64> = masks
        .iter()
        .map(|&m| {
            (0..blocks)
                .filter(|&k| inside(m, k))
                .map(|k| counts[k])
                .sum()
        })
        .collect();
    let oos_n: Vec<u64> = is_n.iter().map(|n| total - n).collect();
    let best = winners(rows, blocks, &masks, &is_n);
    let mut is_perf = Vec::with_capacity(masks.len());
    let mut oos_perf = Vec::with_capacity(masks.len());
    for ((&mask, &(is_sharpe, winner)), &n) in masks.iter().zip(&best).zip(&oos_n) {
        let (s, q) = pooled(rows[winner].as_ref(), mask, false);
        is_perf.push(is_sharpe);
        oos_perf.push(sharpe_of(s, q, n));
    }
    let counted = ranks(rows, blocks, &masks, &oos_n, &oos_perf);
    let logits: Vec<f64> = counted
        .iter()
        .map(|&(below, equal)| {
            // rank 1..N, ties at their average; ω̄ = rank ÷ (N + 1)
            let rank = below as f64 + (equal as f64 + 1.0) / 2.0;
            let omega = rank / (trials as f64 + 1.0);
            (omega / (1.0 - omega)).ln()
        })
        .collect();
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
        possible_splits: possible as u64,
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

    /// Counts and rows of a `trials × blocks` matrix of `per_block` returns
    /// a cell, from a generator of each cell's returns.
    fn matrix(
        trials: usize,
        blocks: usize,
        per_block: usize,
        f: impl Fn(usize, usize) -> Vec<f64>,
    ) -> (Vec<u64>, Vec<Vec<[f64; 2]>>) {
        let rows = (0..trials)
            .map(|t| {
                (0..blocks)
                    .map(|b| {
                        let r = f(t, b);
                        assert_eq!(r.len(), per_block);
                        [r.iter().sum(), r.iter().map(|x| x * x).sum()]
                    })
                    .collect()
            })
            .collect();
        (vec![per_block as u64; blocks], rows)
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

    /// CSCV the plain way: every split, every trial, one after the other.
    fn naive(counts: &[u64], rows: &[Vec<[f64; 2]>]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let blocks = counts.len();
        let (mut logits, mut is_perf, mut oos_perf) = (vec![], vec![], vec![]);
        for mask in splits_of(blocks) {
            let n_is: u64 = (0..blocks)
                .filter(|&k| inside(mask, k))
                .map(|k| counts[k])
                .sum();
            let n_oos = counts.iter().sum::<u64>() - n_is;
            let score = |row: &Vec<[f64; 2]>, side| {
                let (s, q) = pooled(row, mask, side);
                sharpe_of(s, q, if side { n_is } else { n_oos })
            };
            let is: Vec<f64> = rows.iter().map(|r| score(r, true)).collect();
            let oos: Vec<f64> = rows.iter().map(|r| score(r, false)).collect();
            let best = (1..rows.len()).fold(0, |b, t| if is[t] > is[b] { t } else { b });
            let below = oos.iter().filter(|&&x| x < oos[best]).count() as f64;
            let equal = oos.iter().filter(|&&x| x == oos[best]).count() as f64;
            let omega = (below + (equal + 1.0) / 2.0) / (rows.len() as f64 + 1.0);
            logits.push((omega / (1.0 - omega)).ln());
            is_perf.push(is[best]);
            oos_perf.push(oos[best]);
        }
        (logits, is_perf, oos_perf)
    }

    #[test]
    fn tiles_give_exactly_the_plain_answer() {
        // more trials than two tiles, with duplicated trials (ties in and
        // out of sample) and a trial that never moves
        let (counts, mut rows) = matrix(2 * TILE + 37, 8, 12, |t, b| {
            noise((t % 300 * 100 + b) as u64, 12)
        });
        rows[5] = vec![[0.0, 0.0]; 8];
        let p = pbo(&counts, &rows).unwrap();
        let (logits, is_perf, oos_perf) = naive(&counts, &rows);
        let overfit = logits.iter().filter(|&&l| l <= 0.0).count();
        assert_eq!(p.pbo.to_bits(), (overfit as f64 / 70.0).to_bits());
        assert_eq!(p.logits.mean, logits.iter().sum::<f64>() / 70.0);
        assert_eq!(p.logits.quantiles, Quantiles::of(&logits).unwrap());
        assert_eq!(p.degradation.slope, ols(&is_perf, &oos_perf).map(|o| o.0));
        // and on one thread as on four
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let four = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        assert_eq!(
            one.install(|| pbo(&counts, &rows)),
            four.install(|| pbo(&counts, &rows))
        );
    }

    #[test]
    fn a_real_edge_is_not_overfit() {
        // trial 0 earns +0.2 per return everywhere; the others are noise
        let (counts, rows) = matrix(10, 8, 50, |t, b| {
            let mut r = noise((t * 100 + b) as u64, 50);
            if t == 0 {
                r.iter_mut().for_each(|x| *x += 0.2);
            }
            r
        });
        let p = pbo(&counts, &rows).unwrap();
        assert_eq!(p.splits, 70);
        assert_eq!(p.pbo, 0.0);
        assert_eq!(p.histogram_total(), 70);
        assert!(p.logits.quantiles.min > 0.0);
    }

    #[test]
    fn pure_noise_is_overfit_about_half_the_time() {
        let (counts, rows) = matrix(50, 16, 40, |t, b| noise((t * 1000 + b) as u64, 40));
        let p = pbo(&counts, &rows).unwrap();
        assert_eq!(p.splits, 12_870);
        assert!(p.pbo > 0.2 && p.pbo < 0.8, "{}", p.pbo);
        assert_eq!(p.histogram_total(), 12_870);
    }

    #[test]
    fn very_many_trials_sample_the_splits_evenly() {
        let all = splits_of(16);
        assert_eq!(sampled(all.clone(), 2_000).len(), 12_870);
        let few = sampled(all.clone(), 100_000);
        assert_eq!(few.len(), 335);
        assert_eq!(few[0], all[0]);
        assert!(few.windows(2).all(|w| w[0] < w[1]), "in order, no repeats");
        assert_eq!(sampled(all, 100_000_000).len(), MIN_SPLITS);
    }

    #[test]
    fn refuses_bad_shapes() {
        let rows = vec![vec![[0.0; 2]; 4]; 3];
        assert_eq!(pbo(&[1; 3], &rows), Err(PboError::Blocks(3)));
        assert_eq!(pbo(&[1; 22], &rows), Err(PboError::Blocks(22)));
        assert_eq!(pbo(&[1; 4], &rows[..1]), Err(PboError::Trials(1)));
        assert!(matches!(
            pbo(&[1; 6], &rows),
            Err(PboError::Shape {
                trial: 0,
                blocks: 6,
                cells: 4
            })
        ));
    }

    impl Pbo {
        fn histogram_total(&self) -> u64 {
            self.logits.histogram.iter().sum()
        }
    }
}
