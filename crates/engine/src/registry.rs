//! Strategies by name, behind one object-safe trait.
//!
//! Dynamic dispatch happens once per run, at [`StrategyEntry::backtest`];
//! inside, the run is monomorphised for the concrete strategy, so the bar
//! loop has no virtual calls.

use crate::bars::MarketData;
use crate::optimize::{
    assemble, optimize, run_range, OptimizationProgress, OptimizationReport, OptimizeError,
    OptimizeSpec, Trial,
};
use crate::order::BacktestConfig;
use crate::params::{ParamSpace, Params};
use crate::report::{backtest, BacktestReport, RunFailure};
use crate::run::{Progress, Silent};
use crate::strategies::{
    BollingerReversion, DonchianBreakout, EmaCross, FaultInjection, RsiReversion, SmaCross,
};
use crate::strategy::Strategy;
use serde::Serialize;
use std::marker::PhantomData;

/// A strategy's public description.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StrategyInfo {
    /// Name (`sma-cross`).
    pub name: &'static str,
    /// Version.
    pub version: &'static str,
    /// One line.
    pub description: &'static str,
    /// Declared parameters.
    pub params: ParamSpace,
}

/// A registered strategy, callable without knowing its type.
pub trait StrategyEntry: Sync {
    /// Name, version, description and parameters.
    fn info(&self) -> StrategyInfo;

    /// Runs a backtest, publishing progress to `progress` when given.
    ///
    /// # Errors
    /// See [`backtest`].
    fn backtest(
        &self,
        data: &MarketData,
        cfg: &BacktestConfig,
        params: &Params,
        progress: Option<&Progress>,
    ) -> Result<BacktestReport, RunFailure>;

    /// Runs every combination of `spec` on `threads` threads (see
    /// [`optimize`]); the trials are monomorphised like a backtest.
    ///
    /// # Errors
    /// See [`optimize`].
    fn optimize(
        &self,
        data: &MarketData,
        cfg: &BacktestConfig,
        spec: &OptimizeSpec,
        progress: &OptimizationProgress,
        threads: usize,
    ) -> Result<OptimizationReport, OptimizeError>;

    /// Runs one chunk of a grid (see [`run_range`]).
    ///
    /// # Errors
    /// See [`run_range`].
    fn run_range(
        &self,
        data: &MarketData,
        cfg: &BacktestConfig,
        spec: &OptimizeSpec,
        range: std::ops::Range<u64>,
        progress: &OptimizationProgress,
        threads: usize,
    ) -> Result<Vec<Trial>, OptimizeError>;

    /// Puts a grid's report together from its chunks' trials (see [`assemble`]).
    ///
    /// # Errors
    /// See [`assemble`].
    #[allow(clippy::too_many_arguments)]
    fn assemble(
        &self,
        data: &MarketData,
        cfg: &BacktestConfig,
        spec: &OptimizeSpec,
        trials: Vec<Trial>,
        skipped: u64,
        cancelled: bool,
        threads: usize,
        wall_secs: f64,
    ) -> Result<OptimizationReport, OptimizeError>;
}

struct Entry<S>(PhantomData<fn() -> S>);

impl<S: Strategy> StrategyEntry for Entry<S> {
    fn info(&self) -> StrategyInfo {
        StrategyInfo {
            name: S::NAME,
            version: S::VERSION,
            description: S::DESCRIPTION,
            params: S::params(),
        }
    }

    fn backtest(
        &self,
        data: &MarketData,
        cfg: &BacktestConfig,
        params: &Params,
        progress: Option<&Progress>,
    ) -> Result<BacktestReport, RunFailure> {
        match progress {
            Some(mut p) => backtest::<S, _>(data, cfg, params, &mut p),
            None => backtest::<S, _>(data, cfg, params, &mut Silent),
        }
    }

    fn optimize(
        &self,
        data: &MarketData,
        cfg: &BacktestConfig,
        spec: &OptimizeSpec,
        progress: &OptimizationProgress,
        threads: usize,
    ) -> Result<OptimizationReport, OptimizeError> {
        optimize::<S>(data, cfg, spec, progress, threads)
    }

    fn run_range(
        &self,
        data: &MarketData,
        cfg: &BacktestConfig,
        spec: &OptimizeSpec,
        range: std::ops::Range<u64>,
        progress: &OptimizationProgress,
        threads: usize,
    ) -> Result<Vec<Trial>, OptimizeError> {
        run_range::<S>(data, cfg, spec, range, progress, threads)
    }

    fn assemble(
        &self,
        data: &MarketData,
        cfg: &BacktestConfig,
        spec: &OptimizeSpec,
        trials: Vec<Trial>,
        skipped: u64,
        cancelled: bool,
        threads: usize,
        wall_secs: f64,
    ) -> Result<OptimizationReport, OptimizeError> {
        assemble::<S>(
            data, cfg, spec, trials, skipped, cancelled, threads, wall_secs,
        )
    }
}

macro_rules! registry {
    ($($s:ty),* $(,)?) => {
        /// Every runnable strategy, in listing order.
        pub static STRATEGIES: &[&dyn StrategyEntry] = &[$(&Entry::<$s>(PhantomData)),*];
    };
}

registry![
    SmaCross,
    EmaCross,
    RsiReversion,
    BollingerReversion,
    DonchianBreakout,
    FaultInjection
];

/// An unknown strategy name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown strategy '{name}' (available: {available})")]
pub struct UnknownStrategy {
    /// Given name.
    pub name: String,
    /// Registered names, comma separated.
    pub available: String,
}

/// Looks a strategy up by name.
///
/// # Errors
/// [`UnknownStrategy`] listing the available names.
pub fn find(name: &str) -> Result<&'static dyn StrategyEntry, UnknownStrategy> {
    STRATEGIES
        .iter()
        .copied()
        .find(|s| s.info().name == name)
        .ok_or_else(|| UnknownStrategy {
            name: name.to_owned(),
            available: STRATEGIES
                .iter()
                .map(|s| s.info().name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}
