//! Bars as a struct of arrays, and the two resolutions a run works with.
//!
//! A run steps through *sub-bars* (the data's own resolution, e.g. 1m) and
//! calls the strategy when a *main* bar (the strategy's timeframe, e.g. 1h)
//! closes. Main bars are built once, before the loop, by [`MarketData::new`].
//!
//! **Warm-up.** [`MarketData::with_warmup`] puts up to N main bars from
//! before the run's window in front of it: the strategy's indicators are
//! computed over them and the strategy is called on them, but nothing is
//! traded or recorded there (see [`crate::run::simulate`]). The warm-up
//! and the window are resampled apart, so the window's main bars are
//! exactly those of a run without warm-up: a `from` inside a main bar of
//! the timeframe splits that bar in two with the same open time, its part
//! before `from` being the last warm-up bar.

use crate::timeframe::Timeframe;
use crate::Instrument;
use thiserror::Error;

/// OHLCV bars, one `Vec<i64>` per field (struct of arrays): the hot loop
/// touches only the columns it reads, and they stay dense in cache.
///
/// Prices are raw at the instrument's price scale; `ts` is the bar's open
/// time in milliseconds since the Unix epoch (UTC); `volume` is raw at the
/// dataset's volume scale.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bars {
    /// Bar open time, ms since epoch, strictly increasing.
    pub ts: Vec<i64>,
    /// Open prices.
    pub open: Vec<i64>,
    /// High prices.
    pub high: Vec<i64>,
    /// Low prices.
    pub low: Vec<i64>,
    /// Close prices.
    pub close: Vec<i64>,
    /// Volumes.
    pub volume: Vec<i64>,
}

/// One bar by value, for tests and for building [`Bars`] row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    /// Open time, ms since epoch.
    pub ts: i64,
    /// Open price, raw.
    pub open: i64,
    /// High price, raw.
    pub high: i64,
    /// Low price, raw.
    pub low: i64,
    /// Close price, raw.
    pub close: i64,
    /// Volume, raw.
    pub volume: i64,
}

impl Bars {
    /// Empty bars with room for `n` rows.
    #[must_use]
    pub fn with_capacity(n: usize) -> Self {
        Self {
            ts: Vec::with_capacity(n),
            open: Vec::with_capacity(n),
            high: Vec::with_capacity(n),
            low: Vec::with_capacity(n),
            close: Vec::with_capacity(n),
            volume: Vec::with_capacity(n),
        }
    }

    /// Number of bars.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// Whether there are no bars.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// Appends one bar.
    pub fn push(&mut self, b: Bar) {
        self.ts.push(b.ts);
        self.open.push(b.open);
        self.high.push(b.high);
        self.low.push(b.low);
        self.close.push(b.close);
        self.volume.push(b.volume);
    }

    /// Appends every bar of `other`.
    pub fn extend_from(&mut self, other: &Bars) {
        self.ts.extend_from_slice(&other.ts);
        self.open.extend_from_slice(&other.open);
        self.high.extend_from_slice(&other.high);
        self.low.extend_from_slice(&other.low);
        self.close.extend_from_slice(&other.close);
        self.volume.extend_from_slice(&other.volume);
    }

    /// The rows from `from` on (a copy).
    #[must_use]
    pub fn tail(&self, from: usize) -> Bars {
        let from = from.min(self.len());
        Bars {
            ts: self.ts[from..].to_vec(),
            open: self.open[from..].to_vec(),
            high: self.high[from..].to_vec(),
            low: self.low[from..].to_vec(),
            close: self.close[from..].to_vec(),
            volume: self.volume[from..].to_vec(),
        }
    }

    /// Where the last `n` bars of timeframe `tf` that [`Bars::resample`]
    /// would build from the rows before `end` begin: the index of their
    /// first row (`0` when there are fewer than `n`). With `tf` the data's
    /// own timeframe, every row is a bar: `end − n`.
    ///
    /// Walks back from `end` (O(rows read)), so finding a warm-up never
    /// resamples what lies before it.
    #[must_use]
    pub fn start_of_last(&self, end: usize, n: usize, tf: Timeframe, own: Timeframe) -> usize {
        let end = end.min(self.len());
        if tf == own {
            return end.saturating_sub(n);
        }
        let mut i = end;
        for _ in 0..n {
            let Some(&last) = i.checked_sub(1).and_then(|j| self.ts.get(j)) else {
                break;
            };
            let bucket = tf.bucket_start(last);
            while i > 0 && tf.bucket_start(self.ts[i - 1]) == bucket {
                i -= 1;
            }
        }
        i
    }

    /// Bar `i` by value.
    ///
    /// # Panics
    /// If `i >= len()`.
    #[must_use]
    pub fn get(&self, i: usize) -> Bar {
        Bar {
            ts: self.ts[i],
            open: self.open[i],
            high: self.high[i],
            low: self.low[i],
            close: self.close[i],
            volume: self.volume[i],
        }
    }

