//! Oscillators: RSI (Wilder), MACD and the stochastic (TA-Lib `STOCH`).

use super::window::Window;
use super::{Ema, RollingExtreme};

/// Wilder's relative strength index (0..=100), defined after `n` changes.
///
/// The first averages of gains and losses are plain means of the first `n`
/// changes, later ones Wilder's smoothing `(avg × (n − 1) + x) / n` — TA-Lib's
/// `RSI` with its default unstable period 0. Because of that smoothing the
/// value depends on the whole history: two runs agree only when they start
/// at the same bar. The value equals TA-Lib's to ~1e-12 of the 0..100 range
/// (TA-Lib sums the first changes before dividing and computes
/// `100 × g / (g + l)`; this type predates the TA-Lib checks and keeps its
/// bits for the built-in strategies); the one real difference is a history
/// with neither gains nor losses, where this reports the neutral 50 and
/// TA-Lib 0.
#[derive(Debug, Clone)]
pub struct Rsi {
    n: usize,
    prev: Option<i64>,
    seen: usize,
    avg_gain: f64,
    avg_loss: f64,
}

impl Rsi {
    /// An RSI of period `n` (≥ 1).
    #[must_use]
    pub fn new(n: usize) -> Self {
        Self {
            n: n.max(1),
            prev: None,
            seen: 0,
            avg_gain: 0.0,
            avg_loss: 0.0,
        }
    }

    /// Adds a close; returns the RSI once defined.
    #[inline]
    pub fn push(&mut self, close: i64) -> Option<f64> {
        let prev = self.prev.replace(close)?;
        let change = (close - prev) as f64;
        let (gain, loss) = if change > 0.0 {
            (change, 0.0)
        } else {
            (0.0, -change)
        };
        let n = self.n as f64;
        if self.seen < self.n {
            self.seen += 1;
            self.avg_gain += gain / n;
            self.avg_loss += loss / n;
            if self.seen < self.n {
                return None;
            }
        } else {
            self.avg_gain = (self.avg_gain * (n - 1.0) + gain) / n;
            self.avg_loss = (self.avg_loss * (n - 1.0) + loss) / n;
        }
        Some(if self.avg_loss == 0.0 {
            if self.avg_gain == 0.0 {
                50.0
            } else {
                100.0
            }
        } else {
            100.0 - 100.0 / (1.0 + self.avg_gain / self.avg_loss)
        })
    }

    /// Period.
    #[must_use]
    pub fn period(&self) -> usize {
        self.n
    }

    /// Inputs before the first `Some`: `n + 1` (`n` changes need `n + 1`
    /// closes; TA-Lib's lookback `n`).
    #[must_use]
    pub fn warmup(&self) -> usize {
        self.n + 1
    }
}

/// One bar of [`Macd`], in raw price units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    /// Fast EMA − slow EMA.
    pub macd: f64,
    /// EMA of `macd` over the signal period.
    pub signal: f64,
    /// `macd − signal`.
    pub histogram: f64,
}

/// Moving average convergence/divergence, TA-Lib's `MACD` exactly.
///
/// TA-Lib's convention, kept here so the values match: both EMAs start on
/// the same bar, the `slow`-th input. The slow EMA is seeded with the mean
/// of the first `slow` inputs; the fast EMA with the mean of the `fast`
/// inputs that end there (it ignores the first `slow − fast` inputs), not
/// with the first `fast` inputs. The trade-off: a fast EMA seeded earlier
/// would converge a little sooner, but a MACD line defined before the slow
/// EMA is meaningless anyway, and this way the result matches every
/// TA-Lib-based tool. The signal line is an EMA of the MACD line seeded
/// with the mean of its first `signal` values, so the first output comes
/// after `slow + signal − 1` inputs. As in TA-Lib, a `slow` shorter than
/// `fast` is swapped.
#[derive(Debug, Clone)]
pub struct Macd {
    fast: Ema,
    slow: Ema,
    signal: Ema,
    skip: usize,
    seen: usize,
}

