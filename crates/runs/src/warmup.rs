//! Warm-up bars: the main bars before a run's period that its strategy
//! warms up on (`warmupBars`, [`Target::warmup_bars`]), found in the data
//! and put in front of the period's bars.
//!
//! A request asks for up to N bars *at the run's timeframe*; the data has
//! gaps (nights, weekends), so how far back N main bars reach is known only
//! by reading. [`load_before`] reads the span N bars would cover without
//! gaps, and four times as much each time that is not enough, until it has
//! N whole main bars or reaches the dataset's first bar — so a period that
//! starts at the data's start gets none, and a bar from at or after `from`
//! is never read. The engine ([`MarketData::with_warmup`]) keeps the last N
//! and resamples them apart from the period, whose bars are exactly those
//! of a run without warm-up.

use crate::plan::Target;
use atf_data::DataError;
use atf_engine::{Bars, MarketData, MarketDataError, Timeframe};
use std::path::Path;

/// `t`'s warm-up and period bars, `(before, period)`, read from its
/// dataset's file under `data_dir` (the catalog's directory).
///
/// # Errors
/// As `DatasetInfo::load`.
pub fn load(t: &Target, data_dir: &Path) -> Result<(Bars, Bars), DataError> {
    let ds = &t.dataset;
    let period = ds.load(data_dir, t.period.from_ms, t.period.to_ms)?;
    let before = load_before(
        t.period.from_ms,
        t.warmup_bars,
        t.timeframe,
        (ds.first_ts_ms, ds.timeframe),
        |a, b| ds.load(data_dir, Some(a), Some(b)),
    )?;
    Ok((before, period))
}

/// The dataset's bars before `from_ms` that make its last `n` main bars at
/// `timeframe` (all of them when the data has fewer), read through `load`
/// (`[from, to)` in ms, as `Catalog::load` reads). `first_ts_ms` and `own`
/// are the dataset's first bar and timeframe. Empty when `n` is 0 or the
/// period starts at (or before) the data.
///
/// # Errors
/// Whatever `load` returns.
pub fn load_before<E>(
    from_ms: Option<i64>,
    n: u32,
    timeframe: Timeframe,
    (first_ts_ms, own): (i64, Timeframe),
    mut load: impl FnMut(i64, i64) -> Result<Bars, E>,
) -> Result<Bars, E> {
    let Some(from) = from_ms.filter(|&f| n > 0 && f > first_ts_ms) else {
        return Ok(Bars::default());
    };
    let n_usize = n as usize;
    // the span n bars cover without gaps, one more for a bar `from` splits
    let mut span = timeframe.millis().saturating_mul(i64::from(n) + 1);
    loop {
        let lo = from.saturating_sub(span);
        let bars = load(lo, from)?;
        let start = bars.start_of_last(bars.len(), n_usize, timeframe, own);
        // a row before the first of the n bars means that bar is whole
        // (not cut at `lo`); reaching the data's start means all there is
        if start > 0 || lo <= first_ts_ms {
            return Ok(bars.tail(start));
        }
        span = span.saturating_mul(4);
    }
}

/// The period's bars (`window`, as loaded) with the warm-up `before` them
/// at `t`'s timeframe: what the engine runs on.
///
/// # Errors
/// As [`MarketData::with_warmup`]: no bars, a timeframe that does not fit.
pub fn market_data(t: &Target, before: &Bars, window: Bars) -> Result<MarketData, MarketDataError> {
    MarketData::with_warmup(
        t.instrument.clone(),
        before,
        window,
        t.dataset.timeframe,
        t.timeframe,
        t.warmup_bars as usize,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use atf_engine::Bar;

    const H: i64 = 3_600_000;

    /// One-hour bars at the given hours.
    fn hours(at: &[i64]) -> Bars {
        let mut b = Bars::default();
        for &h in at {
            b.push(Bar {
                ts: h * H,
                open: 1,
                high: 1,
                low: 1,
                close: 1,
                volume: 1,
            });
        }
        b
    }

    fn load<'a>(
        all: &'a Bars,
        reads: &'a mut Vec<(i64, i64)>,
    ) -> impl FnMut(i64, i64) -> Result<Bars, ()> + 'a {
        move |a, b| {
            reads.push((a, b));
            Ok(all.slice_time(a, b))
        }
    }

    #[test]
    fn reaches_back_over_gaps_for_whole_bars_and_never_past_from() {
        // hours 0–9, a gap to 100, then 100–119
        let at: Vec<i64> = (0..10).chain(100..120).collect();
        let all = hours(&at);
        let mut reads = Vec::new();
        let got = load_before(Some(110 * H), 15, Timeframe::H1, (0, Timeframe::H1), {
            load(&all, &mut reads)
        })
        .unwrap();
        // 10 bars after the gap, 5 before it
        assert_eq!(got.len(), 15);
        assert_eq!(got.ts[0], 5 * H);
        assert_eq!(*got.ts.last().unwrap(), 109 * H);
        assert!(reads.len() > 1, "the gap needed a longer read: {reads:?}");
        assert!(reads.iter().all(|&(_, to)| to == 110 * H));
    }

    #[test]
    fn takes_what_exists_and_nothing_at_the_start_of_the_data() {
        let all = hours(&(0..20).collect::<Vec<_>>());
        let mut reads = Vec::new();
        let got = load_before(Some(5 * H), 100, Timeframe::H1, (0, Timeframe::H1), {
            load(&all, &mut reads)
        })
        .unwrap();
        assert_eq!(got.len(), 5, "all 5 bars there are");
        for from in [None, Some(0), Some(-H)] {
            let got = load_before(
                from,
                100,
                Timeframe::H1,
                (0, Timeframe::H1),
                load(&all, &mut reads),
            )
            .unwrap();
            assert!(got.is_empty(), "{from:?}");
        }
        let none = load_before(Some(5 * H), 0, Timeframe::H1, (0, Timeframe::H1), {
            load(&all, &mut reads)
        })
        .unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn counts_bars_of_the_run_timeframe() {
        // 1-hour data, 4-hour bars: 3 of them are 12 rows
        let all = hours(&(0..40).collect::<Vec<_>>());
        let h4: Timeframe = "4h".parse().unwrap();
        let mut reads = Vec::new();
        let got = load_before(
            Some(20 * H),
            3,
            h4,
            (0, Timeframe::H1),
            load(&all, &mut reads),
        )
        .unwrap();
        assert_eq!((got.len(), got.ts[0]), (12, 8 * H));
    }
}
