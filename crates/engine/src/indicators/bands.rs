//! Channels around a price: Bollinger bands, the Donchian channel and
//! Keltner channels.

use super::{Atr, Ema, RollingExtreme, RollingStd};

/// One bar of a channel ([`Bollinger`], [`Donchian`], [`Keltner`]), in raw
/// price units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandsValue {
    /// Upper band.
    pub upper: f64,
    /// Middle line.
    pub middle: f64,
    /// Lower band.
    pub lower: f64,
}

/// Bollinger bands: the SMA of `n` closes ± `k` population standard
/// deviations (TA-Lib's `BBANDS` with an SMA and `nbdevup = nbdevdn = k`).
///
/// The mean and the deviation come from [`RollingStd`]'s exact integer
/// sums; TA-Lib's `f64` `E[x²] − E[x]²` agrees to far below 1e-9 of the
/// band's value (see [`RollingStd`]). Dividing by `n` (not `n − 1`) is
/// Bollinger's and TA-Lib's choice.
#[derive(Debug, Clone)]
pub struct Bollinger {
    std: RollingStd,
    k: f64,
}

impl Bollinger {
    /// Bands over `n` (≥ 1) closes, `k` deviations wide (the classic: 20, 2.0).
    #[must_use]
    pub fn new(n: usize, k: f64) -> Self {
        Self {
            std: RollingStd::new(n),
            k,
        }
    }

    /// Adds a close; returns the bands once `n` closes were seen.
    #[inline]
    pub fn push(&mut self, close: i64) -> Option<BandsValue> {
        let (middle, std) = self.std.push(close)?;
        let width = std * self.k;
        Some(BandsValue {
            upper: middle + width,
            middle,
            lower: middle - width,
        })
    }

    /// Inputs before the first `Some`: `n`.
    #[must_use]
    pub fn warmup(&self) -> usize {
        self.std.warmup()
    }
}

/// Donchian channel: the highest high and the lowest low of the last `n`
/// bars (TA-Lib's `MAX(high)` and `MIN(low)`), and their midpoint. The
/// window includes the current bar, so a breakout rule compares the close
/// with the previous bar's channel.
#[derive(Debug, Clone)]
pub struct Donchian {
    hi: RollingExtreme,
    lo: RollingExtreme,
}

impl Donchian {
    /// A channel over `n` (≥ 1) bars.
    #[must_use]
    pub fn new(n: usize) -> Self {
        Self {
            hi: RollingExtreme::max(n),
            lo: RollingExtreme::min(n),
        }
    }

    /// Adds a bar; returns the channel once `n` bars were seen.
    #[inline]
    pub fn push(&mut self, high: i64, low: i64) -> Option<BandsValue> {
        let upper = self.hi.push(high);
        let lower = self.lo.push(low)?;
        let upper = upper?;
        Some(BandsValue {
            upper: upper as f64,
            middle: (i128::from(upper) + i128::from(lower)) as f64 / 2.0,
            lower: lower as f64,
        })
    }

    /// Inputs before the first `Some`: `n`.
    #[must_use]
    pub fn warmup(&self) -> usize {
        self.hi.warmup()
    }
}

/// Keltner channels: the EMA of `n` closes ± `mult` × the ATR of `atr_n`
/// bars (the modern, Raschke form; TA-Lib has no Keltner, so it is checked
/// against TA-Lib's `EMA` and `ATR`). [`Ema`] seeds with an SMA and [`Atr`]
/// needs a previous close, so the first value comes after
/// `max(n, atr_n + 1)` inputs.
#[derive(Debug, Clone)]
pub struct Keltner {
    ema: Ema,
    atr: Atr,
    mult: f64,
}

impl Keltner {
    /// Channels around the EMA of `n` (≥ 1) closes, `mult` ATRs of `atr_n`
    /// (≥ 1) bars wide (a common choice: 20, 10, 2.0).
    #[must_use]
    pub fn new(n: usize, atr_n: usize, mult: f64) -> Self {
        Self {
            ema: Ema::new(n),
            atr: Atr::new(atr_n),
            mult,
        }
    }

    /// Adds a bar; returns the channels once both the EMA and the ATR are
    /// defined.
    #[inline]
    pub fn push(&mut self, high: i64, low: i64, close: i64) -> Option<BandsValue> {
        let ema_ready = self.ema.push(close);
        let atr = self.atr.push(high, low, close)?;
        if !ema_ready {
            return None;
        }
        let middle = self.ema.value();
        let width = self.mult * atr;
        Some(BandsValue {
            upper: middle + width,
            middle,
            lower: middle - width,
        })
    }

    /// Inputs before the first `Some`: `max(n, atr_n + 1)`.
    #[must_use]
    pub fn warmup(&self) -> usize {
        self.ema.warmup().max(self.atr.warmup())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bollinger_of_constant_input_collapses() {
        let mut b = Bollinger::new(3, 2.0);
        assert_eq!(b.warmup(), 3);
        let out: Vec<_> = (0..5).map(|_| b.push(42)).collect();
        assert!(out[..2].iter().all(Option::is_none));
        let flat = BandsValue {
            upper: 42.0,
            middle: 42.0,
            lower: 42.0,
        };
        assert!(out[2..].iter().all(|v| *v == Some(flat)));
        let mut b = Bollinger::new(2, 1.5);
        b.push(2);
        // mean 3, std 1
        assert_eq!(
            b.push(4),
            Some(BandsValue {
                upper: 4.5,
                middle: 3.0,
                lower: 1.5
            })
        );
    }

    #[test]
    fn donchian_channel() {
        let mut d = Donchian::new(2);
        assert_eq!(d.warmup(), 2);
        assert_eq!(d.push(10, 5), None);
        assert_eq!(
            d.push(12, 7),
            Some(BandsValue {
                upper: 12.0,
                middle: 8.5,
                lower: 5.0
            })
        );
        assert_eq!(
            d.push(9, 8),
            Some(BandsValue {
                upper: 12.0,
                middle: 9.5,
                lower: 7.0
            })
        );
    }

    #[test]
    fn keltner_waits_for_ema_and_atr() {
        let mut k = Keltner::new(2, 3, 2.0);
        assert_eq!(k.warmup(), 4);
        let out: Vec<_> = (0..6).map(|_| k.push(11, 9, 10)).collect();
        assert!(out[..3].iter().all(Option::is_none));
        for v in &out[3..] {
            assert_eq!(
                *v,
                Some(BandsValue {
                    upper: 14.0,
                    middle: 10.0,
                    lower: 6.0
                })
            );
        }
        assert_eq!(Keltner::new(5, 1, 1.0).warmup(), 5);
    }
}
