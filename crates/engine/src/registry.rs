//! Strategies by name, behind one object-safe trait.
//!
//! Dynamic dispatch happens once per run, at [`StrategyEntry::backtest`];
//! inside, the run is monomorphised for the concrete strategy, so the bar
//! loop has no virtual calls.

use crate::bars::MarketData;
use crate::optimize::{
    assemble, optimize, resume, run_list, run_range, OptimizationProgress, OptimizationReport,
    OptimizeError, OptimizeSpec, Trial,
};
use crate::order::BacktestConfig;
use crate::params::StrategyParams;
use crate::params::{ParamSpace, Params};
use crate::report::{backtest, BacktestReport, RunFailure};
use crate::run::{Progress, Silent};
use crate::strategies::{BollingerReversion, DonchianBreakout, EmaCross, RsiReversion, SmaCross};
use crate::strategy::Strategy;
use serde::Serialize;
use std::marker::PhantomData;
use std::sync::Arc;

/// A strategy's public description.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StrategyInfo {
    /// Name (`sma-cross`).
    pub name: &'static str,
    /// Version.
    pub version: &'static str,
    /// One line.
    pub description: &'static str,
    /// Declared parameters.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::params::ParamSpec>))]
    pub params: ParamSpace,
}

/// A registered strategy, callable without knowing its type.
pub trait StrategyEntry: Send + Sync {
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

    /// Finishes an interrupted optimization from the trials it recorded
    /// (see [`resume`]).
    ///
    /// # Errors
    /// See [`resume`].
    fn resume(
        &self,
        data: &MarketData,
        cfg: &BacktestConfig,
        spec: &OptimizeSpec,
        recorded: Vec<Trial>,
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

    /// Runs a list of a grid's combinations (see [`run_list`]).
    ///
    /// # Errors
    /// See [`run_list`].
    fn run_list(
        &self,
        data: &MarketData,
        cfg: &BacktestConfig,
        spec: &OptimizeSpec,
        indices: &[u64],
        progress: &OptimizationProgress,
        threads: usize,
    ) -> Result<Vec<Trial>, OptimizeError>;

    /// Puts a grid's report together from its chunks' trials (see [`assemble`]).
    ///
    /// # Errors
    /// See [`assemble`].
    #[allow(
        clippy::too_many_arguments,
        reason = "mirrors optimize::assemble, which it forwards to"
    )]
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

impl std::fmt::Debug for dyn StrategyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let info = self.info();
        write!(f, "{} {}", info.name, info.version)
    }
}

struct Entry<S>(PhantomData<fn() -> S>);

