//! Whole runs: failures, cancellation, progress and determinism.

use atf_engine::{
    backtest, BacktestConfig, Costs, Ctx, Indicators, MarketData, Money, ParamError, Params,
    Progress, Ratio, Registry, RunFailure, Silent, Sizing, Strategy, StrategyError, StrategyParams,
};
use std::sync::LazyLock;

static BUILTIN: LazyLock<Registry> = LazyLock::new(Registry::builtin);

/// Fails at bar `at`: by error when `panic` is false, by panic otherwise.
struct Faulty {
    at: usize,
    panic: bool,
}

#[derive(Params)]
#[params(crate = atf_engine)]
struct FaultyParams {
    #[param(default = 5, min = 0, max = 1_000_000)]
    at: usize,
    #[param(default = true)]
    panic: bool,
}

impl Strategy for Faulty {
    const NAME: &'static str = "faulty";
    const VERSION: &'static str = "test";
    const DESCRIPTION: &'static str = "fails on purpose";
    type Params = FaultyParams;
    fn new(p: FaultyParams, _: &Indicators<'_>) -> Result<Self, ParamError> {
        Ok(Self {
            at: p.at,
            panic: p.panic,
        })
    }
    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StrategyError> {
        if ctx.index() == self.at {
            if self.panic {
                let v: Vec<i64> = Vec::new();
                let _ = v[ctx.index()]; // index out of bounds
            }
            return Err(StrategyError::new(format!("refusing bar {}", self.at)));
        }
        Ok(())
    }
}

fn walk(n: usize) -> MarketData {
    atf_testkit::walk::market_data(n, 0x9E37_79B9_7F4A_7C15)
}

fn cfg() -> BacktestConfig {
    BacktestConfig {
        initial_cash: Money::from_raw(1_000_000),
        costs: Costs {
            commission_rate: Ratio::from_percent_str("0.1").unwrap(),
            ..Costs::default()
        },
        sizing: Sizing::default(),
    }
}

#[test]
fn a_panicking_strategy_fails_its_run_with_message_and_backtrace() {
    let data = walk(100);
    let p = FaultyParams::space().resolve([("at", "7")]).unwrap();
    let err = backtest::<Faulty, _>(&data, &cfg(), &p, &mut Silent).unwrap_err();
    let f = err.failure().expect("a failure record");
    assert!(f.message.contains("index out of bounds"), "{}", f.message);
    assert!(f.message.contains("runs.rs"), "{}", f.message);
    assert!(!f.backtrace.is_empty());
}

#[test]
fn a_strategy_error_fails_its_run_with_its_message() {
    let data = walk(100);
    let p = FaultyParams::space()
        .resolve([("at", "3"), ("panic", "false")])
        .unwrap();
    let err = backtest::<Faulty, _>(&data, &cfg(), &p, &mut Silent).unwrap_err();
    assert_eq!(err.failure().unwrap().message, "refusing bar 3");
    assert!(
        err.failure().unwrap().backtrace.contains("runs"),
        "backtrace names the test"
    );
}

#[test]
fn progress_reaches_the_total_and_cancellation_stops_the_run() {
    let data = walk(50_000);
    let sma = BUILTIN.find("sma-cross").unwrap();
    let params = sma.info().params.defaults();
    let progress = Progress::new();
    sma.backtest(&data, &cfg(), &params, Some(&progress))
        .unwrap();
    assert_eq!(progress.processed(), 50_000);

    let cancelled = Progress::new();
    cancelled.cancel();
    let err = sma
        .backtest(&data, &cfg(), &params, Some(&cancelled))
        .unwrap_err();
    assert!(matches!(err, RunFailure::Cancelled { processed } if processed < 50_000));
}

#[test]
fn same_inputs_give_bit_identical_results() {
    let data = walk(20_000);
    let registry = Registry::builtin();
    for s in registry.names().map(|n| registry.find(n).unwrap()) {
        let mut params = s.info().params.defaults();
        if s.info().params.get("long_only").is_some() {
            params = s.info().params.resolve([("long_only", "false")]).unwrap();
        }
        let a = s.backtest(&data, &cfg(), &params, None).unwrap();
        let b = s.backtest(&data, &cfg(), &params, None).unwrap();
        assert_eq!(a.trades, b.trades, "{}", s.info().name);
        assert_eq!(a.equity_curve, b.equity_curve);
        let (mut ma, mut mb) = (a.metrics.clone(), b.metrics.clone());
        (
            ma.wall_time_ms,
            mb.wall_time_ms,
            ma.sub_bars_per_second,
            mb.sub_bars_per_second,
        ) = (None, None, None, None);
        assert_eq!(ma, mb);
        assert!(
            a.metrics.trade_count > 0,
            "{} traded on a random walk",
            s.info().name
        );
    }
}

#[test]
fn progress_tracking_does_not_change_results() {
    let data = walk(20_000);
    let sma = BUILTIN.find("sma-cross").unwrap();
    let params = sma.info().params.defaults();
    let a = sma.backtest(&data, &cfg(), &params, None).unwrap();
    let b = sma
        .backtest(&data, &cfg(), &params, Some(&Progress::new()))
        .unwrap();
    assert_eq!(a.trades, b.trades);
    assert_eq!(a.equity_curve, b.equity_curve);
}

#[test]
fn donchian_stop_loss_closes_trades_by_stop() {
    let data = walk(20_000);
    let d = BUILTIN.find("donchian-breakout").unwrap();
    let params = d
        .info()
        .params
        .resolve([("stop_loss_pct", "0.2"), ("take_profit_pct", "0.5")])
        .unwrap();
    let r = d.backtest(&data, &cfg(), &params, None).unwrap();
    let reasons: std::collections::HashSet<_> = r.trades.iter().map(|t| t.exit_reason).collect();
    assert!(
        reasons.contains(&atf_engine::ExitReason::StopLoss),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&atf_engine::ExitReason::TakeProfit),
        "{reasons:?}"
    );
}
