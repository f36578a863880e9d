//! A finished backtest as users see it: metrics, equity curve, trades.
//!
//! Times are epoch milliseconds (UTC); money and prices are converted to
//! display `f64` from the engine's integers here, at the edge.

use crate::bars::MarketData;
use crate::broker::{Broker, TradeRecord};
use crate::failure::{catch, Failure};
use crate::lines::Indicators;
use crate::metrics::{compute, MetricsInput, PerformanceMetrics};
use crate::order::{BacktestConfig, ExitReason, Side};
use crate::param_map::ParamMap;
use crate::params::{ParamError, Params, StrategyParams};
use crate::run::{simulate, Observer, SimError, SimStats};
use crate::strategy::Strategy;
use serde::{Deserialize, Deserializer, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// The outcome of one backtest: what the API's `result` of a backtest and
/// the CLI's `--json` hold, and what the run database stores (it reads
/// back equal, see the round-trip tests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BacktestReport {
    /// Strategy name.
    pub strategy: String,
    /// Strategy version.
    pub strategy_version: String,
    /// Resolved parameters, in declaration order.
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, crate::param_map::ParamScalar>))]
    pub params: ParamMap,
    /// Instrument symbol.
    pub symbol: String,
    /// Main timeframe.
    pub timeframe: String,
    /// The data's own timeframe.
    pub sub_timeframe: String,
    /// First main bar's open time, ms.
    pub from_ms: i64,
    /// Last main bar's open time, ms.
    pub to_ms: i64,
    /// Main bars before `fromMs` the strategy warmed up on (at most the
    /// run's `warmupBars`; fewer where the data has fewer): its indicators
    /// and state saw them, nothing was traded or recorded on them.
    #[serde(default)]
    pub warmup_bars: u32,
    /// Statistics.
    pub metrics: PerformanceMetrics,
    /// Orders refused as unaffordable or of zero size.
    pub rejected_orders: u32,
    /// Sub-bars where stop-loss and take-profit were both reachable (resolved adverse-first).
    pub ambiguous_bracket_fills: u32,
    /// The position still open at the end, marked at the last close.
    pub open_position: Option<OpenPosition>,
    /// Equity at each main-bar close.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<EquityPoint>))]
    pub equity_curve: EquityCurve,
    /// Closed trades, in exit order.
    pub trades: Vec<Trade>,
}

/// Equity at each main-bar close, kept as the engine's integers and turned
/// into display numbers only when serialized (as `[{time, equity}, …]`), so a
/// million-bar run does not build a second, float copy of its curve. A
/// curve read back from JSON holds the display numbers it was written as.
#[derive(Debug, Clone)]
pub struct EquityCurve {
    /// Shared by every curve over the same bars (the best trials of an optimization).
    times: Arc<[i64]>,
    values: CurveValues,
}

#[derive(Debug, Clone)]
enum CurveValues {
    /// The engine's money integers and their scale.
    Fixed { raw: Vec<i64>, scale: crate::Scale },
    /// Display numbers, as read back from JSON.
    Display(Vec<f64>),
}

impl Default for EquityCurve {
    /// No points.
    fn default() -> Self {
        Self {
            times: Arc::from(Vec::new()),
            values: CurveValues::Display(Vec::new()),
        }
    }
}

impl PartialEq for EquityCurve {
    /// Equal when every point is (bit for bit) the same.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .points()
                .zip(other.points())
                .all(|(a, b)| a.time == b.time && a.equity.to_bits() == b.equity.to_bits())
    }
}

impl EquityCurve {
    /// Number of points.
    #[must_use]
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether the curve is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    fn equity_at(&self, i: usize) -> Option<f64> {
        match &self.values {
            CurveValues::Fixed { raw, scale } => raw.get(i).map(|&e| scale.to_f64(e)),
            CurveValues::Display(v) => v.get(i).copied(),
        }
    }

    /// Point `i` as (time ms, equity).
    #[must_use]
    pub fn point(&self, i: usize) -> Option<EquityPoint> {
        Some(EquityPoint {
            time: *self.times.get(i)?,
            equity: self.equity_at(i)?,
        })
    }

    /// The main-bar open times, ms.
    #[must_use]
    pub fn times(&self) -> &[i64] {
        &self.times
    }

    /// The engine's money integers (raw, at the instrument's money scale),
    /// or `None` for a curve read back from JSON (display numbers only).
    #[must_use]
    pub fn raw(&self) -> Option<&[i64]> {
        match &self.values {
            CurveValues::Fixed { raw, .. } => Some(raw),
            CurveValues::Display(_) => None,
        }
    }

