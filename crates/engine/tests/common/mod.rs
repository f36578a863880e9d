//! Test data shared by the engine's integration tests.

use atf_engine::{Bar, Bars, Instrument, MarketData, Timeframe};

/// A deterministic pseudo-random walk (xorshift from `seed`) of `n`
/// one-minute bars, prices in cents.
pub fn walk(n: usize, seed: u64) -> MarketData {
    let mut bars = Bars::with_capacity(n);
    let mut x = seed;
    let mut p: i64 = 10_000;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let step = (x % 41) as i64 - 20;
        let open = p;
        p = (p + step).max(100);
        bars.push(Bar {
            ts: i as i64 * 60_000,
            open,
            high: open.max(p) + (x % 7) as i64,
            low: (open.min(p) - (x % 5) as i64).max(1),
            close: p,
            volume: 1,
        });
    }
    MarketData::new(Instrument::new("W", 2), bars, Timeframe::M1, Timeframe::M1).unwrap()
}
