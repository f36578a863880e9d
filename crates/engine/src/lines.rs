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
use crate::indicators::{
    Adx, Atr, BandsValue, Bollinger, Donchian, Ema, Keltner, Macd, Obv, RollingExtreme, RollingStd,
    RollingVwap, Rsi, Sma, Stoch, Vwap, Wma,
};
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

/// The three lines of a channel ([`Indicators::bollinger`],
/// [`Indicators::donchian`], [`Indicators::keltner`]), in raw price units,
/// all defined from the same bar.
#[derive(Debug, Clone)]
pub struct Bands {
    /// Upper band.
    pub upper: Line,
    /// Middle line.
    pub middle: Line,
    /// Lower band.
    pub lower: Line,
}

/// The three lines of [`Indicators::macd`], in raw price units, all
/// defined from the same bar.
#[derive(Debug, Clone)]
pub struct MacdLines {
    /// Fast EMA − slow EMA.
    pub macd: Line,
    /// EMA of `macd` over the signal period.
    pub signal: Line,
    /// `macd − signal`.
    pub histogram: Line,
}

/// The two lines of [`Indicators::stoch`], in percent (0..100), both
/// defined from the same bar.
#[derive(Debug, Clone)]
pub struct StochLines {
    /// Slow %K: the SMA of fast %K over the slow-K period.
    pub k: Line,
    /// Slow %D: the SMA of slow %K over the slow-D period.
    pub d: Line,
}

/// The three lines of [`Indicators::adx`], each in 0..100. The ±DI lines
/// begin before the ADX line: at bar `n` (TA-Lib's `PLUS_DI` / `MINUS_DI`)
/// against bar `2n − 1` (TA-Lib's `ADX`).
#[derive(Debug, Clone)]
pub struct AdxLines {
    /// Average directional index.
    pub adx: Line,
    /// Plus directional indicator, +DI.
    pub plus_di: Line,
    /// Minus directional indicator, −DI.
    pub minus_di: Line,
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
    /// `args`. The built-in lines' names (`"sma"`, `"rsi"`, `"macd"`, …)
    /// are taken: give a custom indicator a name of its own.
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

    /// Simple moving average of the closes over `n` bars.
    #[must_use]
    pub fn sma(&self, n: usize) -> Line {
        self.sma_of(Source::Close, n)
    }

    /// Simple moving average of `source` over `n` bars.
    #[must_use]
    pub fn sma_of(&self, source: Source, n: usize) -> Line {
        let n = n.max(1);
        let [sma] = self.multi("sma", [n as u64, source.code(), 0, 0], |b| {
            let mut sma = Sma::new(n);
            let x = source.column(b);
            per_bar(b, |i| [sma.push(x[i]).then(|| sma.value())])
        });
        sma
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
        let [ema] = self.multi("ema", [n as u64, source.code(), 0, 0], |b| {
            let mut ema = Ema::new(n);
            let x = source.column(b);
            per_bar(b, |i| [ema.push(x[i]).then(|| ema.value())])
        });
        ema
    }

    /// Wilder's RSI of the closes (0..100).
    #[must_use]
    pub fn rsi(&self, n: usize) -> Line {
        let [rsi] = self.multi("rsi", [n as u64, 0, 0, 0], |b| {
            let mut rsi = Rsi::new(n);
            per_bar(b, |i| [rsi.push(b.close[i])])
        });
        rsi
    }

    /// Rolling population standard deviation of the closes over `n` bars.
    #[must_use]
    pub fn stddev(&self, n: usize) -> Line {
        let [std] = self.multi("stddev", [n as u64, 0, 0, 0], |b| {
            let mut std = RollingStd::new(n);
            per_bar(b, |i| [std.push(b.close[i]).map(|(_, sd)| sd)])
        });
        std
    }

    /// Highest high of the last `n` bars.
    #[must_use]
    pub fn highest(&self, n: usize) -> Line {
        let [hi] = self.multi("highest", [n as u64, 0, 0, 0], |b| {
            let mut hi = RollingExtreme::max(n);
            per_bar(b, |i| [hi.push(b.high[i]).map(|v| v as f64)])
        });
        hi
    }

