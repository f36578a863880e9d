//! Fill rules on small hand-made bar sequences whose outcomes are worked out
//! by hand in the comments.

use atf_engine::{
    simulate, BacktestConfig, Bar, Bars, Broker, Costs, Ctx, ExitReason, Indicators, Instrument,
    MarketData, Money, Order, OrderKind, OrderSize, ParamError, Price, Qty, Ratio, Side, Silent,
    Sizing, Strategy, StrategyError, Timeframe,
};

#[derive(Debug, Clone, Copy)]
enum Act {
    Buy,
    Sell,
    Close,
    GoLong,
    GoShort,
    Submit(Order),
    StopLoss(i64),
    TakeProfit(i64),
}

/// Executes scripted actions at given main-bar indices.
struct Script(Vec<(usize, Act)>);

impl Strategy for Script {
    const NAME: &'static str = "script";
    const VERSION: &'static str = "test";
    const DESCRIPTION: &'static str = "scripted actions";
    type Params = ();
    fn new((): (), _: &Indicators<'_>) -> Result<Self, ParamError> {
        Ok(Self(vec![]))
    }
    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StrategyError> {
        for &(i, a) in &self.0 {
            if i != ctx.index() {
                continue;
            }
            match a {
                Act::Buy => ctx.buy(),
                Act::Sell => ctx.sell(),
                Act::Close => ctx.close_position(),
                Act::GoLong => ctx.go_long(),
                Act::GoShort => ctx.go_short(),
                Act::Submit(o) => ctx.submit(o),
                Act::StopLoss(p) => ctx.set_stop_loss(Some(Price::from_raw(p))),
                Act::TakeProfit(p) => ctx.set_take_profit(Some(Price::from_raw(p))),
            }
        }
        Ok(())
    }
}

/// Bars from (open, high, low, close) in cents, one minute apart.
fn bars(rows: &[(i64, i64, i64, i64)]) -> Bars {
    let mut b = Bars::default();
    for (i, &(open, high, low, close)) in rows.iter().enumerate() {
        b.push(Bar {
            ts: i as i64 * 60_000,
            open,
            high,
            low,
            close,
            volume: 1,
        });
    }
    b
}

fn cfg(commission_pct: &str, fixed: i64, slippage_ticks: i64) -> BacktestConfig {
    BacktestConfig {
        initial_cash: Money::from_raw(1_000_000), // 10,000.00
        costs: Costs {
            commission_rate: Ratio::from_percent_str(commission_pct).unwrap(),
            commission_fixed: Money::from_raw(fixed),
            slippage_ticks,
        },
        sizing: Sizing::default(),
    }
}

struct Outcome {
    broker: Broker,
    equity: Vec<i64>,
}

fn run_tf(
    rows: &[(i64, i64, i64, i64)],
    main: Timeframe,
    cfg: BacktestConfig,
    script: Vec<(usize, Act)>,
) -> Outcome {
    let inst = Instrument::new("T", 2);
    let data = MarketData::new(inst.clone(), bars(rows), Timeframe::M1, main).unwrap();
    let mut broker = Broker::new(inst, cfg);
    let mut equity = Vec::new();
    simulate(
        &data,
        &mut Script(script),
        &mut broker,
        &mut equity,
        &mut Silent,
    )
    .unwrap();
    Outcome { broker, equity }
}

fn run(rows: &[(i64, i64, i64, i64)], cfg: BacktestConfig, script: Vec<(usize, Act)>) -> Outcome {
    run_tf(rows, Timeframe::M1, cfg, script)
}

#[test]
fn market_order_fills_next_open_with_exact_commission() {
    let rows = [
        (10_000, 10_100, 9_900, 10_050),
        (10_100, 10_300, 10_000, 10_200),
        (10_300, 10_500, 10_200, 10_400),
    ];
    let o = run(
        &rows,
        cfg("0.1", 0, 0),
        vec![(0, Act::Buy), (1, Act::Close)],
    );
    // Buy at 101.00: qty = floor(10000 / (101 * 1.001)) = 98, notional 9898.00,
    // commission 9.898 -> 9.90; cash 92.10.
    // Sell at 103.00: notional 10094.00, commission 10.094 -> 10.09; cash 10176.01.
    let t = o.broker.trades();
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].qty, t[0].entry_price, t[0].exit_price),
        (98, 10_100, 10_300)
    );
    assert_eq!(t[0].commission, 1_999);
    assert_eq!(t[0].pnl, 17_601); // 196.00 - 19.99
    assert_eq!(o.broker.cash().raw(), 1_017_601);
    assert_eq!(o.broker.position().raw(), 0);
    // equity at bar 1 close (102.00): 92.10 + 98 * 102.00 = 10088.10
    assert_eq!(o.equity, vec![1_000_000, 1_008_810, 1_017_601]);
}

