//! The request bodies of remote runs, built from the CLI's flags and named
//! as the API names them (`--commission-pct` → `commissionPct`), and the
//! way a refused field is shown again by its flag.

use crate::args::RunSettings;
use crate::exit::CliError;
use atf_engine::params::split_pair;
use serde_json::{Map, Number, Value};

/// What a refusal is shown with: the user's constraints, to name
/// `constraints[i]` by its text.
#[derive(Default)]
pub(super) struct FieldNames<'a> {
    pub constraints: &'a [String],
}

/// The flag a request field comes from (`commissionPct` → `--commission-pct`,
/// `params.fast` → `--param fast`); `None` for the body as a whole.
pub(super) fn flag_of(field: &str, names: &FieldNames<'_>) -> Option<String> {
    if field.is_empty() || field == "body" {
        return None;
    }
    if let Some(name) = field.strip_prefix("params.") {
        return Some(format!("--param {name}"));
    }
    if let Some(name) = field.strip_prefix("axes.") {
        return Some(format!("--axis {name}"));
    }
    if let Some(rest) = field.strip_prefix("constraints[") {
        let text = rest
            .strip_suffix(']')
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| names.constraints.get(i));
        return Some(match text {
            Some(t) => format!("--constraint '{t}'"),
            None => "--constraint".to_owned(),
        });
    }
    Some(match field {
        "params" => "--param".to_owned(),
        "axes" => "--axis".to_owned(),
        "constraints" => "--constraint".to_owned(),
        _ => atf_runs::FieldError::new(field, "").flag(),
    })
}

/// `flag: reason`, without saying twice what the reason already names:
/// `--axis 'fast=5..50:0': step must be positive` as a local run says it.
pub(super) fn with_flag(flag: &str, reason: &str) -> String {
    for (prefix, word) in [("--axis", "axis '"), ("--constraint", "constraint '")] {
        if flag.starts_with(prefix) && reason.starts_with(word) {
            return format!("--{reason}");
        }
    }
    if flag.starts_with("--param ") {
        if let Some(rest) = reason.strip_prefix("parameter '") {
            return format!("--param '{rest}");
        }
    }
    format!("{flag}: {reason}")
}

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

    #[test]
    fn fields_are_named_by_their_flags() {
        let constraints = ["fast<slow".to_owned()];
        let names = FieldNames {
            constraints: &constraints,
        };
        let flag = |f: &str| flag_of(f, &names);
        assert_eq!(flag("commissionPct").as_deref(), Some("--commission-pct"));
        assert_eq!(flag("params.fast").as_deref(), Some("--param fast"));
        assert_eq!(flag("axes.slow").as_deref(), Some("--axis slow"));
        assert_eq!(
            flag("constraints[0]").as_deref(),
            Some("--constraint 'fast<slow'")
        );
        assert_eq!(flag("dataset").as_deref(), Some("--dataset"));
        assert_eq!(flag("body"), None);
        assert_eq!(
            with_flag("--axis fast", "axis 'fast=1..2:0': step must be positive"),
            "--axis 'fast=1..2:0': step must be positive"
        );
        assert_eq!(
            with_flag("--param fast", "parameter 'fast': 0 is outside"),
            "--param 'fast': 0 is outside"
        );
        assert_eq!(
            with_flag("--commission-pct", "must be between 0 and 10"),
            "--commission-pct: must be between 0 and 10"
        );
    }
}
