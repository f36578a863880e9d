//! Submission: a request checked against the strategy and the dataset's
//! catalog entry, turned into everything a run needs — its run key, its
//! total work and the job to execute — without reading a single bar, so a
//! `POST` answers in milliseconds.

use crate::key::{canonical_params, RunKey, RunKind, RunSpec, SearchKey};
use crate::period::Period;
use crate::request::{
    parse_axes, parse_constraints, parse_fitness, resolve_params, BacktestRequest,
    OptimizationRequest, RunTarget,
};
use crate::settings::{engine_config, FieldError};
use atf_data::DatasetInfo;
use atf_engine::grid::Grid;
use atf_engine::optimize::search::{Search, GENERATOR, MAX_BUDGET, MAX_SEARCH_SPACE};
use atf_engine::optimize::OptimizeSpec;
use atf_engine::registry::{Registry, StrategyRef};
use atf_engine::{BacktestConfig, Instrument, Params, Sizing, Timeframe};

/// What the refusal of a grid above the limit adds: a search is limited by
/// its budget instead (the CLI puts its flags in its place).
pub const SEARCH_HINT: &str =
    ": search it instead with method random or genetic, limited by budget";

/// Largest seed a search takes: 2^53 - 1, the largest integer every JSON
/// client (JavaScript's numbers) reads exactly.
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// Most warm-up bars a request may ask for: each is read, resampled and
/// shown to the strategy in every trial.
pub const MAX_WARMUP_BARS: u32 = 100_000;

/// Default number of best trials kept in full.
pub const DEFAULT_TOP: usize = 20;
/// Most best trials kept in full: each keeps its whole equity curve and
/// trades in `runs.db` (2,000 of them on a 2,000-combination grid once
/// wrote 2.9 GB), so the API and the CLI refuse more.
pub const MAX_TOP: usize = 1_000;

/// Default of [`GridLimits::max_kept_points`]: 20 best curves of a
/// million bars each (about 4 years of one-minute bars at 24/5).
pub const DEFAULT_MAX_KEPT_POINTS: u64 = 20_000_000;

/// What one optimization may ask for: the work and what it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridLimits {
    /// Largest grid, in combinations.
    pub max_combinations: u64,
    /// Most equity-curve points the kept trials may hold together (`top`
    /// × the bars of the period at the run's timeframe): every kept trial
    /// stores its whole curve and trades, so this bounds what one request
    /// can write to `runs.db` (and hold in memory) — about 45 bytes a point.
    pub max_kept_points: u64,
}

impl GridLimits {
    /// No bound: for re-planning a run its coordinator already bounded (a
    /// scale-out worker).
    pub const NONE: Self = Self {
        max_combinations: u64::MAX,
        max_kept_points: u64::MAX,
    };
}

impl Default for GridLimits {
    fn default() -> Self {
        Self {
            max_combinations: atf_engine::grid::DEFAULT_MAX_COMBINATIONS,
            max_kept_points: DEFAULT_MAX_KEPT_POINTS,
        }
    }
}

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
    /// Most main bars before the period's start to warm up on (at most
    /// [`MAX_WARMUP_BARS`]; see [`crate::warmup`]).
    pub warmup_bars: u32,
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
    /// Each fold's grid optimized in sample, its winner tested out of
    /// sample (the job's target is the plan's).
    WalkForward(Box<crate::walkforward::WalkForwardJob>),
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
    /// Backtest, optimization or walk-forward.
    #[must_use]
    pub fn kind(&self) -> RunKind {
        self.spec.kind
    }

    /// A walk-forward's folds (`None` for the other kinds).
    #[must_use]
    pub fn folds(&self) -> Option<u64> {
        match &self.work {
            Work::WalkForward(w) => Some(w.windows.len() as u64),
            _ => None,
        }
    }
}

