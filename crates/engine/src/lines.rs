//! Indicator series a strategy takes once and reads at every bar.
//!
//! A strategy asks [`Indicators`] for what it needs in
//! [`crate::Strategy::new`] — `ind.rsi(14)`, `ind.sma(50)` — and gets a
//! [`Line`]: one value per main bar, computed by the incremental indicator
//! of [`crate::indicators`] over the whole run before the first bar. In an
//! optimization every trial asking for the same indicator with the same
//! arguments gets the same line (computed once, by whichever trial asked
//! first, kept within [`crate::series::DEFAULT_BUDGET`]), so a grid over
//! `period × oversold × overbought` computes each RSI period once and its
//! trials only read. That is the speed a hand-written shared series gives,
//! without the strategy author writing any.
//!
//! No look-ahead: value `i` depends only on bars `0..=i` (each line is the
//! incremental indicator's output after bar `i`), and the strategy reads
//! index [`crate::Ctx::index`] — the bar that just closed.
//!
//! Values are `f64` in raw price units (the instrument's fixed-point
//! integers, as [`crate::Ctx::close`] gives them); oscillators are 0..100.
//! Before an indicator is warmed up its line holds NaN and [`Line::get`]
//! answers `None`.

use crate::bars::Bars;
use crate::indicators::{Ema, RollingExtreme, RollingStd, Rsi, Sma};
use crate::series::SeriesCache;
use crate::strategy::Ctx;
use std::ops::Index;
use std::sync::Arc;

/// One value per main bar (NaN before the indicator is defined), shared
/// between the trials that asked for the same indicator.
#[derive(Debug, Clone)]
pub struct Line(Arc<[f64]>);

impl Line {
    /// Wraps computed values.
    #[must_use]
    pub fn new(values: impl Into<Arc<[f64]>>) -> Self {
        Self(values.into())
    }

    /// The value after bar `i`, `None` while warming up or past the end.
    #[inline]
    #[must_use]
    pub fn get(&self, i: usize) -> Option<f64> {
        self.0.get(i).copied().filter(|v| !v.is_nan())
    }

    /// The value at the bar that just closed.
    #[inline]
    #[must_use]
    pub fn now(&self, ctx: &Ctx<'_>) -> Option<f64> {
        self.get(ctx.index())
    }

    /// Every value, NaN before the indicator is defined.
    #[must_use]
    pub fn values(&self) -> &[f64] {
        &self.0
    }

    /// Number of values (the run's main bars).
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no values.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether this line crossed above `other` at bar `i`: strictly below
    /// at `i − 1`, strictly above at `i` (backtesting.py's rule; touching
    /// equality is not a cross). False while either is undefined.
    #[inline]
    #[must_use]
    pub fn crossed_above(&self, other: &Line, i: usize) -> bool {
        i > 0
            && matches!(
                (self.get(i - 1), other.get(i - 1), self.get(i), other.get(i)),
                (Some(a0), Some(b0), Some(a1), Some(b1)) if a0 < b0 && a1 > b1
            )
    }

    /// Whether this line crossed below `other` at bar `i` (see
    /// [`Line::crossed_above`]).
    #[inline]
    #[must_use]
    pub fn crossed_below(&self, other: &Line, i: usize) -> bool {
        other.crossed_above(self, i)
    }
}

impl Index<usize> for Line {
    type Output = f64;

    /// The raw value at `i` (NaN while warming up).
    #[inline]
    fn index(&self, i: usize) -> &f64 {
        &self.0[i]
    }
}

/// The input an indicator reads from each bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// Close (the default everywhere).
    Close,
    /// Open.
    Open,
    /// High.
    High,
    /// Low.
    Low,
    /// Volume.
    Volume,
}

impl Source {
    fn column(self, bars: &Bars) -> &[i64] {
        match self {
            Self::Close => &bars.close,
            Self::Open => &bars.open,
            Self::High => &bars.high,
            Self::Low => &bars.low,
            Self::Volume => &bars.volume,
        }
    }

    fn code(self) -> u64 {
        match self {
            Self::Close => 0,
            Self::Open => 1,
            Self::High => 2,
            Self::Low => 3,
            Self::Volume => 4,
        }
    }
}

/// Where a strategy takes its indicator lines from, in
/// [`crate::Strategy::new`]: the run's main bars and the cache shared by
/// every trial of an optimization.
#[derive(Clone, Copy)]
pub struct Indicators<'a> {
    bars: &'a Bars,
    cache: &'a SeriesCache,
}

impl<'a> Indicators<'a> {
    /// Indicators over `bars`, memoised in `cache`.
    #[must_use]
    pub fn new(bars: &'a Bars, cache: &'a SeriesCache) -> Self {
        Self { bars, cache }
    }

