//! What is traded: the scales that give raw integers their meaning.

use crate::fixed::{rescale_i128, Money, Price, Qty, Scale};
use serde::{Deserialize, Serialize};

/// One tradable instrument and the fixed-point scales of its prices,
/// quantities and money.
///
/// The money scale is `price decimals + quantity decimals` (capped at 8), so
/// that a notional `price × qty` is exact in the common case and cash never
/// drifts by rounding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instrument {
    /// Ticker, e.g. `SPY`.
    pub symbol: String,
    /// Decimal places of prices.
    pub price_scale: Scale,
    /// Smallest price increment, raw (at least 1).
    pub tick: i64,
    /// Decimal places of quantities.
    pub qty_scale: Scale,
    /// Smallest quantity increment, raw (at least 1).
    pub qty_step: i64,
    /// Decimal places of cash and P&L.
    pub money_scale: Scale,
}

impl Instrument {
    /// An instrument priced at `price_decimals`, traded in whole units
    /// (backtesting.py's convention), tick = one price unit.
    #[must_use]
    pub fn new(symbol: impl Into<String>, price_decimals: u8) -> Self {
        Self::with_qty(symbol, price_decimals, 0)
    }

    /// An instrument with `qty_decimals` decimal places of quantity
    /// (step = one quantity unit), e.g. 3 for 0.001 BTC.
    #[must_use]
    pub fn with_qty(symbol: impl Into<String>, price_decimals: u8, qty_decimals: u8) -> Self {
        Self {
            symbol: symbol.into(),
            price_scale: Scale::new(price_decimals),
            tick: 1,
            qty_scale: Scale::new(qty_decimals),
            qty_step: 1,
            money_scale: Scale::new((price_decimals + qty_decimals).min(8)),
        }
    }

    /// Decimal places of `price × qty` before conversion to money.
    #[must_use]
    pub fn notional_decimals(&self) -> u8 {
        self.price_scale.decimals() + self.qty_scale.decimals()
    }

    /// `|qty| × price` in money units (i128 product, rounded once).
    #[must_use]
    pub fn notional(&self, price: Price, qty: Qty) -> i128 {
        let raw = i128::from(price.raw()) * i128::from(qty.raw().abs());
        rescale_i128(raw, self.notional_decimals(), self.money_scale.decimals())
    }

    /// Signed market value of a position (`qty × price`, negative when short).
    #[must_use]
    pub fn market_value(&self, price: i64, qty: i64) -> i128 {
        let raw = i128::from(price) * i128::from(qty);
        let (from, to) = (self.notional_decimals(), self.money_scale.decimals());
        if from == to {
            raw
        } else {
            rescale_i128(raw, from, to)
        }
    }

    /// Money value to display units.
    #[must_use]
    pub fn money_f64(&self, m: Money) -> f64 {
        self.money_scale.to_f64(m.raw())
    }

    /// Price value to display units.
    #[must_use]
    pub fn price_f64(&self, p: i64) -> f64 {
        self.price_scale.to_f64(p)
    }

    /// Quantity value to display units.
    #[must_use]
    pub fn qty_f64(&self, q: i64) -> f64 {
        self.qty_scale.to_f64(q)
    }
}
