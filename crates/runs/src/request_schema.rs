//! The OpenAPI schemas of the request bodies (feature `openapi`), derived
//! from the types [`crate::request`] reads them with.
//!
//! A backtest body is a [`RunTarget`]; an optimization body is a
//! [`RunTarget`] and the grid fields side by side in one object (it is read
//! in two parts, which is why its schema is assembled here rather than
//! derived as one struct: a flattened `allOf` would let each part's
//! `additionalProperties: false` refuse the other's fields). Field docs,
//! bounds and `deny_unknown_fields` thus come from the structs the server
//! deserializes, and a field added there appears in the document.
//!
//! What a schema cannot say — values that depend on the strategy or the
//! dataset, and relations between fields — the server refuses with `422`
//! naming the field; the operations describe those in prose.

use crate::request::{
    fitness_spellings, AxisSpec, BacktestRequest, GridFields, OptimizationRequest, RunTarget,
};
use crate::walkforward::{WalkForwardRequest, WindowFields};
use serde_json::{json, Value};
use std::borrow::Cow;
use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, ArrayBuilder, Object, ObjectBuilder, OneOfBuilder, Schema,
    Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// A parameter value: a number (`int` and `float` parameters), a boolean
/// (`bool`) or a string (a `choice`'s option). Never null, an array or an
/// object.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(
    dead_code,
    reason = "only described: requests hold a serde_json::Value"
)]
pub enum ParamValue {
    /// An `int` or `float` parameter's value.
    Number(f64),
    /// A `bool` parameter's value.
    Boolean(bool),
    /// A `choice` parameter's value.
    Text(String),
}

impl PartialSchema for AxisSpec {
    fn schema() -> RefOr<Schema> {
        let number = |doc: &str| {
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .description(Some(doc))
        };
        let range = ObjectBuilder::new()
            .description(Some(
                "`{\"min\": 5, \"max\": 50, \"step\": 5}`: from `min` to `max` (included when \
                 the steps reach it) by `step`; `max` not below `min`.",
            ))
            .property("min", number("First value."))
            .required("min")
            .property("max", number("Last value."))
            .required("max")
            .property("step", number("Step.").exclusive_minimum(Some(0.0)))
            .required("step")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .examples([json!({"min": 5, "max": 50, "step": 5})]);
        let list = ArrayBuilder::new()
            .description(Some(
                "The values themselves: `[20, 30, 40]`, `[true, false]` or `[\"a\", \"b\"]`.",
            ))
            .items(RefOr::Ref(Ref::from_schema_name(ParamValue::name())))
            .min_items(Some(1))
            .examples([json!([20, 30, 40])]);
        OneOfBuilder::new()
            .item(range)
            .item(list)
            .description(Some(
                "One optimization axis: a range or a list of values, within the range the \
                 strategy declares for the parameter.",
            ))
            .into()
    }
}

impl ToSchema for AxisSpec {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AxisSpec")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ParamValue::name().into(), ParamValue::schema()));
    }
}

/// A run's request as it was submitted (kept verbatim with the run): a
/// backtest's body, an optimization's or a walk-forward's — `anyOf`, since
/// an optimization's body also fits the walk-forward schema (which cannot
/// say that one way of sizing the windows is required).
#[allow(
    dead_code,
    reason = "only described: a stored run keeps the body it was submitted with as JSON"
)]
pub struct SubmittedRequest;

impl PartialSchema for SubmittedRequest {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(Ref::from_schema_name(BacktestRequest::name()))
            .item(Ref::from_schema_name(OptimizationRequest::name()))
            .item(Ref::from_schema_name(WalkForwardRequest::name()))
            .description(Some(
                "The request body exactly as submitted: `POST /api/backtests`', \
                 `POST /api/optimizations`' or `POST /api/walkforwards`'.",
            ))
            .into()
    }
}

impl ToSchema for SubmittedRequest {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SubmittedRequest")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((BacktestRequest::name().into(), BacktestRequest::schema()));
        schemas.push((
            OptimizationRequest::name().into(),
            OptimizationRequest::schema(),
        ));
        schemas.push((
            WalkForwardRequest::name().into(),
            WalkForwardRequest::schema(),
        ));
        WalkForwardRequest::schemas(schemas);
    }
}