#[test]
fn fixed_commission_and_slippage_are_charged_against_the_trader() {
    let rows = [
        (10_000, 10_000, 10_000, 10_000),
        (10_000, 10_100, 9_900, 10_000),
        (10_000, 10_000, 10_000, 10_000),
    ];
    let mut c = cfg("0", 500, 2);
    c.sizing = Sizing::FixedQty(Qty::from_raw(10));
    let o = run(&rows, c, vec![(0, Act::Buy), (1, Act::Close)]);
    // buy 10 at 100.02 (2 ticks), sell 10 at 99.98; 5.00 fixed per order.
    let t = o.broker.trades()[0];
    assert_eq!((t.entry_price, t.exit_price), (10_002, 9_998));
    assert_eq!(t.commission, 1_000);
    assert_eq!(t.pnl, -40 - 1_000);
    assert_eq!(o.broker.cash().raw(), 1_000_000 - 1_040);
}

#[test]
fn stop_loss_gapped_through_fills_at_the_open() {
    let rows = [
        (10_000, 10_000, 10_000, 10_000),
        (10_000, 10_100, 9_900, 10_000), // entry at 100.00
        (9_000, 9_100, 8_900, 9_050),    // gap below the 95.00 stop
    ];
    let mut c = cfg("0", 0, 0);
    c.sizing = Sizing::FixedQty(Qty::from_raw(10));
    let o = run(&rows, c, vec![(0, Act::Buy), (1, Act::StopLoss(9_500))]);
    let t = o.broker.trades()[0];
    assert_eq!(
        t.exit_price, 9_000,
        "gap fills at the open, not at the stop"
    );
    assert_eq!(t.exit_reason, ExitReason::StopLoss);
    assert_eq!(t.pnl, -10_000); // 10 × -10.00
}

#[test]
fn limit_touched_exactly_fills_and_one_cent_away_does_not() {
    let buy_limit = Order {
        side: Side::Buy,
        kind: OrderKind::Limit(Price::from_raw(9_900)),
        size: OrderSize::Qty(Qty::from_raw(5)),
    };
    let rows = [
        (10_000, 10_000, 10_000, 10_000),
        (10_000, 10_050, 9_901, 10_000),
        (10_000, 10_050, 9_900, 9_950),
    ];
    let o = run(&rows, cfg("0", 0, 0), vec![(0, Act::Submit(buy_limit))]);
    assert_eq!(o.broker.position().raw(), 5);
    // filled at 99.00 on bar 2 (not bar 1, whose low was 99.01): cash 10000 - 495 = 9505.00
    assert_eq!(o.broker.cash().raw(), 950_500);
    assert_eq!(*o.equity.last().unwrap(), 950_500 + 5 * 9_950);
    assert_eq!(o.equity[1], 1_000_000, "no fill on bar 1");
}

#[test]
fn limit_gapped_through_fills_at_the_better_open_and_stop_at_the_worse_open() {
    let lim = Order {
        side: Side::Buy,
        kind: OrderKind::Limit(Price::from_raw(9_900)),
        size: OrderSize::Qty(Qty::from_raw(1)),
    };
    let stop = Order {
        side: Side::Buy,
        kind: OrderKind::Stop(Price::from_raw(10_500)),
        size: OrderSize::Qty(Qty::from_raw(1)),
    };
    let rows = [
        (10_000, 10_000, 10_000, 10_000),
        (9_800, 9_850, 9_700, 9_800),
        (10_800, 10_900, 10_700, 10_800),
    ];
    let o = run(
        &rows,
        cfg("0", 0, 0),
        vec![(0, Act::Submit(lim)), (0, Act::Submit(stop))],
    );
    // limit at open 98.00, stop at open 108.00
    assert_eq!(o.broker.cash().raw(), 1_000_000 - 9_800 - 10_800);
    assert_eq!(o.broker.position().raw(), 2);
}

