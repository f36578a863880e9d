//! Built-in strategies and the registry that makes them runnable by name.
//!
//! They are examples as much as products: a user's own strategies live in
//! the user's crate and join these through
//! [`Registry::with`](crate::registry::Registry::with). [`FaultInjection`]
//! fails on purpose and is not among [`Registry::builtin`](crate::registry::Registry::builtin)'s:
//! tests register it themselves.

mod bollinger_reversion;
mod donchian_breakout;
mod ema_cross;
mod fault_injection;
mod rsi_reversion;
mod sma_cross;

pub use bollinger_reversion::{BollingerReversion, BollingerReversionParams};
pub use donchian_breakout::{DonchianBreakout, DonchianBreakoutParams};
pub use ema_cross::{EmaCross, EmaCrossParams};
pub use fault_injection::{FaultInjection, FaultInjectionParams};
pub use rsi_reversion::{RsiReversion, RsiReversionParams};
pub use sma_cross::{SmaCross, SmaCrossParams};
