//! The bodies of `POST /api/backtests` and `POST /api/optimizations` (the
//! names the dashboard, the CLI's server mode and the tests use), and their
//! strategy-dependent parts turned into engine types, each refusal naming
//! its field.
//!
//! Numbers arrive as JSON numbers and are read from their decimal text, so
//! `0.1` is exactly 0.1 % — never a binary float rounded twice.

use crate::settings::{CostSettings, FieldError};
use atf_engine::grid::{Axis, Constraint};
use atf_engine::optimize::search::SearchMethod;
use atf_engine::optimize::Fitness;
use atf_engine::{ParamSpace, Params};
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};
use std::collections::BTreeMap;

/// Initial cash when a request gives none (the CLI's `--cash` default too).
pub const DEFAULT_CASH: &str = "10000";
/// Commission in percent of notional when a request gives none.
pub const DEFAULT_COMMISSION_PCT: &str = "0";
/// Fixed commission per order when a request gives none.
pub const DEFAULT_COMMISSION_FIXED: &str = "0";
/// Slippage in ticks when a request gives none.
pub const DEFAULT_SLIPPAGE_TICKS: i64 = 0;
/// Order size in percent of equity when a request gives neither `sizePct`
/// nor `sizeQty` (all-in).
pub const DEFAULT_SIZE_PCT: &str = "100";

/// Costs, cash and sizing of a request; absent fields take the defaults
/// above ([`DEFAULT_CASH`] cash, no costs, all-in), which the CLI's flags
/// show and use as theirs.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostFields {
    /// Initial cash.
    pub cash: Option<Number>,
    /// Commission, % of notional.
    pub commission_pct: Option<Number>,
    /// Fixed commission per order.
    pub commission_fixed: Option<Number>,
    /// Slippage in ticks.
    pub slippage_ticks: Option<i64>,
    /// Order size, % of equity.
    pub size_pct: Option<Number>,
    /// Fixed order quantity (instead of `sizePct`).
    pub size_qty: Option<Number>,
}

/// Owned decimal texts of [`CostFields`], with defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostTexts {
    cash: String,
    commission_pct: String,
    commission_fixed: String,
    slippage_ticks: i64,
    size_pct: String,
    size_qty: Option<String>,
}

impl CostFields {
    /// The decimal texts, defaults filled in.
    #[must_use]
    pub fn texts(&self) -> CostTexts {
        let text = |n: &Option<Number>, default: &str| {
            n.as_ref().map_or_else(|| default.to_owned(), decimal_text)
        };
        CostTexts {
            cash: text(&self.cash, DEFAULT_CASH),
            commission_pct: text(&self.commission_pct, DEFAULT_COMMISSION_PCT),
            commission_fixed: text(&self.commission_fixed, DEFAULT_COMMISSION_FIXED),
            slippage_ticks: self.slippage_ticks.unwrap_or(DEFAULT_SLIPPAGE_TICKS),
            size_pct: text(&self.size_pct, DEFAULT_SIZE_PCT),
            size_qty: self.size_qty.as_ref().map(decimal_text),
        }
    }
}

impl CostTexts {
    /// Borrowed view for [`crate::settings::engine_config`].
    #[must_use]
    pub fn settings(&self) -> CostSettings<'_> {
        CostSettings {
            cash: &self.cash,
            commission_pct: &self.commission_pct,
            commission_fixed: &self.commission_fixed,
            slippage_ticks: self.slippage_ticks,
            size_pct: &self.size_pct,
            size_qty: self.size_qty.as_deref(),
        }
    }
}

/// A dataset's name, or its catalog id as a JSON number (read as its text,
/// which the catalog looks up as an id).
fn name_or_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match DatasetNameOrId::deserialize(d)
        .map_err(|_| serde::de::Error::custom("expected a dataset name (string) or id (integer)"))?
    {
        DatasetNameOrId::Id(id) => Ok(id.to_string()),
        DatasetNameOrId::Name(name) => Ok(name),
    }
}