/// Checks the target's strategy, timeframe, period and costs, trading the
/// dataset's instrument with quantities in `qty_decimals` places (`None`:
/// whole units, as the dataset's catalog entry declares).
fn target(
    registry: &Registry,
    t: &RunTarget,
    dataset: DatasetInfo,
    qty_decimals: Option<u8>,
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
    let warmup_bars = t.warmup_bars.unwrap_or(0);
    if warmup_bars > MAX_WARMUP_BARS {
        return Err(FieldError::new(
            "warmupBars",
            format!("must be between 0 and {MAX_WARMUP_BARS}"),
        ));
    }
    let instrument = match qty_decimals {
        Some(q) => Instrument::with_qty(dataset.symbol.clone(), dataset.price_decimals, q),
        None => dataset.instrument(),
    };
    let texts = t.costs().texts();
    let config = engine_config(&instrument, &texts.settings())?;
    Ok((
        Target {
            strategy: StrategyRef::clone(&strategy),
            dataset,
            instrument,
            timeframe,
            period,
            warmup_bars,
            config,
        },
        strategy,
    ))
}

/// A checked request: what to run on what, everything a run needs except
/// its run key. A run that stores nothing (the CLI's local mode) needs no
/// key, and computing one hashes the executable (see [`crate::build`]), so
/// checking and keying are two steps: [`check_backtest`] and
/// [`check_optimization`] hold every check, [`backtest`] and
/// [`optimization`] add the key.
#[derive(Debug, Clone)]
pub struct Job {
    /// Total work: sub-bars (backtest, estimated from the catalog entry) or
    /// combinations (optimization).
    pub total: u64,
    /// Strategy, data, period, costs.
    pub target: Target,
    /// Parameters or grid.
    pub work: Work,
}

impl Job {
    /// Backtest, optimization or walk-forward.
    #[must_use]
    pub fn kind(&self) -> RunKind {
        match self.work {
            Work::Backtest(_) => RunKind::Backtest,
            Work::Optimization(_) => RunKind::Optimization,
            Work::WalkForward(_) => RunKind::WalkForward,
        }
    }

    /// What the run key is computed from: everything that decides the
    /// result, so a job planned twice gets the same key.
    #[must_use]
    pub fn spec(&self) -> RunSpec {
        match &self.work {
            Work::Backtest(params) => spec(RunKind::Backtest, &self.target, params),
            Work::Optimization(o) => grid_spec(RunKind::Optimization, &self.target, o),
            Work::WalkForward(w) => {
                let mut spec = grid_spec(RunKind::WalkForward, &self.target, &w.spec);
                spec.walk_forward = Some(crate::key::WalkForwardSpec {
                    mode: w.mode,
                    windows: w.windows.clone(),
                    criteria: w.criteria,
                });
                spec
            }
        }
    }

    /// The job with its spec and run key: ready to queue.
    #[must_use]
    pub fn into_plan(self) -> Plan {
        let spec = self.spec();
        Plan {
            key: spec.key(),
            spec,
            total: self.total,
            target: self.target,
            work: self.work,
        }
    }
}

/// The spec of a grid run: the parameters not on an axis, the axes in
/// order, the constraints, the fitness and the kept trials.
fn grid_spec(kind: RunKind, t: &Target, o: &OptimizeSpec) -> RunSpec {
    let mut spec = spec(kind, t, &o.base);
    for a in o.grid.axes() {
        spec.params.remove(a.name);
        spec.axes.push((
            a.name.to_owned(),
            a.values.iter().map(ToString::to_string).collect(),
        ));
    }
    spec.constraints = o.constraints.iter().map(ToString::to_string).collect();
    spec.maximize = Some(o.fitness.name().to_owned());
    spec.top = Some(o.top);
    spec.search = o.search.map(|s| SearchKey {
        method: s.method,
        budget: s.budget,
        seed: s.seed,
        generator: GENERATOR.to_owned(),
    });
    spec
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
        warmup_bars: t.warmup_bars,
        timeframe: t.timeframe.to_string(),
        params: canonical_params(params),
        axes: Vec::new(),
        constraints: Vec::new(),
        maximize: None,
        top: None,
        search: None,
        cash_raw: c.initial_cash.raw(),
        commission_rate_raw: c.costs.commission_rate.raw(),
        commission_fixed_raw: c.costs.commission_fixed.raw(),
        slippage_ticks: c.costs.slippage_ticks,
        sizing: match c.sizing {
            Sizing::FixedQty(q) => format!("qty:{}", q.raw()),
            Sizing::EquityFraction(r) => format!("pct:{}", r.raw()),
        },
        qty_decimals: t.instrument.qty_scale.decimals(),
        walk_forward: None,
    }
}

