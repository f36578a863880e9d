//! Range-based indicators with Wilder's smoothing: ATR and ADX (with ±DI).

/// True range of a bar against the previous close, exact.
#[inline]
fn true_range(high: i64, low: i64, prev_close: i64) -> f64 {
    let (h, l, c) = (i128::from(high), i128::from(low), i128::from(prev_close));
    (h - l).max((h - c).abs()).max((l - c).abs()) as f64
}

/// TA-Lib's `TA_IS_ZERO`: |x| < 1e-8. Kept so a degenerate bar (no range,
/// no directional movement) is treated exactly as TA-Lib treats it.
#[inline]
fn ta_is_zero(x: f64) -> bool {
    -1e-8 < x && x < 1e-8
}

/// Average true range with Wilder's smoothing, TA-Lib's `ATR`. Units: raw
/// price units.
///
/// The true range needs the previous close, so the first bar only primes
/// it. The first ATR is the plain mean of the first `n` true ranges (bars 2
/// to `n + 1`), later ones `(atr × (n − 1) + tr) / n`. Wilder's recursion
/// remembers the whole history with weight `(1 − 1/n)^k`, so values depend
/// on the starting bar for a few times `n` bars (TA-Lib calls this the
/// unstable period; it is 0 by default and here).
#[derive(Debug, Clone)]
pub struct Atr {
    n: usize,
    prev_close: Option<i64>,
    seen: usize,
    sum: f64,
    value: f64,
}

impl Atr {
    /// An ATR of period `n` (≥ 1; `n = 1` is the true range itself).
    #[must_use]
    pub fn new(n: usize) -> Self {
        Self {
            n: n.max(1),
            prev_close: None,
            seen: 0,
            sum: 0.0,
            value: 0.0,
        }
    }

    /// Adds a bar; returns the ATR once defined.
    #[inline]
    pub fn push(&mut self, high: i64, low: i64, close: i64) -> Option<f64> {
        let prev_close = self.prev_close.replace(close)?;
        let tr = true_range(high, low, prev_close);
        if self.seen < self.n {
            self.seen += 1;
            // integer true ranges: the f64 sum is exact below 2⁵³, as TA-Lib's
            self.sum += tr;
            if self.seen < self.n {
                return None;
            }
            self.value = self.sum / self.n as f64;
        } else {
            self.value *= (self.n - 1) as f64;
            self.value += tr;
            self.value /= self.n as f64;
        }
        Some(self.value)
    }

    /// Period.
    #[must_use]
    pub fn period(&self) -> usize {
        self.n
    }

    /// Inputs before the first `Some`: `n + 1` (TA-Lib's lookback `n`).
    #[must_use]
    pub fn warmup(&self) -> usize {
        self.n + 1
    }
}

/// One bar of [`Adx`], each in 0..=100.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdxValue {
    /// Average directional index.
    pub adx: f64,
    /// Plus directional indicator, +DI.
    pub plus_di: f64,
    /// Minus directional indicator, −DI.
    pub minus_di: f64,
}

/// Wilder's average directional index with +DI and −DI, TA-Lib's `ADX`,
/// `PLUS_DI` and `MINUS_DI` exactly.
///
/// TA-Lib's conventions, kept so the values match: +DM and −DM (only the
/// larger move counts, and only if positive) and the true range are
/// smoothed as Wilder *sums*, seeded with the plain sum of the first
/// `n − 1` bars' values and then `s − s/n + x`; `±DI = 100 × ±DM / TR` from
/// the `n + 1`-th input on ([`Adx::di`]); `DX = 100 × |+DI − −DI| / (+DI + −DI)`;
/// the first ADX is the mean of the first `n` DX values (after `2n` inputs),
/// later ones `(adx × (n − 1) + dx) / n`. Where TA-Lib finds the smoothed
/// true range or `+DI + −DI` zero (|x| < 1e-8) the DI are 0 and the ADX is
/// carried over unchanged rather than pulled towards an undefined DX. Like
/// every Wilder average it depends on the starting bar for a few times `n`.
#[derive(Debug, Clone)]
pub struct Adx {
    n: usize,
    prev: Option<(i64, i64, i64)>,
    steps: usize,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
    di: Option<(f64, f64)>,
    sum_dx: f64,
    adx: f64,
}

impl Adx {
    /// An ADX of period `n` (≥ 1; the classic is 14).
    #[must_use]
    pub fn new(n: usize) -> Self {
        Self {
            n: n.max(1),
            prev: None,
            steps: 0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            di: None,
            sum_dx: 0.0,
            adx: 0.0,
        }
    }

