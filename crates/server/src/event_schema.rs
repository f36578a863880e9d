//! The schema of one server-sent event of `GET …/{id}/events`, as OpenAPI
//! 3.1 describes a `text/event-stream` answer: the media type's `schema`
//! is one event, `{event, data}` (`id` and `retry` are never sent).
//!
//! `data` is the run's status JSON in one line; `contentSchema` says which
//! status (JSON Schema 2020-12's keyword, which utoipa has no field for, so
//! it is added as an extension entry of the same name).

use serde_json::{json, Value};
use std::borrow::Cow;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// The event names: `progress` while pending or running, then one of the
/// three terminal ones.
const NAMES: [&str; 4] = ["progress", "completed", "failed", "cancelled"];

fn event(status_schema: &str) -> RefOr<Schema> {
    let names: Vec<Value> = NAMES.iter().map(|n| Value::from(*n)).collect();
    let content_schema: Extensions = [(
        "contentSchema",
        serde_json::to_value(Ref::from_schema_name(status_schema)).unwrap_or(Value::Null),
    )]
    .into_iter()
    .collect();
    let data = ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(format!(
            "The run's status, one line of JSON (schema `{status_schema}`), as `GET …/{{id}}/status` answers it."
        )))
        .content_media_type("application/json")
        .extensions(Some(content_schema));
    ObjectBuilder::new()
        .description(Some(format!(
            "One event: `progress` (status `Pending` or `Running`) at least every second, then one \
             `completed`, `failed` or `cancelled`; `data` is a `{status_schema}`."
        )))
        .property(
            "event",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(names)),
        )
        .required("event")
        .property("data", data)
        .required("data")
        .examples([json!({"event": "progress", "data": "{\"id\":\"…\",\"status\":\"Running\",…}"})])
        .into()
}

/// One event of `GET /api/backtests/{id}/events`.
pub struct BacktestEvent;

impl PartialSchema for BacktestEvent {
    fn schema() -> RefOr<Schema> {
        event("BacktestStatus")
    }
}

impl ToSchema for BacktestEvent {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("BacktestEvent")
    }
}

/// One event of `GET /api/optimizations/{id}/events`.
pub struct OptimizationEvent;

impl PartialSchema for OptimizationEvent {
    fn schema() -> RefOr<Schema> {
        event("OptimizationStatus")
    }
}

impl ToSchema for OptimizationEvent {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("OptimizationEvent")
    }
}

/// One event of `GET /api/walkforwards/{id}/events`.
pub struct WalkForwardEvent;

impl PartialSchema for WalkForwardEvent {
    fn schema() -> RefOr<Schema> {
        event("WalkForwardStatus")
    }
}

impl ToSchema for WalkForwardEvent {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("WalkForwardEvent")
    }
}
