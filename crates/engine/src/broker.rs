//! The simulated account: pending orders, fills, the net position, cash and
//! the closed-trade log.
//!
//! # Fill rules
//! For each sub-bar, in this order:
//! 1. **Market orders** fill at the sub-bar's open, in submission order,
//!    with slippage against the trader.
//! 2. **Stop-loss / take-profit** of the position (including one just opened
//!    at this open) are checked against the sub-bar's range. A gap through a
//!    level fills at the open. When both levels lie inside one sub-bar's range
//!    the path between them is unknown; the engine assumes the **adverse one
//!    (the stop-loss) fills first** — the conservative choice — and reports the
//!    ambiguity to the observer. It also adds up what the take-profit exit
//!    would have earned over the stop-loss one
//!    ([`Broker::ambiguous_bracket_gain`]): each such exit re-priced alone,
//!    the trades after it left as they were, so the optimistic bound it
//!    gives is first-order. Take-profit is a limit: no slippage.
//! 3. **Limit and stop orders** fill when the range reaches them (a touch is
//!    enough: `low == limit` fills a buy limit); a gap fills at the open, which
//!    is better for a limit and worse for a stop. A position opened this way
//!    gets its brackets checked from the next sub-bar on, since the order of
//!    prices inside the sub-bar is unknown.
//!
//! Orders that cannot be afforded (no leverage: a buy needs the cash, a short
//! needs equity covering its notional) or round down to zero are rejected and
//! counted, like backtesting.py's broker cancels them.
//!
//! # Accounting
//! Cash, position and cost basis are integers. A fill of `q` at `p` moves
//! `p × q` (exact at the money scale) plus commission `rate × notional`
//! (rounded half away from zero to the money unit) plus the fixed commission
//! (once per order). Selling short credits the proceeds; equity is always
//! `cash + position × price`.

use crate::fixed::{div_floor, div_round, Money, Price, Qty, Ratio};
use crate::order::{BacktestConfig, ExitReason, Order, OrderKind, OrderSize, Side, Sizing};
use crate::Instrument;
use serde::Serialize;

/// A closed (or partly closed) position: one row of the trade list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeRecord {
    /// Long (`Buy`) or short (`Sell`).
    pub side: Side,
    /// Quantity closed, raw, positive.
    pub qty: i64,
    /// Time of the entry fill (ms), the first one if the position was built up.
    pub entry_ts: i64,
    /// Average entry price, raw.
    pub entry_price: i64,
    /// Time of the exit fill (ms).
    pub exit_ts: i64,
    /// Exit price, raw.
    pub exit_price: i64,
    /// Net P&L after entry and exit commissions, money raw.
    pub pnl: i64,
    /// Entry plus exit commission, money raw.
    pub commission: i64,
    /// What closed it.
    pub exit_reason: ExitReason,
}

/// An arithmetic overflow while accounting: the run's numbers left `i64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("arithmetic overflow in account bookkeeping (cash or position beyond i64 range)")]
pub struct OverflowError;

/// What a fill was, for observers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    /// Time (ms).
    pub ts: i64,
    /// Side.
    pub side: Side,
    /// Quantity, raw, positive.
    pub qty: i64,
    /// Price, raw.
    pub price: i64,
    /// Commission, money raw.
    pub commission: i64,
}

/// Brackets requested for the next position, as fractions of its entry price.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct BracketPct {
    stop_loss: Option<Ratio>,
    take_profit: Option<Ratio>,
}

/// The account. Reused across runs (see [`Broker::reset`]) so an optimizer
/// thread allocates its buffers once.
#[derive(Debug, Clone)]
pub struct Broker {
    inst: Instrument,
    cfg: BacktestConfig,
    /// `10^(notional decimals − money decimals)`: money → notional units.
    money_to_notional: i128,
    cash: i64,
    pos: i64,
    /// Entry notional of the open position, money raw (positive).
    pos_cost: i128,
    /// Entry commissions of the open position not yet booked to a trade.
    pos_commission: i64,
    entry_ts: i64,
    orders: Vec<Order>,
    stop_loss: Option<i64>,
    take_profit: Option<i64>,
    /// Stop-loss / take-profit set this sub-bar by an intrabar entry: checked from the next one.
    brackets_armed: bool,
    next_brackets: BracketPct,
    trades: Vec<TradeRecord>,
    rejected_orders: u32,
    ambiguous_brackets: u32,
    /// Take-profit minus stop-loss exit P&L over the ambiguous sub-bars, money raw.
    ambiguous_gain: i64,
    total_commission: i64,
}

