//! Indicator series computed once and shared by every trial that needs them.
//!
//! In a grid, many trials use the same parameter value (a fast SMA of 20 is
//! in every trial of that row): a strategy that asks [`SeriesCache`] for its
//! series in [`crate::Strategy::prepare`] gets the one already computed by an
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
}

/// A derived series with its largest absolute value, so a consumer can
/// prove once that its arithmetic cannot overflow instead of checking on
/// every element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// One value per main bar.
    pub values: Box<[i64]>,
    /// `max |value|` over the series.
    pub max_abs: u64,
}

impl std::ops::Deref for Series {
    type Target = [i64];

    fn deref(&self) -> &[i64] {
        &self.values
    }
}

type Slot = Arc<OnceLock<Option<Arc<Series>>>>;

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
        self.get(Key::CloseSmaSums(period), || {
            rolling_sums(&bars.close, period.max(1))
        })
    }

    fn get(&self, key: Key, compute: impl FnOnce() -> Option<Arc<Series>>) -> Option<Arc<Series>> {
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
                self.kept_bytes
                    .fetch_add(std::mem::size_of_val(&*v.values), Ordering::Relaxed);
            }
            v
        })
        .clone()
    }
}

fn rolling_sums(x: &[i64], n: usize) -> Option<Arc<Series>> {
    let mut out = vec![0i64; x.len()];
    let mut sum = 0i64;
    let mut max_abs = 0u64;
    for (k, &v) in x.iter().enumerate() {
        sum = sum.checked_add(v)?;
        if k >= n {
            sum = sum.checked_sub(x[k - n])?;
        }
        out[k] = sum;
        max_abs = max_abs.max(sum.unsigned_abs());
    }
    Some(Arc::new(Series {
        values: out.into(),
        max_abs,
    }))
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
        assert_eq!(&s[2..], &[6, 9, 12]);
        let again = cache.close_sma_sums(&b, 3).unwrap();
        assert!(Arc::ptr_eq(&s, &again));
        assert_eq!(cache.kept_bytes(), 5 * 8);
        assert_eq!(&cache.close_sma_sums(&b, 1).unwrap()[..], &[1, 2, 3, 4, 5]);
        assert_eq!(s.max_abs, 12);
    }

    #[test]
    fn overflow_and_budget_are_handled() {
        let b = bars(&[i64::MAX / 2, i64::MAX / 2, i64::MAX / 2]);
        assert!(SeriesCache::unshared().close_sma_sums(&b, 3).is_none());
        let small = bars(&[1, 2, 3]);
        let cache = SeriesCache::new(8);
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
