//! Run keys: one deterministic name for "this computation".
//!
//! Two submissions with the same key would compute bit-identical results
//! (the engine is deterministic whatever the thread count), so the second
//! one is answered with the first run instead of starting another. The key
//! is a SHA-256 over a canonical description, [`RunSpec`], that names
//! everything a result depends on — including the strategy's version, the
//! engine's semantics version and the dataset's content checksum, so neither
//! re-imported data nor an upgrade that changes results can ever be served a
//! stale run — and a fingerprint of the build ([`crate::build`]), so neither
//! can changed strategy code.

use atf_engine::Params;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

/// Backtest, optimization or walk-forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RunKind {
    /// One parameter set.
    Backtest,
    /// Every combination of a grid.
    Optimization,
    /// A grid optimized fold by fold, each winner tested out of sample.
    WalkForward,
}

/// What a walk-forward's result depends on besides its grid: the folds'
/// windows (they follow from the period, the timeframe and the window
/// fields, so the key names the windows themselves) and the criteria.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalkForwardSpec {
    /// Rolling or anchored.
    pub mode: crate::walkforward::WindowMode,
    /// The folds, in order.
    pub windows: Vec<crate::walkforward::FoldWindow>,
    /// Pass/fail thresholds.
    pub criteria: crate::walkforward::Criteria,
}

/// Everything a run's result depends on, in canonical form (names sorted,
/// prices and money as the engine's raw integers, parameter values as their
/// canonical text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunSpec {
    /// Backtest or optimization.
    pub kind: RunKind,
    /// Strategy name.
    pub strategy: String,
    /// Strategy version (bumped when its results could change).
    pub strategy_version: String,
    /// [`atf_engine::ENGINE_VERSION`].
    pub engine_version: String,
    /// The build that runs it ([`crate::build::fingerprint`]): results
    /// follow the code even when nobody bumps a version (empty in runs
    /// stored before builds were fingerprinted).
    #[serde(default)]
    pub build: String,
    /// Dataset id in the catalog.
    pub dataset_id: i64,
    /// SHA-256 of the dataset's normalised bars.
    pub dataset_sha256: String,
    /// First bar included, ms (`None`: from the start).
    pub from_ms: Option<i64>,
    /// End of the period, exclusive, ms (`None`: to the end).
    pub to_ms: Option<i64>,
    /// Most main bars before `from_ms` the strategy warms up on (left out
    /// of the key's text when 0, so runs without warm-up keep the keys they
    /// had).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub warmup_bars: u32,
    /// Main timeframe.
    pub timeframe: String,
    /// Every parameter's value (for an optimization: the ones not on an axis).
    pub params: BTreeMap<String, String>,
    /// Optimization axes in order (the order decides combination indices):
    /// `[name, [value text, …]]` pairs.
    #[cfg_attr(feature = "openapi", schema(schema_with = axes_schema))]
    pub axes: Vec<(String, Vec<String>)>,
    /// Optimization constraints, canonical (`fast < slow`) and sorted.
    pub constraints: Vec<String>,
    /// Fitness an optimization ranks by.
    pub maximize: Option<String>,
    /// Best trials kept in full.
    pub top: Option<usize>,
    /// A search instead of the whole grid (absent for a grid, so a grid's
    /// key is what it was before searches existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchKey>,
    /// Initial cash, money raw.
    pub cash_raw: i64,
    /// Commission rate, `Ratio` raw (1e-9).
    pub commission_rate_raw: i64,
    /// Fixed commission per order, money raw.
    pub commission_fixed_raw: i64,
    /// Slippage in ticks.
    pub slippage_ticks: i64,
    /// `pct:<ratio raw>` or `qty:<qty raw>`.
    pub sizing: String,
    /// Quantity decimals.
    pub qty_decimals: u8,
    /// A walk-forward's windows and criteria (absent for the other kinds,
    /// whose keys it thus leaves unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub walk_forward: Option<WalkForwardSpec>,
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What decides a search's trials: its method, budget and seed, and the
/// generator that turns the seed into combinations
/// ([`atf_engine::optimize::search::GENERATOR`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchKey {
    /// `random` or `genetic`.
    pub method: atf_engine::optimize::search::SearchMethod,
    /// Trials to evaluate.
    pub budget: u64,
    /// The generator's seed.
    pub seed: u64,
    /// The generator and breeding rules' name.
    pub generator: String,
}

/// `[[name, [value, …]], …]`: each axis a pair of its name and its values'
/// canonical text.
#[cfg(feature = "openapi")]
fn axes_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let text = || ObjectBuilder::new().schema_type(Type::String);
    let pair = ArrayBuilder::new()
        .prefix_items([
            utoipa::openapi::schema::Schema::Object(text().build()),
            utoipa::openapi::schema::Schema::Array(ArrayBuilder::new().items(text()).build()),
        ])
        .min_items(Some(2))
        .max_items(Some(2));
    ArrayBuilder::new()
        .items(pair)
        .description(Some("Axes in order: `[name, [value text, …]]` pairs."))
        .build()
}

/// The canonical text of every parameter value of `params`.
#[must_use]
pub fn canonical_params(params: &Params) -> BTreeMap<String, String> {
    params
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_string()))
        .collect()
}

