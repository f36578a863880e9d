//! `GET /api/runs`: backtests, optimizations and walk-forwards in one list,
//! newest first (runs in flight first), filtered by kind and status — what
//! the dashboard's runs page shows, one request instead of lists merged.

use crate::openapi::Unauthorized;
use crate::problem::Problem;
use crate::runs;
use crate::AppState;
use atf_runs::store::{Page, RunSummary};
use atf_runs::RunKind;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

/// Paging and filters of the runs list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// First item (default 0).
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_u64, example = 0)]
    pub offset: Option<u64>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 500, example = 50)]
    pub limit: Option<u64>,
    /// Only runs with this status (`Pending`, `Running`, `Completed`,
    /// `Failed`, `Cancelled`).
    #[param(schema_with = crate::queries::status_schema)]
    pub status: Option<String>,
    /// Only runs of this kind (default: every kind).
    pub kind: Option<RunKind>,
}

/// List runs of every kind
///
/// Backtests, optimizations and walk-forwards together, newest first (runs
/// in flight first), one page at a time; backtests kept as an
/// optimization's best trials are not listed.
#[utoipa::path(
    get,
    path = "/api/runs",
    tag = "runs",
    operation_id = "listRuns",
    params(RunsQuery),
    responses(
        (status = 200, description = "A page of runs; `kind` says which each is.", body = Page<RunSummary>),
        (status = 400, description = "Unreadable query string (an unknown `kind`, say).", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = Unauthorized),
        (status = 422, description = "`limit`, `offset` or `status` out of its range (named in `field`).", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(app): State<AppState>,
    q: Result<Query<RunsQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = q.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    runs::page_of_runs(app, q.kind, q.offset, q.limit, q.status.as_deref()).await
}