#[test]
fn stop_loss_and_take_profit_in_one_sub_bar_fill_the_adverse_one() {
    let rows = [
        (10_000, 10_000, 10_000, 10_000),
        (10_000, 10_000, 10_000, 10_000), // entry 100.00
        (10_000, 10_400, 9_700, 10_000),  // both 98.00 and 103.00 reachable
    ];
    let mut c = cfg("0", 0, 0);
    c.sizing = Sizing::FixedQty(Qty::from_raw(10));
    let o = run(
        &rows,
        c,
        vec![
            (0, Act::Buy),
            (1, Act::StopLoss(9_800)),
            (1, Act::TakeProfit(10_300)),
        ],
    );
    let t = o.broker.trades()[0];
    assert_eq!((t.exit_price, t.exit_reason), (9_800, ExitReason::StopLoss));
    assert_eq!(o.broker.ambiguous_brackets(), 1);
}

#[test]
fn take_profit_gapped_at_the_open_is_not_ambiguous() {
    let rows = [
        (10_000, 10_000, 10_000, 10_000),
        (10_000, 10_000, 10_000, 10_000),
        (10_500, 10_600, 9_700, 10_000),
    ];
    let mut c = cfg("0", 0, 0);
    c.sizing = Sizing::FixedQty(Qty::from_raw(1));
    let o = run(
        &rows,
        c,
        vec![
            (0, Act::Buy),
            (1, Act::StopLoss(9_800)),
            (1, Act::TakeProfit(10_300)),
        ],
    );
    let t = o.broker.trades()[0];
    assert_eq!(
        (t.exit_price, t.exit_reason),
        (10_500, ExitReason::TakeProfit)
    );
    assert_eq!(o.broker.ambiguous_brackets(), 0);
}

#[test]
fn short_position_profits_when_price_falls_and_reversal_resizes() {
    let rows = [
        (10_000, 10_000, 10_000, 10_000),
        (10_000, 10_000, 10_000, 10_000), // short 100 at 100.00 (all-in)
        (9_000, 9_000, 9_000, 9_000),     // go long: cover 100 at 90 (+1000), buy 11000/90 = 122
        (9_500, 9_500, 9_500, 9_500),
    ];
    let o = run(
        &rows,
        cfg("0", 0, 0),
        vec![(0, Act::GoShort), (1, Act::GoLong)],
    );
    let t = o.broker.trades();
    assert_eq!(t.len(), 1);
    assert_eq!((t[0].side, t[0].qty, t[0].pnl), (Side::Sell, 100, 100_000));
    assert_eq!(o.broker.position().raw(), 122);
    // cash 11000 - 122*90 = 20.00; equity at 95: 20 + 11590 = 11610.00
    assert_eq!(*o.equity.last().unwrap(), 1_161_000);
}

#[test]
fn sell_of_default_size_when_flat_opens_a_short_with_cash_credited() {
    let rows = [
        (10_000, 10_000, 10_000, 10_000),
        (10_000, 10_000, 10_000, 10_000),
        (11_000, 11_000, 11_000, 11_000),
    ];
    let o = run(&rows, cfg("0", 0, 0), vec![(0, Act::Sell)]);
    assert_eq!(o.broker.position().raw(), -100);
    assert_eq!(o.broker.cash().raw(), 2_000_000);
    assert_eq!(
        *o.equity.last().unwrap(),
        900_000,
        "short loses 1000 when price rises 10"
    );
}

