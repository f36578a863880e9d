//! The run flags as the request the HTTP API receives
//! ([`atf_runs::request`]): a local `atf backtest` / `atf optimize` plans
//! exactly what `POST /api/backtests` / `/api/optimizations` would, so each
//! flag is defaulted, checked and refused as the API treats the field it
//! fills — one validation path (DESIGN §10).
//!
//! Only what the request's types cannot hold is refused here, as the API
//! refuses a body that does not deserialize: a cost that is not a number,
//! a `--param` without `=`, an `--axis` that is neither a range nor a list.
//! Those refusals name the request field too, so every refusal reaches the
//! user through the one field → flag table ([`crate::flags`]).

use crate::args::{BacktestArgs, OptimizeArgs, RunSettings};
use atf_engine::params::split_pair;
use atf_runs::request::{AxisSpec, BacktestRequest, Method, OptimizationRequest, RunTarget};
use atf_runs::FieldError;
use serde_json::{Number, Value};
use std::collections::BTreeMap;

/// `atf backtest`'s request.
///
/// # Errors
/// The field of a flag whose text the request cannot hold.
pub fn backtest(a: &BacktestArgs) -> Result<BacktestRequest, FieldError> {
    Ok(BacktestRequest {
        run: target(&a.strategy, &a.settings)?,
    })
}

/// `atf optimize`'s request. Axes are keyed by name as in the API's body,
/// so the planner orders them by name whatever the order of the `--axis`
/// flags (the same grid and combination indices as a `--server` run).
///
/// # Errors
/// As [`backtest`]; `axes.<name>` for an axis given twice.
pub fn optimization(a: &OptimizeArgs) -> Result<OptimizationRequest, FieldError> {
    let mut axes = BTreeMap::new();
    for text in &a.axes {
        let (name, spec) = axis(text)?;
        if axes.contains_key(&name) {
            return Err(FieldError::new(
                format!("axes.{name}"),
                format!("axis '{name}' given twice"),
            ));
        }
        axes.insert(name, spec);
    }
    Ok(OptimizationRequest {
        axes,
        constraints: a.constraints.clone(),
        maximize: Some(a.maximize.name().to_owned()),
        top: Some(usize::try_from(a.top).unwrap_or(usize::MAX)),
        method: (a.method != Method::Grid).then_some(a.method),
        budget: a.budget,
        seed: a.seed,
        run: target(&a.strategy, &a.settings)?,
    })
}

/// The quantity decimals a local run trades with: `--qty-decimals`, which
/// the API has no field for (it trades the dataset's whole units).
pub fn qty_decimals(s: &RunSettings) -> Option<u8> {
    (s.qty_decimals > 0).then_some(s.qty_decimals)
}

/// Strategy, data, period, parameters, costs.
fn target(strategy: &str, s: &RunSettings) -> Result<RunTarget, FieldError> {
    let mut params = BTreeMap::new();
    for p in &s.params {
        let (name, value) = split_pair(p).map_err(|e| FieldError::new("params", e.to_string()))?;
        params.insert(name.to_owned(), scalar(value));
    }
    let (size_pct, size_qty) = match &s.size_qty {
        Some(q) => (None, Some(number("sizeQty", q)?)),
        None => (Some(number("sizePct", &s.size_pct)?), None),
    };
    Ok(RunTarget {
        strategy: strategy.to_owned(),
        dataset: s.dataset.clone(),
        timeframe: s.timeframe.clone(),
        from: s.from.clone(),
        to: s.to.clone(),
        warmup_bars: s.warmup.as_deref().map(warmup).transpose()?,
        params,
        cash: Some(number("cash", &s.cash)?),
        commission_pct: Some(number("commissionPct", &s.commission_pct)?),
        commission_fixed: Some(number("commissionFixed", &s.commission_fixed)?),
        slippage_ticks: Some(s.slippage_ticks),
        size_pct,
        size_qty,
    })
}

/// A value as the API body would carry it: a boolean, a number whose JSON
/// text is the text itself (so the planner reads exactly what was typed),
/// else a string.
fn scalar(text: &str) -> Value {
    let t = text.trim();
    match t {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => match serde_json::from_str::<Number>(t) {
            Ok(n) if n.to_string() == t => Value::Number(n),
            _ => Value::String(t.to_owned()),
        },
    }
}

