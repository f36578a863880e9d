//! # atf-engine
//!
//! The backtesting engine of AlgoTradeForge: no files, no async, no HTTP.
//!
//! Layout:
//! - [`fixed`]: `i64` fixed-point [`Price`], [`Qty`], [`Money`], [`Ratio`] and exact decimal parsing;
//! - [`instrument`]: the scales of one instrument;
//! - [`timeframe`], [`bars`]: bars as a struct of arrays, main bars resampled from sub-bars.

pub mod bars;
pub mod fixed;
pub mod instrument;
pub mod timeframe;

pub use bars::{Bar, Bars, MarketData, MarketDataError};
pub use fixed::{FixedError, Money, Price, Qty, Ratio, Scale};
pub use instrument::Instrument;
pub use timeframe::{Timeframe, TimeframeError};