#[test]
fn strategy_sees_main_bars_and_orders_fill_at_the_next_sub_bar() {
    // 1m sub-bars, 5m main bars: 00:00-00:04 and 00:05-00:09
    let mut rows = Vec::new();
    for i in 0..10 {
        let p = 10_000 + i * 100;
        rows.push((p, p + 50, p - 50, p + 10));
    }
    let mut c = cfg("0", 0, 0);
    c.sizing = Sizing::FixedQty(Qty::from_raw(1));
    let o = run_tf(&rows, Timeframe::from_secs(300), c, vec![(0, Act::Buy)]);
    assert_eq!(o.equity.len(), 2);
    // bought at the open of sub-bar 5 (105.00); marked at main close = sub-bar 9 close (109.10)
    assert_eq!(o.broker.cash().raw(), 1_000_000 - 10_500);
    assert_eq!(o.equity[1], 1_000_000 - 10_500 + 10_910);
}

#[test]
fn unaffordable_orders_are_rejected_not_filled() {
    let rows = [
        (10_000, 10_000, 10_000, 10_000),
        (10_000, 10_000, 10_000, 10_000),
    ];
    let mut c = cfg("0", 0, 0);
    c.sizing = Sizing::FixedQty(Qty::from_raw(101)); // 10,100 > 10,000 cash
    let o = run(&rows, c, vec![(0, Act::Buy)]);
    assert_eq!(o.broker.position().raw(), 0);
    assert_eq!(o.broker.rejected_orders(), 1);
    assert_eq!(o.broker.cash().raw(), 1_000_000);
}

/// Bars with one ambiguous sub-bar for a long and one for a short, 0.1 %
/// commission and one tick of slippage, and the same bars with only the
/// take-profit reachable there.
fn ambiguous_rows(only_take_profit: bool) -> Vec<(i64, i64, i64, i64)> {
    let flat = (10_000, 10_000, 10_000, 10_000);
    vec![
        flat,
        flat, // long 10 from 100.01 (slipped); SL 98.00, TP 103.00
        if only_take_profit {
            (10_000, 10_400, 9_900, 10_000)
        } else {
            (10_000, 10_400, 9_700, 10_000)
        },
        flat,
        flat, // short 10 from 99.99 (slipped); SL 102.00, TP 97.00
        if only_take_profit {
            (10_000, 10_100, 9_600, 10_000)
        } else {
            (10_000, 10_300, 9_600, 10_000)
        },
        flat,
    ]
}

fn ambiguous_run(only_take_profit: bool) -> Outcome {
    let mut c = cfg("0.1", 0, 1);
    c.sizing = Sizing::FixedQty(Qty::from_raw(10));
    run(
        &ambiguous_rows(only_take_profit),
        c,
        vec![
            (0, Act::Buy),
            (1, Act::StopLoss(9_800)),
            (1, Act::TakeProfit(10_300)),
            (3, Act::Sell),
            (4, Act::StopLoss(10_200)),
            (4, Act::TakeProfit(9_700)),
        ],
    )
}

#[test]
fn ambiguous_sub_bars_report_what_the_take_profit_would_have_made() {
    let adverse = ambiguous_run(false);
    let exits: Vec<_> = adverse
        .broker
        .trades()
        .iter()
        .map(|t| (t.exit_price, t.exit_reason))
        .collect();
    assert_eq!(
        exits,
        [
            (9_799, ExitReason::StopLoss),
            (10_201, ExitReason::StopLoss)
        ]
    );
    assert_eq!(adverse.broker.ambiguous_brackets(), 2);
    // long: TP 10 × 103.00 − 1.03 commission = 1,028.97 against
    // SL 10 × 97.99 − 0.98 = 978.92: 50.05 more;
    // short: buying back at TP costs 970.00 + 0.97 = 970.97 against
    // SL 1,020.10 + 1.02 = 1,021.12: 50.15 less spent
    assert_eq!(adverse.broker.ambiguous_bracket_gain(), 5_005 + 5_015);
    // the same trades with only the take-profit reachable: exactly that much more
    let favourable = ambiguous_run(true);
    assert_eq!(favourable.broker.ambiguous_brackets(), 0);
    assert_eq!(favourable.broker.ambiguous_bracket_gain(), 0);
    let pnl = |o: &Outcome| o.broker.trades().iter().map(|t| t.pnl).sum::<i64>();
    assert_eq!(
        pnl(&favourable) - pnl(&adverse),
        adverse.broker.ambiguous_bracket_gain()
    );
    assert_eq!(
        favourable.equity.last().unwrap() - adverse.equity.last().unwrap(),
        10_020
    );
}