impl Broker {
    /// A fresh account for `inst` under `cfg`.
    ///
    /// # Panics
    /// If the instrument's money scale has more decimals than its notional
    /// (`price + qty` decimals), which [`Instrument`]'s constructors never produce.
    #[must_use]
    pub fn new(inst: Instrument, cfg: BacktestConfig) -> Self {
        let nd = inst.notional_decimals();
        let md = inst.money_scale.decimals();
        assert!(md <= nd, "money scale finer than price × qty");
        Self {
            money_to_notional: 10i128.pow(u32::from(nd - md)),
            cash: cfg.initial_cash.raw(),
            inst,
            cfg,
            pos: 0,
            pos_cost: 0,
            pos_commission: 0,
            entry_ts: 0,
            orders: Vec::with_capacity(16),
            stop_loss: None,
            take_profit: None,
            brackets_armed: true,
            next_brackets: BracketPct::default(),
            trades: Vec::new(),
            rejected_orders: 0,
            ambiguous_brackets: 0,
            ambiguous_gain: 0,
            total_commission: 0,
        }
    }

    /// Back to the initial state under a new config, keeping buffers.
    pub fn reset(&mut self, cfg: BacktestConfig) {
        self.cfg = cfg;
        self.cash = cfg.initial_cash.raw();
        self.pos = 0;
        self.pos_cost = 0;
        self.pos_commission = 0;
        self.entry_ts = 0;
        self.orders.clear();
        self.stop_loss = None;
        self.take_profit = None;
        self.brackets_armed = true;
        self.next_brackets = BracketPct::default();
        self.trades.clear();
        self.rejected_orders = 0;
        self.ambiguous_brackets = 0;
        self.ambiguous_gain = 0;
        self.total_commission = 0;
    }

    /// The instrument.
    #[must_use]
    pub fn instrument(&self) -> &Instrument {
        &self.inst
    }

    /// The run's configuration.
    #[must_use]
    pub fn config(&self) -> &BacktestConfig {
        &self.cfg
    }

    /// Cash, money raw.
    #[must_use]
    pub fn cash(&self) -> Money {
        Money::from_raw(self.cash)
    }

    /// Net position (positive long, negative short), qty raw.
    #[must_use]
    pub fn position(&self) -> Qty {
        Qty::from_raw(self.pos)
    }

    /// Average entry price of the open position, raw (`None` when flat).
    #[must_use]
    pub fn entry_price(&self) -> Option<Price> {
        (self.pos != 0).then(|| Price::from_raw(self.avg_price(self.pos_cost, self.pos.abs())))
    }

    /// Equity marked at `price`, money raw (saturating at the `i64` range).
    #[inline]
    #[must_use]
    pub fn equity_at(&self, price: i64) -> i64 {
        if self.money_to_notional == 1 {
            if let Some(v) = self
                .pos
                .checked_mul(price)
                .and_then(|v| v.checked_add(self.cash))
            {
                return v;
            }
        }
        let v = i128::from(self.cash) + self.inst.market_value(price, self.pos);
        clamp_i64(v)
    }

    /// `(cash, position)` when equity at any price is exactly
    /// `position × price + cash` (money and notional on the same scale, the
    /// usual case), so a loop can mark the position without calling
    /// [`Broker::equity_at`] per bar.
    #[inline]
    #[must_use]
    pub fn linear_equity(&self) -> Option<(i64, i64)> {
        (self.money_to_notional == 1).then_some((self.cash, self.pos))
    }

    /// Orders waiting to fill.
    #[must_use]
    pub fn pending_orders(&self) -> &[Order] {
        &self.orders
    }

    /// Whether nothing can happen inside a sub-bar: no orders, no brackets.
    /// The run loop skips such sub-bars without looking at them.
    #[inline]
    #[must_use]
    pub fn is_idle(&self) -> bool {
        self.orders.is_empty()
            && (self.pos == 0 || (self.stop_loss.is_none() && self.take_profit.is_none()))
    }

    /// Closed trades so far.
    #[must_use]
    pub fn trades(&self) -> &[TradeRecord] {
        &self.trades
    }