    /// Lowest low of the last `n` bars.
    #[must_use]
    pub fn lowest(&self, n: usize) -> Line {
        let [lo] = self.multi("lowest", [n as u64, 0, 0, 0], |b| {
            let mut lo = RollingExtreme::min(n);
            per_bar(b, |i| [lo.push(b.low[i]).map(|v| v as f64)])
        });
        lo
    }

    /// Lines of a multi-output indicator, shared under `name` and `args`.
    /// `compute` builds a fresh indicator on every call, so if the cache
    /// answers with lines of another shape (a [`Indicators::custom`]
    /// indicator that took the same name and arguments) they are computed
    /// again for this caller alone instead of being misread.
    fn multi<const K: usize>(
        &self,
        name: &'static str,
        args: [u64; 4],
        compute: impl Fn(&Bars) -> [Vec<f64>; K],
    ) -> [Line; K] {
        let shared = self.custom(name, args, |bars| Vec::from(compute(bars)));
        match <[Line; K]>::try_from(shared) {
            Ok(lines) if lines.iter().all(|l| l.len() == self.bars.len()) => lines,
            _ => compute(self.bars).map(Line::new),
        }
    }

    /// Weighted moving average of the closes over `n` (≥ 1) bars: the
    /// newest close weighs `n`, the oldest 1 (TA-Lib's `WMA`). Raw price
    /// units; defined from bar `n − 1` (the `n`-th bar) on. See
    /// [`crate::indicators::Wma`].
    #[must_use]
    pub fn wma(&self, n: usize) -> Line {
        self.wma_of(Source::Close, n)
    }

    /// Weighted moving average of `source` over `n` (≥ 1) bars, as
    /// [`Indicators::wma`] (TA-Lib's `WMA`); defined from bar `n − 1`.
    #[must_use]
    pub fn wma_of(&self, source: Source, n: usize) -> Line {
        let [wma] = self.multi("wma", [n as u64, source.code(), 0, 0], |b| {
            let mut wma = Wma::new(n);
            let x = source.column(b);
            per_bar(b, |i| [wma.push(x[i])])
        });
        wma
    }

    /// Average true range over `n` (≥ 1) bars with Wilder's smoothing,
    /// seeded with the mean of the first `n` true ranges (TA-Lib's `ATR`,
    /// unstable period 0). Raw price units; the first bar only primes the
    /// previous close, so values start at bar `n` (the `n + 1`-th bar).
    /// See [`crate::indicators::Atr`].
    #[must_use]
    pub fn atr(&self, n: usize) -> Line {
        let [atr] = self.multi("atr", [n as u64, 0, 0, 0], |b| {
            let mut atr = Atr::new(n);
            per_bar(b, |i| [atr.push(b.high[i], b.low[i], b.close[i])])
        });
        atr
    }

    /// MACD of the closes: EMA(`fast`) − EMA(`slow`), its signal EMA over
    /// `signal` bars and their difference (each period ≥ 1; the classic is
    /// 12, 26, 9). TA-Lib's `MACD` convention: both EMAs start at the
    /// `slow`-th bar, each seeded with the mean of the inputs ending there,
    /// the signal with the mean of its first `signal` values, and a `slow`
    /// shorter than `fast` is swapped. Raw price units; all three lines
    /// start at bar `slow + signal − 2`. See [`crate::indicators::Macd`].
    #[must_use]
    pub fn macd(&self, fast: usize, slow: usize, signal: usize) -> MacdLines {
        self.macd_of(Source::Close, fast, slow, signal)
    }

