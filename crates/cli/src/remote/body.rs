//! The request bodies of remote runs, built from the CLI's flags and named
//! as the API names them (`--commission-pct` → `commissionPct`); a refused
//! field is shown again by its flag through `crate::flags`.

use crate::args::RunSettings;
use crate::exit::CliError;
use atf_engine::params::split_pair;
use serde_json::{Map, Number, Value};

/// A value as JSON: a boolean, a number whose JSON text is the text itself
/// (so the server reads exactly what was typed), else a string.
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

fn number(flag: &str, text: &str) -> Result<Value, CliError> {
    serde_json::from_str::<Number>(text.trim())
        .map(Value::Number)
        .map_err(|_| CliError::usage(format!("{flag}: '{text}' is not a number")))
}

/// Strategy, data, period, parameters, costs: what both bodies carry.
pub(super) fn target_body(strategy: &str, s: &RunSettings) -> Result<Map<String, Value>, CliError> {
    if s.qty_decimals > 0 {
        return Err(CliError::usage(
            "--qty-decimals is not supported with --server (the server uses the dataset's quantity decimals)",
        ));
    }
    let mut params = Map::new();
    for p in &s.params {
        let (name, value) = split_pair(p).map_err(CliError::usage)?;
        params.insert(name.to_owned(), scalar(value));
    }
    let mut m = Map::new();
    m.insert("strategy".into(), Value::from(strategy));
    m.insert("dataset".into(), Value::from(s.dataset.as_str()));
    for (key, v) in [
        ("timeframe", &s.timeframe),
        ("from", &s.from),
        ("to", &s.to),
    ] {
        if let Some(v) = v {
            m.insert(key.into(), Value::from(v.as_str()));
        }
    }
    m.insert("params".into(), Value::Object(params));
    m.insert("cash".into(), number("--cash", &s.cash)?);
    m.insert(
        "commissionPct".into(),
        number("--commission-pct", &s.commission_pct)?,
    );
    m.insert(
        "commissionFixed".into(),
        number("--commission-fixed", &s.commission_fixed)?,
    );
    m.insert("slippageTicks".into(), Value::from(s.slippage_ticks));
    match &s.size_qty {
        Some(q) => m.insert("sizeQty".into(), number("--size-qty", q)?),
        None => m.insert("sizePct".into(), number("--size-pct", &s.size_pct)?),
    };
    Ok(m)
}

/// `--axis` texts as the body's `axes`, and the axis names in order.
pub(super) fn axes_body(texts: &[String]) -> Result<(Map<String, Value>, Vec<String>), CliError> {
    let mut axes = Map::new();
    let mut order = Vec::new();
    for text in texts {
        let bad = |why: &str| CliError::usage(format!("--axis '{text}': {why}"));
        let (name, spec) = text
            .split_once('=')
            .ok_or_else(|| bad("expected name=min..max:step or name=a,b,c"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(bad("expected name=min..max:step or name=a,b,c"));
        }
        let value = match spec.split_once("..") {
            Some((min, rest)) => {
                let (max, step) = rest
                    .split_once(':')
                    .ok_or_else(|| bad("a range needs a step: min..max:step"))?;
                let num = |s: &str| {
                    serde_json::from_str::<Number>(s.trim())
                        .map(Value::Number)
                        .map_err(|_| bad(&format!("'{s}' is not a number")))
                };
                serde_json::json!({ "min": num(min)?, "max": num(max)?, "step": num(step)? })
            }
            None => Value::Array(spec.split(',').map(scalar).collect()),
        };
        if axes.insert(name.to_owned(), value).is_some() {
            return Err(CliError::usage(format!("--axis '{name}' given twice")));
        }
        order.push(name.to_owned());
    }
    Ok((axes, order))
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
        // not the same text as a JSON number: sent as typed
        assert_eq!(scalar("010"), Value::from("010"));
        assert_eq!(scalar("1e3"), Value::from("1e3"));
    }

    #[test]
    fn axes_become_ranges_and_lists() {
        let (axes, order) = axes_body(&["slow=20..60:10".into(), "fast=5,10".into()]).unwrap();
        assert_eq!(order, ["slow", "fast"]);
        assert_eq!(
            axes["slow"],
            serde_json::json!({"min": 20, "max": 60, "step": 10})
        );
        assert_eq!(axes["fast"], serde_json::json!([5, 10]));
        assert!(axes_body(&["fast=1..5".into()]).is_err());
        assert!(axes_body(&["fast=1,2".into(), "fast=3".into()]).is_err());
    }
}