/// How a request names its dataset (read by `name_or_id`; with the
/// `openapi` feature, also the field's schema).
#[derive(Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DatasetNameOrId {
    /// The id, as `GET /api/datasets` hands it out.
    Id(i64),
    /// The name (`spy-1m`), or the id as text.
    Name(String),
}

/// What both kinds of request name: the strategy, the data, the period,
/// fixed parameter values, costs. Unknown fields are refused (a misspelt
/// `comissionPct` must not silently mean 0).
///
/// With the `openapi` feature its field docs and bounds are the request
/// schemas of the OpenAPI document (`request_schema.rs`): a bound
/// written here must be one the server enforces, and one it enforces
/// whatever the strategy and data (those checks are described in prose).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunTarget {
    /// Strategy name (see `GET /api/strategies`).
    #[cfg_attr(feature = "openapi", schema(example = "sma-cross"))]
    pub strategy: String,
    /// Dataset name or id (see `GET /api/datasets`): `"spy-1m"`, or the id
    /// as that list hands it out, `1` (or `"1"`).
    #[serde(deserialize_with = "name_or_id")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = DatasetNameOrId, example = "spy-1m")
    )]
    pub dataset: String,
    /// Main timeframe (default: the dataset's): a whole number and a unit,
    /// `s`, `m`, `h`, `d` or `w` (`15m`, `1h`), a whole multiple of the
    /// dataset's timeframe.
    #[cfg_attr(feature = "openapi", schema(example = "1h"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeframe: Option<String>,
    /// First day or instant (default: the dataset's start): `2011-01-10`,
    /// an ISO instant (`2011-01-10T14:30:00Z`), `YYYY-MM-DD HH:MM[:SS]`
    /// (UTC), or epoch seconds / milliseconds.
    #[cfg_attr(feature = "openapi", schema(example = "2011-01-10"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Last day or instant, included (default: the dataset's end); a bare
    /// date means through that day. Written like `from`; the period must
    /// hold some of the dataset's bars.
    #[cfg_attr(feature = "openapi", schema(example = "2011-03-31"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Main bars (at the run's timeframe) before `from` that the strategy
    /// warms up on (default 0, at most 100000): its indicators are computed
    /// over them and it is called on them, but orders it places there are
    /// dropped and nothing is filled or recorded before `from`, where the
    /// account starts with `cash`. As many as the data has (the result's
    /// `warmupBars` says how many were used); none before the dataset's
    /// first bar, never one from after `from`.
    #[serde(default, deserialize_with = "whole")]
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 0, maximum = 100_000, example = 0)
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup_bars: Option<u32>,
    /// Parameter values by name (default: the strategy's), each within the
    /// range the strategy declares. For an optimization, the parameters
    /// that are not axes.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = BTreeMap<String, crate::request_schema::ParamValue>,
            example = json!({"fast": 10, "slow": 30}))
    )]
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Value>,
    /// Initial cash (default 10000), with at most the dataset's money
    /// decimals.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<f64>, exclusive_minimum = 0, example = 10000)
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cash: Option<Number>,
    /// Commission, % of each fill's notional (default 0), at most 7
    /// decimals.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<f64>, minimum = 0, exclusive_maximum = 10, example = 0.1)
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commission_pct: Option<Number>,
    /// Fixed commission per order (default 0), with at most the dataset's
    /// money decimals.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<f64>, minimum = 0, example = 0)
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commission_fixed: Option<Number>,
    /// Slippage in ticks against the trader on market and stop fills
    /// (default 0).
    #[serde(default, deserialize_with = "whole")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, example = 0))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slippage_ticks: Option<i64>,
    /// Order size, % of equity (default 100), at most 7 decimals; checked
    /// even when `sizeQty` is given.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<f64>, exclusive_minimum = 0, maximum = 100, example = 100)
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_pct: Option<Number>,
    /// Fixed order quantity, a whole number of units (instead of
    /// `sizePct`, which it overrides; quantities have no decimals through
    /// the API).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<i64>, exclusive_minimum = 0, example = 5)
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_qty: Option<Number>,
}

