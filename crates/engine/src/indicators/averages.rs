//! Moving averages: SMA (exact integer sum), EMA (TA-Lib seeding), WMA
//! (exact integer sums).

use std::cmp::Ordering;

use super::window::Window;

/// Simple moving average over `n` values as an exact sum.
///
/// Matches TA-Lib's `SMA` bit for bit: TA-Lib's running `f64` sum of integer
/// inputs is exact while it stays below 2⁵³, and both divide once by `n`.
#[derive(Debug, Clone)]
pub struct Sma {
    n: usize,
    win: Window,
    sum: i128,
}

impl Sma {
    /// An SMA of period `n` (≥ 1).
    #[must_use]
    pub fn new(n: usize) -> Self {
        Self {
            n: n.max(1),
            win: Window::new(n),
            sum: 0,
        }
    }

    /// Adds a value; returns whether the average is defined (≥ `n` values).
    #[inline]
    pub fn push(&mut self, x: i64) -> bool {
        self.sum += i128::from(x);
        if let Some(old) = self.win.push(x) {
            self.sum -= i128::from(old);
        }
        self.win.is_full()
    }

    /// Advances over a series that grows by one value per call (`series`
    /// ends with the newest value): adds it and drops the value `n` back by
    /// reading the series itself, with no ring-buffer traffic. Use either
    /// this or [`Sma::push`] on one instance, not both. Returns whether the
    /// average is defined.
    #[inline]
    pub fn update(&mut self, series: &[i64]) -> bool {
        let len = series.len();
        if let Some(&x) = series.last() {
            self.sum += i128::from(x);
        }
        if len > self.n {
            self.sum -= i128::from(series[len - 1 - self.n]);
        }
        len >= self.n
    }

    /// Sum of the window (exact).
    #[inline]
    #[must_use]
    pub fn sum(&self) -> i128 {
        self.sum
    }

    /// Period.
    #[inline]
    #[must_use]
    pub fn period(&self) -> usize {
        self.n
    }

    /// Inputs before the average is defined: `n` (TA-Lib's lookback `n − 1`).
    #[inline]
    #[must_use]
    pub fn warmup(&self) -> usize {
        self.n
    }

    /// The average in raw price units (for display and float comparisons).
    #[inline]
    #[must_use]
    pub fn value(&self) -> f64 {
        self.sum as f64 / self.n as f64
    }

    /// Exact comparison of two averages: `sum_a / n_a` vs `sum_b / n_b`
    /// decided as `sum_a × n_b` vs `sum_b × n_a` in integers.
    #[inline]
    #[must_use]
    pub fn cmp_exact(&self, other: &Sma) -> Ordering {
        (self.sum * other.n as i128).cmp(&(other.sum * self.n as i128))
    }
}

/// Exponential moving average, `alpha = 2 / (n + 1)`, seeded with the SMA of
/// the first `n` values (the TA-Lib convention); defined from the `n`-th value.
///
/// Seeding with the SMA (TA-Lib's default, not MetaStock's "first value")
/// costs `n − 1` bars of output but makes the value independent of where the
/// data happens to start after a few periods. Each step is
/// `value + alpha × (x − value)`, TA-Lib's operations in TA-Lib's order,
/// rounded after each operation (no fused multiply-add, so every CPU gives
/// the same bits). The values match TA-Lib's `EMA` bit for bit on all but
/// ~1 bar in 10,000, where TA-Lib's build (apparently fusing the
/// multiply-add) differs by one ulp for a bar or two. Units: raw price units.
#[derive(Debug, Clone)]
pub struct Ema {
    n: usize,
    alpha: f64,
    seen: usize,
    seed_sum: f64,
    value: f64,
}

impl Ema {
    /// An EMA of period `n` (≥ 1).
    #[must_use]
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        Self {
            n,
            alpha: 2.0 / (n as f64 + 1.0),
            seen: 0,
            seed_sum: 0.0,
            value: 0.0,
        }
    }

    /// Adds a value; returns whether the average is defined.
    #[inline]
    pub fn push(&mut self, x: i64) -> bool {
        self.push_f64(x as f64)
    }

    /// Adds a real value (e.g. another indicator's output); returns whether
    /// the average is defined. [`Ema::push`] is this on `x as f64`.
    #[inline]
    pub fn push_f64(&mut self, x: f64) -> bool {
        if self.seen < self.n {
            self.seen += 1;
            self.seed_sum += x;
            if self.seen == self.n {
                self.value = self.seed_sum / self.n as f64;
            }
        } else {
            self.value += self.alpha * (x - self.value);
        }
        self.seen >= self.n
    }

    /// Current value (raw price units); meaningful once ready.
    #[inline]
    #[must_use]
    pub fn value(&self) -> f64 {
        self.value
    }

    /// Period.
    #[inline]
    #[must_use]
    pub fn period(&self) -> usize {
        self.n
    }

    /// Inputs before the average is defined: `n` (TA-Lib's lookback `n − 1`).
    #[inline]
    #[must_use]
    pub fn warmup(&self) -> usize {
        self.n
    }
}