    /// All points.
    pub fn points(&self) -> impl Iterator<Item = EquityPoint> + '_ {
        (0..self.len()).filter_map(|i| self.point(i))
    }

    /// Per-bar returns from `initial` (money raw, or `initial_display` for
    /// a curve read back from JSON): as the metrics count them, a bar whose
    /// previous equity is 0 has none, and from the engine's integers the
    /// returns are the metrics' own (`(e − prev) ÷ prev`).
    pub(crate) fn bar_returns(&self, initial: i64, initial_display: f64) -> Vec<f64> {
        match &self.values {
            CurveValues::Fixed { raw, .. } => {
                let mut prev = initial;
                let mut out = Vec::with_capacity(raw.len());
                for &e in raw {
                    if prev != 0 {
                        out.push((e - prev) as f64 / prev as f64);
                    }
                    prev = e;
                }
                out
            }
            CurveValues::Display(v) => {
                let mut prev = initial_display;
                let mut out = Vec::with_capacity(v.len());
                for &e in v {
                    if prev != 0.0 {
                        out.push((e - prev) / prev);
                    }
                    prev = e;
                }
                out
            }
        }
    }
}

impl Serialize for EquityCurve {
    fn serialize<Ser: serde::Serializer>(&self, s: Ser) -> Result<Ser::Ok, Ser::Error> {
        s.collect_seq(self.points())
    }
}

impl<'de> Deserialize<'de> for EquityCurve {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let points = Vec::<EquityPoint>::deserialize(d)?;
        Ok(Self {
            times: points.iter().map(|p| p.time).collect(),
            values: CurveValues::Display(points.iter().map(|p| p.equity).collect()),
        })
    }
}

/// One point of the equity curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EquityPoint {
    /// Main bar open time, ms.
    pub time: i64,
    /// Equity at its close.
    pub equity: f64,
}

/// Long or short, as trades and positions are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Direction {
    /// Bought first.
    Long,
    /// Sold first.
    Short,
}

impl From<Side> for Direction {
    fn from(s: Side) -> Self {
        match s {
            Side::Buy => Self::Long,
            Side::Sell => Self::Short,
        }
    }
}

/// A closed trade for display.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trade {
    /// `buy` = long, `sell` = short.
    pub side: Direction,
    /// Quantity.
    pub quantity: f64,
    /// Entry fill time, ms.
    pub entry_time: i64,
    /// Average entry price.
    pub entry_price: f64,
    /// Exit fill time, ms.
    pub exit_time: i64,
    /// Exit price.
    pub exit_price: f64,
    /// Net P&L after commissions.
    pub pnl: f64,
    /// Entry + exit commission.
    pub commission: f64,
    /// What closed it.
    pub exit_reason: ExitReason,
}

/// The position left open at the end of the data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenPosition {
    /// `buy` = long, `sell` = short.
    pub side: Direction,
    /// Quantity.
    pub quantity: f64,
    /// Average entry price.
    pub entry_price: f64,
    /// Last close.
    pub mark_price: f64,
}

/// Why a backtest did not produce a report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RunFailure {
    /// The parameters were refused before the run.
    #[error(transparent)]
    Params(#[from] ParamError),
    /// The strategy returned an error or panicked; message and backtrace kept.
    #[error("{}", .0.message)]
    Failed(Failure),
    /// Cancelled on request.
    #[error("cancelled after {processed} sub-bars")]
    Cancelled {
        /// Sub-bars done when it stopped.
        processed: u64,
    },
}

impl RunFailure {
    /// The stored error message and stack trace, for failed runs.
    #[must_use]
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Self::Failed(f) => Some(f),
            _ => None,
        }
    }
}

/// Runs one backtest of `S` with `params` over `data`: the whole pipeline
/// from parameters to report, with panics caught and timed.
///
/// # Errors
/// [`RunFailure`] when parameters are inconsistent, the strategy fails or
/// panics, or `obs` cancels the run.
pub fn backtest<S: Strategy, O: Observer>(
    data: &MarketData,
    cfg: &BacktestConfig,
    params: &Params,
    obs: &mut O,
) -> Result<BacktestReport, RunFailure> {
    let typed = S::Params::from_params(params)?;
    let mut broker = Broker::new(data.instrument.clone(), *cfg);
    let mut equity = Vec::new();
    let started = Instant::now();
    let cache = crate::series::SeriesCache::unshared();
    let sim = catch(|| {
        let mut strategy = S::new(typed, &Indicators::new(data.main_bars(), &cache))?;
        Ok(simulate(data, &mut strategy, &mut broker, &mut equity, obs))
    });
    let wall = started.elapsed().as_secs_f64();
    let sim = match sim {
        Err(f) => return Err(RunFailure::Failed(f)),
        Ok(Err(e)) => return Err(RunFailure::Params(e)),
        Ok(Ok(sim)) => sim,
    };
    let stats = match sim {
        Err(SimError::Strategy(e)) => {
            return Err(RunFailure::Failed(Failure {
                message: e.message,
                backtrace: e.backtrace,
            }))
        }
        Err(SimError::Cancelled { processed }) => return Err(RunFailure::Cancelled { processed }),
        Err(e @ SimError::Overflow(_)) => {
            return Err(RunFailure::Failed(Failure {
                message: e.to_string(),
                backtrace: String::new(),
            }))
        }
        Ok(s) => s,
    };
    Ok(build_report::<S>(
        data,
        Arc::from(data.window_times()),
        cfg,
        params,
        Finished::capture(&broker, equity, stats, wall),
    ))
}