impl Macd {
    /// MACD with EMA periods `fast` and `slow` and a signal EMA of period
    /// `signal` (each ≥ 1; the classic is 12, 26, 9).
    #[must_use]
    pub fn new(fast: usize, slow: usize, signal: usize) -> Self {
        let (fast, slow) = (fast.max(1), slow.max(1));
        let (fast, slow) = if slow < fast {
            (slow, fast)
        } else {
            (fast, slow)
        };
        Self {
            fast: Ema::new(fast),
            slow: Ema::new(slow),
            signal: Ema::new(signal),
            skip: slow - fast,
            seen: 0,
        }
    }

    /// Adds a close; returns the three lines once the signal is defined.
    #[inline]
    pub fn push(&mut self, close: i64) -> Option<MacdValue> {
        let slow_ready = self.slow.push(close);
        if self.seen >= self.skip {
            self.fast.push(close);
        } else {
            self.seen += 1;
        }
        if !slow_ready {
            return None;
        }
        let macd = self.fast.value() - self.slow.value();
        if !self.signal.push_f64(macd) {
            return None;
        }
        let signal = self.signal.value();
        Some(MacdValue {
            macd,
            signal,
            histogram: macd - signal,
        })
    }

    /// Inputs before the first `Some`: `slow + signal − 1`.
    #[must_use]
    pub fn warmup(&self) -> usize {
        self.slow.period() + self.signal.period() - 1
    }
}

/// TA-Lib's `SMA` of a real-valued series: a running `f64` total, added to
/// before and reduced after each output, in TA-Lib's order, so it matches
/// TA-Lib bit for bit (rounding drift stays at the level of `bars × ulp`).
#[derive(Debug, Clone)]
struct SmaF64 {
    n: f64,
    win: Window<f64>,
    total: f64,
}

impl SmaF64 {
    fn new(n: usize) -> Self {
        let n = n.max(1);
        Self {
            n: n as f64,
            win: Window::new(n),
            total: 0.0,
        }
    }

    #[inline]
    fn push(&mut self, x: f64) -> Option<f64> {
        self.total += x;
        self.win.push(x);
        let oldest = self.win.oldest()?;
        let out = self.total / self.n;
        self.total -= oldest;
        Some(out)
    }
}

/// One bar of [`Stoch`], in percent (0..=100).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StochValue {
    /// Slow %K: the SMA of fast %K over the slow-K period.
    pub k: f64,
    /// Slow %D: the SMA of slow %K over the slow-D period.
    pub d: f64,
}

/// The slow stochastic oscillator, TA-Lib's `STOCH` with SMA smoothing.
///
/// Fast %K is `(close − lowest low) / (highest high − lowest low) × 100`
/// over `fastk` bars, evaluated in that order as TA-Lib 0.8 does (0 when the
/// range is 0, where the ratio is undefined — TA-Lib's choice; 50 would be
/// as defensible); slow %K is its SMA over `slowk` bars, slow %D the SMA of
/// slow %K over `slowd` bars. The SMAs of these real values keep TA-Lib's
/// running `f64` totals in TA-Lib's order, so the values equal TA-Lib's bit
/// for bit; the price of that is a rounding drift of the order of
/// `bars × 1e-14` (a value that should be 0 may read ±1e-13). The first value comes after
/// `fastk + slowk + slowd − 2` inputs; TA-Lib's default is (5, 3, 3).
#[derive(Debug, Clone)]
pub struct Stoch {
    hi: RollingExtreme,
    lo: RollingExtreme,
    slowk: SmaF64,
    slowd: SmaF64,
    warmup: usize,
}

impl Stoch {
    /// Periods of fast %K, of the slow-%K SMA and of the slow-%D SMA (each ≥ 1).
    #[must_use]
    pub fn new(fastk: usize, slowk: usize, slowd: usize) -> Self {
        let (fastk, slowk, slowd) = (fastk.max(1), slowk.max(1), slowd.max(1));
        Self {
            hi: RollingExtreme::max(fastk),
            lo: RollingExtreme::min(fastk),
            slowk: SmaF64::new(slowk),
            slowd: SmaF64::new(slowd),
            warmup: fastk + slowk + slowd - 2,
        }
    }