    /// Adds a bar; returns ADX, +DI and −DI once the ADX is defined.
    #[inline]
    pub fn push(&mut self, high: i64, low: i64, close: i64) -> Option<AdxValue> {
        let (prev_high, prev_low, prev_close) = self.prev.replace((high, low, close))?;
        self.steps += 1;
        let n = self.n as f64;
        let diff_p = (i128::from(high) - i128::from(prev_high)) as f64;
        let diff_m = (i128::from(prev_low) - i128::from(low)) as f64;
        let tr = true_range(high, low, prev_close);
        if self.steps < self.n {
            if diff_m > 0.0 && diff_p < diff_m {
                self.minus_dm += diff_m;
            } else if diff_p > 0.0 && diff_p > diff_m {
                self.plus_dm += diff_p;
            }
            self.tr += tr;
            return None;
        }
        self.minus_dm -= self.minus_dm / n;
        self.plus_dm -= self.plus_dm / n;
        if diff_m > 0.0 && diff_p < diff_m {
            self.minus_dm += diff_m;
        } else if diff_p > 0.0 && diff_p > diff_m {
            self.plus_dm += diff_p;
        }
        self.tr = self.tr - self.tr / n + tr;
        let mut dx = None;
        if ta_is_zero(self.tr) {
            self.di = Some((0.0, 0.0));
        } else {
            let minus_di = 100.0 * (self.minus_dm / self.tr);
            let plus_di = 100.0 * (self.plus_dm / self.tr);
            self.di = Some((plus_di, minus_di));
            let sum = minus_di + plus_di;
            if !ta_is_zero(sum) {
                dx = Some(100.0 * ((minus_di - plus_di).abs() / sum));
            }
        }
        let first_adx = 2 * self.n - 1;
        if self.steps < first_adx {
            self.sum_dx += dx.unwrap_or(0.0);
            return None;
        }
        if self.steps == first_adx {
            self.sum_dx += dx.unwrap_or(0.0);
            self.adx = self.sum_dx / n;
        } else if let Some(dx) = dx {
            self.adx = (self.adx * (self.n - 1) as f64 + dx) / n;
        }
        let (plus_di, minus_di) = self.di.unwrap_or((0.0, 0.0));
        Some(AdxValue {
            adx: self.adx,
            plus_di,
            minus_di,
        })
    }

    /// `(+DI, −DI)` of the latest bar, defined from the `n + 1`-th input
    /// (TA-Lib's `PLUS_DI` / `MINUS_DI` lookback `n`), before the ADX is.
    #[must_use]
    pub fn di(&self) -> Option<(f64, f64)> {
        self.di
    }

    /// Period.
    #[must_use]
    pub fn period(&self) -> usize {
        self.n
    }

    /// Inputs before the first `Some` from [`Adx::push`]: `2n` (TA-Lib's
    /// lookback `2n − 1`).
    #[must_use]
    pub fn warmup(&self) -> usize {
        2 * self.n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atr_seeds_with_the_mean_true_range() {
        let mut a = Atr::new(2);
        assert_eq!(a.warmup(), 3);
        assert_eq!(a.push(10, 8, 9), None);
        // tr = max(2, |12 − 9|, |10 − 9|) = 3
        assert_eq!(a.push(12, 10, 11), None);
        // tr = max(1, |10 − 11|, |9 − 11|) = 2
        assert_eq!(a.push(10, 9, 10), Some(2.5));
        // tr = 4: (2.5 × 1 + 4) / 2
        assert_eq!(a.push(14, 10, 12), Some(3.25));
        let mut one = Atr::new(1);
        assert_eq!(one.push(10, 8, 9), None);
        assert_eq!(one.push(12, 10, 11), Some(3.0));
        let mut flat = Atr::new(14);
        let out: Vec<_> = (0..20).filter_map(|_| flat.push(5, 5, 5)).collect();
        assert_eq!(out, vec![0.0; 6]);
    }

    #[test]
    fn adx_warmup_and_a_steady_trend() {
        let mut a = Adx::new(3);
        assert_eq!(a.warmup(), 6);
        let out: Vec<_> = (0..10)
            .map(|i| a.push(100 + 2 * i, 99 + 2 * i, 100 + 2 * i))
            .collect();
        assert!(out[..5].iter().all(Option::is_none));
        for v in out[5..].iter().map(|v| v.unwrap()) {
            // only up-moves: −DI is 0, DX and ADX are 100
            assert_eq!(v.minus_di, 0.0);
            assert_eq!(v.adx, 100.0);
            assert!(v.plus_di > 0.0 && v.plus_di <= 100.0);
        }
    }

    #[test]
    fn adx_of_a_flat_market_carries_zero() {
        let mut a = Adx::new(2);
        let out: Vec<_> = (0..8).filter_map(|_| a.push(7, 7, 7)).collect();
        assert_eq!(out.len(), 5);
        assert!(out.iter().all(|v| *v
            == AdxValue {
                adx: 0.0,
                plus_di: 0.0,
                minus_di: 0.0
            }));
        assert_eq!(a.di(), Some((0.0, 0.0)));
    }
}