/// Linearly weighted moving average: the newest of `n` values has weight
/// `n`, the oldest weight 1, divided by `n(n + 1)/2` (TA-Lib's `WMA`).
///
/// Both the plain and the weighted sum are exact `i128` integers updated in
/// O(1) (`wsum' = wsum − sum + n·x`), rounded once when read; TA-Lib keeps the
/// same two sums in `f64`, which is exact for integer prices below 2⁵³, so
/// the values agree bit for bit. Units: raw price units.
#[derive(Debug, Clone)]
pub struct Wma {
    n: usize,
    win: Window,
    sum: i128,
    wsum: i128,
    seen: usize,
    divider: f64,
}

impl Wma {
    /// A WMA of period `n` (≥ 1).
    #[must_use]
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        Self {
            n,
            win: Window::new(n),
            sum: 0,
            wsum: 0,
            seen: 0,
            divider: (n * (n + 1) / 2) as f64,
        }
    }

    /// Adds a value; returns the average once `n` values were seen.
    #[inline]
    pub fn push(&mut self, x: i64) -> Option<f64> {
        let x128 = i128::from(x);
        if self.seen < self.n {
            self.seen += 1;
            self.wsum += x128 * self.seen as i128;
        } else {
            self.wsum += x128 * self.n as i128 - self.sum;
        }
        self.sum += x128;
        if let Some(old) = self.win.push(x) {
            self.sum -= i128::from(old);
        }
        self.win.is_full().then(|| self.wsum as f64 / self.divider)
    }

    /// Period.
    #[must_use]
    pub fn period(&self) -> usize {
        self.n
    }

    /// Inputs before the first `Some`: `n`.
    #[must_use]
    pub fn warmup(&self) -> usize {
        self.n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sma_is_exact_and_windowed() {
        let mut s = Sma::new(3);
        assert_eq!(s.warmup(), 3);
        assert!(!s.push(1));
        assert!(!s.push(2));
        assert!(s.push(3));
        assert_eq!(s.sum(), 6);
        s.push(10);
        assert_eq!(s.sum(), 15);
    }

    #[test]
    fn exact_comparison_of_averages() {
        // 10/3 vs 20/6: equal exactly, though floats may disagree
        let mut a = Sma::new(3);
        let mut b = Sma::new(6);
        for x in [3, 3, 4] {
            a.push(x);
        }
        for x in [3, 3, 4, 3, 3, 4] {
            b.push(x);
        }
        assert_eq!(a.cmp_exact(&b), Ordering::Equal);
    }

    #[test]
    fn ema_seeds_with_the_sma_and_push_is_push_f64() {
        let mut e = Ema::new(3);
        let mut f = Ema::new(3);
        assert_eq!(e.warmup(), 3);
        assert!(!e.push(1));
        assert!(!e.push(2));
        assert!(e.push(6));
        assert_eq!(e.value(), 3.0);
        assert!(e.push(5));
        assert_eq!(e.value(), 4.0);
        for x in [1, 2, 6, 5] {
            f.push_f64(x as f64);
        }
        assert_eq!(e.value().to_bits(), f.value().to_bits());
        let mut one = Ema::new(1);
        assert!(one.push(7));
        assert_eq!(one.value(), 7.0);
        assert!(one.push(-3));
        assert_eq!(one.value(), -3.0);
    }

    #[test]
    fn wma_weights_the_newest_most() {
        let mut w = Wma::new(3);
        assert_eq!(w.warmup(), 3);
        assert_eq!(w.push(1), None);
        assert_eq!(w.push(2), None);
        // (1·1 + 2·2 + 3·3) / 6
        assert_eq!(w.push(3), Some(14.0 / 6.0));
        // (2·1 + 3·2 + 9·3) / 6
        assert_eq!(w.push(9), Some(35.0 / 6.0));
        assert_eq!(w.push(0), Some((3.0 + 18.0) / 6.0));
        let mut one = Wma::new(1);
        assert_eq!(one.push(5), Some(5.0));
        assert_eq!(one.push(-2), Some(-2.0));
        let mut flat = Wma::new(4);
        let out: Vec<_> = (0..6).filter_map(|_| flat.push(777)).collect();
        assert_eq!(out, vec![777.0; 3]);
    }
}