/// `--warmup N` as the body's `warmupBars`: a whole number (one beyond
/// `u32` reads as `u32::MAX`, which the planner refuses with its bound).
fn warmup(text: &str) -> Result<u32, FieldError> {
    text.trim()
        .parse::<u64>()
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        .map_err(|_| FieldError::new("warmupBars", format!("'{text}' is not a whole number")))
}

/// A number field (`cash`, `commissionPct`, …) from its flag's text.
fn number(field: &str, text: &str) -> Result<Number, FieldError> {
    serde_json::from_str::<Number>(text.trim())
        .map_err(|_| FieldError::new(field, format!("'{text}' is not a number")))
}

/// `--axis name=min..max:step` or `--axis name=a,b,c` as the body's
/// `axes.<name>` (the planner checks it against the strategy).
fn axis(text: &str) -> Result<(String, AxisSpec), FieldError> {
    let (name, spec) = text
        .split_once('=')
        .map(|(n, s)| (n.trim(), s))
        .filter(|(n, _)| !n.is_empty())
        .ok_or_else(|| {
            FieldError::new(
                "axes",
                format!("axis '{text}': expected name=min..max:step or name=a,b,c"),
            )
        })?;
    let bad =
        |why: String| FieldError::new(format!("axes.{name}"), format!("axis '{text}': {why}"));
    let spec = match spec.split_once("..") {
        Some((min, rest)) => {
            let (max, step) = rest
                .split_once(':')
                .ok_or_else(|| bad("a range needs a step: min..max:step".to_owned()))?;
            let num = |s: &str| {
                serde_json::from_str::<Number>(s.trim())
                    .map_err(|_| bad(format!("'{}' is not a number", s.trim())))
            };
            AxisSpec::Range {
                min: num(min)?,
                max: num(max)?,
                step: num(step)?,
            }
        }
        None => AxisSpec::List(spec.split(',').map(scalar).collect()),
    };
    Ok((name.to_owned(), spec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_text() {
        assert_eq!(scalar("10"), Value::from(10));
        assert_eq!(scalar("0.5"), serde_json::json!(0.5));
        assert_eq!(scalar("true"), Value::Bool(true));
        assert_eq!(scalar("panic"), Value::from("panic"));
        // not the same text as a JSON number: kept as typed
        assert_eq!(scalar("010"), Value::from("010"));
        assert_eq!(scalar("1e3"), Value::from("1e3"));
    }

    #[test]
    fn axes_become_ranges_and_lists() {
        let (name, spec) = axis("slow=20..60:10").unwrap();
        assert_eq!(name, "slow");
        let n = |v: u64| Number::from(v);
        assert_eq!(
            spec,
            AxisSpec::Range {
                min: n(20),
                max: n(60),
                step: n(10)
            }
        );
        assert_eq!(
            axis("fast=5,10").unwrap().1,
            AxisSpec::List(vec![Value::from(5), Value::from(10)])
        );
        let e = axis("fast=1..5").unwrap_err();
        assert_eq!(e.field, "axes.fast");
        assert_eq!(
            e.reason,
            "axis 'fast=1..5': a range needs a step: min..max:step"
        );
        assert_eq!(axis("fast").unwrap_err().field, "axes");
        assert_eq!(axis("=1,2").unwrap_err().field, "axes");
        assert_eq!(axis("fast=a..5:1").unwrap_err().field, "axes.fast");
    }

    #[test]
    fn warm_up_is_a_whole_number() {
        assert_eq!(warmup(" 60 ").unwrap(), 60);
        assert_eq!(warmup("99999999999").unwrap(), u32::MAX);
        for bad in ["-1", "1.5", "many"] {
            let e = warmup(bad).unwrap_err();
            assert_eq!(e.field, "warmupBars", "{bad}");
        }
    }

    #[test]
    fn numbers_that_are_not_are_refused_by_field() {
        let e = number("commissionPct", "abc").unwrap_err();
        assert_eq!(e.field, "commissionPct");
        assert_eq!(e.reason, "'abc' is not a number");
        assert_eq!(number("cash", " 10000 ").unwrap().to_string(), "10000");
    }
}
