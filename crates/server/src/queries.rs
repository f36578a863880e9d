//! The query strings of the run lists and of an optimization's trials:
//! what they accept, read, and described for the OpenAPI document from the
//! same constants — so the document's bounds and enums are the ones the
//! server enforces (`scripts/schemathesis.sh` holds it to that).

use crate::problem::Problem;
use atf_runs::RunStatus;
use serde::Deserialize;
use serde_json::Value;
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// Largest page of a list.
pub const MAX_PAGE: u64 = 500;
/// Largest `offset`: SQLite counts rows in an `i64`.
pub const MAX_OFFSET: u64 = i64::MAX as u64;

/// The statuses a list filters by, spelled as runs report them.
const STATUSES: [RunStatus; 5] = [
    RunStatus::Pending,
    RunStatus::Running,
    RunStatus::Completed,
    RunStatus::Failed,
    RunStatus::Cancelled,
];

/// Paging and filter of a list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// First item (default 0).
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_u64, example = 0)]
    pub offset: Option<u64>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 500, example = 50)]
    pub limit: Option<u64>,
    /// Only runs with this status (the schema lists them).
    #[param(schema_with = status_schema)]
    pub status: Option<String>,
}

pub(crate) fn status_schema() -> ObjectBuilder {
    let names: Vec<Value> = STATUSES
        .iter()
        .map(|s| Value::from(s.to_string()))
        .collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "Only runs with this status, spelled as runs report it (runs in flight are listed \
             too, first).",
        ))
        .enum_values(Some(names))
        .examples([Value::from("Completed")])
}

/// The status a list filters by: exactly one of the names runs report.
///
/// # Errors
/// `status` (422) for anything else.
pub fn parse_status(text: &str) -> Result<RunStatus, Problem> {
    STATUSES
        .into_iter()
        .find(|s| s.to_string() == text)
        .ok_or_else(|| {
            let names: Vec<String> = STATUSES.iter().map(ToString::to_string).collect();
            Problem::field(
                "status",
                format!("unknown status '{text}' ({})", names.join(", ")),
            )
        })
}

/// `offset` and `limit` with their defaults (0 and 50), within bounds.
///
/// # Errors
/// `limit` outside 1..=[`MAX_PAGE`] or `offset` above [`MAX_OFFSET`] (422).
pub fn page_bounds(offset: Option<u64>, limit: Option<u64>) -> Result<(u64, u64), Problem> {
    let limit = limit.unwrap_or(50);
    if limit == 0 || limit > MAX_PAGE {
        return Err(Problem::field(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    let offset = offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(Problem::field(
            "offset",
            format!("must be at most {MAX_OFFSET}"),
        ));
    }
    Ok((offset, limit))
}

/// Paging and order of an optimization's trials.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrialsQuery {
    /// First trial in the chosen order (default 0).
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_u64, example = 0)]
    pub offset: Option<u64>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 500, example = 50)]
    pub limit: Option<u64>,
    /// What to order by (the schema says what it may be).
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    /// `asc` or `desc` (the schema says the default).
    #[param(schema_with = order_schema)]
    pub order: Option<String>,
}

/// How finely a search's convergence is drawn.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConvergenceQuery {
    /// Most points (default 1000); more trials than that are folded, a
    /// point holding consecutive ones.
    #[param(minimum = 1, maximum = 5000, example = 1000)]
    pub points: Option<u64>,
}

/// `sort`: the fixed keys and every metric (from the store's own list),
/// or `params.` and a parameter name as the store reads it.
fn sort_schema() -> RefOr<Schema> {
    let keys: Vec<Value> = ["rank", "fitness", "index", "evalOrder"]
        .into_iter()
        .chain(atf_engine::PerformanceMetrics::fields().iter().copied())
        .map(Value::from)
        .collect();
    AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(keys)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^params\\.[A-Za-z0-9_]+$")),
        )
        .description(Some(
            "What to order by: `rank` (default), `fitness`, `index` (combination index in the \
             grid), a metric in camelCase (`netProfit`, `sharpe`, `maxDrawdownPct`, `tradeCount`, \
             … — every field of a trial's `metrics`), or `params.<name>` (one of the \
             optimization's parameters; another name is refused with `422`). NULLs (failed \
             trials, undefined ratios) always come last; ties are broken by rank.",
        ))
        .examples([Value::from("netProfit")])
        .into()
}

fn order_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "`asc` or `desc` (default: `asc` for `rank` and `index`, `desc` otherwise).",
        ))
        .enum_values(Some(vec![Value::from("asc"), Value::from("desc")]))
        .examples([Value::from("desc")])
}

#[cfg(test)]
mod tests {
    use super::*;
    use atf_runs::store::TrialOrder;

    #[test]
    fn statuses_are_read_exactly_as_runs_spell_them() {
        for s in STATUSES {
            assert_eq!(parse_status(&s.to_string()).unwrap(), s);
        }
        for bad in ["completed", "COMPLETED", "", "ok", " Completed"] {
            assert_eq!(
                parse_status(bad).unwrap_err().field.as_deref(),
                Some("status")
            );
        }
    }

    #[test]
    fn pages_are_bounded() {
        assert_eq!(page_bounds(None, None).unwrap(), (0, 50));
        assert_eq!(
            page_bounds(Some(MAX_OFFSET), Some(MAX_PAGE)).unwrap(),
            (MAX_OFFSET, 500)
        );
        for (o, l, field) in [
            (None, Some(0), "limit"),
            (None, Some(501), "limit"),
            (Some(MAX_OFFSET + 1), None, "offset"),
        ] {
            assert_eq!(page_bounds(o, l).unwrap_err().field.as_deref(), Some(field));
        }
    }

    /// Every sort the schema offers is one the store reads.
    #[test]
    fn the_sort_schema_offers_what_the_store_reads() {
        let schema = serde_json::to_value(sort_schema()).unwrap();
        for key in schema["anyOf"][0]["enum"].as_array().unwrap() {
            TrialOrder::parse(key.as_str(), Some("asc")).unwrap();
        }
        TrialOrder::parse(Some("params.fast_2"), Some("desc")).unwrap();
        assert!(TrialOrder::parse(Some("luck"), None).is_err());
        assert!(TrialOrder::parse(None, Some("up")).is_err());
    }
}