    /// Adds a bar; returns slow %K and %D once defined.
    #[inline]
    pub fn push(&mut self, high: i64, low: i64, close: i64) -> Option<StochValue> {
        let hh = self.hi.push(high);
        let ll = self.lo.push(low)?;
        let hh = hh?;
        let range = (i128::from(hh) - i128::from(ll)) as f64;
        let fast_k = if range != 0.0 {
            (i128::from(close) - i128::from(ll)) as f64 / range * 100.0
        } else {
            0.0
        };
        let k = self.slowk.push(fast_k)?;
        let d = self.slowd.push(k)?;
        Some(StochValue { k, d })
    }

    /// Inputs before the first `Some`: `fastk + slowk + slowd − 2`.
    #[must_use]
    pub fn warmup(&self) -> usize {
        self.warmup
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsi_bounds() {
        let mut r = Rsi::new(3);
        let vals: Vec<_> = [1, 2, 3, 4, 5].iter().filter_map(|&x| r.push(x)).collect();
        assert_eq!(vals, vec![100.0, 100.0]);
        let mut r = Rsi::new(2);
        let vals: Vec<_> = [5, 4, 3].iter().filter_map(|&x| r.push(x)).collect();
        assert_eq!(vals, vec![0.0]);
    }

    #[test]
    fn rsi_of_constant_input_is_neutral_and_warmup_is_n_plus_one() {
        let mut r = Rsi::new(14);
        assert_eq!(r.warmup(), 15);
        let out: Vec<_> = (0..20).map(|_| r.push(100)).collect();
        assert!(out[..14].iter().all(Option::is_none));
        // 0/0: no gains and no losses; TA-Lib reports 0 here
        assert!(out[14..].iter().all(|v| *v == Some(50.0)));
    }

    #[test]
    fn macd_warmup_and_constant_input() {
        let mut m = Macd::new(12, 26, 9);
        assert_eq!(m.warmup(), 34);
        let out: Vec<_> = (0..40).map(|_| m.push(5_000)).collect();
        assert!(out[..33].iter().all(Option::is_none));
        for v in &out[33..] {
            assert_eq!(
                *v,
                Some(MacdValue {
                    macd: 0.0,
                    signal: 0.0,
                    histogram: 0.0
                })
            );
        }
        // swapped periods behave like the ordered ones
        let (mut a, mut b) = (Macd::new(3, 5, 2), Macd::new(5, 3, 2));
        for x in [1, 5, 2, 8, 3, 9, 4, 4, 7] {
            assert_eq!(a.push(x), b.push(x));
        }
    }

    #[test]
    fn macd_seeds_the_fast_ema_where_the_slow_one_starts() {
        // fast 2, slow 4, signal 1: the fast EMA is the mean of inputs 3 and 4
        let mut m = Macd::new(2, 4, 1);
        assert_eq!(m.warmup(), 4);
        let out: Vec<_> = [100, 0, 10, 20].iter().map(|&x| m.push(x)).collect();
        let v = out[3].unwrap();
        assert_eq!(v.macd, 15.0 - 32.5);
        assert_eq!(v.signal, v.macd);
        assert_eq!(v.histogram, 0.0);
    }

    #[test]
    fn stoch_warmup_flat_range_and_period_one() {
        let mut s = Stoch::new(5, 3, 3);
        assert_eq!(s.warmup(), 9);
        let out: Vec<_> = (0..12).map(|_| s.push(10, 10, 10)).collect();
        assert!(out[..8].iter().all(Option::is_none));
        // a zero range gives fast %K 0 (TA-Lib's convention)
        assert!(out[8..]
            .iter()
            .all(|v| *v == Some(StochValue { k: 0.0, d: 0.0 })));
        let mut s = Stoch::new(1, 1, 1);
        assert_eq!(s.warmup(), 1);
        assert_eq!(s.push(20, 10, 15), Some(StochValue { k: 50.0, d: 50.0 }));
        assert_eq!(s.push(20, 10, 20), Some(StochValue { k: 100.0, d: 100.0 }));
    }
}