    /// MACD of `source`, as [`Indicators::macd`] (TA-Lib's `MACD`); all
    /// three lines start at bar `max(fast, slow) + signal − 2`.
    #[must_use]
    pub fn macd_of(&self, source: Source, fast: usize, slow: usize, signal: usize) -> MacdLines {
        let args = [fast as u64, slow as u64, signal as u64, source.code()];
        let [macd, signal, histogram] = self.multi("macd", args, |b| {
            let mut m = Macd::new(fast, slow, signal);
            let x = source.column(b);
            per_bar(b, |i| {
                let v = m.push(x[i]);
                [
                    v.map(|v| v.macd),
                    v.map(|v| v.signal),
                    v.map(|v| v.histogram),
                ]
            })
        });
        MacdLines {
            macd,
            signal,
            histogram,
        }
    }

    /// Bollinger bands of the closes: the SMA of `n` (≥ 1) closes ± `k`
    /// population standard deviations (TA-Lib's `BBANDS` with an SMA and
    /// `nbdevup = nbdevdn = k`; the classic is 20, 2.0). Raw price units;
    /// defined from bar `n − 1`. See [`crate::indicators::Bollinger`].
    #[must_use]
    pub fn bollinger(&self, n: usize, k: f64) -> Bands {
        self.bollinger_of(Source::Close, n, k)
    }

    /// Bollinger bands of `source`, as [`Indicators::bollinger`] (TA-Lib's
    /// `BBANDS`); defined from bar `n − 1`.
    #[must_use]
    pub fn bollinger_of(&self, source: Source, n: usize, k: f64) -> Bands {
        let args = [n as u64, k.to_bits(), source.code(), 0];
        let [upper, middle, lower] = self.multi("bollinger", args, |b| {
            let mut bb = Bollinger::new(n, k);
            let x = source.column(b);
            per_bar(b, |i| bands(bb.push(x[i])))
        });
        Bands {
            upper,
            middle,
            lower,
        }
    }

    /// Slow stochastic oscillator: fast %K over `fastk` bars, smoothed by
    /// an SMA of `slowk` bars into slow %K and again by `slowd` bars into
    /// %D (each ≥ 1; TA-Lib's default is 5, 3, 3). TA-Lib's `STOCH` with
    /// SMA smoothing, its order of operations and fast %K = 0 on a bar
    /// range of 0. Percent (0..100); both lines start at bar
    /// `fastk + slowk + slowd − 3`. See [`crate::indicators::Stoch`].
    #[must_use]
    pub fn stoch(&self, fastk: usize, slowk: usize, slowd: usize) -> StochLines {
        let args = [fastk as u64, slowk as u64, slowd as u64, 0];
        let [k, d] = self.multi("stoch", args, |b| {
            let mut s = Stoch::new(fastk, slowk, slowd);
            per_bar(b, |i| {
                let v = s.push(b.high[i], b.low[i], b.close[i]);
                [v.map(|v| v.k), v.map(|v| v.d)]
            })
        });
        StochLines { k, d }
    }

    /// Wilder's average directional index over `n` (≥ 1) bars with +DI and
    /// −DI (the classic is 14): TA-Lib's `ADX`, `PLUS_DI` and `MINUS_DI`,
    /// Wilder sums and all. Each line in 0..100. The ±DI lines start where
    /// TA-Lib's do, at bar `n` (they are [`crate::indicators::Adx::di`]
    /// after each bar, equal to the ±DI that `Adx::push` returns once the
    /// ADX is defined); the ADX line starts at bar `2n − 1`. See
    /// [`crate::indicators::Adx`].
    #[must_use]
    pub fn adx(&self, n: usize) -> AdxLines {
        let [adx, plus_di, minus_di] = self.multi("adx", [n as u64, 0, 0, 0], |b| {
            let mut a = Adx::new(n);
            per_bar(b, |i| {
                let v = a.push(b.high[i], b.low[i], b.close[i]);
                let di = a.di();
                [v.map(|v| v.adx), di.map(|d| d.0), di.map(|d| d.1)]
            })
        });
        AdxLines {
            adx,
            plus_di,
            minus_di,
        }
    }

