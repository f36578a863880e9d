//! A deterministic pseudo-random walk of one-minute bars (xorshift64 from
//! a seed): the engine's integration tests run strategies and grids on it.

use atf_engine::{Bar, Bars, Instrument, MarketData, Timeframe};

/// `n` one-minute bars from epoch 0, prices in cents around 100.00: each
/// close moves up to 20 cents from the open, wicks reach a few cents
/// beyond, prices never go under 1.00.
#[must_use]
pub fn bars(n: usize, seed: u64) -> Bars {
    let mut bars = Bars::with_capacity(n);
    let mut x = seed;
    let mut p: i64 = 10_000;
    for ts in (0_i64..).step_by(60_000).take(n) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let open = p;
        p = (p + small(x % 41) - 20).max(100);
        bars.push(Bar {
            ts,
            open,
            high: open.max(p) + small(x % 7),
            low: (open.min(p) - small(x % 5)).max(1),
            close: p,
            volume: 1,
        });
    }
    bars
}

/// [`bars`] as the data of a run of instrument `W` (2 decimals) at its own
/// one-minute timeframe.
///
/// # Panics
/// When `n` is 0 (a run needs bars).
#[must_use]
pub fn market_data(n: usize, seed: u64) -> MarketData {
    MarketData::new(
        Instrument::new("W", 2),
        bars(n, seed),
        Timeframe::M1,
        Timeframe::M1,
    )
    .expect("a walk of at least one bar")
}

/// A remainder below 41 as a price step.
fn small(r: u64) -> i64 {
    i64::try_from(r).unwrap_or(0)
}
