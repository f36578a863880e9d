//! Warm-up bars (`MarketData::with_warmup`): the strategy and its
//! indicators see the bars before the window, the account only the window.

use atf_engine::{
    backtest, BacktestConfig, BacktestReport, Bar, Bars, Costs, Ctx, Indicators, Instrument, Line,
    MarketData, Money, ParamError, Params, Silent, Sizing, Strategy, StrategyError, StrategyParams,
    Timeframe,
};

/// Goes long as soon as its 10-bar average is defined (its first signal
/// needs 10 bars), and orders on every bar until it holds a position.
struct AfterTen {
    sma: Line,
}

impl Strategy for AfterTen {
    const NAME: &'static str = "after-ten";
    type Params = ();
    fn new((): (), ind: &Indicators<'_>) -> Result<Self, ParamError> {
        Ok(Self { sma: ind.sma(10) })
    }
    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StrategyError> {
        if self.sma.now(ctx).is_some() && ctx.is_flat() && ctx.pending_orders().is_empty() {
            ctx.buy();
        }
        Ok(())
    }
}

const MIN: i64 = 60_000;
const M5: Timeframe = Timeframe::from_secs(300);

/// `n` one-minute bars from minute `start`, closes rising by a cent.
fn minutes(start: i64, n: i64) -> Bars {
    let mut b = Bars::default();
    for i in start..start + n {
        let c = 10_000 + i;
        b.push(Bar {
            ts: i * MIN,
            open: c,
            high: c + 5,
            low: c - 5,
            close: c,
            volume: 1,
        });
    }
    b
}

fn cfg() -> BacktestConfig {
    BacktestConfig {
        initial_cash: Money::from_raw(1_000_000),
        costs: Costs::default(),
        sizing: Sizing::default(),
    }
}

fn no_params() -> Params {
    <() as StrategyParams>::space()
        .resolve(std::iter::empty::<(&str, &str)>())
        .unwrap()
}

fn run(data: &MarketData) -> BacktestReport {
    backtest::<AfterTen, _>(data, &cfg(), &no_params(), &mut Silent).unwrap()
}

fn inst() -> Instrument {
    Instrument::new("W", 2)
}

#[test]
fn a_strategy_needing_ten_bars_trades_from_the_first_bars_only_with_warm_up() {
    // the window: minutes 20..40; before it, minutes 0..20
    let window = minutes(20, 20);
    let cold = MarketData::new(inst(), window.clone(), Timeframe::M1, Timeframe::M1).unwrap();
    let warm = MarketData::with_warmup(
        inst(),
        &minutes(0, 20),
        window,
        Timeframe::M1,
        Timeframe::M1,
        10,
    )
    .unwrap();
    assert_eq!((cold.warmup_bars(), warm.warmup_bars()), (0, 10));
    assert_eq!(warm.total_sub_bars(), 20, "the work is the window's");

    let cold = run(&cold);
    let warm = run(&warm);
    // without warm-up the average is defined at the window's 10th bar:
    // bought at the 11th bar's open
    let entry = |r: &BacktestReport| r.open_position.map(|p| p.entry_price);
    assert_eq!(entry(&cold), Some(100.30));
    // with 10 bars of warm-up it is defined from the first bar: the
    // order placed at its close fills at the second bar's open; the
    // orders it placed on every warm-up bar were dropped
    assert_eq!(entry(&warm), Some(100.21));
    assert_eq!(warm.warmup_bars, 10);
    assert_eq!(cold.warmup_bars, 0);
    // nothing is recorded before the window: same times, same start
    for r in [&cold, &warm] {
        assert_eq!(r.from_ms, 20 * MIN);
        assert_eq!(r.equity_curve.len(), 20);
        assert_eq!(r.equity_curve.times()[0], 20 * MIN);
        assert_eq!(r.metrics.initial_equity, 10_000.0);
    }
    assert_eq!(warm.equity_curve.point(0).unwrap().equity, 10_000.0);
    assert!(warm.metrics.exposure_pct > cold.metrics.exposure_pct);
}

#[test]
fn warm_up_takes_what_exists_before_the_window_and_never_more_than_asked() {
    let window = minutes(5, 10);
    let mk = |before: &Bars, n| {
        MarketData::with_warmup(
            inst(),
            before,
            window.clone(),
            Timeframe::M1,
            Timeframe::M1,
            n,
        )
        .unwrap()
    };
    // at the start of the data: nothing before, 0 bars of warm-up
    assert_eq!(mk(&Bars::default(), 10).warmup_bars(), 0);
    // 5 bars exist before: all 5, not 10
    assert_eq!(mk(&minutes(0, 5), 10).warmup_bars(), 5);
    // asked for 3: the last 3
    let d = mk(&minutes(0, 5), 3);
    assert_eq!(d.warmup_bars(), 3);
    assert_eq!(d.main_bars().ts[0], 2 * MIN);
    // a warm-up bar at or after the window's start is refused
    let e = MarketData::with_warmup(
        inst(),
        &minutes(0, 6),
        window.clone(),
        Timeframe::M1,
        Timeframe::M1,
        10,
    )
    .unwrap_err();
    assert_eq!(e, atf_engine::MarketDataError::WarmupNotBefore);
}

#[test]
fn resampled_warm_up_counts_main_bars_and_leaves_the_window_alone() {
    // 5-minute bars; the window starts mid-bar at minute 52
    let before = minutes(0, 52);
    let window = minutes(52, 48);
    let cold = MarketData::new(inst(), window.clone(), Timeframe::M1, M5).unwrap();
    let warm = MarketData::with_warmup(inst(), &before, window, Timeframe::M1, M5, 3).unwrap();
    assert_eq!(warm.warmup_bars(), 3);
    // the last 3 bars before minute 52: 40–44, 45–49 and the part 50–51
    assert_eq!(warm.warmup_sub_bars(), 12);
    assert_eq!(&warm.main_bars().ts[..3], &[40 * MIN, 45 * MIN, 50 * MIN]);
    assert_eq!(warm.window_times(), cold.main_bars().ts.as_slice());
    assert_eq!(warm.total_sub_bars(), cold.total_sub_bars());
    // the 10-bar average needs 10 five-minute bars: without warm-up the
    // window's 10th (its last; the order never fills), with 3 bars of
    // warm-up its 7th — bought at the 8th bar's open
    let (a, b) = (run(&cold), run(&warm));
    assert!(a.open_position.is_none());
    let curve = |r: &BacktestReport| {
        r.equity_curve
            .points()
            .map(|p| p.equity)
            .collect::<Vec<_>>()
    };
    assert_eq!(curve(&a), vec![10_000.0; 10]);
    assert_eq!(curve(&b)[..7], [10_000.0; 7]);
    assert!(curve(&b)[7] > 10_000.0);
}
