//! Incremental indicators: O(1) work per bar, memory allocated once.
//!
//! Moving averages of prices keep exact integer sums so that crossovers can
//! be decided without floats ([`Relation`]); indicators that are inherently
//! real-valued (EMA, RSI, standard deviation) use `f64`, which is still
//! deterministic (same inputs, same bits) because the operations and their
//! order are fixed.

use std::cmp::Ordering;
use std::collections::VecDeque;

/// A fixed-size window of the last `n` values (a ring buffer).
#[derive(Debug, Clone)]
struct Window {
    buf: Vec<i64>,
    next: usize,
    filled: bool,
}

impl Window {
    fn new(n: usize) -> Self {
        Self {
            buf: vec![0; n.max(1)],
            next: 0,
            filled: false,
        }
    }

    /// Stores `x`, returns the value that left the window (once full).
    #[inline]
    fn push(&mut self, x: i64) -> Option<i64> {
        let old = self.buf[self.next];
        self.buf[self.next] = x;
        let out = self.filled.then_some(old);
        self.next += 1;
        if self.next == self.buf.len() {
            self.next = 0;
            self.filled = true;
        }
        out
    }

    #[inline]
    fn is_full(&self) -> bool {
        self.filled
    }
}

/// Simple moving average over `n` values as an exact sum.
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

/// Tracks the relation of two series bar by bar and reports strict
/// crossovers: the previous bar strictly below and the current strictly
/// above (backtesting.py's rule; a touch-and-go through equality is not a
/// cross, and vectorbt, which fires on equal→above, can differ at exact ties).
#[derive(Debug, Clone, Copy, Default)]
pub struct Relation {
    prev: Option<Ordering>,
}

/// Result of [`Relation::update`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cross {
    /// `a` crossed above `b`.
    Above,
    /// `a` crossed below `b`.
    Below,
    /// No crossover this bar.
    None,
}

impl Relation {
    /// Records this bar's ordering of `a` vs `b` and reports a crossover.
    #[inline]
    pub fn update(&mut self, now: Ordering) -> Cross {
        let cross = match (self.prev, now) {
            (Some(Ordering::Less), Ordering::Greater) => Cross::Above,
            (Some(Ordering::Greater), Ordering::Less) => Cross::Below,
            _ => Cross::None,
        };
        self.prev = Some(now);
        cross
    }

    /// Forgets the previous bar (a series became undefined).
    #[inline]
    pub fn reset(&mut self) {
        self.prev = None;
    }
}

/// Exponential moving average, `alpha = 2 / (n + 1)`, seeded with the SMA of
/// the first `n` values (the TA-Lib convention); defined from the `n`-th value.
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
        let x = x as f64;
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
}

/// Wilder's relative strength index (0..=100), defined after `n` changes.
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
}

/// Rolling mean and population standard deviation over `n` values, from
/// exact integer sums (no drift over millions of bars).
#[derive(Debug, Clone)]
pub struct RollingStd {
    sma: Sma,
    win: Window,
    sum_sq: i128,
}

impl RollingStd {
    /// Over a window of `n` (≥ 1).
    #[must_use]
    pub fn new(n: usize) -> Self {
        Self {
            sma: Sma::new(n),
            win: Window::new(n),
            sum_sq: 0,
        }
    }

    /// Adds a value; returns `(mean, std)` once defined.
    #[inline]
    pub fn push(&mut self, x: i64) -> Option<(f64, f64)> {
        self.sma.push(x);
        self.sum_sq += i128::from(x) * i128::from(x);
        if let Some(old) = self.win.push(x) {
            self.sum_sq -= i128::from(old) * i128::from(old);
        }
        if !self.win.is_full() {
            return None;
        }
        let n = self.sma.period() as i128;
        let s = self.sma.sum();
        // n² · variance, exact
        let nvar = (n * self.sum_sq - s * s).max(0);
        let std = (nvar as f64).sqrt() / n as f64;
        Some((s as f64 / n as f64, std))
    }
}

/// Highest or lowest value of the last `n` values, amortised O(1) with a
/// monotonic deque (capacity allocated once).
#[derive(Debug, Clone)]
pub struct RollingExtreme {
    n: usize,
    max: bool,
    i: usize,
    deque: VecDeque<(usize, i64)>,
}

impl RollingExtreme {
    /// Rolling maximum over `n`.
    #[must_use]
    pub fn max(n: usize) -> Self {
        Self::new(n, true)
    }

    /// Rolling minimum over `n`.
    #[must_use]
    pub fn min(n: usize) -> Self {
        Self::new(n, false)
    }

    fn new(n: usize, max: bool) -> Self {
        let n = n.max(1);
        Self {
            n,
            max,
            i: 0,
            deque: VecDeque::with_capacity(n + 1),
        }
    }

    /// Adds a value; returns the extreme of the last `n` once `n` values were seen.
    #[inline]
    pub fn push(&mut self, x: i64) -> Option<i64> {
        let dominated = |v: i64| if self.max { v <= x } else { v >= x };
        while self.deque.back().is_some_and(|&(_, v)| dominated(v)) {
            self.deque.pop_back();
        }
        self.deque.push_back((self.i, x));
        while self
            .deque
            .front()
            .is_some_and(|&(j, _)| j + self.n <= self.i)
        {
            self.deque.pop_front();
        }
        self.i += 1;
        (self.i >= self.n).then(|| self.deque.front().map_or(x, |&(_, v)| v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sma_is_exact_and_windowed() {
        let mut s = Sma::new(3);
        assert!(!s.push(1));
        assert!(!s.push(2));
        assert!(s.push(3));
        assert_eq!(s.sum(), 6);
        s.push(10);
        assert_eq!(s.sum(), 15);
    }

    #[test]
    fn crossover_needs_strict_below_then_strict_above() {
        let mut r = Relation::default();
        assert_eq!(r.update(Ordering::Less), Cross::None);
        assert_eq!(r.update(Ordering::Equal), Cross::None);
        assert_eq!(
            r.update(Ordering::Greater),
            Cross::None,
            "equal -> above is not a cross"
        );
        assert_eq!(r.update(Ordering::Less), Cross::Below);
        assert_eq!(r.update(Ordering::Greater), Cross::Above);
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
    fn rolling_extremes() {
        let mut hi = RollingExtreme::max(3);
        let out: Vec<_> = [5, 1, 3, 2, 8, 1, 1, 1]
            .iter()
            .map(|&x| hi.push(x))
            .collect();
        assert_eq!(
            out,
            vec![
                None,
                None,
                Some(5),
                Some(3),
                Some(8),
                Some(8),
                Some(8),
                Some(1)
            ]
        );
        let mut lo = RollingExtreme::min(2);
        let out: Vec<_> = [5, 1, 3, 2].iter().map(|&x| lo.push(x)).collect();
        assert_eq!(out, vec![None, Some(1), Some(1), Some(2)]);
    }

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
    fn rolling_std_population() {
        let mut s = RollingStd::new(4);
        let mut last = None;
        for x in [2, 4, 4, 4] {
            last = s.push(x);
        }
        let (m, sd) = last.unwrap();
        assert!((m - 3.5).abs() < 1e-12);
        assert!((sd - (0.75f64).sqrt()).abs() < 1e-12);
    }
}