    /// Donchian channel over `n` (≥ 1) bars: the highest high, the lowest
    /// low (TA-Lib's `MAX(high)` and `MIN(low)`) and their midpoint. The
    /// window includes the current bar, so a breakout rule compares the
    /// close with the previous bar's channel. Raw price units; defined from
    /// bar `n − 1`. See [`crate::indicators::Donchian`].
    #[must_use]
    pub fn donchian(&self, n: usize) -> Bands {
        let [upper, middle, lower] = self.multi("donchian", [n as u64, 0, 0, 0], |b| {
            let mut d = Donchian::new(n);
            per_bar(b, |i| bands(d.push(b.high[i], b.low[i])))
        });
        Bands {
            upper,
            middle,
            lower,
        }
    }

    /// Keltner channels: the EMA of `n` (≥ 1) closes ± `mult` × the ATR of
    /// `atr_n` (≥ 1) bars (a common choice: 20, 10, 2.0). TA-Lib has no
    /// Keltner; its parts follow TA-Lib's `EMA` (seeded with an SMA) and
    /// `ATR` (Wilder). Raw price units; defined from bar
    /// `max(n, atr_n + 1) − 1`. See [`crate::indicators::Keltner`].
    #[must_use]
    pub fn keltner(&self, n: usize, atr_n: usize, mult: f64) -> Bands {
        let args = [n as u64, atr_n as u64, mult.to_bits(), 0];
        let [upper, middle, lower] = self.multi("keltner", args, |b| {
            let mut k = Keltner::new(n, atr_n, mult);
            per_bar(b, |i| bands(k.push(b.high[i], b.low[i], b.close[i])))
        });
        Bands {
            upper,
            middle,
            lower,
        }
    }

    /// Volume-weighted average price from the run's first bar: `Σ tp·v /
    /// Σ v` with the typical price `tp = (high + low + close) / 3`, from
    /// exact integer sums (TA-Lib has no VWAP; the typical price is
    /// TA-Lib's `TYPPRICE`). Raw price units; defined from the first bar
    /// with volume on (never, on data without volume). See
    /// [`crate::indicators::Vwap`].
    #[must_use]
    pub fn vwap(&self) -> Line {
        let [vwap] = self.multi("vwap", [0; 4], |b| {
            let mut v = Vwap::new();
            per_bar(b, |i| {
                [v.push(b.high[i], b.low[i], b.close[i], b.volume[i])]
            })
        });
        vwap
    }

    /// Volume-weighted average price of the last `n` (≥ 1) bars, as
    /// [`Indicators::vwap`] over a rolling window (exact rolling sums;
    /// TA-Lib has no VWAP). Raw price units; defined from bar `n − 1`
    /// except while the window holds no volume. See
    /// [`crate::indicators::RollingVwap`].
    #[must_use]
    pub fn rolling_vwap(&self, n: usize) -> Line {
        let [vwap] = self.multi("rolling_vwap", [n as u64, 0, 0, 0], |b| {
            let mut v = RollingVwap::new(n);
            per_bar(b, |i| {
                [v.push(b.high[i], b.low[i], b.close[i], b.volume[i])]
            })
        });
        vwap
    }

    /// On-balance volume: starts at the first bar's volume (TA-Lib's `OBV`
    /// convention, not 0; only its changes carry meaning), then adds the
    /// volume of each bar closing higher than the previous one and
    /// subtracts that of each closing lower. Raw volume units; defined
    /// from bar 0. See [`crate::indicators::Obv`].
    #[must_use]
    pub fn obv(&self) -> Line {
        let [obv] = self.multi("obv", [0; 4], |b| {
            let mut o = Obv::new();
            per_bar(b, |i| [o.push(b.close[i], b.volume[i])])
        });
        obv
    }
}

/// Runs `step` over every bar index and collects its `K` outputs into `K`
/// lines, NaN where an output is `None`.
fn per_bar<const K: usize>(
    bars: &Bars,
    mut step: impl FnMut(usize) -> [Option<f64>; K],
) -> [Vec<f64>; K] {
    let len = bars.len();
    let mut lines: [Vec<f64>; K] = std::array::from_fn(|_| Vec::with_capacity(len));
    for i in 0..len {
        for (line, v) in lines.iter_mut().zip(step(i)) {
            line.push(v.unwrap_or(f64::NAN));
        }
    }
    lines
}

