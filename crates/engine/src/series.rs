//! Indicator series computed once and shared by every trial that needs them.
//!
//! In a grid, many trials use the same parameter value (a fast SMA of 20 is
//! in every trial of that row): a strategy that asks [`SeriesCache`] for its
//! series in [`crate::Strategy::new`] gets the one already computed by an
//! earlier trial, and its bar loop only reads. A single backtest uses an
//! unshared cache, which computes without keeping anything.
//!
//! The memo is bounded in bytes: once full, further series are computed for
//! the asking trial only, so memory stays bounded however many distinct
//! values a grid has.

use crate::bars::Bars;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Memo budget of an optimization's cache (bytes of series kept).
pub const DEFAULT_BUDGET: usize = 256 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    CloseSmaSums(usize),
    ClosePrefixSums,
    /// An indicator's output lines: its name and its arguments' bits.
    Lines(&'static str, [u64; 4]),
}

/// The values of a derived series, stored in 32 bits when they are known
/// to fit: half the memory (fresh pages are costly) and half the bandwidth
/// for every trial that reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Values {
    /// Every value fits `i32`.
    I32(Box<[i32]>),
    /// Full width.
    I64(Box<[i64]>),
}

/// A derived series with its largest absolute value, so a consumer can
/// prove once that its arithmetic cannot overflow instead of checking on
/// every element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// One value per main bar.
    pub values: Values,
    /// `max |value|` over the series.
    pub max_abs: u64,
}

impl Series {
    /// Number of values.
    #[must_use]
    pub fn len(&self) -> usize {
        match &self.values {
            Values::I32(v) => v.len(),
            Values::I64(v) => v.len(),
        }
    }

    /// Whether it has no values.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `k`, widened.
    ///
    /// # Panics
    /// If `k` is out of range.
    #[must_use]
    pub fn get(&self, k: usize) -> i64 {
        match &self.values {
            Values::I32(v) => i64::from(v[k]),
            Values::I64(v) => v[k],
        }
    }

    fn bytes(&self) -> usize {
        match &self.values {
            Values::I32(v) => std::mem::size_of_val(&**v),
            Values::I64(v) => std::mem::size_of_val(&**v),
        }
    }
}

/// Running totals of a series with a leading zero: `values[k]` is the sum
/// of its first `k` elements, so the sum of any window is one subtraction
/// (`values[end] − values[end − n]`). One of these serves every window
/// length of a grid: 800 KB for 100,000 bars instead of a series per
/// period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixSums {
    /// `len + 1` running totals, starting at 0.
    pub values: Box<[i64]>,
    /// `max |element|` of the summed series: a window of `n` sums to at
    /// most `n` times this, which bounds any arithmetic on window sums.
    pub max_abs_element: u64,
}

impl PrefixSums {
    /// The sum of the `n` elements ending at element `k` (inclusive).
    ///
    /// # Panics
    /// If `n > k + 1` or `k` is out of range.
    #[must_use]
    pub fn window(&self, k: usize, n: usize) -> i64 {
        self.values[k + 1] - self.values[k + 1 - n]
    }

    fn bytes(&self) -> usize {
        std::mem::size_of_val(&*self.values)
    }
}

/// What the memo holds for one key.
#[derive(Debug, Clone)]
enum Derived {
    Series(Arc<Series>),
    Prefix(Arc<PrefixSums>),
    Lines(Arc<[Arc<[f64]>]>),
}

impl Derived {
    fn bytes(&self) -> usize {
        match self {
            Self::Series(s) => s.bytes(),
            Self::Prefix(p) => p.bytes(),
            Self::Lines(l) => l.iter().map(|x| std::mem::size_of_val(&**x)).sum(),
        }
    }
}

type Slot = Arc<OnceLock<Option<Derived>>>;

/// Derived series of one run's main bars, shared across trials.
#[derive(Debug)]
pub struct SeriesCache {
    memo: Mutex<HashMap<Key, Slot>>,
    kept_bytes: AtomicUsize,
    budget: usize,
}

