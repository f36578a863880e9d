//! `/api/backtests`: one handler per route, each carrying its
//! `#[utoipa::path]` (registered once, in `routes.rs`). The work is
//! [`crate::runs`]'s, shared with optimizations; these only name the kind.

use crate::body;
use crate::dto::BacktestRun;
use crate::dto::{AnyStatus, BacktestStatus, BacktestSubmission, CancelResponse};
use crate::openapi::{AccessToken, Unauthorized};
use crate::problem::Problem;
use crate::queries::ListQuery;
use crate::runs;
use crate::AppState;
use atf_runs::request::BacktestRequest;
use atf_runs::store::{Page, RunSummary};
use atf_runs::RunKind;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;

const KIND: RunKind = RunKind::Backtest;

/// Submit a backtest
///
/// Accepted at once: follow it with `GET /api/backtests/{id}/status` (the
/// `Location`) or `/events`. An identical submission (same run key) is
/// answered with the existing run instead of a new one: `202` while it is
/// pending or running, `200` once it has ended.
#[utoipa::path(
    post,
    path = "/api/backtests",
    tag = "backtests",
    operation_id = "submitBacktest",
    request_body(content = BacktestRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted: a new run, or the identical run still pending or running (`existing: true`).", body = BacktestSubmission,
            headers(("Location" = String, description = "`/api/backtests/{id}/status`")),
            links(
                ("status" = (operation_id = "getBacktestStatus", parameters(("id" = "$response.body#/id")))),
                ("get" = (operation_id = "getBacktest", parameters(("id" = "$response.body#/id")))),
                ("events" = (operation_id = "streamBacktestEvents", parameters(("id" = "$response.body#/id")))),
                ("cancel" = (operation_id = "cancelBacktest", parameters(("id" = "$response.body#/id"))))
            )),
        (status = 200, description = "An identical run has already ended (`existing: true`): its id, nothing run again.", body = BacktestSubmission,
            headers(("Location" = String, description = "`/api/backtests/{id}/status`")),
            links(
                ("status" = (operation_id = "getBacktestStatus", parameters(("id" = "$response.body#/id")))),
                ("get" = (operation_id = "getBacktest", parameters(("id" = "$response.body#/id")))),
                ("events" = (operation_id = "streamBacktestEvents", parameters(("id" = "$response.body#/id")))),
                ("cancel" = (operation_id = "cancelBacktest", parameters(("id" = "$response.body#/id"))))
            )),
        (status = 400, description = "Malformed JSON, or a body that is not an object.", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = Unauthorized),
        (status = 413, description = "The body is larger than the server's limit.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many backtests are already waiting (the server's `--max-pending`); an identical submission is still answered with its run. Try again after `Retry-After` seconds.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before submitting again."))),
        (status = 422, description = "A field is missing, unknown or invalid (named in `field`: `params.fast`, `timeframe`, …). \
Besides what this schema says, the server refuses what depends on its strategies and data: an unknown `strategy` or `dataset`, \
a `timeframe` that is not a whole multiple of the dataset's, a period holding none of its bars, `params` the strategy does not \
declare or outside their declared ranges, and amounts with more decimals than the dataset's instrument has (`cash`, \
`commissionFixed`, `sizeQty`).", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let raw = body::json(&headers, body)?;
    let req = BacktestRequest::from_json(&raw)?;
    let svc = app.service.clone();
    let s = runs::blocking(move || Ok(svc.submit_backtest(&req, raw))).await?;
    Ok(s.map_or_else(runs::refused, |s| runs::submitted(KIND, s)))
}

/// List backtests
///
/// Newest first (runs in flight first), one page at a time; backtests kept
/// as an optimization's best trials are not listed.
#[utoipa::path(
    get,
    path = "/api/backtests",
    tag = "backtests",
    operation_id = "listBacktests",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of backtests.", body = Page<RunSummary>),
        (status = 400, description = "Unreadable query string.", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = Unauthorized),
        (status = 422, description = "`limit`, `offset` or `status` out of its range (named in `field`).", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(app): State<AppState>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    runs::list(app, KIND, q).await
}

/// Get a backtest
///
/// The stored run (with its report) once it has ended; its status while
/// it is pending or running.
#[utoipa::path(
    get,
    path = "/api/backtests/{id}",
    tag = "backtests",
    operation_id = "getBacktest",
    params(("id" = String, Path, description = "Backtest id.")),
    responses(
        (status = 200, description = "The stored backtest, or its status while in flight.", body = BacktestRun),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No backtest with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(State(app): State<AppState>, Path(id): Path<String>) -> Result<Response, Problem> {
    runs::get(app, KIND, id).await
}

/// A backtest's status
///
/// Progress in sub-bars, and the report once completed. Poll it, or follow
/// `/events`.
#[utoipa::path(
    get,
    path = "/api/backtests/{id}/status",
    tag = "backtests",
    operation_id = "getBacktestStatus",
    params(("id" = String, Path, description = "Backtest id.")),
    responses(
        (status = 200, description = "The backtest's status.", body = BacktestStatus),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No backtest with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn status(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AnyStatus>, Problem> {
    runs::status(app, KIND, id).await
}

/// Follow a backtest
///
/// Server-sent events: the current status at once, a `progress` event at
/// least every second while it is pending or running, then one
/// `completed`, `failed` or `cancelled` event, and the stream ends (at once
/// for a run that has already ended). Keep-alive comments may come between
/// events. Every event's `data` is the status JSON of
/// `GET /api/backtests/{id}/status` (schema `BacktestStatus`). If the run
/// vanishes or storage fails the stream ends early: fall back to polling
/// `/status`.
#[utoipa::path(
    get,
    path = "/api/backtests/{id}/events",
    tag = "backtests",
    operation_id = "streamBacktestEvents",
    params(("id" = String, Path, description = "Backtest id."), AccessToken),
    responses(
        (status = 200, description = "A `text/event-stream` of `progress` events (`Pending` or `Running`), then one `completed`, `failed` or `cancelled` event; each event's `data` is a `BacktestStatus` JSON object.",
            content_type = "text/event-stream", body = crate::event_schema::BacktestEvent,
            example = "event: progress\ndata: {\"id\":\"…\",\"status\":\"Running\",\"processedBars\":12000,\"totalBars\":31757,…}\n\nevent: completed\ndata: {\"id\":\"…\",\"status\":\"Completed\",\"processedBars\":31757,\"totalBars\":31757,\"result\":{…},…}\n\n"),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No backtest with this id (answered before the stream starts).", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many event streams are open (the server's `--max-event-streams`): poll `/status` instead, or try again after `Retry-After` seconds.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before opening a stream again."))),
    )
)]
pub async fn events(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    runs::events(app, KIND, id).await
}

/// Cancel a backtest
#[utoipa::path(
    post,
    path = "/api/backtests/{id}/cancel",
    tag = "backtests",
    operation_id = "cancelBacktest",
    params(("id" = String, Path, description = "Backtest id.")),
    responses(
        (status = 200, description = "Cancelled.", body = CancelResponse),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No backtest with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The backtest has already ended.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cancel(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    runs::cancel(app, KIND, id).await
}