    /// The bars with `from_ms <= ts < to_ms` (a copy of that row range).
    #[must_use]
    pub fn slice_time(&self, from_ms: i64, to_ms: i64) -> Bars {
        let a = self.ts.partition_point(|&t| t < from_ms);
        let b = self.ts.partition_point(|&t| t < to_ms);
        Bars {
            ts: self.ts[a..b].to_vec(),
            open: self.open[a..b].to_vec(),
            high: self.high[a..b].to_vec(),
            low: self.low[a..b].to_vec(),
            close: self.close[a..b].to_vec(),
            volume: self.volume[a..b].to_vec(),
        }
    }

    /// Builds bars of timeframe `tf` from these bars: UTC-aligned buckets,
    /// empty buckets skipped (no synthetic bars), first open, max high, min
    /// low, last close, summed volume — what pandas' `resample().agg()` does.
    ///
    /// Returns the main bars and, for each, the index one past its last
    /// sub-bar.
    #[must_use]
    pub fn resample(&self, tf: Timeframe) -> (Bars, Vec<u32>) {
        let mut out = Bars::with_capacity(self.len() / 2 + 1);
        let mut ends = Vec::with_capacity(self.len() / 2 + 1);
        let n = self.len();
        let mut i = 0;
        while i < n {
            let bucket = tf.bucket_start(self.ts[i]);
            let next = bucket + tf.millis();
            let (open, mut high, mut low) = (self.open[i], self.high[i], self.low[i]);
            let mut volume = self.volume[i];
            let mut j = i + 1;
            while j < n && self.ts[j] < next {
                high = high.max(self.high[j]);
                low = low.min(self.low[j]);
                volume = volume.saturating_add(self.volume[j]);
                j += 1;
            }
            out.push(Bar {
                ts: bucket,
                open,
                high,
                low,
                close: self.close[j - 1],
                volume,
            });
            ends.push(u32::try_from(j).unwrap_or(u32::MAX));
            i = j;
        }
        (out, ends)
    }
}

/// Why market data cannot be used for a run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MarketDataError {
    /// No bars in the chosen period.
    #[error("no bars in the chosen period")]
    Empty,
    /// The main timeframe is finer than, or not a multiple of, the data's.
    #[error("timeframe {main} cannot be built from {sub} bars: it must be a whole multiple of the data's timeframe")]
    IncompatibleTimeframe {
        /// Requested main timeframe.
        main: Timeframe,
        /// The data's own timeframe.
        sub: Timeframe,
    },
    /// More than 4 billion sub-bars.
    #[error("too many bars for one run ({0})")]
    TooLarge(usize),
    /// Warm-up bars that do not all come before the window.
    #[error("warm-up bars must all come before the run's first bar")]
    WarmupNotBefore,
}

/// The bars of one run: sub-bars at the data's resolution and main bars at
/// the strategy's timeframe, built once and then shared read-only (an
/// optimization's trials all borrow the same `MarketData`).
#[derive(Debug, Clone)]
pub struct MarketData {
    /// The instrument and its scales.
    pub instrument: Instrument,
    /// The data's own resolution.
    pub sub_timeframe: Timeframe,
    /// The strategy's timeframe.
    pub main_timeframe: Timeframe,
    sub: Bars,
    /// `None` when main == sub timeframe (no copy is made).
    main: Option<(Bars, Vec<u32>)>,
    /// Main bars before the window: seen by the strategy, never traded.
    warmup: usize,
    /// Sub-bars before the window.
    warmup_sub: usize,
}

impl MarketData {
    /// Prepares `sub` bars of `sub_tf` for a run at `main_tf`, resampling once.
    ///
    /// # Errors
    /// [`MarketDataError`] when there are no bars or `main_tf` is not a whole
    /// multiple of `sub_tf`.
    pub fn new(
        instrument: Instrument,
        sub: Bars,
        sub_tf: Timeframe,
        main_tf: Timeframe,
    ) -> Result<Self, MarketDataError> {
        if sub.is_empty() {
            return Err(MarketDataError::Empty);
        }
        if u32::try_from(sub.len()).is_err() {
            return Err(MarketDataError::TooLarge(sub.len()));
        }
        if !main_tf.is_multiple_of(sub_tf) {
            return Err(MarketDataError::IncompatibleTimeframe {
                main: main_tf,
                sub: sub_tf,
            });
        }
        let main = (main_tf != sub_tf).then(|| sub.resample(main_tf));
        Ok(Self {
            instrument,
            sub_timeframe: sub_tf,
            main_timeframe: main_tf,
            sub,
            main,
            warmup: 0,
            warmup_sub: 0,
        })
    }