impl<S: Strategy> StrategyEntry for Entry<S> {
    fn info(&self) -> StrategyInfo {
        StrategyInfo {
            name: S::NAME,
            version: S::VERSION,
            description: S::DESCRIPTION,
            params: S::Params::space(),
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

    fn resume(
        &self,
        data: &MarketData,
        cfg: &BacktestConfig,
        spec: &OptimizeSpec,
        recorded: Vec<Trial>,
        progress: &OptimizationProgress,
        threads: usize,
    ) -> Result<OptimizationReport, OptimizeError> {
        resume::<S>(data, cfg, spec, recorded, progress, threads)
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

    fn run_list(
        &self,
        data: &MarketData,
        cfg: &BacktestConfig,
        spec: &OptimizeSpec,
        indices: &[u64],
        progress: &OptimizationProgress,
        threads: usize,
    ) -> Result<Vec<Trial>, OptimizeError> {
        run_list::<S>(data, cfg, spec, indices, progress, threads)
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

/// What a [`Registry`] refuses at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Two strategies under one name.
    #[error("strategy '{name}' is registered twice")]
    Duplicate {
        /// The name.
        name: String,
    },
    /// A name the CLI and the API could not carry unambiguously.
    #[error("strategy name '{name}' is not kebab-case (lowercase letters and digits in words joined by single '-', starting with a letter, at most 64 characters, e.g. 'rsi-dip')")]
    NotKebabCase {
        /// The name.
        name: String,
    },
    /// A parameter declaration that cannot work.
    #[error("strategy '{strategy}': {reason}")]
    BadParams {
        /// The strategy.
        strategy: String,
        /// What is wrong.
        reason: String,
    },
}

/// Whether `name` is kebab-case: `[a-z][a-z0-9]*(-[a-z0-9]+)*`, ≤ 64 bytes.
#[must_use]
pub fn is_kebab_case(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// A registered strategy, shared by whoever runs it.
pub type StrategyRef = Arc<dyn StrategyEntry>;

struct Registered {
    info: StrategyInfo,
    entry: StrategyRef,
}

/// The strategies a process can run, built once at start-up and handed to
/// the run service, the server, the CLI and the workers — never a global,
/// so a user's binary runs its own strategies beside the built-ins:
///
/// ```
/// # use atf_engine::registry::Registry;
/// # use atf_engine::strategies::SmaCross;
/// let registry = Registry::empty().with::<SmaCross>();
/// assert!(registry.check().is_ok());
/// assert_eq!(registry.find("sma-cross").unwrap().info().name, "sma-cross");
/// // registering a name twice is refused at start-up, not at first use
/// assert!(Registry::builtin().with::<SmaCross>().check().is_err());
/// ```
#[derive(Default)]
pub struct Registry {
    entries: Vec<Registered>,
    problems: Vec<RegistryError>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| e.info.name))
            .finish()
    }
}

impl Registry {
    /// No strategies.
    #[must_use]
    pub fn empty() -> Self {
        Self::default()
    }

    /// The built-in strategies: `sma-cross`, `ema-cross`, `rsi-reversion`,
    /// `bollinger-reversion`, `donchian-breakout`.
    #[must_use]
    pub fn builtin() -> Self {
        Self::empty()
            .with::<SmaCross>()
            .with::<EmaCross>()
            .with::<RsiReversion>()
            .with::<BollingerReversion>()
            .with::<DonchianBreakout>()
    }

    /// This registry and `S`. A duplicate or malformed name is recorded
    /// and reported by [`Registry::check`] (the entry point runs it before
    /// anything else), so the one-line `main` of a user's crate stays one
    /// line.
    #[must_use]
    pub fn with<S: Strategy>(mut self) -> Self {
        let info = Entry::<S>(PhantomData).info();
        if !is_kebab_case(info.name) {
            self.problems.push(RegistryError::NotKebabCase {
                name: info.name.to_owned(),
            });
        }
        if self.entries.iter().any(|e| e.info.name == info.name) {
            self.problems.push(RegistryError::Duplicate {
                name: info.name.to_owned(),
            });
        }
        if let Err(reason) = check_space(&info.params) {
            self.problems.push(RegistryError::BadParams {
                strategy: info.name.to_owned(),
                reason,
            });
        }
        self.entries.push(Registered {
            info,
            entry: Arc::new(Entry::<S>(PhantomData)),
        });
        self
    }

    /// The first problem found while registering, if any.
    ///
    /// # Errors
    /// [`RegistryError`]: a name registered twice, a name that is not
    /// kebab-case, a parameter declaration that cannot work.
    pub fn check(&self) -> Result<(), RegistryError> {
        self.problems.first().map_or(Ok(()), |p| Err(p.clone()))
    }

    /// Looks a strategy up by name.
    ///
    /// # Errors
    /// [`UnknownStrategy`] listing the available names.
    pub fn find(&self, name: &str) -> Result<StrategyRef, UnknownStrategy> {
        self.entries
            .iter()
            .find(|e| e.info.name == name)
            .map(|e| Arc::clone(&e.entry))
            .ok_or_else(|| UnknownStrategy {
                name: name.to_owned(),
                available: self.names().collect::<Vec<_>>().join(", "),
            })
    }

    /// Every strategy's description, in registration order.
    pub fn infos(&self) -> impl Iterator<Item = &StrategyInfo> {
        self.entries.iter().map(|e| &e.info)
    }

    /// Every strategy's name, in registration order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.entries.iter().map(|e| e.info.name)
    }

    /// Number of strategies.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it has no strategies.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Parameter names unique and snake/kebab-safe, defaults within bounds.
fn check_space(space: &ParamSpace) -> Result<(), String> {
    for (i, p) in space.0.iter().enumerate() {
        let ok_name = !p.name.is_empty()
            && p.name.len() <= 64
            && p.name.starts_with(|c: char| c.is_ascii_alphabetic())
            && p.name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok_name {
            return Err(format!(
                "parameter name '{}' must be letters, digits and '_', starting with a letter",
                p.name
            ));
        }
        if space.0[..i].iter().any(|q| q.name == p.name) {
            return Err(format!("parameter '{}' is declared twice", p.name));
        }
        if let Err(e) = p.check(&p.default_value()) {
            return Err(format!("the default of {e}"));
        }
    }
    Ok(())
}

/// An unknown strategy name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown strategy '{name}' (available: {available})")]
pub struct UnknownStrategy {
    /// Given name.
    pub name: String,
    /// Registered names, comma separated.
    pub available: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::Indicators;
    use crate::params::{ParamError, ParamKind, ParamSpace, ParamSpec, Params};
    use crate::strategies::{FaultInjection, SmaCross};
    use crate::strategy::{Ctx, StrategyError};

    /// A strategy whose name and declared parameters the test chooses.
    struct Named<const N: usize>;

    struct NoParams;

    impl StrategyParams for NoParams {
        fn space() -> ParamSpace {
            ParamSpace(Vec::new())
        }
        fn from_params(_: &Params) -> Result<Self, ParamError> {
            Ok(Self)
        }
    }

    struct BadDefault;

    impl StrategyParams for BadDefault {
        fn space() -> ParamSpace {
            ParamSpace(vec![ParamSpec {
                name: "period",
                description: "",
                kind: ParamKind::Int {
                    default: 0,
                    min: 1,
                    max: 10,
                    step: 1,
                },
            }])
        }
        fn from_params(_: &Params) -> Result<Self, ParamError> {
            Ok(Self)
        }
    }

    macro_rules! named {
        ($n:literal, $name:literal, $params:ty) => {
            impl Strategy for Named<$n> {
                const NAME: &'static str = $name;
                type Params = $params;
                fn new(_: $params, _: &Indicators<'_>) -> Result<Self, ParamError> {
                    Ok(Self)
                }
                fn on_bar(&mut self, _: &mut Ctx<'_>) -> Result<(), StrategyError> {
                    Ok(())
                }
            }
        };
    }
    named!(0, "My_Idea", NoParams);
    named!(1, "rsi-dip-2", NoParams);
    named!(2, "bad-default", BadDefault);
    named!(3, "-dash", NoParams);

    #[test]
    fn builtins_exclude_the_test_strategy() {
        let r = Registry::builtin();
        assert!(r.check().is_ok());
        assert_eq!(
            r.names().collect::<Vec<_>>(),
            [
                "sma-cross",
                "ema-cross",
                "rsi-reversion",
                "bollinger-reversion",
                "donchian-breakout"
            ]
        );
        let unknown = r.find("fault-injection").unwrap_err();
        assert!(unknown
            .to_string()
            .contains("available: sma-cross, ema-cross"));
        let with = Registry::builtin().with::<FaultInjection>();
        assert!(with.find("fault-injection").is_ok());
    }

    #[test]
    fn bad_registrations_are_refused_at_start_up() {
        let dup = Registry::builtin().with::<SmaCross>().check().unwrap_err();
        assert_eq!(dup.to_string(), "strategy 'sma-cross' is registered twice");
        let case = Registry::empty().with::<Named<0>>().check().unwrap_err();
        assert!(matches!(case, RegistryError::NotKebabCase { .. }), "{case}");
        assert!(Registry::empty().with::<Named<3>>().check().is_err());
        assert!(Registry::empty().with::<Named<1>>().check().is_ok());
        let bad = Registry::empty().with::<Named<2>>().check().unwrap_err();
        assert!(
            bad.to_string()
                .contains("'bad-default': the default of parameter 'period'"),
            "{bad}"
        );
    }

    #[test]
    fn kebab_case() {
        for ok in ["a", "sma-cross", "rsi2-dip", "x-1-y"] {
            assert!(is_kebab_case(ok), "{ok}");
        }
        for bad in [
            "",
            "Sma",
            "sma_cross",
            "sma--cross",
            "sma-",
            "1sma",
            "sma cross",
        ] {
            assert!(!is_kebab_case(bad), "{bad}");
        }
        assert!(!is_kebab_case(&"a".repeat(65)));
    }
}