    /// Orders rejected as unaffordable or of zero size.
    #[must_use]
    pub fn rejected_orders(&self) -> u32 {
        self.rejected_orders
    }

    /// Sub-bars in which both stop-loss and take-profit were reachable.
    #[must_use]
    pub fn ambiguous_brackets(&self) -> u32 {
        self.ambiguous_brackets
    }

    /// How much more the closed trades would have made, money raw, had the
    /// take-profit rather than the stop-loss filled in every sub-bar where
    /// both were reachable (each exit re-priced alone, commission
    /// included; later trades as they were).
    #[must_use]
    pub fn ambiguous_bracket_gain(&self) -> i64 {
        self.ambiguous_gain
    }

    /// All commission paid, money raw.
    #[must_use]
    pub fn total_commission(&self) -> i64 {
        self.total_commission
    }

    /// Queues an order; it can fill from the next sub-bar on.
    pub fn submit(&mut self, order: Order) {
        self.orders.push(order);
    }

    /// Cancels all pending orders.
    pub fn cancel_orders(&mut self) {
        self.orders.clear();
    }

    /// Sets (or clears) the stop-loss of the open position.
    pub fn set_stop_loss(&mut self, price: Option<Price>) {
        self.stop_loss = price.map(Price::raw);
    }

    /// Sets (or clears) the take-profit of the open position.
    pub fn set_take_profit(&mut self, price: Option<Price>) {
        self.take_profit = price.map(Price::raw);
    }

    /// Current stop-loss level, if any.
    #[must_use]
    pub fn stop_loss(&self) -> Option<Price> {
        self.stop_loss.map(Price::from_raw)
    }

    /// Current take-profit level, if any.
    #[must_use]
    pub fn take_profit(&self) -> Option<Price> {
        self.take_profit.map(Price::from_raw)
    }

    /// Brackets for every position opened from flat from now on, as
    /// fractions of the entry fill price (`0.02` = 2 % away).
    pub fn set_brackets_pct(&mut self, stop_loss: Option<Ratio>, take_profit: Option<Ratio>) {
        self.next_brackets = BracketPct {
            stop_loss,
            take_profit,
        };
    }

    /// Processes sub-bar `(ts, o, h, l)` under the fill rules of the module doc.
    ///
    /// # Errors
    /// [`OverflowError`] if bookkeeping overflows `i64`.
    pub fn on_sub_bar(
        &mut self,
        ts: i64,
        open: i64,
        high: i64,
        low: i64,
        on_fill: &mut impl FnMut(BrokerEvent),
    ) -> Result<(), OverflowError> {
        // 1. market orders at the open
        if !self.orders.is_empty() {
            let mut i = 0;
            while i < self.orders.len() {
                let o = self.orders[i];
                if o.kind == OrderKind::Market {
                    self.orders.remove(i);
                    let price = self.slipped(open, o.side);
                    self.execute_order(o, price, ts, ExitReason::Signal, on_fill)?;
                } else {
                    i += 1;
                }
            }
        }
        // 2. brackets of the position
        self.brackets_armed = true;
        if self.pos != 0 && (self.stop_loss.is_some() || self.take_profit.is_some()) {
            self.check_brackets(ts, open, high, low, on_fill)?;
        }
        // 3. limit and stop orders against the range
        let mut i = 0;
        while i < self.orders.len() {
            let o = self.orders[i];
            let fill = match (o.kind, o.side) {
                (OrderKind::Limit(p), Side::Buy) => (low <= p.raw()).then(|| open.min(p.raw())),
                (OrderKind::Limit(p), Side::Sell) => (high >= p.raw()).then(|| open.max(p.raw())),
                (OrderKind::Stop(p), Side::Buy) => {
                    (high >= p.raw()).then(|| self.slipped(open.max(p.raw()), Side::Buy))
                }
                (OrderKind::Stop(p), Side::Sell) => {
                    (low <= p.raw()).then(|| self.slipped(open.min(p.raw()), Side::Sell))
                }
                (OrderKind::Market, _) => None,
            };
            match fill {
                Some(price) => {
                    self.orders.remove(i);
                    let was_flat = self.pos == 0;
                    self.execute_order(o, price, ts, ExitReason::Signal, on_fill)?;
                    if was_flat && self.pos != 0 {
                        self.brackets_armed = false;
                    }
                }
                None => i += 1,
            }
        }
        Ok(())
    }

