//! Volume-weighted indicators: VWAP (cumulative and rolling) and OBV.

use super::window::Window;

/// `(high + low + close) × volume`, exact: three times the typical price
/// times the volume (the division by 3 is done once, when read).
#[inline]
fn pv3(high: i64, low: i64, close: i64, volume: i64) -> i128 {
    (i128::from(high) + i128::from(low) + i128::from(close)) * i128::from(volume)
}

/// Volume-weighted average price from the first bar on: `Σ tp·v / Σ v` with
/// the typical price `tp = (high + low + close) / 3`. Units: raw price units
/// (the volume's scale cancels).
///
/// Both sums are exact `i128` integers, rounded once when read, so there is
/// no drift however long the run (a float cumulative sum loses ~1e-16 per
/// bar). It is undefined (`None`) until some volume has traded: data
/// without volume (many FX feeds) has no VWAP. A session-anchored VWAP is
/// this indicator re-created at each session start.
#[derive(Debug, Clone, Default)]
pub struct Vwap {
    pv3: i128,
    volume: i128,
}

impl Vwap {
    /// A VWAP over everything pushed from now on.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a bar; returns the VWAP once the volume so far is not zero.
    #[inline]
    pub fn push(&mut self, high: i64, low: i64, close: i64, volume: i64) -> Option<f64> {
        self.pv3 += pv3(high, low, close, volume);
        self.volume += i128::from(volume);
        (self.volume != 0).then(|| self.pv3 as f64 / (3 * self.volume) as f64)
    }

    /// Inputs before the first `Some`: 1 (more while the volume is zero).
    #[must_use]
    pub fn warmup(&self) -> usize {
        1
    }
}

/// VWAP over the last `n` bars, from exact rolling `i128` sums (O(1) per bar:
/// add the new bar, subtract the one leaving). `None` until `n` bars were
/// seen, and while the window holds no volume.
#[derive(Debug, Clone)]
pub struct RollingVwap {
    pv3_win: Window<i128>,
    volume_win: Window<i64>,
    pv3: i128,
    volume: i128,
}

impl RollingVwap {
    /// A VWAP over the last `n` (≥ 1) bars.
    #[must_use]
    pub fn new(n: usize) -> Self {
        Self {
            pv3_win: Window::new(n),
            volume_win: Window::new(n),
            pv3: 0,
            volume: 0,
        }
    }

    /// Adds a bar; returns the VWAP of the last `n` bars once defined.
    #[inline]
    pub fn push(&mut self, high: i64, low: i64, close: i64, volume: i64) -> Option<f64> {
        let pv = pv3(high, low, close, volume);
        self.pv3 += pv;
        self.volume += i128::from(volume);
        if let Some(old) = self.pv3_win.push(pv) {
            self.pv3 -= old;
        }
        if let Some(old) = self.volume_win.push(volume) {
            self.volume -= i128::from(old);
        }
        (self.volume_win.is_full() && self.volume != 0)
            .then(|| self.pv3 as f64 / (3 * self.volume) as f64)
    }

    /// Inputs before the first `Some`: `n` (more while the volume is zero).
    #[must_use]
    pub fn warmup(&self) -> usize {
        self.volume_win.capacity()
    }
}

/// On-balance volume, TA-Lib's `OBV`: starts at the first bar's volume (not
/// at 0, TA-Lib's convention; only differences of OBV carry meaning), then
/// adds the volume of a bar that closes higher than the previous one and
/// subtracts that of one that closes lower. Exact `i128` total. Units: raw
/// volume units.
#[derive(Debug, Clone, Default)]
pub struct Obv {
    prev_close: Option<i64>,
    total: i128,
}

impl Obv {
    /// OBV from the next bar on.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a bar; returns the OBV (defined from the first bar).
    #[inline]
    pub fn push(&mut self, close: i64, volume: i64) -> Option<f64> {
        let volume = i128::from(volume);
        match self.prev_close.replace(close) {
            None => self.total = volume,
            Some(prev) if close > prev => self.total += volume,
            Some(prev) if close < prev => self.total -= volume,
            Some(_) => {}
        }
        Some(self.total as f64)
    }

    /// Inputs before the first `Some`: 1.
    #[must_use]
    pub fn warmup(&self) -> usize {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vwap_weights_the_typical_price_by_volume() {
        let mut v = Vwap::new();
        assert_eq!(v.warmup(), 1);
        assert_eq!(v.push(10, 10, 10, 0), None, "no volume, no VWAP");
        assert_eq!(v.push(12, 9, 9, 1), Some(10.0));
        // (10·1 + 20·3) / 4
        assert_eq!(v.push(21, 19, 20, 3), Some(17.5));
    }

    #[test]
    fn rolling_vwap_forgets_old_bars() {
        let mut v = RollingVwap::new(2);
        assert_eq!(v.warmup(), 2);
        assert_eq!(v.push(10, 10, 10, 5), None);
        assert_eq!(v.push(20, 20, 20, 5), Some(15.0));
        assert_eq!(v.push(30, 30, 30, 0), Some(20.0));
        assert_eq!(v.push(40, 40, 40, 0), None, "a window with no volume");
        let mut one = RollingVwap::new(1);
        assert_eq!(one.push(3, 3, 6, 7), Some(4.0));
    }

    #[test]
    fn obv_starts_at_the_first_volume() {
        let mut o = Obv::new();
        let out: Vec<_> = [(10, 5), (11, 3), (11, 4), (9, 10)]
            .iter()
            .map(|&(c, v)| o.push(c, v))
            .collect();
        assert_eq!(out, vec![Some(5.0), Some(8.0), Some(8.0), Some(-2.0)]);
    }
}
