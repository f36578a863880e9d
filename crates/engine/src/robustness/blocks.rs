//! What CSCV needs from every trial, gathered by the bar loop: the run's
//! main bars cut into [`BLOCKS`] contiguous blocks and, per block, the sum
//! of the trial's per-bar returns and of their squares.
//!
//! # Why sums, and why these
//! PBO compares trials over every half of the blocks, and a set of blocks
//! performs as the Sharpe ratio of its pooled returns: a count, a sum and a
//! sum of squares are all that needs. The count of a block is its number of
//! main bars — the same for every trial, so it is kept once per
//! optimization ([`block_counts`]), not per trial. A trial keeps
//! [`BlockReturns`]: 16 × 2 × `f64` = 256 bytes, so a million trials hold
//! 256 MB of them and no equity curve (the grid's size limit,
//! `--max-combinations`, bounds the whole).
//!
//! # How the loop gathers them
//! The loop already sums every return and its square for the Sharpe ratio
//! ([`CurveStats`]); at the end of each block it hands those running sums
//! to the [`BlockRecorder`], which keeps the difference from the previous
//! block's end. Fifteen reads per trial, no per-bar work, no allocation.
//! The difference of two running sums loses a little against summing the
//! block alone (an absolute error of about 1e-16 × the running sum), which
//! statistics over thousands of returns never see.
//!
//! A bar whose previous equity is 0 (a blown account) has no return in
//! [`CurveStats`]; here it still counts, as a return of 0.
//!
//! Blocks follow numpy's `array_split`: with `n` bars, the first `n mod S`
//! blocks have one bar more than the others.

use crate::metrics::CurveStats;

/// Blocks S of every optimization (the paper's example uses 16: C(16, 8) =
/// 12,870 splits).
pub const BLOCKS: usize = 16;

/// One trial's returns per block: `[sum, sum of squares]` of each block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockReturns {
    cells: [[f64; 2]; BLOCKS],
}

impl BlockReturns {
    /// From the cells, block by block.
    #[must_use]
    pub fn new(cells: [[f64; 2]; BLOCKS]) -> Self {
        Self { cells }
    }

    /// The sums of per-bar `returns` (one per main bar, the first measured
    /// from the initial cash), cut into [`BLOCKS`] blocks as the loop cuts
    /// them; `None` with fewer returns than blocks.
    #[must_use]
    pub fn of(returns: &[f64]) -> Option<Self> {
        if returns.len() < BLOCKS {
            return None;
        }
        let mut cells = [[0.0; 2]; BLOCKS];
        let mut from = 0;
        for (k, cell) in cells.iter_mut().enumerate() {
            let to = block_end(returns.len(), BLOCKS, k + 1);
            for &r in &returns[from..to] {
                cell[0] += r;
                cell[1] += r * r;
            }
            from = to;
        }
        Some(Self { cells })
    }

    /// `[sum, sum of squares]` of each block.
    #[must_use]
    pub fn cells(&self) -> &[[f64; 2]; BLOCKS] {
        &self.cells
    }

    /// The exact bits, for sending a trial to another machine.
    #[must_use]
    pub fn to_bits(&self) -> [u64; 2 * BLOCKS] {
        let mut out = [0u64; 2 * BLOCKS];
        for (o, x) in out.iter_mut().zip(self.cells.as_flattened()) {
            *o = x.to_bits();
        }
        out
    }

    /// The inverse of [`BlockReturns::to_bits`].
    #[must_use]
    pub fn from_bits(bits: &[u64; 2 * BLOCKS]) -> Self {
        let mut cells = [[0.0; 2]; BLOCKS];
        for (c, b) in cells.as_flattened_mut().iter_mut().zip(bits) {
            *c = f64::from_bits(*b);
        }
        Self { cells }
    }
}

impl AsRef<[[f64; 2]]> for BlockReturns {
    fn as_ref(&self) -> &[[f64; 2]] {
        &self.cells
    }
}

/// Where block `k` (0-based) of `blocks` over `bars` bars begins: block `k`
/// is `block_end(k)..block_end(k + 1)` (numpy's `array_split`).
#[must_use]
pub fn block_end(bars: usize, blocks: usize, k: usize) -> usize {
    k * (bars / blocks) + k.min(bars % blocks)
}