/// A run key: 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RunKey(String);

impl RunKey {
    /// The hex digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl RunKind {
    /// `backtest` / `optimization` / `walk-forward`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Backtest => "backtest",
            Self::Optimization => "optimization",
            Self::WalkForward => "walk-forward",
        }
    }
}

impl From<String> for RunKey {
    fn from(hex: String) -> Self {
        Self(hex)
    }
}

impl fmt::Display for RunKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl RunSpec {
    /// The key of this computation.
    #[must_use]
    pub fn key(&self) -> RunKey {
        let mut spec = self.clone();
        spec.constraints.sort();
        let json = serde_json::to_vec(&spec).unwrap_or_default();
        let digest = Sha256::new()
            .chain_update(b"atf-run-key-v1\n")
            .chain_update(&json)
            .finalize();
        RunKey(digest.iter().map(|b| format!("{b:02x}")).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atf_engine::optimize::search::{SearchMethod, GENERATOR};

    fn backtest() -> RunSpec {
        RunSpec {
            kind: RunKind::Backtest,
            strategy: "sma-cross".into(),
            strategy_version: "1.0.0".into(),
            engine_version: atf_engine::ENGINE_VERSION.into(),
            build: "0123".into(),
            dataset_id: 1,
            dataset_sha256: "ab".repeat(32),
            from_ms: None,
            to_ms: Some(1_700_000_000_000),
            warmup_bars: 0,
            timeframe: "1h".into(),
            params: [("fast", "10"), ("slow", "30")]
                .into_iter()
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .collect(),
            axes: Vec::new(),
            constraints: Vec::new(),
            maximize: None,
            top: None,
            search: None,
            cash_raw: 1_000_000,
            commission_rate_raw: 1_000_000,
            commission_fixed_raw: 0,
            slippage_ticks: 0,
            sizing: "pct:1000000000".into(),
            qty_decimals: 0,
            walk_forward: None,
        }
    }

    #[test]
    fn same_spec_same_key_and_every_field_counts() {
        let a = backtest();
        assert_eq!(a.key(), backtest().key());
        assert_eq!(a.key().as_str().len(), 64);
        let search = |method, budget, seed, generator: &str| {
            Some(SearchKey {
                method,
                budget,
                seed,
                generator: generator.into(),
            })
        };
        let mut searched = backtest();
        searched.search = search(SearchMethod::Random, 100, 1, GENERATOR);
        assert_ne!(a.key(), searched.key(), "a search is not the grid");
        for change in [
            search(SearchMethod::Genetic, 100, 1, GENERATOR),
            search(SearchMethod::Random, 101, 1, GENERATOR),
            search(SearchMethod::Random, 100, 2, GENERATOR),
            search(SearchMethod::Random, 100, 1, "another"),
        ] {
            let mut b = backtest();
            b.search = change;
            assert_ne!(searched.key(), b.key(), "{:?}", b.search);
        }
        let changes: [fn(&mut RunSpec); 21] = [
            |s| s.kind = RunKind::WalkForward,
            |s| {
                s.walk_forward = Some(WalkForwardSpec {
                    mode: crate::walkforward::WindowMode::Rolling,
                    windows: Vec::new(),
                    criteria: crate::walkforward::Criteria::default(),
                });
            },
            |s| {
                s.walk_forward = Some(WalkForwardSpec {
                    mode: crate::walkforward::WindowMode::Anchored,
                    windows: Vec::new(),
                    criteria: crate::walkforward::Criteria::default(),
                });
            },
            |s| s.build = "4567".into(),
            |s| s.kind = RunKind::Optimization,
            |s| s.strategy_version = "1.0.1".into(),
            |s| s.engine_version = "999".into(),
            |s| s.dataset_sha256 = "cd".repeat(32),
            |s| s.from_ms = Some(0),
            |s| s.warmup_bars = 60,
            |s| s.timeframe = "4h".into(),
            |s| {
                s.params.insert("fast".into(), "11".into());
            },
            |s| s.axes = vec![("fast".into(), vec!["5".into()])],
            |s| s.maximize = Some("sharpe".into()),
            |s| s.top = Some(5),
            |s| s.cash_raw += 1,
            |s| s.commission_rate_raw += 1,
            |s| s.commission_fixed_raw += 1,
            |s| s.slippage_ticks += 1,
            |s| s.sizing = "qty:1".into(),
            |s| s.qty_decimals = 3,
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut b = backtest();
            change(&mut b);
            assert_ne!(a.key(), b.key(), "change #{i} must change the key");
        }
    }

    /// Runs stored before walk-forwards existed keep their keys: the field
    /// is left out of the hashed text when absent.
    #[test]
    fn an_absent_walk_forward_leaves_the_key_text_unchanged() {
        let text = serde_json::to_string(&backtest()).unwrap();
        assert!(!text.contains("walkForward"), "{text}");
    }

    #[test]
    fn constraint_order_does_not_matter() {
        let mut a = backtest();
        a.constraints = vec!["fast < slow".into(), "fast != 7".into()];
        let mut b = backtest();
        b.constraints = vec!["fast != 7".into(), "fast < slow".into()];
        assert_eq!(a.key(), b.key());
    }
}
