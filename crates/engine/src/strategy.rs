//! The [`Strategy`] trait and the [`Ctx`] a strategy sees at each main bar.

use crate::bars::{Bar, Bars};
use crate::broker::Broker;
use crate::fixed::{Money, Price, Qty, Ratio};
use crate::lines::Indicators;
use crate::order::{Order, OrderKind, OrderSize, Side};
use crate::params::{ParamError, StrategyParams};
use crate::Instrument;
use std::backtrace::Backtrace;
use std::fmt;

/// A trading strategy: declared once, built from parameters, called at
/// every main-bar close.
///
/// The engine is generic over `S: Strategy`, so `on_bar` is inlined into the
/// loop: no dynamic dispatch per bar. Adding a strategy to a
/// [`crate::registry::Registry`] makes it available to the CLI, the API, the
/// dashboard and the workers.
///
/// Indicators a strategy takes from [`Indicators`] in [`Strategy::new`] are
/// computed once per distinct parameter value and shared by every trial of
/// an optimization; `on_bar` then only reads them.
pub trait Strategy: Sized + Send + 'static {
    /// Identifier used on the CLI and in the API, kebab-case (`sma-cross`).
    const NAME: &'static str;
    /// Version of the strategy's logic, shown with it and part of every run
    /// key. Results also follow the code without it: the key covers a
    /// fingerprint of the binary, so a changed strategy is never served a
    /// stale result.
    const VERSION: &'static str = "1";
    /// One line for `atf strategies`.
    const DESCRIPTION: &'static str = "";

    /// The typed parameters (usually `#[derive(Params)]`).
    type Params: StrategyParams;

    /// Builds the strategy for one run from its parameters (already
    /// range-checked against [`StrategyParams::space`]), taking the
    /// indicator series it needs from `ind`.
    ///
    /// # Errors
    /// [`ParamError::Inconsistent`] for combinations that make no sense
    /// (e.g. `fast >= slow`): the run, or the trial, fails with it.
    fn new(params: Self::Params, ind: &Indicators<'_>) -> Result<Self, ParamError>;

    /// Called once per main bar, after it closed. Orders placed here fill
    /// from the next sub-bar on.
    ///
    /// # Errors
    /// A [`StrategyError`] fails the run (or the optimization trial).
    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StrategyError>;

    /// The first main bar at or after `index` at which [`Strategy::on_bar`]
    /// could do anything — place, cancel or change an order, or need to see
    /// the bar to update its state — assuming no order is pending and no
    /// stop-loss or take-profit is set. The engine skips `on_bar` for the
    /// bars before it (their equity is still computed), so a strategy that
    /// knows its next signal in advance (from series taken in
    /// [`Strategy::new`]) runs flat stretches at memory speed. The
    /// default, `index`, promises nothing.
    #[inline(always)]
    fn quiet_until(&self, index: usize) -> usize {
        index
    }
}

/// A strategy's own failure: its message and where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyError {
    /// What went wrong.
    pub message: String,
    /// Captured backtrace at creation.
    pub backtrace: String,
}

impl StrategyError {
    /// An error with `message` and the current backtrace.
    #[must_use]
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            backtrace: Backtrace::force_capture().to_string(),
        }
    }
}

impl fmt::Display for StrategyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StrategyError {}

/// What a strategy sees and can do at a main-bar close.
///
/// History is limited to bars up to and including the current one: no
/// look-ahead is possible.
pub struct Ctx<'a> {
    pub(crate) bars: &'a Bars,
    pub(crate) index: usize,
    pub(crate) broker: &'a mut Broker,
}

impl<'a> Ctx<'a> {
    /// Index of the current main bar (0-based).
    #[inline]
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// The current (just closed) main bar.
    #[inline]
    #[must_use]
    pub fn bar(&self) -> Bar {
        self.bars.get(self.index)
    }

    /// Current close, raw.
    #[inline]
    #[must_use]
    pub fn close(&self) -> i64 {
        self.bars.close[self.index]
    }