/// The object schema a derive made for a struct.
fn object_of(schema: RefOr<Schema>) -> Object {
    match schema {
        RefOr::T(Schema::Object(o)) => o,
        _ => unreachable!("a struct's derived schema is an object"),
    }
}

impl PartialSchema for BacktestRequest {
    fn schema() -> RefOr<Schema> {
        let mut o = object_of(RunTarget::schema());
        o.description = Some(
            "`POST /api/backtests`: the strategy, the data, the period, fixed parameter values, \
             costs, cash and sizing. Absent (or null) fields take the CLI's defaults (the whole \
             dataset at its own timeframe, the strategy's parameters, 10,000 cash, no costs, \
             all-in); unknown fields are refused (`422`, so a misspelt `comissionPct` never \
             silently means 0). Numbers are read from their decimal text, so `0.1` is exactly \
             0.1 %."
                .into(),
        );
        o.examples = vec![json!({
            "strategy": "sma-cross",
            "dataset": "spy-1m",
            "timeframe": "1h",
            "from": "2011-01-10",
            "to": "2011-03-31",
            "params": {"fast": 10, "slow": 30},
            "cash": 10000,
            "commissionPct": 0.1,
            "slippageTicks": 0,
            "sizePct": 100
        })];
        Schema::Object(o).into()
    }
}

impl ToSchema for BacktestRequest {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("BacktestRequest")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        RunTarget::schemas(schemas);
    }
}

/// `maximize`: one of the spellings [`crate::request::parse_fitness`]
/// reads, or null.
fn maximize(description: Option<String>) -> RefOr<Schema> {
    let names: Vec<Value> = fitness_spellings()
        .into_iter()
        .map(|(text, _)| Value::String(text))
        .collect();
    let names = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .examples([json!("sharpe")]);
    OneOfBuilder::new()
        .item(names)
        .item(Object::with_type(Type::Null))
        .description(description)
        .into()
}

impl PartialSchema for OptimizationRequest {
    fn schema() -> RefOr<Schema> {
        let target = object_of(RunTarget::schema());
        let grid = object_of(GridFields::schema());
        let mut o = target.clone();
        // the target's fields, with the grid's after `dataset`
        o.properties.clear();
        for (name, schema) in target.properties {
            let after_dataset = name == "dataset";
            o.properties.insert(name, schema);
            if after_dataset {
                for (name, schema) in &grid.properties {
                    o.properties.insert(name.clone(), schema.clone());
                }
            }
        }
        o.required.extend(grid.required);
        if let Some(RefOr::T(Schema::Object(axes))) = o.properties.get_mut("axes") {
            axes.min_properties = Some(1);
        }
        let maximize_doc = match grid.properties.get("maximize") {
            Some(RefOr::T(Schema::Object(m))) => m.description.clone(),
            _ => None,
        };
        o.properties
            .insert("maximize".into(), maximize(maximize_doc));
        // an axis may not also be a fixed parameter: the example of
        // `params` names none of the axes' example
        if let Some(RefOr::T(Schema::Object(p))) = o.properties.get_mut("params") {
            p.examples = vec![json!({"long_only": true})];
        }
        o.description = Some(
            "`POST /api/optimizations`: every combination of the axes' values, each run as a \
             backtest with the other fields (as in `BacktestRequest`), ranked by `maximize`. \
             Absent (or null) fields take their defaults; unknown fields are refused (`422`)."
                .into(),
        );
        o.examples = vec![json!({
            "strategy": "sma-cross",
            "dataset": "spy-1m",
            "axes": {"fast": {"min": 5, "max": 50, "step": 5}, "slow": [20, 30, 40]},
            "constraints": ["fast < slow"],
            "maximize": "sharpe",
            "top": 20,
            "timeframe": "1h"
        })];
        Schema::Object(o).into()
    }
}