    /// The run's main bars (every bar, including future ones: read them
    /// only to precompute, never to decide at bar `i` from bar `i + 1`).
    #[must_use]
    pub fn bars(&self) -> &'a Bars {
        self.bars
    }

    /// The shared cache, for series beyond lines (e.g.
    /// [`SeriesCache::close_prefix_sums`]).
    #[must_use]
    pub fn cache(&self) -> &'a SeriesCache {
        self.cache
    }

    /// Lines of a custom indicator, computed once per distinct `name` and
    /// `args` and shared like the built-in ones. `compute` gets the bars
    /// and returns one `Vec` per output line, each one value per bar (NaN
    /// while undefined), and must depend on nothing but the bars and
    /// `args`.
    #[must_use]
    pub fn custom(
        &self,
        name: &'static str,
        args: [u64; 4],
        compute: impl FnOnce(&Bars) -> Vec<Vec<f64>>,
    ) -> Vec<Line> {
        let bars = self.bars;
        self.cache
            .lines(name, args, || compute(bars))
            .iter()
            .map(|l| Line(Arc::clone(l)))
            .collect()
    }

    /// One line of a single-output indicator fed with one input per bar.
    fn single(
        &self,
        name: &'static str,
        args: [u64; 4],
        source: Source,
        mut step: impl FnMut(i64) -> Option<f64>,
    ) -> Line {
        let mut lines = self.custom(name, args, |bars| {
            vec![source
                .column(bars)
                .iter()
                .map(|&x| step(x).unwrap_or(f64::NAN))
                .collect()]
        });
        lines.swap_remove(0)
    }

    /// Simple moving average of the closes over `n` bars.
    #[must_use]
    pub fn sma(&self, n: usize) -> Line {
        self.sma_of(Source::Close, n)
    }

    /// Simple moving average of `source` over `n` bars.
    #[must_use]
    pub fn sma_of(&self, source: Source, n: usize) -> Line {
        let mut sma = Sma::new(n);
        let n = sma.period();
        self.single("sma", [n as u64, source.code(), 0, 0], source, |x| {
            sma.push(x).then(|| sma.value())
        })
    }

    /// Exponential moving average of the closes (seeded with the SMA of
    /// the first `n`, as TA-Lib does).
    #[must_use]
    pub fn ema(&self, n: usize) -> Line {
        self.ema_of(Source::Close, n)
    }

    /// Exponential moving average of `source`.
    #[must_use]
    pub fn ema_of(&self, source: Source, n: usize) -> Line {
        let mut ema = Ema::new(n);
        self.single("ema", [n as u64, source.code(), 0, 0], source, |x| {
            ema.push(x).then(|| ema.value())
        })
    }

    /// Wilder's RSI of the closes (0..100).
    #[must_use]
    pub fn rsi(&self, n: usize) -> Line {
        let mut rsi = Rsi::new(n);
        self.single("rsi", [n as u64, 0, 0, 0], Source::Close, |x| rsi.push(x))
    }

    /// Rolling population standard deviation of the closes over `n` bars.
    #[must_use]
    pub fn stddev(&self, n: usize) -> Line {
        let mut std = RollingStd::new(n);
        self.single("stddev", [n as u64, 0, 0, 0], Source::Close, |x| {
            std.push(x).map(|(_, sd)| sd)
        })
    }

    /// Highest high of the last `n` bars.
    #[must_use]
    pub fn highest(&self, n: usize) -> Line {
        let mut hi = RollingExtreme::max(n);
        self.single("highest", [n as u64, 0, 0, 0], Source::High, |x| {
            hi.push(x).map(|v| v as f64)
        })
    }

    /// Lowest low of the last `n` bars.
    #[must_use]
    pub fn lowest(&self, n: usize) -> Line {
        let mut lo = RollingExtreme::min(n);
        self.single("lowest", [n as u64, 0, 0, 0], Source::Low, |x| {
            lo.push(x).map(|v| v as f64)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bars::Bar;

    fn bars(closes: &[i64]) -> Bars {
        let mut b = Bars::default();
        for (i, &c) in closes.iter().enumerate() {
            b.push(Bar {
                ts: i as i64,
                open: c,
                high: c + 1,
                low: c - 1,
                close: c,
                volume: 10,
            });
        }
        b
    }

    #[test]
    fn lines_equal_the_incremental_indicators_and_are_shared() {
        let b = bars(&[10, 11, 12, 11, 10, 9, 10, 12, 13, 12]);
        let cache = SeriesCache::new(1 << 20);
        let ind = Indicators::new(&b, &cache);
        let rsi = ind.rsi(3);
        let mut r = Rsi::new(3);
        for (i, &c) in b.close.iter().enumerate() {
            assert_eq!(rsi.get(i).map(f64::to_bits), r.push(c).map(f64::to_bits));
        }
        let again = ind.rsi(3);
        assert!(Arc::ptr_eq(&rsi.0, &again.0), "same key, same line");
        assert!(!Arc::ptr_eq(&rsi.0, &ind.rsi(4).0));
        let sma = ind.sma(3);
        assert_eq!(sma.get(1), None);
        assert_eq!(sma.get(2), Some(11.0));
        assert_eq!(ind.highest(2).get(1), Some(12.0), "highs 11, 12");
        assert_eq!(ind.lowest(2).get(1), Some(9.0), "lows 9, 10");
    }

    #[test]
    fn crossovers_are_strict() {
        let a = Line::new(vec![f64::NAN, 1.0, 3.0, 3.0, 2.0]);
        let b = Line::new(vec![2.0, 2.0, 2.0, 3.0, 3.0]);
        assert!(!a.crossed_above(&b, 1), "undefined before");
        assert!(a.crossed_above(&b, 2));
        assert!(!a.crossed_below(&b, 3), "touching equality is not a cross");
        assert!(!a.crossed_below(&b, 4), "from equality is not a cross");
    }
}