    fn check_brackets(
        &mut self,
        ts: i64,
        open: i64,
        high: i64,
        low: i64,
        on_fill: &mut impl FnMut(BrokerEvent),
    ) -> Result<(), OverflowError> {
        let long = self.pos > 0;
        // Prices at which each level fills in this sub-bar, if it is reached.
        let sl = self.stop_loss.and_then(|s| {
            if long {
                (low <= s).then(|| open.min(s))
            } else {
                (high >= s).then(|| open.max(s))
            }
        });
        let tp = self.take_profit.and_then(|t| {
            if long {
                (high >= t).then(|| open.max(t))
            } else {
                (low <= t).then(|| open.min(t))
            }
        });
        let exit_side = if long { Side::Sell } else { Side::Buy };
        let (price, reason) = match (sl, tp) {
            (None, None) => return Ok(()),
            (Some(p), None) => (self.slipped(p, exit_side), ExitReason::StopLoss),
            (None, Some(p)) => (p, ExitReason::TakeProfit),
            (Some(s), Some(t)) => {
                // A gap through the take-profit at the open is no ambiguity: the open comes first.
                let tp_at_open = if long { open >= t } else { open <= t };
                let sl_at_open = if long { open <= s } else { open >= s };
                if tp_at_open && !sl_at_open {
                    (t, ExitReason::TakeProfit)
                } else {
                    let stop = self.slipped(s, exit_side);
                    if !sl_at_open {
                        self.ambiguous_brackets += 1;
                        let gain = self.exit_gain(long, t, stop);
                        self.ambiguous_gain = self.ambiguous_gain.saturating_add(gain);
                        on_fill(BrokerEvent::AmbiguousBrackets { ts });
                    }
                    (stop, ExitReason::StopLoss)
                }
            }
        };
        let qty = self.pos.abs();
        self.fill(exit_side, qty, price, ts, reason, true, on_fill)
    }

    /// What closing the whole position at `better` instead of `worse`
    /// adds to cash, money raw: the proceeds (long) or the cost (short) of
    /// the exit, net of its rate commission (the fixed one is the same).
    fn exit_gain(&self, long: bool, better: i64, worse: i64) -> i64 {
        let qty = self.pos.abs();
        let cash_in = |price: i64| {
            let n = self.notional(price, qty);
            let c = self.rate_commission(n);
            if long {
                n - c
            } else {
                -n - c
            }
        };
        clamp_i64(cash_in(better) - cash_in(worse))
    }

    /// Price after slippage against the trader (never below one tick).
    #[inline]
    fn slipped(&self, price: i64, side: Side) -> i64 {
        if self.cfg.costs.slippage_ticks == 0 {
            return price;
        }
        let s = self.cfg.costs.slippage_ticks.saturating_mul(self.inst.tick);
        (price.saturating_add(side.sign() * s)).max(self.inst.tick.max(1))
    }

    fn execute_order(
        &mut self,
        o: Order,
        price: i64,
        ts: i64,
        reason: ExitReason,
        on_fill: &mut impl FnMut(BrokerEvent),
    ) -> Result<(), OverflowError> {
        let opposite = self.pos != 0 && self.pos.signum() != o.side.sign();
        let qty = match o.size {
            OrderSize::ClosePosition => {
                if opposite {
                    self.pos.abs()
                } else {
                    0
                }
            }
            OrderSize::Qty(q) => self.round_qty(q.raw().abs()),
            OrderSize::Default => match self.cfg.sizing {
                Sizing::FixedQty(q) => self.round_qty(q.raw().abs()),
                Sizing::EquityFraction(r) => self.fraction_qty(r, o.side, price, opposite),
            },
            OrderSize::EquityFraction(r) => self.fraction_qty(r, o.side, price, opposite),
        };
        if qty <= 0 {
            if o.size != OrderSize::ClosePosition {
                self.rejected_orders += 1;
            }
            return Ok(());
        }
        if !self.affordable(o.side, qty, price) {
            self.rejected_orders += 1;
            return Ok(());
        }
        self.fill(o.side, qty, price, ts, reason, true, on_fill)
    }

    fn round_qty(&self, q: i64) -> i64 {
        let step = self.inst.qty_step.max(1);
        q - q % step
    }

