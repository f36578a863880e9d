//! Incremental indicators: O(1) (amortised) work per bar, memory allocated
//! once at construction, nothing allocated in `push`.
//!
//! Moving averages of prices keep exact integer sums so that crossovers can
//! be decided without floats ([`Relation`]); indicators that are inherently
//! real-valued (EMA, RSI, standard deviation) use `f64`, which is still
//! deterministic (same inputs, same bits) because the operations and their
//! order are fixed (no fused multiply-add, no hashing, no parallel sums).
//!
//! # Conventions
//!
//! - Inputs are the raw fixed-point `i64` values the bars store (prices at
//!   the instrument's price scale, volumes at the volume scale); outputs are
//!   `f64` in the same raw units, except the oscillators (RSI, stochastic,
//!   ADX and ±DI), which are in 0..=100.
//! - `X::new(params)` builds an indicator; `push(..)` feeds one bar and
//!   returns `None` until the indicator is defined; `warmup()` is the number
//!   of inputs before the first `Some`. Multi-line indicators return a small
//!   `Copy` struct ([`MacdValue`], [`BandsValue`], [`StochValue`],
//!   [`AdxValue`]).
//! - Seeding, Wilder smoothing and where the output begins follow TA-Lib
//!   (its default "compatibility" and unstable period 0), so the values
//!   equal TA-Lib's after its lookback: `warmup() = lookback + 1`. The test
//!   `tests/talib.rs` checks every indicator against TA-Lib on real data.
//!   [`Sma`] (and [`Sma::cmp_exact`]) predate this module's TA-Lib checks
//!   and keep their `bool` return.

mod averages;
mod bands;
mod cross;
mod oscillators;
mod volatility;
mod volume;
mod window;

pub use averages::{Ema, Sma, Wma};
pub use bands::{BandsValue, Bollinger, Donchian, Keltner};
pub use cross::{Cross, Relation};
pub use oscillators::{Macd, MacdValue, Rsi, Stoch, StochValue};
pub use volatility::{Adx, AdxValue, Atr};
pub use volume::{Obv, RollingVwap, Vwap};
pub use window::{RollingExtreme, RollingStd};