impl ToSchema for OptimizationRequest {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("OptimizationRequest")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        RunTarget::schemas(schemas);
        GridFields::schemas(schemas);
    }
}

impl PartialSchema for WalkForwardRequest {
    fn schema() -> RefOr<Schema> {
        let mut o = object_of(OptimizationRequest::schema());
        let windows = object_of(WindowFields::schema());
        for (name, schema) in windows.properties {
            o.properties.insert(name, schema);
        }
        // each fold keeps only its winner
        o.properties.shift_remove("top");
        o.description = Some(
            "`POST /api/walkforwards`: an optimization's fields (as in `OptimizationRequest`; \
             each fold keeps only its winner, so there is no `top`) and the windows: \
             `inSample` and `outOfSample` durations, or `folds` and `oosFraction` (one way \
             or the other is required; both are refused), `rolling` or `anchored`, and the \
             pass/fail `criteria`. Absent (or null) fields take their defaults; unknown \
             fields are refused (`422`)."
                .into(),
        );
        o.examples = vec![json!({
            "strategy": "sma-cross",
            "dataset": "spy-1d",
            "axes": {"fast": {"min": 5, "max": 20, "step": 5}, "slow": [20, 40, 60]},
            "constraints": ["fast < slow"],
            "maximize": "sharpe",
            "mode": "rolling",
            "inSample": "720d",
            "outOfSample": "180d",
            "criteria": {"minWfePct": 50, "maxDrawdownPct": 25}
        })];
        Schema::Object(o).into()
    }
}

impl ToSchema for WalkForwardRequest {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("WalkForwardRequest")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        OptimizationRequest::schemas(schemas);
        WindowFields::schemas(schemas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_of<T: ToSchema>() -> Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    /// Every field the readers take is a property, unknown ones are
    /// refused, and only `strategy` and `dataset` (and `axes`) are required.
    #[test]
    fn the_schemas_name_the_fields_the_readers_take() {
        let backtest = serde_json::json!({
            "strategy": "sma-cross", "dataset": "spy-1m", "timeframe": "1h",
            "from": "2011-01-10", "to": "2011-03-31", "params": {"fast": 10},
            "cash": 10000, "commissionPct": 0.1, "commissionFixed": 1,
            "slippageTicks": 0, "sizePct": 100, "sizeQty": 1, "warmupBars": 60
        });
        let mut optimization = backtest.clone();
        for (k, v) in serde_json::json!({
            "axes": {"fast": {"min": 5, "max": 50, "step": 5}, "slow": [20, 30]},
            "constraints": ["fast < slow"], "maximize": "sharpe", "top": 20,
            "method": "genetic", "budget": 100, "seed": 7
        })
        .as_object()
        .unwrap()
        {
            optimization[k] = v.clone();
        }
        BacktestRequest::from_json(&backtest).unwrap();
        OptimizationRequest::from_json(&optimization).unwrap();
        for (schema, body, required) in [
            (
                json_of::<BacktestRequest>(),
                &backtest,
                vec!["strategy", "dataset"],
            ),
            (
                json_of::<OptimizationRequest>(),
                &optimization,
                vec!["strategy", "dataset", "axes"],
            ),
        ] {
            assert_eq!(schema["additionalProperties"], false, "{schema}");
            let props: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
            let mut fields: Vec<&String> = body.as_object().unwrap().keys().collect();
            let mut sorted = props.clone();
            sorted.sort();
            fields.sort();
            assert_eq!(sorted, fields);
            assert_eq!(schema["required"], json!(required));
        }
    }

    #[test]
    fn maximize_lists_exactly_what_parse_fitness_reads() {
        let schema = json_of::<OptimizationRequest>();
        let names = schema["properties"]["maximize"]["oneOf"][0]["enum"]
            .as_array()
            .unwrap()
            .clone();
        assert!(names.contains(&json!("net-profit")) && names.contains(&json!("netProfit")));
        for n in &names {
            crate::request::parse_fitness(n.as_str()).unwrap();
        }
        assert!(crate::request::parse_fitness(Some("NetProfit")).is_err());
    }
}
