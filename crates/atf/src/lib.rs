//! # atf — AlgoTradeForge as a library
//!
//! The one dependency of a crate that holds your own strategies. Your
//! binary is a complete atf — `serve` (HTTP API and dashboard), `worker`,
//! `backtest`, `optimize`, `strategies`, `data` — that knows your
//! strategies beside the built-in ones:
//!
//! ```no_run
//! # mod rsi_dip { pub use atf::strategies::RsiReversion as RsiDip; }
//! fn main() -> std::process::ExitCode {
//!     atf::main(atf::Registry::builtin().with::<rsi_dip::RsiDip>())
//! }
//! ```
//!
//! `atf new DIR` writes such a crate, with one example strategy and its
//! test. A strategy is a type implementing [`Strategy`]: its parameters as
//! a struct with `#[derive(Params)]`, the indicator [`Line`]s it takes
//! from [`Indicators`] once per run (shared by every trial of an
//! optimization that asks for the same one), and `on_bar`, which reads
//! them and places orders through [`Ctx`]:
//!
//! ```
//! use atf::prelude::*;
//!
//! #[derive(Debug, Clone, Params)]
//! pub struct AboveAverageParams {
//!     /// SMA period in bars
//!     #[param(default = 50, min = 2, max = 1_000)]
//!     pub period: usize,
//! }
//!
//! /// Long while the close is above its moving average.
//! pub struct AboveAverage {
//!     sma: Line,
//! }
//!
//! impl Strategy for AboveAverage {
//!     const NAME: &'static str = "above-average";
//!     type Params = AboveAverageParams;
//!
//!     fn new(p: AboveAverageParams, ind: &Indicators<'_>) -> Result<Self, ParamError> {
//!         Ok(Self { sma: ind.sma(p.period) })
//!     }
//!
//!     fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StrategyError> {
//!         let Some(sma) = self.sma.now(ctx) else { return Ok(()) };
//!         let above = ctx.close() as f64 > sma;
//!         if above && ctx.is_flat() {
//!             ctx.buy();
//!         } else if !above && ctx.is_long() {
//!             ctx.close_position();
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let data = atf::testing::daily_closes(&[10.0, 11.0, 12.0, 11.0, 13.0, 9.0, 8.0, 10.0, 12.0]);
//! let report = atf::testing::backtest::<AboveAverage>(&data, &[("period", "2")]).unwrap();
//! assert!(report.metrics.trade_count >= 1);
//! ```
//!
//! Prices inside the engine are fixed-point integers in the instrument's
//! smallest unit ([`Ctx::close`] is raw); indicator lines are `f64` in the
//! same raw units (oscillators 0..100).

pub use atf_cli::main;
pub use atf_engine::{AdxLines, Bands, MacdLines, StochLines};
pub use atf_engine::{
    BacktestConfig, BacktestReport, Bar, Bars, Costs, Ctx, Indicators, Instrument, Line,
    MarketData, Money, Order, OrderKind, OrderSize, ParamError, Price, Qty, Ratio, Registry,
    RegistryError, RunFailure, Side, Sizing, Source, Strategy, StrategyError, Timeframe,
};

/// Parameters: the derive, the declaration types and the trait it implements.
pub mod params {
    pub use atf_engine::params::{
        ParamError, ParamKind, ParamSpace, ParamSpec, ParamValue, Params, StrategyParams,
    };
}

/// Incremental indicators (O(1) per bar), for state a [`Line`] cannot hold.
pub mod indicators {
    pub use atf_engine::indicators::*;
}

/// The built-in strategies, to read as examples or register selectively.
pub mod strategies {
    pub use atf_engine::strategies::{
        BollingerReversion, DonchianBreakout, EmaCross, RsiReversion, SmaCross,
    };
}

/// The engine itself, for what the facade does not re-export.
pub use atf_engine as engine;

/// Everything a strategy file needs: `use atf::prelude::*;`.
pub mod prelude {
    pub use crate::params::{ParamError, Params};
    pub use crate::{
        AdxLines, Bands, Ctx, Indicators, Line, MacdLines, Price, Ratio, Side, Source, StochLines,
        Strategy, StrategyError,
    };
}

/// Backtests of a strategy on made-up bars, for its unit tests.
pub mod testing {
    use atf_engine::params::StrategyParams;
    use atf_engine::{
        backtest as run, BacktestConfig, BacktestReport, Bar, Bars, Costs, Instrument, MarketData,
        Money, RunFailure, Silent, Sizing, Strategy, Timeframe,
    };

    /// Price decimals of [`daily_closes`]' instrument.
    pub const PRICE_DECIMALS: u8 = 2;
    /// Cash of [`backtest`]: 10,000.00.
    pub const CASH: i64 = 1_000_000;

    /// Daily bars of a made-up instrument (`TEST`, prices with two
    /// decimals) from 2020-01-01, one per close: open at the previous
    /// close, high and low the larger and smaller of the two, volume 1,000.
    ///
    /// # Panics
    /// If `closes` is empty or a close is negative or not finite.
    #[must_use]
    pub fn daily_closes(closes: &[f64]) -> MarketData {
        assert!(!closes.is_empty(), "daily_closes needs at least one close");
        let scale = 10f64.powi(i32::from(PRICE_DECIMALS));
        let mut bars = Bars::default();
        let mut prev = None;
        for (i, &c) in closes.iter().enumerate() {
            assert!(c.is_finite() && c >= 0.0, "close {c} is not a price");
            let close = (c * scale).round() as i64;
            let open = prev.unwrap_or(close);
            bars.push(Bar {
                ts: 1_577_836_800_000 + i as i64 * 86_400_000,
                open,
                high: open.max(close),
                low: open.min(close),
                close,
                volume: 1_000,
            });
            prev = Some(close);
        }
        MarketData::new(Instrument::new("TEST", PRICE_DECIMALS), bars, Timeframe::D1, Timeframe::D1)
            .expect("daily bars are valid market data")
    }

    /// Backtests `S` over `data` with `params` (`name=value` texts, the
    /// rest at their defaults), 10,000 of cash, no costs, all-in sizing.
    ///
    /// # Errors
    /// [`RunFailure`]: a refused parameter, or the strategy's own failure.
    pub fn backtest<S: Strategy>(
        data: &MarketData,
        params: &[(&str, &str)],
    ) -> Result<BacktestReport, RunFailure> {
        let params = S::Params::space().resolve(params.iter().copied())?;
        let cfg = BacktestConfig {
            initial_cash: Money::from_raw(CASH),
            costs: Costs::default(),
            sizing: Sizing::default(),
        };
        run::<S, _>(data, &cfg, &params, &mut Silent)
    }
}
