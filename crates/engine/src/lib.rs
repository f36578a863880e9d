//! # atf-engine
//!
//! The backtesting engine of AlgoTradeForge: no files, no async, no HTTP.
//!
//! Layout:
//! - [`fixed`]: `i64` fixed-point [`Price`], [`Qty`], [`Money`], [`Ratio`] and exact decimal parsing;
//! - [`instrument`]: the scales of one instrument;
//! - [`timeframe`], [`bars`]: bars as a struct of arrays, main bars resampled from sub-bars;
//! - [`order`], [`broker`]: orders, fills, the net position, cash and trades (fill rules in [`broker`]);
//! - [`strategy`], [`params`], [`indicators`], [`strategies`]: the [`Strategy`] trait and the built-ins;
//! - [`run`]: the generic bar loop with zero-cost progress and cancellation;
//! - [`metrics`], [`report`]: statistics and the user-facing [`BacktestReport`];
//! - [`grid`], [`optimize`], [`series`], [`crossings`]: parameter grids, the parallel optimizer,
//!   the indicator series its trials share and the SIMD crossover scan over them;
//! - [`robustness`]: is the winner real — deflated Sharpe ratio, PBO, neighbour stability;
//! - [`failure`]: panics turned into recorded failures with backtraces;
//! - [`registry`]: the strategies a process can run, by name;
//! - [`lines`]: indicator lines a strategy takes once, shared by the trials of a grid.
//!
//! ```
//! use atf_engine::{Registry, Bar, Bars, BacktestConfig, Costs, Instrument, MarketData, Money, Sizing, Timeframe};
//!
//! let mut bars = Bars::default();
//! for (i, c) in [100, 101, 102, 101, 99, 98, 99, 103, 105, 104].into_iter().enumerate() {
//!     bars.push(Bar { ts: i as i64 * 60_000, open: c, high: c + 1, low: c - 1, close: c, volume: 1 });
//! }
//! let data = MarketData::new(Instrument::new("DEMO", 0), bars, Timeframe::M1, Timeframe::M1).unwrap();
//! let registry = Registry::builtin();
//! let strategy = registry.find("sma-cross").unwrap();
//! let params = strategy.info().params.resolve([("fast", "2"), ("slow", "3")]).unwrap();
//! let cfg = BacktestConfig { initial_cash: Money::from_raw(1_000), costs: Costs::default(), sizing: Sizing::default() };
//! let report = strategy.backtest(&data, &cfg, &params, None).unwrap();
//! assert_eq!(report.metrics.main_bars, 10);
//! ```

pub mod bars;
pub mod broker;
pub mod crossings;
pub mod failure;
pub mod fields;
pub mod fixed;
pub mod grid;
pub mod indicators;
pub mod instrument;
pub mod lines;
pub mod metrics;
pub mod optimize;
pub mod order;
pub mod param_map;
pub mod params;
mod prefetch;
pub mod registry;
pub mod report;
pub mod robustness;
pub mod run;
pub mod series;
pub mod strategies;
pub mod strategy;
pub mod timeframe;

pub use bars::{Bar, Bars, MarketData, MarketDataError};
pub use broker::{Broker, BrokerEvent, Fill, TradeRecord};
pub use failure::Failure;
pub use fixed::{FixedError, Money, Price, Qty, Ratio, Scale};
pub use instrument::Instrument;
pub use lines::{AdxLines, Bands, Indicators, Line, MacdLines, Source, StochLines};
pub use metrics::PerformanceMetrics;
pub use order::{BacktestConfig, Costs, ExitReason, Order, OrderKind, OrderSize, Side, Sizing};
pub use param_map::{AxisValues, OrderedMap, ParamMap, ParamScalar};
pub use params::{
    ParamError, ParamKind, ParamSpace, ParamSpec, ParamValue, Params, StrategyParams,
};
pub use registry::{Registry, RegistryError};
pub use report::{backtest, BacktestReport, RunFailure};
pub use run::{simulate, Observer, Progress, Silent, SimError, SimStats};
pub use strategy::{Ctx, Strategy, StrategyError};
pub use timeframe::{Timeframe, TimeframeError};

/// Version of the engine's semantics, part of every run key: bump it when a
/// change to fills, costs or metrics could alter any result.
pub const ENGINE_VERSION: &str = "1";