    /// Closes of all main bars so far, the current one last.
    #[inline]
    #[must_use]
    pub fn closes(&self) -> &'a [i64] {
        &self.bars.close[..=self.index]
    }

    /// Highs so far, the current one last.
    #[inline]
    #[must_use]
    pub fn highs(&self) -> &'a [i64] {
        &self.bars.high[..=self.index]
    }

    /// Lows so far, the current one last.
    #[inline]
    #[must_use]
    pub fn lows(&self) -> &'a [i64] {
        &self.bars.low[..=self.index]
    }

    /// Opens so far, the current one last.
    #[inline]
    #[must_use]
    pub fn opens(&self) -> &'a [i64] {
        &self.bars.open[..=self.index]
    }

    /// Volumes so far, the current one last.
    #[inline]
    #[must_use]
    pub fn volumes(&self) -> &'a [i64] {
        &self.bars.volume[..=self.index]
    }

    /// Bar open times so far (ms), the current one last.
    #[inline]
    #[must_use]
    pub fn times(&self) -> &'a [i64] {
        &self.bars.ts[..=self.index]
    }

    /// The instrument and its scales.
    #[must_use]
    pub fn instrument(&self) -> &Instrument {
        self.broker.instrument()
    }

    /// Net position: positive long, negative short.
    #[inline]
    #[must_use]
    pub fn position(&self) -> Qty {
        self.broker.position()
    }

    /// Whether there is no position.
    #[inline]
    #[must_use]
    pub fn is_flat(&self) -> bool {
        self.broker.position().raw() == 0
    }

    /// Whether the position is long.
    #[inline]
    #[must_use]
    pub fn is_long(&self) -> bool {
        self.broker.position().raw() > 0
    }

    /// Whether the position is short.
    #[inline]
    #[must_use]
    pub fn is_short(&self) -> bool {
        self.broker.position().raw() < 0
    }

    /// Average entry price of the position.
    #[must_use]
    pub fn entry_price(&self) -> Option<Price> {
        self.broker.entry_price()
    }

    /// Cash.
    #[must_use]
    pub fn cash(&self) -> Money {
        self.broker.cash()
    }

    /// Equity marked at the current close.
    #[must_use]
    pub fn equity(&self) -> Money {
        Money::from_raw(self.broker.equity_at(self.close()))
    }

    /// Orders waiting to fill.
    #[must_use]
    pub fn pending_orders(&self) -> &[Order] {
        self.broker.pending_orders()
    }

    /// Places any order.
    #[inline]
    pub fn submit(&mut self, order: Order) {
        self.broker.submit(order);
    }

    /// Market buy of the default size, at the next sub-bar's open.
    #[inline]
    pub fn buy(&mut self) {
        self.market(Side::Buy, OrderSize::Default);
    }

    /// Market sell of the default size (opens or extends a short).
    #[inline]
    pub fn sell(&mut self) {
        self.market(Side::Sell, OrderSize::Default);
    }

    /// Market order of `size`.
    #[inline]
    pub fn market(&mut self, side: Side, size: OrderSize) {
        self.broker.submit(Order {
            side,
            kind: OrderKind::Market,
            size,
        });
    }

    /// Limit order of the default size.
    pub fn limit(&mut self, side: Side, price: Price) {
        self.broker.submit(Order {
            side,
            kind: OrderKind::Limit(price),
            size: OrderSize::Default,
        });
    }

    /// Stop order of the default size.
    pub fn stop(&mut self, side: Side, price: Price) {
        self.broker.submit(Order {
            side,
            kind: OrderKind::Stop(price),
            size: OrderSize::Default,
        });
    }

    /// Flattens the position at the next open.
    #[inline]
    pub fn close_position(&mut self) {
        if !self.is_flat() {
            let side = if self.is_long() {
                Side::Sell
            } else {
                Side::Buy
            };
            self.market(side, OrderSize::ClosePosition);
        }
    }

    /// Ensures a long position: closes a short, then buys the default size.
    #[inline]
    pub fn go_long(&mut self) {
        if self.is_short() {
            self.close_position();
        }
        if !self.is_long() {
            self.buy();
        }
    }

    /// Ensures a short position: closes a long, then sells the default size.
    #[inline]
    pub fn go_short(&mut self) {
        if self.is_long() {
            self.close_position();
        }
        if !self.is_short() {
            self.sell();
        }
    }

    /// Cancels all pending orders.
    pub fn cancel_orders(&mut self) {
        self.broker.cancel_orders();
    }

    /// Sets the open position's stop-loss (`None` clears it).
    pub fn set_stop_loss(&mut self, price: Option<Price>) {
        self.broker.set_stop_loss(price);
    }

    /// Sets the open position's take-profit (`None` clears it).
    pub fn set_take_profit(&mut self, price: Option<Price>) {
        self.broker.set_take_profit(price);
    }

    /// Stop-loss and take-profit for positions opened from now on, as
    /// fractions of their entry price.
    pub fn set_brackets_pct(&mut self, stop_loss: Option<Ratio>, take_profit: Option<Ratio>) {
        self.broker.set_brackets_pct(stop_loss, take_profit);
    }
}