    /// Commission on `qty` at `price`, money raw (rate part only).
    fn rate_commission(&self, notional: i128) -> i128 {
        if self.cfg.costs.commission_rate.raw() == 0 {
            0
        } else {
            self.cfg.costs.commission_rate.apply(notional)
        }
    }

    /// Notional in money units.
    fn notional(&self, price: i64, qty: i64) -> i128 {
        let raw = i128::from(price) * i128::from(qty);
        if self.money_to_notional == 1 {
            raw
        } else {
            div_round(raw, self.money_to_notional)
        }
    }

    /// Whether an order of `qty` can be paid for: buys from flat or long
    /// need the cash; sells that open or extend a short need equity covering
    /// the short's notional. The closing part of an order is always allowed.
    fn affordable(&self, side: Side, qty: i64, price: i64) -> bool {
        let closing = if self.pos != 0 && self.pos.signum() != side.sign() {
            qty.min(self.pos.abs())
        } else {
            0
        };
        let opening = qty - closing;
        if opening == 0 {
            return true;
        }
        // Cash after the closing part, then the cost of the opening part.
        let close_notional = self.notional(price, closing);
        let fixed = i128::from(self.cfg.costs.commission_fixed.raw());
        let close_comm = if closing > 0 {
            self.rate_commission(close_notional) + fixed
        } else {
            0
        };
        let open_notional = self.notional(price, opening);
        let open_comm = self.rate_commission(open_notional) + if closing > 0 { 0 } else { fixed };
        match side {
            Side::Buy => {
                let cash_after_close = i128::from(self.cash) - close_notional - close_comm;
                cash_after_close >= open_notional + open_comm
            }
            Side::Sell => {
                let equity_after_close = i128::from(self.equity_at(price)) - close_comm;
                let short_held = self.notional(price, (-self.pos).max(0));
                equity_after_close >= short_held + open_notional + open_comm
            }
        }
    }

    /// Quantity worth `r` of equity at `price`, net of commission, rounded
    /// down to the quantity step. When the order reverses a position, the
    /// closing part is added and the new part is sized on the equity left
    /// after closing.
    fn fraction_qty(&self, r: Ratio, side: Side, price: i64, opposite: bool) -> i64 {
        let fixed = i128::from(self.cfg.costs.commission_fixed.raw());
        let closing = if opposite { self.pos.abs() } else { 0 };
        let budget = if opposite {
            let close_notional = self.notional(price, closing);
            let close_comm = self.rate_commission(close_notional) + fixed;
            // after closing, the account is flat: equity == cash
            let equity_flat = i128::from(self.equity_at(price)) - close_comm;
            r.apply(equity_flat)
        } else {
            let equity = i128::from(self.equity_at(price));
            let held = self.notional(price, self.pos.abs());
            let mut b = r.apply(equity) - held;
            if side == Side::Buy {
                b = b.min(i128::from(self.cash));
            }
            b - fixed
        };
        if budget <= 0 || price <= 0 {
            return closing;
        }
        // qty ≤ budget / (price × (1 + rate)), all in notional units.
        let rate = i128::from(self.cfg.costs.commission_rate.raw());
        let one = i128::from(Ratio::ONE.raw());
        let per_unit = i128::from(price) * (one + rate);
        let mut qty = div_floor(budget * self.money_to_notional * one, per_unit);
        let step = i128::from(self.inst.qty_step.max(1));
        if step > 1 {
            qty -= qty % step;
        }
        // commission rounding can push the exact cost one step over the budget
        while qty > 0 {
            let n = self.notional(price, clamp_i64(qty));
            if n + self.rate_commission(n) <= budget {
                break;
            }
            qty -= step;
        }
        clamp_i64(qty) + closing
    }

    fn avg_price(&self, cost: i128, qty: i64) -> i64 {
        clamp_i64(div_round(cost * self.money_to_notional, i128::from(qty)))
    }