impl SeriesCache {
    /// A cache keeping at most `budget` bytes of series.
    #[must_use]
    pub fn new(budget: usize) -> Self {
        Self {
            memo: Mutex::new(HashMap::new()),
            kept_bytes: AtomicUsize::new(0),
            budget,
        }
    }

    /// A cache that keeps nothing (one backtest: nothing to share).
    #[must_use]
    pub fn unshared() -> Self {
        Self::new(0)
    }

    /// Bytes of series kept so far.
    #[must_use]
    pub fn kept_bytes(&self) -> usize {
        self.kept_bytes.load(Ordering::Relaxed)
    }

    /// The rolling sums of the last `period` closes of `bars`: element `k`
    /// is `close[k+1-period] + … + close[k]` for `k ≥ period − 1` (earlier
    /// elements are 0 and must not be read). `None` if a sum overflows
    /// `i64` (then use [`crate::indicators::Sma`], which sums in `i128`).
    pub fn close_sma_sums(&self, bars: &Bars, period: usize) -> Option<Arc<Series>> {
        match self.get(Key::CloseSmaSums(period), || {
            rolling_sums(&bars.close, period.max(1)).map(Derived::Series)
        })? {
            Derived::Series(s) => Some(s),
            Derived::Prefix(_) | Derived::Lines(_) => None,
        }
    }

    /// The running totals of `bars`' closes ([`PrefixSums`]): every
    /// simple moving average of every period in one series. `None` if a
    /// total overflows `i64`.
    pub fn close_prefix_sums(&self, bars: &Bars) -> Option<Arc<PrefixSums>> {
        match self.get(Key::ClosePrefixSums, || {
            prefix_sums(&bars.close).map(|p| Derived::Prefix(Arc::new(p)))
        })? {
            Derived::Prefix(p) => Some(p),
            Derived::Series(_) | Derived::Lines(_) => None,
        }
    }

    /// The output lines of the indicator `name` with arguments `args`
    /// (their bits: integers as `u64`, floats by `f64::to_bits`), computed
    /// by `compute` the first time any trial asks and shared afterwards.
    /// `compute` must depend only on the bars and `args`: two callers with
    /// the same key get each other's lines.
    pub fn lines(
        &self,
        name: &'static str,
        args: [u64; 4],
        compute: impl FnOnce() -> Vec<Vec<f64>>,
    ) -> Arc<[Arc<[f64]>]> {
        let made = self.get(Key::Lines(name, args), || {
            Some(Derived::Lines(
                compute().into_iter().map(Arc::from).collect(),
            ))
        });
        match made {
            Some(Derived::Lines(l)) => l,
            // only `Lines` is stored under a `Lines` key, and computing one
            // always gives `Some`
            _ => Arc::from(Vec::new()),
        }
    }

    fn get(&self, key: Key, compute: impl FnOnce() -> Option<Derived>) -> Option<Derived> {
        if self.budget == 0 {
            return compute();
        }
        let slot = {
            let mut memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(s) = memo.get(&key) {
                Arc::clone(s)
            } else if self.kept_bytes() >= self.budget {
                drop(memo);
                return compute();
            } else {
                let s = Slot::default();
                memo.insert(key, Arc::clone(&s));
                s
            }
        };
        // Computed outside the map's lock; a second trial asking for the
        // same key meanwhile waits on this slot only.
        slot.get_or_init(|| {
            let v = compute();
            if let Some(v) = &v {
                self.kept_bytes.fetch_add(v.bytes(), Ordering::Relaxed);
            }
            v
        })
        .clone()
    }
}

fn prefix_sums(x: &[i64]) -> Option<PrefixSums> {
    let mut values = Vec::with_capacity(x.len() + 1);
    let mut total = 0i64;
    values.push(total);
    let mut max_abs_element = 0u64;
    for &v in x {
        total = total.checked_add(v)?;
        max_abs_element = max_abs_element.max(v.unsigned_abs());
        values.push(total);
    }
    Some(PrefixSums {
        values: values.into(),
        max_abs_element,
    })
}