impl RunTarget {
    /// Its costs, cash and sizing.
    #[must_use]
    pub fn costs(&self) -> CostFields {
        CostFields {
            cash: self.cash.clone(),
            commission_pct: self.commission_pct.clone(),
            commission_fixed: self.commission_fixed.clone(),
            slippage_ticks: self.slippage_ticks,
            size_pct: self.size_pct.clone(),
            size_qty: self.size_qty.clone(),
        }
    }
}

/// `POST /api/backtests` (written as the body it is read from).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct BacktestRequest {
    /// Strategy, data, period, parameters, costs.
    pub run: RunTarget,
}

impl BacktestRequest {
    /// Reads a request body, a refusal naming the field at fault.
    ///
    /// # Errors
    /// [`FieldError`] for a missing, unknown or mistyped field.
    pub fn from_json(body: &Value) -> Result<Self, FieldError> {
        Ok(Self {
            run: read(body, "")?,
        })
    }
}

/// The optimization-only fields of [`OptimizationRequest`] (see there).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct GridFields {
    /// The grid: parameter → axis (combination order follows the names'
    /// sorted order). At least one; an axis may not also be in `params`;
    /// every combination counts against the server's `--max-combinations`.
    #[cfg_attr(
        feature = "openapi",
        schema(example = json!({"fast": {"min": 5, "max": 50, "step": 5}, "slow": [20, 30, 40]}))
    )]
    pub(crate) axes: BTreeMap<String, AxisSpec>,
    /// Relations between two parameters that skip combinations:
    /// `"fast < slow"` (also `<=`, `>`, `>=`, `!=`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = json!(["fast < slow"])))]
    pub(crate) constraints: Vec<String>,
    /// Fitness to rank by (default `sharpe`).
    #[cfg_attr(feature = "openapi", schema(example = "sharpe"))]
    pub(crate) maximize: Option<String>,
    /// Best trials kept in full, as backtests with their equity curve and
    /// trades (default 20).
    #[serde(default, deserialize_with = "whole")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000, example = 20))]
    pub(crate) top: Option<usize>,
    /// How combinations are picked (default `grid`: every one, within the
    /// server's `--max-combinations`); `random` and `genetic` search the
    /// axes' space — up to 2^53 combinations — within `budget` trials.
    #[serde(default)]
    pub(crate) method: Option<Method>,
    /// Trials a search evaluates (required by `random` and `genetic`,
    /// refused for `grid`); constraint-skipped combinations do not count.
    /// At most the server's `--max-combinations` too.
    #[serde(default, deserialize_with = "whole")]
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 1, maximum = 1000000, example = 20000)
    )]
    pub(crate) budget: Option<u64>,
    /// Seed of a search's generator, 0 to 2^53 − 1 (default: one chosen at
    /// random and reported in the result); the same seed repeats the same
    /// search.
    #[serde(default, deserialize_with = "whole")]
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 0, maximum = 9007199254740991_u64, example = 42)
    )]
    pub(crate) seed: Option<u64>,
}

const GRID_KEYS: [&str; 7] = [
    "axes",
    "constraints",
    "maximize",
    "top",
    "method",
    "budget",
    "seed",
];

/// How an optimization picks its combinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Method {
    /// Every combination of the grid.
    #[default]
    Grid,
    /// A seeded sample of the combinations, without repeats.
    Random,
    /// Generations bred from the best trials so far.
    Genetic,
}

impl Method {
    /// The search it asks for (`None`: the whole grid).
    #[must_use]
    pub fn search(self) -> Option<SearchMethod> {
        match self {
            Self::Grid => None,
            Self::Random => Some(SearchMethod::Random),
            Self::Genetic => Some(SearchMethod::Genetic),
        }
    }
}