    /// Prepares `sub` bars (the window) as [`MarketData::new`] does, with
    /// the last `max_warmup` main bars that `before` (bars of the same
    /// resolution, all earlier than the window) makes in front of them —
    /// as many as there are: [`MarketData::warmup_bars`] says how many.
    /// Warm-up and window are resampled apart, so the window's main bars
    /// are the same as without warm-up.
    ///
    /// # Errors
    /// As [`MarketData::new`]; [`MarketDataError::WarmupNotBefore`] when a
    /// bar of `before` is not earlier than the window's first.
    pub fn with_warmup(
        instrument: Instrument,
        before: &Bars,
        sub: Bars,
        sub_tf: Timeframe,
        main_tf: Timeframe,
        max_warmup: usize,
    ) -> Result<Self, MarketDataError> {
        let window = Self::new(instrument, sub, sub_tf, main_tf)?;
        let start = before.start_of_last(before.len(), max_warmup, main_tf, sub_tf);
        if start == before.len() {
            return Ok(window);
        }
        if before.ts.last() >= window.sub.ts.first() {
            return Err(MarketDataError::WarmupNotBefore);
        }
        let Self {
            instrument,
            sub: window_sub,
            main: window_main,
            ..
        } = window;
        let warm = before.tail(start);
        let warmup_sub = warm.len();
        let warm_main = window_main.is_some().then(|| warm.resample(main_tf));
        let mut sub = warm;
        sub.extend_from(&window_sub);
        if u32::try_from(sub.len()).is_err() {
            return Err(MarketDataError::TooLarge(sub.len()));
        }
        let (main, warmup) = match (window_main, warm_main) {
            (Some((window_bars, window_ends)), Some((mut bars, mut ends))) => {
                let warmup = bars.len();
                bars.extend_from(&window_bars);
                // checked above: every end fits in u32
                let offset = u32::try_from(warmup_sub).unwrap_or(u32::MAX);
                ends.extend(window_ends.iter().map(|&e| e + offset));
                (Some((bars, ends)), warmup)
            }
            _ => (None, warmup_sub),
        };
        Ok(Self {
            instrument,
            sub_timeframe: sub_tf,
            main_timeframe: main_tf,
            sub,
            main,
            warmup,
            warmup_sub,
        })
    }

    /// Main bars before the window (warm-up): the strategy sees them,
    /// nothing is traded or recorded on them. `0` without warm-up.
    #[must_use]
    pub fn warmup_bars(&self) -> usize {
        self.warmup
    }

    /// Sub-bars before the window (the warm-up's).
    #[must_use]
    pub fn warmup_sub_bars(&self) -> usize {
        self.warmup_sub
    }

    /// Open times of the window's main bars: the times of the equity curve.
    #[must_use]
    pub fn window_times(&self) -> &[i64] {
        &self.main_bars().ts[self.warmup..]
    }

    /// Sub-bars (the data's resolution): what orders fill against.
    #[must_use]
    pub fn sub_bars(&self) -> &Bars {
        &self.sub
    }

    /// Main bars (the strategy's timeframe): what the strategy sees.
    #[must_use]
    pub fn main_bars(&self) -> &Bars {
        self.main.as_ref().map_or(&self.sub, |(b, _)| b)
    }

    /// For each main bar, the index one past its last sub-bar; `None` when
    /// main bars *are* the sub-bars.
    #[must_use]
    pub fn main_ends(&self) -> Option<&[u32]> {
        self.main.as_ref().map(|(_, e)| e.as_slice())
    }

    /// A backtest's total work: the number of the window's sub-bars
    /// (warm-up sub-bars are never read: nothing can fill there).
    #[must_use]
    pub fn total_sub_bars(&self) -> u64 {
        (self.sub.len() - self.warmup_sub) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minute_bars(start_ms: i64, closes: &[i64]) -> Bars {
        let mut b = Bars::default();
        for (i, &c) in closes.iter().enumerate() {
            b.push(Bar {
                ts: start_ms + i as i64 * 60_000,
                open: c - 1,
                high: c + 2,
                low: c - 3,
                close: c,
                volume: 10,
            });
        }
        b
    }

    #[test]
    fn resamples_to_utc_hours_skipping_empty_buckets() {
        // 10:58, 10:59, 11:00 ... then a gap to 13:00
        let t0 = 1_704_106_680_000; // 2024-01-01T10:58:00Z
        let mut b = minute_bars(t0, &[100, 101, 102]);
        b.push(Bar {
            ts: t0 + 122 * 60_000,
            open: 1,
            high: 5,
            low: 0,
            close: 4,
            volume: 1,
        });
        let (h, ends) = b.resample(Timeframe::H1);
        assert_eq!(h.len(), 3);
        assert_eq!(h.ts[0], 1_704_103_200_000); // 10:00
        assert_eq!(
            h.get(0),
            Bar {
                ts: 1_704_103_200_000,
                open: 99,
                high: 103,
                low: 97,
                close: 101,
                volume: 20
            }
        );
        assert_eq!(h.ts[1], 1_704_106_800_000); // 11:00
        assert_eq!(h.ts[2], 1_704_114_000_000); // 13:00
        assert_eq!(ends, vec![2, 3, 4]);
    }

    #[test]
    fn rejects_incompatible_timeframes() {
        let b = minute_bars(0, &[1, 2]);
        let err =
            MarketData::new(Instrument::new("X", 2), b, Timeframe::H1, Timeframe::M1).unwrap_err();
        assert!(matches!(err, MarketDataError::IncompatibleTimeframe { .. }));
    }
}