fn rolling_sums(x: &[i64], n: usize) -> Option<Arc<Series>> {
    // |sum| ≤ max |x| × n decides the width before anything is stored
    let bound = x
        .iter()
        .map(|v| v.unsigned_abs())
        .max()
        .unwrap_or(0)
        .checked_mul(n as u64);
    let narrow = bound.is_some_and(|b| b <= i32::MAX as u64);
    let mut max_abs = 0u64;
    let values = if narrow {
        let mut out = Vec::with_capacity(x.len());
        let mut sum = 0i64;
        for (k, &v) in x.iter().enumerate() {
            sum += v;
            if k >= n {
                sum -= x[k - n];
            }
            max_abs = max_abs.max(sum.unsigned_abs());
            out.push(sum as i32);
        }
        Values::I32(out.into())
    } else {
        let mut out = Vec::with_capacity(x.len());
        let mut sum = 0i64;
        for (k, &v) in x.iter().enumerate() {
            sum = sum.checked_add(v)?;
            if k >= n {
                sum = sum.checked_sub(x[k - n])?;
            }
            max_abs = max_abs.max(sum.unsigned_abs());
            out.push(sum);
        }
        Values::I64(out.into())
    };
    Some(Arc::new(Series { values, max_abs }))
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
                high: c,
                low: c,
                close: c,
                volume: 0,
            });
        }
        b
    }

    #[test]
    fn rolling_sums_match_the_definition_and_are_shared() {
        let b = bars(&[1, 2, 3, 4, 5]);
        let cache = SeriesCache::new(1 << 20);
        let s = cache.close_sma_sums(&b, 3).unwrap();
        assert_eq!((2..5).map(|k| s.get(k)).collect::<Vec<_>>(), [6, 9, 12]);
        assert!(matches!(s.values, Values::I32(_)));
        let again = cache.close_sma_sums(&b, 3).unwrap();
        assert!(Arc::ptr_eq(&s, &again));
        assert_eq!(cache.kept_bytes(), 5 * 4);
        let one = cache.close_sma_sums(&b, 1).unwrap();
        assert_eq!(
            (0..5).map(|k| one.get(k)).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(s.max_abs, 12);
    }

    #[test]
    fn prefix_sums_give_every_window_and_are_shared() {
        let b = bars(&[1, -2, 3, 4, 5]);
        let cache = SeriesCache::new(1 << 20);
        let p = cache.close_prefix_sums(&b).unwrap();
        assert_eq!(&*p.values, &[0, 1, -1, 2, 6, 11]);
        assert_eq!(p.max_abs_element, 5);
        let sums = cache.close_sma_sums(&b, 3).unwrap();
        for k in 2..5 {
            assert_eq!(p.window(k, 3), sums.get(k));
        }
        assert!(Arc::ptr_eq(&p, &cache.close_prefix_sums(&b).unwrap()));
        assert!(SeriesCache::unshared()
            .close_prefix_sums(&bars(&[i64::MAX, 1]))
            .is_none());
    }

    #[test]
    fn overflow_and_budget_are_handled() {
        let b = bars(&[i64::MAX / 2, i64::MAX / 2, i64::MAX / 2]);
        assert!(SeriesCache::unshared().close_sma_sums(&b, 3).is_none());
        let wide = bars(&[i64::from(i32::MAX), 1, 2]);
        let w = SeriesCache::unshared().close_sma_sums(&wide, 2).unwrap();
        assert!(matches!(w.values, Values::I64(_)));
        assert_eq!(w.get(1), i64::from(i32::MAX) + 1);
        assert_eq!(w.max_abs, i32::MAX as u64 + 1);
        let small = bars(&[1, 2, 3]);
        let cache = SeriesCache::new(4);
        let first = cache.close_sma_sums(&small, 2).unwrap();
        let other = cache.close_sma_sums(&small, 3).unwrap();
        let other_again = cache.close_sma_sums(&small, 3).unwrap();
        assert!(Arc::ptr_eq(
            &first,
            &cache.close_sma_sums(&small, 2).unwrap()
        ));
        assert!(!Arc::ptr_eq(&other, &other_again), "over budget: not kept");
    }
}