/// Deserializes `T` from `v`, naming the field of any refusal (`cash`,
/// `params.fast`, `axes.slow.step`).
pub(crate) fn read<T: serde::de::DeserializeOwned>(
    v: &Value,
    prefix: &str,
) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        let quoted = |head: &str| {
            msg.strip_prefix(head)
                .and_then(|r| r.split('`').next())
                .map(str::to_owned)
        };
        if let Some(name) = quoted("missing field `") {
            return FieldError::new(format!("{prefix}{name}"), "required");
        }
        if let Some(name) = quoted("unknown field `") {
            return FieldError::new(format!("{prefix}{name}"), "unknown field");
        }
        let field = if path == "." {
            "body".to_owned()
        } else {
            format!("{prefix}{path}")
        };
        FieldError::new(field, msg)
    })
}

/// Some fields of a JSON object.
pub(crate) type Fields = serde_json::Map<String, Value>;

/// A flat request body split in two: the fields named in `keys` and the
/// rest, so that each part is read by its own type and an unknown field is
/// refused by the part that should have known it.
///
/// # Errors
/// `body` when it is not a JSON object.
pub(crate) fn split_fields(body: &Value, keys: &[&str]) -> Result<(Fields, Fields), FieldError> {
    let Value::Object(all) = body else {
        return Err(FieldError::new("body", "expected a JSON object"));
    };
    Ok(all
        .clone()
        .into_iter()
        .partition(|(k, _)| keys.contains(&k.as_str())))
}

impl OptimizationRequest {
    /// Reads a request body, a refusal naming the field at fault.
    ///
    /// # Errors
    /// [`FieldError`] for a missing, unknown or mistyped field.
    pub fn from_json(body: &Value) -> Result<Self, FieldError> {
        let (grid, rest) = split_fields(body, &GRID_KEYS)?;
        let g: GridFields = read(&Value::Object(grid), "")?;
        Ok(Self {
            axes: g.axes,
            constraints: g.constraints,
            maximize: g.maximize,
            top: g.top,
            method: g.method,
            budget: g.budget,
            seed: g.seed,
            run: read(&Value::Object(rest), "")?,
        })
    }
}

/// One optimization axis: a range or a list of values, within the range
/// the strategy declares for the parameter. Unknown fields of a range are
/// refused, like the body's. (Its OpenAPI schema is written out in
/// `request_schema.rs`: a derive cannot type the list's values.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum AxisSpec {
    /// `{"min": 5, "max": 50, "step": 5}`.
    Range {
        /// First value.
        min: Number,
        /// Last value (included when the steps reach it).
        max: Number,
        /// Step (> 0).
        step: Number,
    },
    /// `[20, 30, 40]` or `[true, false]` or `["a", "b"]`.
    List(Vec<Value>),
}

/// `POST /api/optimizations` (written as the flat body it is read from).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OptimizationRequest {
    /// The grid: parameter → axis (combination order follows the names'
    /// sorted order).
    pub axes: BTreeMap<String, AxisSpec>,
    /// Relations that skip combinations (`"fast < slow"`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<String>,
    /// Fitness to rank by (default `sharpe`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximize: Option<String>,
    /// Best trials kept in full (default 20).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<usize>,
    /// Grid (default), or a search: `random`, `genetic`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    /// Trials a search evaluates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<u64>,
    /// Seed of a search's generator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Strategy, data, period, fixed parameters, costs.
    #[serde(flatten)]
    pub run: RunTarget,
}

/// An optional whole number, written as JSON Schema's `integer` allows:
/// `20` or `20.0` (a number whose fraction is zero), never `20.5`, a
/// string, or a value out of `T`'s range. (serde alone refuses `20.0` for an
/// integer field, which the OpenAPI document says is one.)
fn whole<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i128>,
{
    use serde::de::{Error, Unexpected};
    let Some(n) = Option::<Number>::deserialize(d)? else {
        return Ok(None);
    };
    let text = decimal_text(&n);
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    frac.bytes()
        .all(|b| b == b'0')
        .then(|| int.parse::<i128>().ok())
        .flatten()
        .and_then(|v| T::try_from(v).ok())
        .map(Some)
        .ok_or_else(|| {
            D::Error::invalid_value(Unexpected::Other(&text), &"a whole number in range")
        })
}