/// Checks a backtest of `req` on `dataset` (already looked up by the name
/// or id the request gave), with quantities in `qty_decimals` places
/// (`None`: whole units, what the API always uses).
///
/// # Errors
/// The first refused field.
pub fn check_backtest(
    registry: &Registry,
    req: &BacktestRequest,
    dataset: DatasetInfo,
    qty_decimals: Option<u8>,
) -> Result<Job, FieldError> {
    let (target, strategy) = target(registry, &req.run, dataset, qty_decimals)?;
    let params = resolve_params(&strategy.info().params, &req.run.params)?;
    Ok(Job {
        total: target.period.estimate_bars(&target.dataset),
        target,
        work: Work::Backtest(params),
    })
}

/// Plans a backtest of `req` on `dataset`: [`check_backtest`] and its run
/// key.
///
/// # Errors
/// The first refused field.
pub fn backtest(
    registry: &Registry,
    req: &BacktestRequest,
    dataset: DatasetInfo,
) -> Result<Plan, FieldError> {
    check_backtest(registry, req, dataset, None).map(Job::into_plan)
}

/// Checks an optimization (as [`check_backtest`]) against `limits`. A
/// search (`method` random or genetic) is bounded by its `budget` instead
/// of the grid's size: at most [`MAX_BUDGET`] and `max_combinations`
/// trials, over a space of up to [`MAX_SEARCH_SPACE`] combinations. A
/// search without a `seed` gets one at random here (and its key with it).
///
/// # Errors
/// The first refused field (`axes` for a grid too large, `top` for more
/// kept curve points than allowed, `budget` or `seed` given for a grid or
/// a budget missing or out of bounds for a search).
pub fn check_optimization(
    registry: &Registry,
    req: &OptimizationRequest,
    dataset: DatasetInfo,
    limits: GridLimits,
    qty_decimals: Option<u8>,
) -> Result<Job, FieldError> {
    let (target, strategy) = target(registry, &req.run, dataset, qty_decimals)?;
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
    let method = req.method.unwrap_or_default();
    let search = search_of(req, method.search(), limits.max_combinations)?;
    let grid = match search {
        None => Grid::new(axes, limits.max_combinations)
            .map_err(|e| FieldError::new("axes", format!("{e}{SEARCH_HINT}")))?,
        Some(_) => Grid::new(axes, MAX_SEARCH_SPACE)
            .map_err(|e| FieldError::new("axes", format!("{e} (the most a search takes)")))?,
    };
    let total = search.map_or(grid.size(), |s| s.budget.min(grid.size()));
    check_kept_points(&target, top, total, limits.max_kept_points)?;
    Ok(Job {
        total,
        target,
        work: Work::Optimization(OptimizeSpec {
            grid,
            constraints,
            base,
            fitness,
            top,
            assess: true,
            search,
        }),
    })
}

