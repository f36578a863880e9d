//! Orders a strategy can place, and the run's cost and sizing settings.

use crate::fixed::{Money, Price, Qty, Ratio};
use serde::{Deserialize, Serialize};

/// Direction of an order or trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Side {
    /// Buy (long entry, short exit).
    Buy,
    /// Sell (long exit, short entry).
    Sell,
}

impl Side {
    /// `+1` for buy, `-1` for sell.
    #[must_use]
    pub const fn sign(self) -> i64 {
        match self {
            Self::Buy => 1,
            Self::Sell => -1,
        }
    }

    /// The other side.
    #[must_use]
    pub const fn opposite(self) -> Self {
        match self {
            Self::Buy => Self::Sell,
            Self::Sell => Self::Buy,
        }
    }
}

/// How an order becomes a fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    /// Fills at the next sub-bar's open (plus slippage).
    Market,
    /// Fills when a sub-bar trades at the price or better; a gap through it
    /// fills at the (better) open. No slippage.
    Limit(Price),
    /// Becomes a market order when a sub-bar trades at the price or worse; a
    /// gap through it fills at the (worse) open. Slippage applies.
    Stop(Price),
}

/// How much an order is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderSize {
    /// The run's [`Sizing`] (by default 100 % of equity).
    Default,
    /// An exact quantity (positive, raw at the quantity scale).
    Qty(Qty),
    /// A fraction of equity at the fill price.
    EquityFraction(Ratio),
    /// Exactly the current position, to flatten it (zero if there is none or
    /// it is on the same side as the order).
    ClosePosition,
}

/// An order waiting to fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    /// Buy or sell.
    pub side: Side,
    /// Market, limit or stop.
    pub kind: OrderKind,
    /// Quantity rule.
    pub size: OrderSize,
}

/// Commission and slippage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Costs {
    /// Commission as a fraction of each fill's notional (`0.1 %` = 0.001).
    pub commission_rate: Ratio,
    /// Fixed commission per order, in money units.
    pub commission_fixed: Money,
    /// Slippage in ticks against the trader on market and stop fills.
    pub slippage_ticks: i64,
}

/// Default order size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Sizing {
    /// A fixed quantity per order.
    FixedQty(Qty),
    /// A fraction of equity (1.0 = all-in), rounded down to the quantity step
    /// so that the order plus its commission is affordable.
    EquityFraction(Ratio),
}

impl Default for Sizing {
    fn default() -> Self {
        Self::EquityFraction(Ratio::ONE)
    }
}

/// Everything about a run that is not the strategy or the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BacktestConfig {
    /// Starting cash in money units.
    pub initial_cash: Money,
    /// Commission and slippage.
    pub costs: Costs,
    /// Default order size.
    pub sizing: Sizing,
}

/// Why a position was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ExitReason {
    /// An order placed by the strategy.
    Signal,
    /// The position's stop-loss.
    StopLoss,
    /// The position's take-profit.
    TakeProfit,
}