    /// Books a fill of `qty` on `side` at `price`: closes (part of) an
    /// opposite position first, then opens the rest.
    #[allow(
        clippy::too_many_arguments,
        reason = "one private call site per fill path; a struct would only rename them"
    )]
    fn fill(
        &mut self,
        side: Side,
        qty: i64,
        price: i64,
        ts: i64,
        reason: ExitReason,
        charge_fixed: bool,
        on_fill: &mut impl FnMut(BrokerEvent),
    ) -> Result<(), OverflowError> {
        let fixed = if charge_fixed {
            self.cfg.costs.commission_fixed.raw()
        } else {
            0
        };
        let mut fixed_left = fixed;
        let mut remaining = qty;
        let mut commission_paid: i128 = 0;
        if self.pos != 0 && self.pos.signum() != side.sign() {
            let held = self.pos.abs();
            let close_qty = remaining.min(held);
            let notional = self.notional(price, close_qty);
            let comm = self.rate_commission(notional) + i128::from(fixed_left);
            fixed_left = 0;
            let cost_share = if close_qty == held {
                self.pos_cost
            } else {
                div_round(self.pos_cost * i128::from(close_qty), i128::from(held))
            };
            let entry_comm_share = if close_qty == held {
                i128::from(self.pos_commission)
            } else {
                div_round(
                    i128::from(self.pos_commission) * i128::from(close_qty),
                    i128::from(held),
                )
            };
            let long = self.pos > 0;
            let gross = if long {
                notional - cost_share
            } else {
                cost_share - notional
            };
            let cash = if long {
                i128::from(self.cash) + notional - comm
            } else {
                i128::from(self.cash) - notional - comm
            };
            self.cash = to_i64(cash)?;
            self.trades.push(TradeRecord {
                side: if long { Side::Buy } else { Side::Sell },
                qty: close_qty,
                entry_ts: self.entry_ts,
                entry_price: self.avg_price(cost_share, close_qty),
                exit_ts: ts,
                exit_price: price,
                pnl: to_i64(gross - entry_comm_share - comm)?,
                commission: to_i64(entry_comm_share + comm)?,
                exit_reason: reason,
            });
            self.pos_cost -= cost_share;
            self.pos_commission = to_i64(i128::from(self.pos_commission) - entry_comm_share)?;
            self.pos -= self.pos.signum() * close_qty;
            if self.pos == 0 {
                self.pos_cost = 0;
                self.pos_commission = 0;
                self.stop_loss = None;
                self.take_profit = None;
            }
            commission_paid += comm;
            remaining -= close_qty;
        }
        if remaining > 0 {
            let notional = self.notional(price, remaining);
            let comm = self.rate_commission(notional) + i128::from(fixed_left);
            let was_flat = self.pos == 0;
            let cash = match side {
                Side::Buy => i128::from(self.cash) - notional - comm,
                Side::Sell => i128::from(self.cash) + notional - comm,
            };
            self.cash = to_i64(cash)?;
            self.pos = self
                .pos
                .checked_add(side.sign() * remaining)
                .ok_or(OverflowError)?;
            self.pos_cost += notional;
            self.pos_commission = to_i64(i128::from(self.pos_commission) + comm)?;
            if was_flat {
                self.entry_ts = ts;
                self.apply_bracket_pct(price, side);
            }
            commission_paid += comm;
        }
        let commission = to_i64(commission_paid)?;
        self.total_commission = self.total_commission.saturating_add(commission);
        on_fill(BrokerEvent::Fill(Fill {
            ts,
            side,
            qty,
            price,
            commission,
        }));
        Ok(())
    }

    fn apply_bracket_pct(&mut self, entry: i64, side: Side) {
        let BracketPct {
            stop_loss,
            take_profit,
        } = self.next_brackets;
        let offset = |r: Ratio| clamp_i64(r.apply(i128::from(entry)));
        let tick = self.inst.tick.max(1);
        let to_tick = |p: i64| (p / tick) * tick;
        if let Some(r) = stop_loss {
            self.stop_loss = Some(to_tick(entry - side.sign() * offset(r)));
        }
        if let Some(r) = take_profit {
            self.take_profit = Some(to_tick(entry + side.sign() * offset(r)));
        }
    }
}

/// Something the broker tells the run's observer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerEvent {
    /// An order (or bracket) filled.
    Fill(Fill),
    /// Stop-loss and take-profit were both reachable in one sub-bar.
    AmbiguousBrackets {
        /// Sub-bar time (ms).
        ts: i64,
    },
}

fn to_i64(v: i128) -> Result<i64, OverflowError> {
    i64::try_from(v).map_err(|_| OverflowError)
}

fn clamp_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}