/// Main bars of each of the [`BLOCKS`] blocks (`None` with fewer bars than
/// blocks).
#[must_use]
pub fn block_counts(bars: usize) -> Option<[u64; BLOCKS]> {
    (bars >= BLOCKS).then(|| {
        std::array::from_fn(|k| {
            (block_end(bars, BLOCKS, k + 1) - block_end(bars, BLOCKS, k)) as u64
        })
    })
}

/// Turns the running sums of the bar loop into a trial's [`BlockReturns`]:
/// the loop asks [`BlockRecorder::next_end`] where to stop and calls
/// [`BlockRecorder::record`] there. Reused from trial to trial.
#[derive(Debug, Clone)]
pub struct BlockRecorder {
    /// Exclusive end (main-bar index) of each block; `None`: too few bars.
    ends: Option<[usize; BLOCKS]>,
    next: usize,
    last: [f64; 2],
    cells: [[f64; 2]; BLOCKS],
}

impl BlockRecorder {
    /// A recorder for runs over `bars` main bars.
    #[must_use]
    pub fn new(bars: usize) -> Self {
        Self {
            ends: (bars >= BLOCKS).then(|| std::array::from_fn(|k| block_end(bars, BLOCKS, k + 1))),
            next: 0,
            last: [0.0; 2],
            cells: [[0.0; 2]; BLOCKS],
        }
    }

    /// Ready for the next trial.
    pub fn reset(&mut self) {
        self.next = 0;
        self.last = [0.0; 2];
    }

    /// The main-bar count after which the loop should call
    /// [`BlockRecorder::record`] next (`usize::MAX`: never again).
    #[inline]
    #[must_use]
    pub fn next_end(&self) -> usize {
        match self.ends {
            Some(ends) if self.next < BLOCKS => ends[self.next],
            _ => usize::MAX,
        }
    }

    /// The loop has reached [`BlockRecorder::next_end`]; `curve` holds the
    /// statistics of every bar so far.
    #[inline]
    pub fn record(&mut self, curve: &CurveStats) {
        if self.next >= BLOCKS {
            return;
        }
        let (sum, sum_sq) = curve.return_sums();
        self.cells[self.next] = [sum - self.last[0], sum_sq - self.last[1]];
        self.last = [sum, sum_sq];
        self.next += 1;
    }

    /// The trial's block sums, once every block has ended.
    #[must_use]
    pub fn finish(&self) -> Option<BlockReturns> {
        (self.ends.is_some() && self.next == BLOCKS).then_some(BlockReturns { cells: self.cells })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_split_like_numpy_array_split() {
        // np.array_split(range(35), 16): three blocks of 3, then 2s
        let counts = block_counts(35).unwrap();
        assert_eq!(counts[..4], [3, 3, 3, 2]);
        assert_eq!(counts.iter().sum::<u64>(), 35);
        assert_eq!(block_counts(16).unwrap(), [1; BLOCKS]);
        assert_eq!(block_counts(15), None);
    }

    #[test]
    fn the_recorder_keeps_each_blocks_own_sums() {
        // equity: 1000, then each bar +1 %, −0.5 %, flat, in turn
        let mut e = 1_000_000i64;
        let mut equity = Vec::new();
        for i in 0..100 {
            e = match i % 3 {
                0 => e + e / 100,
                1 => e - e / 200,
                _ => e,
            };
            equity.push(e);
        }
        let mut curve = CurveStats::new(1_000_000);
        let mut rec = BlockRecorder::new(equity.len());
        let mut returns = Vec::new();
        let mut prev = 1_000_000i64;
        for (k, &x) in equity.iter().enumerate() {
            curve.push(x);
            returns.push((x - prev) as f64 / prev as f64);
            prev = x;
            if k + 1 == rec.next_end() {
                rec.record(&curve);
            }
        }
        assert_eq!(rec.next_end(), usize::MAX);
        let got = rec.finish().expect("every block ended");
        let want = BlockReturns::of(&returns).unwrap();
        for (g, w) in got.cells().iter().zip(want.cells()) {
            assert!((g[0] - w[0]).abs() < 1e-15 && (g[1] - w[1]).abs() < 1e-15);
        }
        // blocks alternate between rises and falls: not all alike
        assert_ne!(got.cells()[0][0], got.cells()[1][0]);
        rec.reset();
        assert_eq!(rec.finish(), None, "a reset recorder has no blocks yet");
    }

    #[test]
    fn bits_round_trip() {
        let b = BlockReturns::new(std::array::from_fn(|k| [k as f64 * 0.1 - 0.7, 1.0 / 3.0]));
        assert_eq!(BlockReturns::from_bits(&b.to_bits()), b);
    }
}
