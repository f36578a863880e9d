//! Windows over the last `n` values: the ring buffer the other indicators
//! share, rolling standard deviation (TA-Lib `STDDEV`), rolling highest and
//! lowest (TA-Lib `MAX` / `MIN`).

use std::collections::VecDeque;

use super::Sma;

/// A fixed-size window of the last `n` values (a ring buffer).
#[derive(Debug, Clone)]
pub(super) struct Window<T = i64> {
    buf: Vec<T>,
    next: usize,
    filled: bool,
}

impl<T: Copy + Default> Window<T> {
    pub(super) fn new(n: usize) -> Self {
        Self {
            buf: vec![T::default(); n.max(1)],
            next: 0,
            filled: false,
        }
    }

    /// Stores `x`, returns the value that left the window (once full).
    #[inline]
    pub(super) fn push(&mut self, x: T) -> Option<T> {
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

    /// The value that the next [`Window::push`] evicts, once full.
    #[inline]
    pub(super) fn oldest(&self) -> Option<T> {
        self.filled.then(|| self.buf[self.next])
    }

    /// The window's size `n`.
    #[inline]
    pub(super) fn capacity(&self) -> usize {
        self.buf.len()
    }

    #[inline]
    pub(super) fn is_full(&self) -> bool {
        self.filled
    }
}

/// Rolling mean and population standard deviation over `n` values, from
/// exact integer sums (no drift over millions of bars).
///
/// Units: the mean and the deviation are in raw price units. This is TA-Lib's
/// `STDDEV(n, nbdev = 1)` (divides by `n`, not `n − 1`) from the `n`-th value
/// on. TA-Lib computes `E[x²] − E[x]²` in `f64`, which cancels badly when the
/// deviation is small next to the price; here `n²·variance = n·Σx² − (Σx)²` is
/// exact in `i128` and rounded once, so this is the more accurate of the two
/// (the TA-Lib test allows for TA-Lib's cancellation error).
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

    /// Period.
    #[must_use]
    pub fn period(&self) -> usize {
        self.sma.period()
    }

    /// Inputs before the first `Some`: `n` (TA-Lib's lookback `n − 1`).
    #[must_use]
    pub fn warmup(&self) -> usize {
        self.sma.period()
    }
}

/// Highest or lowest value of the last `n` values, amortised O(1) with a
/// monotonic deque (capacity allocated once). TA-Lib's `MAX` / `MIN`: the
/// first value is the extreme of the first `n` inputs.
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
    fn rolling_extreme_period_one_is_the_input() {
        let mut hi = RollingExtreme::max(1);
        assert_eq!(hi.warmup(), 1);
        for x in [3, -1, 7, 7, 2] {
            assert_eq!(hi.push(x), Some(x));
        }
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

    #[test]
    fn rolling_std_of_constant_input_is_exactly_zero() {
        let mut s = RollingStd::new(5);
        assert_eq!(s.warmup(), 5);
        let out: Vec<_> = (0..8).map(|_| s.push(123_456_789)).collect();
        assert!(out[..4].iter().all(Option::is_none));
        for v in &out[4..] {
            assert_eq!(*v, Some((123_456_789.0, 0.0)));
        }
        let mut one = RollingStd::new(1);
        assert_eq!(one.push(-7), Some((-7.0, 0.0)));
    }

    #[test]
    fn window_evicts_in_order() {
        let mut w: Window<f64> = Window::new(2);
        assert_eq!(w.push(1.0), None);
        assert_eq!(w.oldest(), None);
        assert_eq!(w.push(2.0), None);
        assert_eq!(w.oldest(), Some(1.0));
        assert_eq!(w.push(3.0), Some(1.0));
        assert_eq!(w.oldest(), Some(2.0));
    }
}