/// A channel bar as three outputs, upper, middle, lower.
fn bands(v: Option<BandsValue>) -> [Option<f64>; 3] {
    [v.map(|v| v.upper), v.map(|v| v.middle), v.map(|v| v.lower)]
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

    /// A deterministic pseudo-random walk of `len` bars: varied ranges and
    /// volumes, a flat bar without range now and then (zero true range,
    /// zero stochastic range, unchanged close), no volume on the first
    /// bars and on a stretch in the middle (VWAP undefined there).
    fn walk(len: usize) -> Bars {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut b = Bars::default();
        let mut close = 100_000_i64;
        for i in 0..len {
            let r = next();
            let open = close;
            let (high, low);
            if i % 37 == 5 {
                (high, low) = (open, open);
            } else {
                close = (close + (r % 2001) as i64 - 1000).max(1000);
                high = open.max(close) + ((r >> 16) % 500) as i64;
                low = open.min(close) - ((r >> 32) % 500) as i64;
            }
            let volume = if i < 3 || (100..110).contains(&i) {
                0
            } else {
                ((r >> 40) % 10_000) as i64
            };
            b.push(Bar {
                ts: i as i64,
                open,
                high,
                low,
                close,
                volume,
            });
        }
        b
    }

    /// `K` expected lines from pushing an incremental indicator bar by bar.
    fn expect<const K: usize>(
        b: &Bars,
        mut step: impl FnMut(usize) -> [Option<f64>; K],
    ) -> [Vec<Option<f64>>; K] {
        let mut out: [Vec<Option<f64>>; K] = std::array::from_fn(|_| Vec::new());
        for i in 0..b.len() {
            for (line, v) in out.iter_mut().zip(step(i)) {
                line.push(v);
            }
        }
        out
    }

    /// `line` equals `expected` bit for bit, NaN exactly where `None`, and
    /// has some value.
    fn same(what: &str, line: &Line, expected: &[Option<f64>]) {
        assert_eq!(line.len(), expected.len(), "{what}: length");
        for (i, e) in expected.iter().enumerate() {
            assert_eq!(
                line.get(i).map(f64::to_bits),
                e.map(f64::to_bits),
                "{what}: bar {i}"
            );
            assert_eq!(line[i].is_nan(), e.is_none(), "{what}: NaN at bar {i}");
        }
        assert!(expected.iter().any(Option::is_some), "{what}: no value");
    }

    fn split3<T: Copy>(v: Option<T>, f: impl Fn(T) -> [f64; 3]) -> [Option<f64>; 3] {
        let [a, b, c] = v.map(f).map_or([None; 3], |x| x.map(Some));
        [a, b, c]
    }

    /// Every new method, with several arguments, against its incremental
    /// indicator pushed bar by bar.
    fn check_every_method(ind: &Indicators<'_>) {
        let b = ind.bars();
        let (h, l, c, v) = (&b.high, &b.low, &b.close, &b.volume);
        let band = |x: BandsValue| [x.upper, x.middle, x.lower];
        for n in [1, 2, 14, 50] {
            let mut x = Wma::new(n);
            let [e] = expect(b, |i| [x.push(c[i])]);
            same(&format!("wma({n})"), &ind.wma(n), &e);
            let mut x = Wma::new(n);
            let [e] = expect(b, |i| [x.push(h[i])]);
            same(
                &format!("wma_of(High, {n})"),
                &ind.wma_of(Source::High, n),
                &e,
            );

            let mut x = Atr::new(n);
            let [e] = expect(b, |i| [x.push(h[i], l[i], c[i])]);
            same(&format!("atr({n})"), &ind.atr(n), &e);

            let mut x = Adx::new(n);
            let e = expect(b, |i| {
                let p = x.push(h[i], l[i], c[i]);
                let di = x.di();
                if let Some(p) = p {
                    assert_eq!(di, Some((p.plus_di, p.minus_di)), "adx({n}) bar {i}");
                }
                [p.map(|p| p.adx), di.map(|d| d.0), di.map(|d| d.1)]
            });
            let got = ind.adx(n);
            same(&format!("adx({n}).adx"), &got.adx, &e[0]);
            same(&format!("adx({n}).plus_di"), &got.plus_di, &e[1]);
            same(&format!("adx({n}).minus_di"), &got.minus_di, &e[2]);
            assert_eq!(
                got.adx.values().iter().position(|v| !v.is_nan()),
                Some(2 * n - 1)
            );
            assert_eq!(
                got.plus_di.values().iter().position(|v| !v.is_nan()),
                Some(n)
            );
            assert_eq!(
                got.minus_di.values().iter().position(|v| !v.is_nan()),
                Some(n)
            );

            let mut x = Donchian::new(n);
            let e = expect(b, |i| split3(x.push(h[i], l[i]), band));
            let got = ind.donchian(n);
            same(&format!("donchian({n}).upper"), &got.upper, &e[0]);
            same(&format!("donchian({n}).middle"), &got.middle, &e[1]);
            same(&format!("donchian({n}).lower"), &got.lower, &e[2]);

            let mut x = RollingVwap::new(n);
            let [e] = expect(b, |i| [x.push(h[i], l[i], c[i], v[i])]);
            same(&format!("rolling_vwap({n})"), &ind.rolling_vwap(n), &e);
        }
        for (source, (fast, slow, signal)) in [
            (Source::Close, (12, 26, 9)),
            (Source::Close, (2, 3, 2)),
            (Source::Close, (5, 35, 5)),
            (Source::Close, (26, 12, 9)),
            (Source::Low, (12, 26, 9)),
        ] {
            let x_of = source.column(b);
            let mut x = Macd::new(fast, slow, signal);
            let e = expect(b, |i| {
                split3(x.push(x_of[i]), |m| [m.macd, m.signal, m.histogram])
            });
            let got = if source == Source::Close {
                ind.macd(fast, slow, signal)
            } else {
                ind.macd_of(source, fast, slow, signal)
            };
            let what = format!("macd_of({source:?}, {fast}, {slow}, {signal})");
            same(&format!("{what}.macd"), &got.macd, &e[0]);
            same(&format!("{what}.signal"), &got.signal, &e[1]);
            same(&format!("{what}.histogram"), &got.histogram, &e[2]);
        }
        for (source, n, k) in [
            (Source::Close, 20, 2.0),
            (Source::Close, 2, 2.0),
            (Source::Close, 50, 1.0),
            (Source::Open, 20, 2.5),
        ] {
            let x_of = source.column(b);
            let mut x = Bollinger::new(n, k);
            let e = expect(b, |i| split3(x.push(x_of[i]), band));
            let got = if source == Source::Close {
                ind.bollinger(n, k)
            } else {
                ind.bollinger_of(source, n, k)
            };
            let what = format!("bollinger_of({source:?}, {n}, {k})");
            same(&format!("{what}.upper"), &got.upper, &e[0]);
            same(&format!("{what}.middle"), &got.middle, &e[1]);
            same(&format!("{what}.lower"), &got.lower, &e[2]);
        }
        for (fastk, slowk, slowd) in [(5, 3, 3), (14, 3, 3), (2, 1, 1), (50, 5, 7)] {
            let mut x = Stoch::new(fastk, slowk, slowd);
            let e = expect(b, |i| {
                let s = x.push(h[i], l[i], c[i]);
                [s.map(|s| s.k), s.map(|s| s.d)]
            });
            let got = ind.stoch(fastk, slowk, slowd);
            let what = format!("stoch({fastk}, {slowk}, {slowd})");
            same(&format!("{what}.k"), &got.k, &e[0]);
            same(&format!("{what}.d"), &got.d, &e[1]);
        }
        for (n, atr_n, mult) in [(20, 10, 2.0), (2, 14, 1.5), (50, 2, 3.0)] {
            let mut x = Keltner::new(n, atr_n, mult);
            let e = expect(b, |i| split3(x.push(h[i], l[i], c[i]), band));
            let got = ind.keltner(n, atr_n, mult);
            let what = format!("keltner({n}, {atr_n}, {mult})");
            same(&format!("{what}.upper"), &got.upper, &e[0]);
            same(&format!("{what}.middle"), &got.middle, &e[1]);
            same(&format!("{what}.lower"), &got.lower, &e[2]);
        }
        let mut x = Vwap::new();
        let [e] = expect(b, |i| [x.push(h[i], l[i], c[i], v[i])]);
        assert_eq!(e[..3], [None; 3], "no volume yet: no VWAP");
        same("vwap()", &ind.vwap(), &e);
        let mut x = Obv::new();
        let [e] = expect(b, |i| [x.push(c[i], v[i])]);
        same("obv()", &ind.obv(), &e);
    }

    #[test]
    fn every_line_equals_its_incremental_indicator_bit_for_bit() {
        let b = walk(400);
        let cache = SeriesCache::new(1 << 24);
        let ind = Indicators::new(&b, &cache);
        check_every_method(&ind);
        // a second pass reads what the first one computed
        let kept = cache.kept_bytes();
        assert!(kept > 0);
        check_every_method(&ind);
        assert_eq!(cache.kept_bytes(), kept, "nothing computed twice");
        assert!(
            ind.rolling_vwap(5).get(108).is_none() && ind.rolling_vwap(5).get(99).is_some(),
            "a window without volume has no rolling VWAP"
        );
    }

    #[test]
    fn an_unshared_cache_still_gives_the_right_lines() {
        let b = walk(300);
        let cache = SeriesCache::unshared();
        let ind = Indicators::new(&b, &cache);
        check_every_method(&ind);
        assert_eq!(cache.kept_bytes(), 0);
        assert!(!Arc::ptr_eq(&ind.atr(14).0, &ind.atr(14).0), "nothing kept");
    }

    /// The lines of one result, to compare allocations.
    fn parts(lines: &[&Line]) -> Vec<Line> {
        lines.iter().map(|&l| l.clone()).collect()
    }

    /// `a` and `again` (same arguments) are the same allocations; each of
    /// `others` (one argument changed) is other allocations, with some
    /// line of other values.
    fn shared(what: &str, a: &[Line], again: &[Line], others: &[Vec<Line>]) {
        for (x, y) in a.iter().zip(again) {
            assert!(Arc::ptr_eq(&x.0, &y.0), "{what}: same arguments, same line");
        }
        for (k, other) in others.iter().enumerate() {
            assert_eq!(other.len(), a.len());
            for (x, y) in a.iter().zip(other) {
                assert!(!Arc::ptr_eq(&x.0, &y.0), "{what}: other #{k} shares a line");
            }
            let bits = |l: &Line| l.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert!(
                a.iter().zip(other).any(|(x, y)| bits(x) != bits(y)),
                "{what}: other #{k} has the same values"
            );
        }
    }

    #[test]
    fn same_arguments_share_one_line_and_other_arguments_do_not() {
        let b = walk(300);
        let cache = SeriesCache::new(1 << 24);
        let ind = Indicators::new(&b, &cache);
        let one = |l: Line| vec![l];
        let bands = |x: Bands| vec![x.upper, x.middle, x.lower];
        let macd = |x: MacdLines| vec![x.macd, x.signal, x.histogram];
        let stoch = |x: StochLines| vec![x.k, x.d];
        let adx = |x: AdxLines| vec![x.adx, x.plus_di, x.minus_di];
        shared(
            "wma",
            &one(ind.wma(10)),
            &one(ind.wma_of(Source::Close, 10)),
            &[one(ind.wma(11)), one(ind.wma_of(Source::High, 10))],
        );
        shared(
            "atr",
            &one(ind.atr(14)),
            &one(ind.atr(14)),
            &[one(ind.atr(15))],
        );
        shared(
            "macd",
            &macd(ind.macd(12, 26, 9)),
            &macd(ind.macd_of(Source::Close, 12, 26, 9)),
            &[
                macd(ind.macd(11, 26, 9)),
                macd(ind.macd(12, 27, 9)),
                macd(ind.macd(12, 26, 8)),
                macd(ind.macd_of(Source::Open, 12, 26, 9)),
            ],
        );
        shared(
            "bollinger",
            &bands(ind.bollinger(20, 2.0)),
            &bands(ind.bollinger_of(Source::Close, 20, 2.0)),
            &[
                bands(ind.bollinger(21, 2.0)),
                bands(ind.bollinger(20, 2.5)),
                bands(ind.bollinger_of(Source::Low, 20, 2.0)),
            ],
        );
        shared(
            "stoch",
            &stoch(ind.stoch(5, 3, 3)),
            &stoch(ind.stoch(5, 3, 3)),
            &[
                stoch(ind.stoch(6, 3, 3)),
                stoch(ind.stoch(5, 4, 3)),
                stoch(ind.stoch(5, 3, 4)),
            ],
        );
        shared(
            "adx",
            &adx(ind.adx(14)),
            &adx(ind.adx(14)),
            &[adx(ind.adx(13))],
        );
        shared(
            "donchian",
            &bands(ind.donchian(20)),
            &bands(ind.donchian(20)),
            &[bands(ind.donchian(21))],
        );
        shared(
            "keltner",
            &bands(ind.keltner(20, 10, 2.0)),
            &bands(ind.keltner(20, 10, 2.0)),
            &[
                bands(ind.keltner(21, 10, 2.0)),
                bands(ind.keltner(20, 11, 2.0)),
                bands(ind.keltner(20, 10, 1.5)),
            ],
        );
        shared(
            "rolling_vwap",
            &one(ind.rolling_vwap(20)),
            &one(ind.rolling_vwap(20)),
            &[one(ind.rolling_vwap(21))],
        );
        shared("vwap", &one(ind.vwap()), &one(ind.vwap()), &[]);
        shared("obv", &one(ind.obv()), &one(ind.obv()), &[]);
        // same-shaped indicators under different names are different lines
        shared(
            "names",
            &bands(ind.donchian(20)),
            &parts(&[
                &ind.donchian(20).upper,
                &ind.donchian(20).middle,
                &ind.donchian(20).lower,
            ]),
            &[
                bands(ind.bollinger(20, 2.0)),
                bands(ind.keltner(20, 20, 2.0)),
            ],
        );
        shared(
            "vwap vs obv",
            &one(ind.vwap()),
            &one(ind.vwap()),
            &[one(ind.obv())],
        );
    }

    #[test]
    fn a_custom_line_under_a_built_in_key_is_not_misread() {
        let b = walk(200);
        let cache = SeriesCache::new(1 << 24);
        let ind = Indicators::new(&b, &cache);
        let len = b.len();
        // one line where MACD has three; two where ATR has one
        let _ = ind.custom("macd", [12, 26, 9, Source::Close.code()], |_| {
            vec![vec![0.0; len]]
        });
        let _ = ind.custom("atr", [14, 0, 0, 0], |_| vec![vec![0.0; len]; 2]);
        let _ = ind.custom("wma", [5, Source::Close.code(), 0, 0], |_| {
            vec![vec![0.0; 3]]
        });
        let fresh = SeriesCache::unshared();
        let right = Indicators::new(&b, &fresh);
        let bits = |l: &Line| l.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let (got, want) = (ind.macd(12, 26, 9), right.macd(12, 26, 9));
        assert_eq!(bits(&got.macd), bits(&want.macd));
        assert_eq!(bits(&got.signal), bits(&want.signal));
        assert_eq!(bits(&got.histogram), bits(&want.histogram));
        assert_eq!(bits(&ind.atr(14)), bits(&right.atr(14)));
        assert_eq!(bits(&ind.wma(5)), bits(&right.wma(5)), "a line too short");
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
