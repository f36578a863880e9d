//! Submission: a request checked against the strategy and the dataset's
//! catalog entry, turned into everything a run needs — its run key, its
//! total work and the job to execute — without reading a single bar, so a
//! `POST` answers in milliseconds.

use crate::key::{canonical_params, RunKey, RunKind, RunSpec};
use crate::period::Period;
use crate::request::{
    parse_axes, parse_constraints, parse_fitness, resolve_params, BacktestRequest,
    OptimizationRequest, RunTarget,
};
use crate::settings::{engine_config, FieldError};
use atf_data::DatasetInfo;
use atf_engine::grid::Grid;
use atf_engine::optimize::OptimizeSpec;
use atf_engine::registry::{Registry, StrategyRef};
use atf_engine::{BacktestConfig, Instrument, Params, Sizing, Timeframe};

/// Default number of best trials kept in full.
pub const DEFAULT_TOP: usize = 20;
/// Most best trials kept in full: each keeps its whole equity curve and
/// trades in `runs.db` (2,000 of them on a 2,000-combination grid once
/// wrote 2.9 GB), so the API and the CLI refuse more.
pub const MAX_TOP: usize = 1_000;

/// What a run needs besides its kind-specific part.
#[derive(Clone)]
pub struct Target {
    /// The strategy.
    pub strategy: StrategyRef,
    /// The dataset's catalog entry (checksum included).
    pub dataset: DatasetInfo,
    /// Its instrument.
    pub instrument: Instrument,
    /// Main timeframe.
    pub timeframe: Timeframe,
    /// Period.
    pub period: Period,
    /// Costs, cash and sizing.
    pub config: BacktestConfig,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("strategy", &self.strategy.info().name)
            .field("dataset", &self.dataset.name)
            .field("timeframe", &self.timeframe)
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

/// The kind-specific part of a job.
#[derive(Debug, Clone)]
pub enum Work {
    /// One backtest with these parameters.
    Backtest(Params),
    /// Every combination of this spec.
    Optimization(OptimizeSpec),
}

/// A checked submission, ready to queue.
#[derive(Debug, Clone)]
pub struct Plan {
    /// What the key was computed from.
    pub spec: RunSpec,
    /// The deduplication key.
    pub key: RunKey,
    /// Total work: sub-bars (backtest) or combinations (optimization).
    pub total: u64,
    /// Strategy, data, period, costs.
    pub target: Target,
    /// Parameters or grid.
    pub work: Work,
}

impl Plan {
    /// Backtest or optimization.
    #[must_use]
    pub fn kind(&self) -> RunKind {
        self.spec.kind
    }
}

/// Checks the target's strategy, timeframe, period and costs.
fn target(
    registry: &Registry,
    t: &RunTarget,
    dataset: DatasetInfo,
) -> Result<(Target, StrategyRef), FieldError> {
    let strategy = registry
        .find(&t.strategy)
        .map_err(|e| FieldError::new("strategy", e.to_string()))?;
    let timeframe = match &t.timeframe {
        Some(text) => text
            .parse::<Timeframe>()
            .map_err(|e| FieldError::new("timeframe", e.to_string()))?,
        None => dataset.timeframe,
    };
    if !timeframe.is_multiple_of(dataset.timeframe) {
        return Err(FieldError::new(
            "timeframe",
            format!(
                "must be a whole multiple of the dataset's timeframe {}",
                dataset.timeframe
            ),
        ));
    }
    let period = Period::parse(t.from.as_deref(), t.to.as_deref())?;
    period.check_overlaps(&dataset)?;
    let instrument = dataset.instrument();
    let texts = t.costs().texts();
    let config = engine_config(&instrument, &texts.settings())?;
    Ok((
        Target {
            strategy: StrategyRef::clone(&strategy),
            dataset,
            instrument,
            timeframe,
            period,
            config,
        },
        strategy,
    ))
}

fn spec(kind: RunKind, t: &Target, params: &Params) -> RunSpec {
    let info = t.strategy.info();
    let c = &t.config;
    RunSpec {
        kind,
        strategy: info.name.to_owned(),
        strategy_version: info.version.to_owned(),
        engine_version: atf_engine::ENGINE_VERSION.to_owned(),
        build: crate::build::fingerprint().to_owned(),
        dataset_id: t.dataset.id,
        dataset_sha256: t.dataset.sha256.clone(),
        from_ms: t.period.from_ms,
        to_ms: t.period.to_ms,
        timeframe: t.timeframe.to_string(),
        params: canonical_params(params),
        axes: Vec::new(),
        constraints: Vec::new(),
        maximize: None,
        top: None,
        cash_raw: c.initial_cash.raw(),
        commission_rate_raw: c.costs.commission_rate.raw(),
        commission_fixed_raw: c.costs.commission_fixed.raw(),
        slippage_ticks: c.costs.slippage_ticks,
        sizing: match c.sizing {
            Sizing::FixedQty(q) => format!("qty:{}", q.raw()),
            Sizing::EquityFraction(r) => format!("pct:{}", r.raw()),
        },
        qty_decimals: t.instrument.qty_scale.decimals(),
    }
}

/// Plans a backtest of `req` on `dataset` (already looked up by the name or
/// id the request gave).
///
/// # Errors
/// The first refused field.
pub fn backtest(
    registry: &Registry,
    req: &BacktestRequest,
    dataset: DatasetInfo,
) -> Result<Plan, FieldError> {
    let (target, strategy) = target(registry, &req.run, dataset)?;
    let params = resolve_params(&strategy.info().params, &req.run.params)?;
    let spec = spec(RunKind::Backtest, &target, &params);
    Ok(Plan {
        key: spec.key(),
        spec,
        total: target.period.estimate_bars(&target.dataset),
        target,
        work: Work::Backtest(params),
    })
}

/// Plans an optimization; grids above `max_combinations` are refused.
///
/// # Errors
/// The first refused field (`axes` for a grid too large).
pub fn optimization(
    registry: &Registry,
    req: &OptimizationRequest,
    dataset: DatasetInfo,
    max_combinations: u64,
) -> Result<Plan, FieldError> {
    let (target, strategy) = target(registry, &req.run, dataset)?;
    let space = strategy.info().params;
    let axes = parse_axes(&space, &req.axes, &req.run.params)?;
    let base = resolve_params(&space, &req.run.params)?;
    let constraints = parse_constraints(&space, &req.constraints)?;
    let fitness = parse_fitness(req.maximize.as_deref())?;
    let top = req.top.unwrap_or(DEFAULT_TOP);
    if top == 0 || top > MAX_TOP {
        return Err(FieldError::new(
            "top",
            format!("must be between 1 and {MAX_TOP}"),
        ));
    }
    let grid =
        Grid::new(axes, max_combinations).map_err(|e| FieldError::new("axes", e.to_string()))?;
    let mut spec = spec(RunKind::Optimization, &target, &base);
    for a in grid.axes() {
        spec.params.remove(a.name);
        spec.axes.push((
            a.name.to_owned(),
            a.values.iter().map(ToString::to_string).collect(),
        ));
    }
    spec.constraints = constraints.iter().map(ToString::to_string).collect();
    spec.maximize = Some(fitness.name().to_owned());
    spec.top = Some(top);
    Ok(Plan {
        key: spec.key(),
        spec,
        total: grid.size(),
        target,
        work: Work::Optimization(OptimizeSpec {
            grid,
            constraints,
            base,
            fitness,
            top,
        }),
    })
}