/// The decimal text of a JSON number, never in exponent form: serde_json
/// writes floats below 1e-5 or from 1e16 on as `1e-7` / `1e+21`, which the
/// exact decimal parsers refuse as not a number although it is one. This
/// moves the point within the same digits instead (no float arithmetic), so
/// `1e-7` reads as `0.0000001` and `1e+21` as `1000000000000000000000`.
#[must_use]
pub fn decimal_text(n: &Number) -> String {
    let text = n.to_string();
    let Some((mantissa, exp)) = text.split_once(['e', 'E']) else {
        return text;
    };
    let Ok(exp) = exp.parse::<i64>() else {
        return text;
    };
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let Ok(point) = i64::try_from(int.len()).map(|p| p + exp) else {
        return text;
    };
    let len = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    let zeros = |n: i64| "0".repeat(usize::try_from(n).unwrap_or(0));
    let plain = if point <= 0 {
        format!("0.{}{digits}", zeros(-point))
    } else if point >= len {
        format!("{digits}{}", zeros(point - len))
    } else {
        let (a, b) = digits.split_at(usize::try_from(point).unwrap_or(0));
        format!("{a}.{b}")
    };
    format!("{sign}{plain}")
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(decimal_text(n)),
        Value::Bool(b) => Some(b.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// The strategy's defaults with `params` applied and checked.
///
/// # Errors
/// `params.<name>`: unknown parameter, wrong type or out of range.
pub fn resolve_params(
    space: &ParamSpace,
    params: &BTreeMap<String, Value>,
) -> Result<Params, FieldError> {
    let mut texts = Vec::with_capacity(params.len());
    for (name, v) in params {
        let text = value_text(v).ok_or_else(|| {
            FieldError::new(
                format!("params.{name}"),
                "expected a number, a boolean or a string",
            )
        })?;
        texts.push((name.as_str(), text));
    }
    // each value checked alone first, so a refusal names its parameter
    for (name, text) in &texts {
        space
            .resolve([(*name, text.as_str())])
            .map_err(|e| FieldError::new(format!("params.{name}"), e.to_string()))?;
    }
    space
        .resolve(texts.iter().map(|(n, t)| (*n, t.as_str())))
        .map_err(|e| FieldError::new("params", e.to_string()))
}

/// The axes of a request, in order, each checked against the strategy;
/// an axis may not also be fixed in `params`.
///
/// # Errors
/// `axes.<name>`: bad range or values; `axes`: none given.
pub fn parse_axes(
    space: &ParamSpace,
    axes: &BTreeMap<String, AxisSpec>,
    fixed: &BTreeMap<String, Value>,
) -> Result<Vec<Axis>, FieldError> {
    if axes.is_empty() {
        return Err(FieldError::new("axes", "give at least one axis"));
    }
    axes.iter()
        .map(|(name, spec)| {
            let field = format!("axes.{name}");
            if fixed.contains_key(name) {
                return Err(FieldError::new(
                    field,
                    "also given in params; give it one or the other",
                ));
            }
            let text = match spec {
                AxisSpec::Range { min, max, step } => format!(
                    "{name}={}..{}:{}",
                    decimal_text(min),
                    decimal_text(max),
                    decimal_text(step)
                ),
                AxisSpec::List(values) => {
                    let texts = values
                        .iter()
                        .map(value_text)
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| {
                            FieldError::new(
                                field.clone(),
                                "values must be numbers, booleans or strings",
                            )
                        })?;
                    format!("{name}={}", texts.join(","))
                }
            };
            Axis::parse(&text, space).map_err(|e| FieldError::new(field, e.to_string()))
        })
        .collect()
}

/// The constraints, checked against the strategy.
///
/// # Errors
/// `constraints[i]`: bad syntax or parameter.
pub fn parse_constraints(
    space: &ParamSpace,
    texts: &[String],
) -> Result<Vec<Constraint>, FieldError> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            Constraint::parse(t, space)
                .map_err(|e| FieldError::new(format!("constraints[{i}]"), e.to_string()))
        })
        .collect()
}

