//! Built-in strategies and the registry that makes them runnable by name.
//!
//! To add a strategy: write it in a file here implementing
//! [`crate::Strategy`], then add its type to the `registry!` list in [`crate::registry`].

mod bollinger_reversion;
mod donchian_breakout;
mod ema_cross;
mod fault_injection;
mod rsi_reversion;
mod sma_cross;

pub use bollinger_reversion::BollingerReversion;
pub use donchian_breakout::DonchianBreakout;
pub use ema_cross::EmaCross;
pub use fault_injection::FaultInjection;
pub use rsi_reversion::RsiReversion;
pub use sma_cross::SmaCross;