/// What a finished simulation leaves for its report: the broker's outcome,
/// the equity curve and the loop's counters — owned, so an optimizer can
/// keep it for a best trial while the broker goes on to the next one.
#[derive(Debug, Clone)]
pub(crate) struct Finished {
    pub trades: Vec<TradeRecord>,
    pub total_commission: i64,
    pub rejected_orders: u32,
    pub ambiguous_brackets: u32,
    pub position: i64,
    pub entry_price: Option<i64>,
    pub equity: Vec<i64>,
    pub stats: SimStats,
    pub wall_secs: f64,
}

impl Finished {
    /// Captures `broker`'s outcome (copying its trades) with `equity`.
    pub fn capture(broker: &Broker, equity: Vec<i64>, stats: SimStats, wall_secs: f64) -> Self {
        Self {
            trades: broker.trades().to_vec(),
            total_commission: broker.total_commission(),
            rejected_orders: broker.rejected_orders(),
            ambiguous_brackets: broker.ambiguous_brackets(),
            position: broker.position().raw(),
            entry_price: broker.entry_price().map(|p| p.raw()),
            equity,
            stats,
            wall_secs,
        }
    }
}

pub(crate) fn build_report<S: Strategy>(
    data: &MarketData,
    times: Arc<[i64]>,
    cfg: &BacktestConfig,
    params: &Params,
    run: Finished,
) -> BacktestReport {
    let inst = &data.instrument;
    let main = data.main_bars();
    let window = data.window_times();
    let metrics = compute(&MetricsInput {
        instrument: inst,
        initial_cash: cfg.initial_cash.raw(),
        equity: &run.equity,
        curve: Some(&run.stats.curve),
        times: window,
        bar_ms: data.main_timeframe.millis(),
        trades: &run.trades,
        exposure_bars: run.stats.exposure_bars,
        total_commission: run.total_commission,
        sub_bars: run.stats.sub_bars,
        wall_secs: run.wall_secs,
    });
    let money = |raw: i64| inst.money_f64(crate::Money::from_raw(raw));
    let trade = |t: &TradeRecord| Trade {
        side: t.side.into(),
        quantity: inst.qty_f64(t.qty),
        entry_time: t.entry_ts,
        entry_price: inst.price_f64(t.entry_price),
        exit_time: t.exit_ts,
        exit_price: inst.price_f64(t.exit_price),
        pnl: money(t.pnl),
        commission: money(t.commission),
        exit_reason: t.exit_reason,
    };
    let pos = run.position;
    let last_close = main.close.last().copied().unwrap_or(0);
    BacktestReport {
        strategy: S::NAME.to_owned(),
        strategy_version: S::VERSION.to_owned(),
        params: params.into(),
        symbol: inst.symbol.clone(),
        timeframe: data.main_timeframe.to_string(),
        sub_timeframe: data.sub_timeframe.to_string(),
        from_ms: window.first().copied().unwrap_or(0),
        to_ms: window.last().copied().unwrap_or(0),
        warmup_bars: u32::try_from(data.warmup_bars()).unwrap_or(u32::MAX),
        metrics,
        rejected_orders: run.rejected_orders,
        ambiguous_bracket_fills: run.ambiguous_brackets,
        open_position: (pos != 0).then(|| OpenPosition {
            side: if pos > 0 {
                Direction::Long
            } else {
                Direction::Short
            },
            quantity: inst.qty_f64(pos.abs()),
            entry_price: run.entry_price.map_or(0.0, |p| inst.price_f64(p)),
            mark_price: inst.price_f64(last_close),
        }),
        trades: run.trades.iter().map(trade).collect(),
        equity_curve: EquityCurve {
            times,
            values: CurveValues::Fixed {
                raw: run.equity,
                scale: inst.money_scale,
            },
        },
    }
}