/// The spellings of each fitness a request may use: its name
/// (`net-profit`), camelCase (`netProfit`, as JSON fields are) and
/// snake_case (`net_profit`), each once, in [`Fitness::ALL`] order. Exactly
/// these, so the OpenAPI document can list them (the CLI's flag is more
/// forgiving: it parses with [`Fitness`]'s `FromStr`).
#[must_use]
pub fn fitness_spellings() -> Vec<(String, Fitness)> {
    let mut out: Vec<(String, Fitness)> = Vec::new();
    for f in Fitness::ALL {
        let kebab = f.name();
        let mut camel = String::with_capacity(kebab.len());
        let mut upper = false;
        for c in kebab.chars() {
            if c == '-' {
                upper = true;
            } else if upper {
                camel.push(c.to_ascii_uppercase());
                upper = false;
            } else {
                camel.push(c);
            }
        }
        for text in [kebab.to_owned(), camel, kebab.replace('-', "_")] {
            if !out.iter().any(|(t, _)| *t == text) {
                out.push((text, f));
            }
        }
    }
    out
}

/// The fitness (default sharpe), spelled as [`fitness_spellings`] allows.
///
/// # Errors
/// `maximize`: unknown name.
pub fn parse_fitness(text: Option<&str>) -> Result<Fitness, FieldError> {
    let Some(text) = text else {
        return Ok(Fitness::Sharpe);
    };
    fitness_spellings()
        .into_iter()
        .find_map(|(t, f)| (t == text).then_some(f))
        .ok_or_else(|| {
            let names: Vec<&str> = Fitness::ALL.iter().map(|f| f.name()).collect();
            FieldError::new(
                "maximize",
                format!(
                    "unknown fitness '{text}' ({}; camelCase or snake_case alike)",
                    names.join(", ")
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> ParamSpace {
        atf_engine::Registry::builtin()
            .find("sma-cross")
            .unwrap()
            .info()
            .params
    }

    /// A request written by a client (the CLI's `--server` mode) reads
    /// back as the same request: the body is the type.
    #[test]
    fn requests_round_trip_through_their_json_body() {
        let b = BacktestRequest::from_json(&serde_json::json!({
            "strategy": "sma-cross", "dataset": 1, "timeframe": "1h", "from": "2011-01-10",
            "params": {"fast": 10, "long_only": false}, "cash": 10000, "commissionPct": 0.1,
            "slippageTicks": 1, "sizeQty": 5
        }))
        .unwrap();
        let body = serde_json::to_value(&b).unwrap();
        assert_eq!(body["dataset"], "1");
        assert!(body.get("to").is_none(), "absent stays absent: {body}");
        assert_eq!(BacktestRequest::from_json(&body).unwrap(), b);
        let o = OptimizationRequest::from_json(&serde_json::json!({
            "strategy": "sma-cross", "dataset": "spy-1m",
            "axes": {"fast": {"min": 5, "max": 50, "step": 5}, "long_only": [true, false]},
            "constraints": ["fast < slow"], "maximize": "net-profit", "top": 3, "cash": 5000,
            "method": "random", "budget": 50, "seed": 18446744073709551615u64
        }))
        .unwrap();
        let body = serde_json::to_value(&o).unwrap();
        assert_eq!(body["axes"]["fast"]["step"], 5);
        assert_eq!(
            (body["method"].as_str(), o.seed),
            (Some("random"), Some(u64::MAX))
        );
        assert_eq!(OptimizationRequest::from_json(&body).unwrap(), o);
    }

    #[test]
    fn a_dataset_is_named_or_given_by_its_numeric_id() {
        let read = |v: serde_json::Value| BacktestRequest::from_json(&v).map(|b| b.run.dataset);
        assert_eq!(
            read(serde_json::json!({"strategy": "s", "dataset": 1})).unwrap(),
            "1"
        );
        assert_eq!(
            read(serde_json::json!({"strategy": "s", "dataset": "1"})).unwrap(),
            "1"
        );
        assert_eq!(
            read(serde_json::json!({"strategy": "s", "dataset": "spy-1m"})).unwrap(),
            "spy-1m"
        );
        for bad in [
            serde_json::json!(1.5),
            serde_json::json!(true),
            serde_json::json!([1]),
        ] {
            let e = read(serde_json::json!({"strategy": "s", "dataset": bad})).unwrap_err();
            assert_eq!(e.field, "dataset", "{e}");
            assert!(e.reason.contains("name (string) or id (integer)"), "{e}");
        }
    }

    #[test]
    fn the_issue_bodies_parse() {
        let b = BacktestRequest::from_json(&serde_json::from_str(
            r#"{"strategy":"sma-cross","dataset":"spy-1m","timeframe":"1h","from":"2024-01-01","to":"2024-03-31","params":{"fast":10,"slow":30},"cash":10000,"commissionPct":0.1,"slippageTicks":0,"sizePct":100}"#,
        ).unwrap())
        .unwrap();
        let p = resolve_params(&space(), &b.run.params).unwrap();
        assert_eq!(
            (p.int("fast"), p.int("slow"), p.bool("long_only")),
            (10, 30, true)
        );
        let texts = b.run.costs().texts();
        assert_eq!(texts.settings().commission_pct, "0.1");
        assert_eq!(texts.settings().cash, "10000");

        let o = OptimizationRequest::from_json(&serde_json::from_str(
            r#"{"strategy":"sma-cross","dataset":"spy-1m","axes":{"fast":{"min":5,"max":50,"step":5},"slow":[20,30,40]},"constraints":["fast < slow"],"maximize":"sharpe","top":20}"#,
        ).unwrap())
        .unwrap();
        let axes = parse_axes(&space(), &o.axes, &o.run.params).unwrap();
        assert_eq!((axes[0].values.len(), axes[1].values.len()), (10, 3));
        assert_eq!(
            parse_constraints(&space(), &o.constraints).unwrap().len(),
            1
        );
        assert_eq!(
            parse_fitness(o.maximize.as_deref()).unwrap(),
            Fitness::Sharpe
        );
    }

    #[test]
    fn mistyped_missing_and_unknown_fields_are_named() {
        let bt = |j: &str| {
            BacktestRequest::from_json(&serde_json::from_str(j).unwrap())
                .unwrap_err()
                .field
        };
        assert_eq!(
            bt(r#"{"strategy":"s","dataset":"d","cash":"lots"}"#),
            "cash"
        );
        assert_eq!(bt(r#"{"strategy":5,"dataset":"d"}"#), "strategy");
        assert_eq!(bt(r#"{"dataset":"d"}"#), "strategy");
        assert_eq!(
            bt(r#"{"strategy":"s","dataset":"d","comissionPct":1}"#),
            "comissionPct"
        );
        assert_eq!(bt(r#"{"strategy":"s","dataset":"d","axes":{}}"#), "axes");
        assert_eq!(
            bt(r#"{"strategy":"s","dataset":"d","slippageTicks":1.5}"#),
            "slippageTicks"
        );
        let opt = |j: &str| {
            OptimizationRequest::from_json(&serde_json::from_str(j).unwrap())
                .unwrap_err()
                .field
        };
        assert_eq!(opt(r#"{"strategy":"s","dataset":"d"}"#), "axes");
        assert_eq!(
            opt(r#"{"strategy":"s","dataset":"d","axes":{},"top":"x"}"#),
            "top"
        );
        assert_eq!(
            opt(r#"{"strategy":"s","dataset":"d","axes":{},"cash":[]}"#),
            "cash"
        );
        assert_eq!(
            opt(r#"{"strategy":"s","dataset":"d","axes":{},"constraints":"a<b"}"#),
            "constraints"
        );
    }

    /// JSON numbers are read from their digits: exponent forms (which
    /// serde_json writes below 1e-5 and from 1e16 on) and whole numbers
    /// written with a fraction of zero, as JSON Schema's `integer` allows.
    #[test]
    fn numbers_are_read_from_their_digits() {
        let text = |j: &str| decimal_text(&serde_json::from_str(j).unwrap());
        for (json, plain) in [
            ("1e-7", "0.0000001"),
            ("1.5e-6", "0.0000015"),
            ("-2.5e-7", "-0.00000025"),
            ("1e21", "1000000000000000000000"),
            ("1.2345678901234568e+20", "123456789012345680000"),
            ("0.1", "0.1"),
            ("10000", "10000"),
            ("-0.0", "-0.0"),
        ] {
            assert_eq!(text(json), plain, "{json}");
        }
        let b = BacktestRequest::from_json(
            &serde_json::from_str(
                r#"{"strategy":"s","dataset":"d","commissionPct":1e-6,"slippageTicks":2.0}"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(b.run.slippage_ticks, Some(2));
        assert_eq!(b.run.costs().texts().settings().commission_pct, "0.000001");
        let o = OptimizationRequest::from_json(
            &serde_json::from_str(
                r#"{"strategy":"s","dataset":"d","axes":{"fast":[5]},"top":311.0}"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(o.top, Some(311));
        let opt = |j: &str| {
            OptimizationRequest::from_json(&serde_json::from_str(j).unwrap())
                .unwrap_err()
                .field
        };
        for top in ["20.5", "-1", "1e40", "\"20\""] {
            assert_eq!(
                opt(&format!(
                    r#"{{"strategy":"s","dataset":"d","axes":{{}},"top":{top}}}"#
                )),
                "top",
                "{top}"
            );
        }
    }

    #[test]
    fn refusals_name_their_field() {
        let body = |json: &str| -> BTreeMap<String, Value> { serde_json::from_str(json).unwrap() };
        let e = resolve_params(&space(), &body(r#"{"fast": 0}"#)).unwrap_err();
        assert_eq!(e.field, "params.fast");
        assert!(e.reason.contains("outside the allowed range"), "{e}");
        assert_eq!(
            resolve_params(&space(), &body(r#"{"nope": 1}"#))
                .unwrap_err()
                .field,
            "params.nope"
        );
        assert_eq!(
            resolve_params(&space(), &body(r#"{"fast": [1]}"#))
                .unwrap_err()
                .field,
            "params.fast"
        );

        let axes: BTreeMap<String, AxisSpec> =
            serde_json::from_str(r#"{"fast":{"min":5,"max":50,"step":0}}"#).unwrap();
        let e = parse_axes(&space(), &axes, &BTreeMap::new()).unwrap_err();
        assert_eq!(e.field, "axes.fast");
        assert!(e.reason.contains("step must be positive"), "{e}");
        let axes: BTreeMap<String, AxisSpec> = serde_json::from_str(r#"{"fast":[5,10]}"#).unwrap();
        assert_eq!(
            parse_axes(&space(), &axes, &body(r#"{"fast": 3}"#))
                .unwrap_err()
                .field,
            "axes.fast"
        );
        assert_eq!(
            parse_axes(&space(), &BTreeMap::new(), &BTreeMap::new())
                .unwrap_err()
                .field,
            "axes"
        );
        assert_eq!(
            parse_constraints(&space(), &["fast << slow".into()])
                .unwrap_err()
                .field,
            "constraints[0]"
        );
        assert_eq!(parse_fitness(Some("luck")).unwrap_err().field, "maximize");
        assert_eq!(
            parse_fitness(Some("netProfit")).unwrap(),
            Fitness::NetProfit
        );
    }
}