/// The search a request asks for: its method, its budget (required,
/// within [`MAX_BUDGET`] and `max_combinations`) and its seed (chosen at
/// random when absent); `budget` and `seed` are refused for a grid.
fn search_of(
    req: &OptimizationRequest,
    method: Option<atf_engine::optimize::search::SearchMethod>,
    max_combinations: u64,
) -> Result<Option<Search>, FieldError> {
    let Some(method) = method else {
        for (field, given) in [
            ("budget", req.budget.is_some()),
            ("seed", req.seed.is_some()),
        ] {
            if given {
                return Err(FieldError::new(
                    field,
                    "only for a search: give method random or genetic",
                ));
            }
        }
        return Ok(None);
    };
    let most = MAX_BUDGET.min(max_combinations);
    let budget = req.budget.ok_or_else(|| {
        FieldError::new(
            "budget",
            format!("required by method {method}: the trials to evaluate (1 to {most})"),
        )
    })?;
    if budget == 0 || budget > most {
        return Err(FieldError::new(
            "budget",
            format!("must be between 1 and {most}"),
        ));
    }
    // within 2^53: a seed a JSON client reads back exactly can repeat the search
    let seed = match req.seed {
        Some(seed) if seed > MAX_SEED => {
            return Err(FieldError::new(
                "seed",
                format!("must be at most {MAX_SEED} (2^53 - 1, exact in every JSON client)"),
            ))
        }
        Some(seed) => seed,
        None => uuid::Uuid::new_v4().as_u64_pair().0 >> 11,
    };
    Ok(Some(Search {
        method,
        budget,
        seed,
    }))
}

/// Refuses a `top` whose kept curves would hold more than `max_points`
/// points together: `min(top, combinations)` × the period's bars at the
/// run's timeframe (estimated from the catalog entry, as the progress
/// total is).
fn check_kept_points(
    target: &Target,
    top: usize,
    combinations: u64,
    max_points: u64,
) -> Result<(), FieldError> {
    let base_bars = target.period.estimate_bars(&target.dataset);
    let per_bar = u64::from(target.timeframe.secs() / target.dataset.timeframe.secs()).max(1);
    let bars = base_bars.div_ceil(per_bar);
    let kept = (top as u64).min(combinations);
    let points = kept.saturating_mul(bars);
    if points <= max_points {
        return Ok(());
    }
    let most = (max_points / bars.max(1)).max(1);
    Err(FieldError::new(
        "top",
        format!(
            "{kept} kept trials × {bars} bars = {points} equity points, more than the limit of \
             {max_points}: keep at most {most} (or use a coarser timeframe, a shorter period, \
             or raise --max-kept-points)"
        ),
    ))
}

