//! The strategy example of the README, compiled and run.

use atf_engine::indicators::Sma;
use atf_engine::params::{ParamError, ParamSpace, ParamSpec, Params};
use atf_engine::strategy::{Ctx, Strategy, StrategyError};

/// Long while the close is above its moving average.
pub struct AboveAverage {
    sma: Sma,
}

impl Strategy for AboveAverage {
    const NAME: &'static str = "above-average";
    const VERSION: &'static str = "1.0.0"; // bump when results could change
    const DESCRIPTION: &'static str = "Long while close > SMA(period)";

    fn params() -> ParamSpace {
        ParamSpace(vec![ParamSpec::int(
            "period",
            "SMA period in main bars",
            50,
            1,
            10_000,
        )])
    }

    fn from_params(p: &Params) -> Result<Self, ParamError> {
        Ok(Self {
            sma: Sma::new(p.int("period") as usize),
        })
    }

    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StrategyError> {
        if !self.sma.update(ctx.closes()) {
            return Ok(()); // not enough history yet
        }
        let above = i128::from(ctx.close()) * self.sma.period() as i128 > self.sma.sum();
        if above && !ctx.is_long() {
            ctx.go_long(); // market order at the next sub-bar's open
        } else if !above && ctx.is_long() {
            ctx.close_position();
        }
        Ok(())
    }
}

#[test]
fn readme_strategy_runs() {
    use atf_engine::*;
    let mut bars = Bars::default();
    for i in 0..500i64 {
        let c = 1000 + (i % 37) * 3 - (i % 11) * 5;
        bars.push(Bar {
            ts: i * 60_000,
            open: c,
            high: c + 5,
            low: c - 5,
            close: c,
            volume: 1,
        });
    }
    let data =
        MarketData::new(Instrument::new("X", 2), bars, Timeframe::M1, Timeframe::M1).unwrap();
    let cfg = BacktestConfig {
        initial_cash: Money::from_raw(1_000_000),
        costs: Costs::default(),
        sizing: Sizing::default(),
    };
    let params = AboveAverage::params().resolve([("period", "20")]).unwrap();
    let r = backtest::<AboveAverage, _>(&data, &cfg, &params, &mut Silent).unwrap();
    assert!(r.metrics.trade_count > 0);
}