/// Plans an optimization: [`check_optimization`] and its run key.
///
/// # Errors
/// The first refused field (`axes` for a grid too large).
pub fn optimization(
    registry: &Registry,
    req: &OptimizationRequest,
    dataset: DatasetInfo,
    limits: GridLimits,
) -> Result<Plan, FieldError> {
    check_optimization(registry, req, dataset, limits, None).map(Job::into_plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dataset() -> DatasetInfo {
        DatasetInfo {
            id: 1,
            name: "d".into(),
            symbol: "D".into(),
            timeframe: Timeframe::M1,
            first_ts_ms: 0,
            last_ts_ms: 99 * 60_000,
            rows: 100,
            price_decimals: 2,
            volume_decimals: 0,
            sha256: "00".into(),
            file: "x".into(),
            imported_at_ms: 0,
            source_name: "x".into(),
        }
    }

    fn backtest_req(body: serde_json::Value) -> BacktestRequest {
        BacktestRequest::from_json(&body).unwrap()
    }

    fn optimization_req(body: serde_json::Value) -> OptimizationRequest {
        OptimizationRequest::from_json(&body).unwrap()
    }

    #[test]
    fn planning_is_checking_then_keying() {
        let reg = Registry::builtin();
        let req =
            backtest_req(json!({"strategy": "sma-cross", "dataset": "d", "params": {"fast": 5}}));
        let job = check_backtest(&reg, &req, dataset(), None).unwrap();
        assert_eq!(job.kind(), RunKind::Backtest);
        let plan = backtest(&reg, &req, dataset()).unwrap();
        assert_eq!(job.into_plan().key, plan.key);
        assert_eq!(plan.total, 100);

        let req = optimization_req(json!({
            "strategy": "sma-cross", "dataset": "d",
            "axes": {"slow": [20, 30], "fast": {"min": 5, "max": 15, "step": 5}},
            "constraints": ["fast < slow"], "top": 3
        }));
        let limits = GridLimits {
            max_combinations: 6,
            ..GridLimits::default()
        };
        let job = check_optimization(&reg, &req, dataset(), limits, None).unwrap();
        assert_eq!((job.kind(), job.total), (RunKind::Optimization, 6));
        let plan = optimization(&reg, &req, dataset(), limits).unwrap();
        assert_eq!(job.spec(), plan.spec);
        assert_eq!(
            plan.spec
                .axes
                .iter()
                .map(|a| a.0.as_str())
                .collect::<Vec<_>>(),
            ["fast", "slow"],
            "combinations follow the names' sorted order"
        );
        assert!(!plan.spec.params.contains_key("fast"));
        assert_eq!(plan.spec.top, Some(3));
    }

    #[test]
    fn a_search_is_bounded_by_its_budget_not_by_the_grid_limit() {
        let reg = Registry::builtin();
        let limits = GridLimits {
            max_combinations: 1000,
            ..GridLimits::default()
        };
        let body = |extra: serde_json::Value| {
            let mut b = json!({
                "strategy": "sma-cross", "dataset": "d",
                "axes": {"fast": {"min": 1, "max": 10000, "step": 1},
                         "slow": {"min": 1, "max": 10000, "step": 1}},
                "top": 1
            });
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            optimization_req(b)
        };
        let check = |extra| check_optimization(&reg, &body(extra), dataset(), limits, None);
        // 10^8 combinations: a grid is refused, and told how to search it
        let e = check(json!({})).unwrap_err();
        assert_eq!(e.field, "axes");
        assert!(e.reason.ends_with(SEARCH_HINT), "{e}");
        let job = check(json!({"method": "genetic", "budget": 500, "seed": 7})).unwrap();
        assert_eq!(job.total, 500, "progress counts the budget");
        let Work::Optimization(spec) = &job.work else {
            panic!("an optimization")
        };
        let search = spec.search.unwrap();
        assert_eq!((search.budget, search.seed), (500, 7));
        let key = job.spec().search.unwrap();
        assert_eq!(key.generator, GENERATOR);
        // the same request, the same key; another seed, another key
        let again = check(json!({"method": "genetic", "budget": 500, "seed": 7})).unwrap();
        assert_eq!(job.into_plan().key, again.into_plan().key);
        let other = check(json!({"method": "genetic", "budget": 500, "seed": 8})).unwrap();
        assert_ne!(
            other.into_plan().key,
            check(json!({"method": "random", "budget": 500, "seed": 8}))
                .unwrap()
                .into_plan()
                .key
        );
        // no seed: one is chosen, and shown in the key's spec
        let chosen = check(json!({"method": "random", "budget": 5})).unwrap();
        assert!(chosen.spec().search.is_some_and(|s| s.seed <= MAX_SEED));
        for (extra, field, reason) in [
            (
                json!({"method": "random"}),
                "budget",
                "required by method random",
            ),
            (
                json!({"method": "random", "budget": 0}),
                "budget",
                "between 1 and 1000",
            ),
            (
                json!({"method": "random", "budget": 1001}),
                "budget",
                "between 1 and 1000",
            ),
            (json!({"budget": 5}), "budget", "only for a search"),
            (
                json!({"method": "grid", "seed": 5}),
                "seed",
                "only for a search",
            ),
        ] {
            let e = check(extra.clone()).unwrap_err();
            assert_eq!(e.field, field, "{extra}: {e}");
            assert!(e.reason.contains(reason), "{extra}: {e}");
        }
        let e = OptimizationRequest::from_json(&json!({
            "strategy": "sma-cross", "dataset": "d", "axes": {"fast": [5]}, "method": "tpe"
        }))
        .unwrap_err();
        assert_eq!(e.field, "method", "{e}");
    }

    #[test]
    fn kept_trials_are_bounded_by_the_curve_points_they_store() {
        let reg = Registry::builtin();
        // 100 one-minute bars; 10 combinations
        let req = |top: u64, tf: &str| {
            optimization_req(json!({
                "strategy": "sma-cross", "dataset": "d", "timeframe": tf,
                "axes": {"fast": {"min": 1, "max": 10, "step": 1}}, "top": top
            }))
        };
        let limits = GridLimits {
            max_kept_points: 500,
            ..GridLimits::default()
        };
        let check = |top, tf| check_optimization(&reg, &req(top, tf), dataset(), limits, None);
        assert!(check(5, "1m").is_ok(), "5 × 100 = 500 points");
        let e = check(6, "1m").unwrap_err();
        assert_eq!(e.field, "top");
        assert!(
            e.reason.starts_with(
                "6 kept trials × 100 bars = 600 equity points, more than the limit of 500: keep at most 5"
            ),
            "{e}"
        );
        // a coarser timeframe keeps fewer points a curve
        assert!(check(10, "2m").is_ok(), "10 × 50 = 500 points");
        // no more trials are kept than the grid has
        assert!(check(1000, "2m").is_ok(), "min(1000, 10) × 50");
    }

    #[test]
    fn quantity_decimals_change_the_instrument_and_the_key() {
        let reg = Registry::builtin();
        let req = backtest_req(json!({"strategy": "sma-cross", "dataset": "d", "sizeQty": 0.5}));
        let e = check_backtest(&reg, &req, dataset(), None).unwrap_err();
        assert_eq!(e.field, "sizeQty", "whole units: {e}");
        let job = check_backtest(&reg, &req, dataset(), Some(3)).unwrap();
        assert_eq!(job.target.instrument.qty_scale.decimals(), 3);
        assert_eq!(job.spec().qty_decimals, 3);
        let whole = backtest_req(json!({"strategy": "sma-cross", "dataset": "d", "sizeQty": 1}));
        let (a, b) = (
            check_backtest(&reg, &whole, dataset(), None).unwrap(),
            check_backtest(&reg, &whole, dataset(), Some(3)).unwrap(),
        );
        assert_ne!(a.into_plan().key, b.into_plan().key);
    }

    #[test]
    fn refusals_name_the_request_field() {
        let reg = Registry::builtin();
        let opt = |body: serde_json::Value, max: u64| {
            let limits = GridLimits {
                max_combinations: max,
                ..GridLimits::default()
            };
            check_optimization(&reg, &optimization_req(body), dataset(), limits, None).unwrap_err()
        };
        let e = opt(
            json!({"strategy": "sma-cross", "dataset": "d", "axes": {"fast": [5, 10]}, "params": {"fast": 3}}),
            100,
        );
        assert_eq!(
            (e.field.as_str(), e.reason.as_str()),
            (
                "axes.fast",
                "also given in params; give it one or the other"
            )
        );
        let e = opt(
            json!({"strategy": "sma-cross", "dataset": "d", "axes": {"fast": {"min": 1, "max": 10, "step": 1}}}),
            5,
        );
        assert_eq!(e.field, "axes");
        assert_eq!(
            e.reason,
            format!("grid of 10 combinations exceeds the limit of 5{SEARCH_HINT}")
        );
        let e = opt(
            json!({"strategy": "sma-cross", "dataset": "d", "axes": {"fast": [5]}, "top": 0}),
            5,
        );
        assert_eq!(e.field, "top");
        let e = check_backtest(
            &reg,
            &backtest_req(json!({"strategy": "sma-cross", "dataset": "d", "from": "2030-01-01"})),
            dataset(),
            None,
        )
        .unwrap_err();
        assert_eq!(e.field, "from");
        assert!(
            e.reason
                .starts_with("empty period: dataset 'd' has bars from"),
            "{e}"
        );
    }
}
