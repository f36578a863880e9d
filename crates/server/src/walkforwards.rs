//! `/api/walkforwards` (DESIGN §11): one handler per route, each carrying
//! its `#[utoipa::path]` (registered once, in `routes.rs`). The work is
//! [`crate::runs`]'s, shared with backtests and optimizations; these only
//! name the kind.

use crate::body;
use crate::dto::WalkForwardRun;
use crate::dto::{AnyStatus, CancelResponse, WalkForwardStatus, WalkForwardSubmission};
use crate::openapi::{AccessToken, Unauthorized};
use crate::problem::Problem;
use crate::queries::ListQuery;
use crate::runs;
use crate::AppState;
use atf_runs::store::{Page, RunSummary};
use atf_runs::walkforward::WalkForwardRequest;
use atf_runs::RunKind;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;

const KIND: RunKind = RunKind::WalkForward;

/// Submit a walk-forward
///
/// Each fold's in-sample window is optimized over the grid and its winner
/// backtested on the out-of-sample window right after it, the equity
/// carried from fold to fold. Accepted at once: follow it with
/// `GET /api/walkforwards/{id}/status` (the `Location`) or `/events`. An
/// identical submission (same run key: the windows and criteria included)
/// is answered with the existing run instead of a new one: `202` while it
/// is pending or running, `200` once it has ended.
#[utoipa::path(
    post,
    path = "/api/walkforwards",
    tag = "walkforwards",
    operation_id = "submitWalkForward",
    request_body(content = WalkForwardRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted: a new run, or the identical run still pending or running (`existing: true`).", body = WalkForwardSubmission,
            headers(("Location" = String, description = "`/api/walkforwards/{id}/status`")),
            links(
                ("status" = (operation_id = "getWalkForwardStatus", parameters(("id" = "$response.body#/id")))),
                ("get" = (operation_id = "getWalkForward", parameters(("id" = "$response.body#/id")))),
                ("events" = (operation_id = "streamWalkForwardEvents", parameters(("id" = "$response.body#/id")))),
                ("cancel" = (operation_id = "cancelWalkForward", parameters(("id" = "$response.body#/id"))))
            )),
        (status = 200, description = "An identical run has already ended (`existing: true`): its id, nothing run again.", body = WalkForwardSubmission,
            headers(("Location" = String, description = "`/api/walkforwards/{id}/status`")),
            links(
                ("status" = (operation_id = "getWalkForwardStatus", parameters(("id" = "$response.body#/id")))),
                ("get" = (operation_id = "getWalkForward", parameters(("id" = "$response.body#/id")))),
                ("events" = (operation_id = "streamWalkForwardEvents", parameters(("id" = "$response.body#/id")))),
                ("cancel" = (operation_id = "cancelWalkForward", parameters(("id" = "$response.body#/id"))))
            )),
        (status = 400, description = "Malformed JSON, or a body that is not an object.", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = Unauthorized),
        (status = 413, description = "The body is larger than the server's limit.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many optimizations and walk-forwards are already waiting (they share one queue, the server's `--max-pending`); an identical submission is still answered with its run. Try again after `Retry-After` seconds.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before submitting again."))),
        (status = 422, description = "A field is missing, unknown or invalid (named in `field`: `axes.slow`, `constraints[0]`, `timeframe`, `inSample`, `folds`, `criteria.minWfePct`, …). \
Windows that do not fit the period are refused naming the field at fault (`inSample`, `outOfSample`, `folds`, `oosFraction`), as are both ways of sizing them at once (`folds`) or neither (`inSample`), durations that are not whole bars of the timeframe, and more than 500 folds. \
Besides what this schema says, the server refuses what depends on its strategies and data: an unknown `strategy` or `dataset`, \
a `timeframe` that is not a whole multiple of the dataset's, a period holding none of its bars, `params` or `axes` the strategy \
does not declare or outside their declared ranges, `constraints` naming other parameters, a fold's grid larger than the server's \
`--max-combinations`, and amounts with more decimals than the dataset's instrument has (`cash`, `commissionFixed`, `sizeQty`).",
            body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let raw = body::json(&headers, body)?;
    let req = WalkForwardRequest::from_json(&raw)?;
    let svc = app.service.clone();
    let s = runs::blocking(move || Ok(svc.submit_walkforward(&req, raw))).await?;
    Ok(s.map_or_else(runs::refused, |s| runs::submitted(KIND, s)))
}

/// List walk-forwards
///
/// Newest first (runs in flight first), one page at a time; `processed`
/// and `total` count combinations over every fold; `metrics` is null (the
/// report's `stitched` holds the out-of-sample statistics).
#[utoipa::path(
    get,
    path = "/api/walkforwards",
    tag = "walkforwards",
    operation_id = "listWalkForwards",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of walk-forwards.", body = Page<RunSummary>),
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

/// Get a walk-forward
///
/// The stored run, its `result` the report (folds, stitched out-of-sample
/// equity, efficiency, criteria), once it has ended; its status while it is
/// pending or running.
#[utoipa::path(
    get,
    path = "/api/walkforwards/{id}",
    tag = "walkforwards",
    operation_id = "getWalkForward",
    params(("id" = String, Path, description = "Walk-forward id.")),
    responses(
        (status = 200, description = "The stored walk-forward, or its status while in flight.", body = WalkForwardRun),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No walk-forward with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(State(app): State<AppState>, Path(id): Path<String>) -> Result<Response, Problem> {
    runs::get(app, KIND, id).await
}

/// A walk-forward's status
///
/// Progress in folds (`foldsProcessed / totalFolds`, `currentFold`) and in
/// combinations over every fold, failed trials; the report once ended.
/// Poll it, or follow `/events`.
#[utoipa::path(
    get,
    path = "/api/walkforwards/{id}/status",
    tag = "walkforwards",
    operation_id = "getWalkForwardStatus",
    params(("id" = String, Path, description = "Walk-forward id.")),
    responses(
        (status = 200, description = "The walk-forward's status.", body = WalkForwardStatus),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No walk-forward with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn status(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AnyStatus>, Problem> {
    runs::status(app, KIND, id).await
}

/// Follow a walk-forward
///
/// Server-sent events: the current status at once, a `progress` event at
/// least every second while it is pending or running, then one
/// `completed`, `failed` or `cancelled` event, and the stream ends (at once
/// for a run that has already ended). Keep-alive comments may come between
/// events. Every event's `data` is the status JSON of
/// `GET /api/walkforwards/{id}/status` (schema `WalkForwardStatus`). If
/// the run vanishes or storage fails the stream ends early: fall back to
/// polling `/status`.
#[utoipa::path(
    get,
    path = "/api/walkforwards/{id}/events",
    tag = "walkforwards",
    operation_id = "streamWalkForwardEvents",
    params(("id" = String, Path, description = "Walk-forward id."), AccessToken),
    responses(
        (status = 200, description = "A `text/event-stream` of `progress` events (`Pending` or `Running`), then one `completed`, `failed` or `cancelled` event; each event's `data` is a `WalkForwardStatus` JSON object.",
            content_type = "text/event-stream", body = crate::event_schema::WalkForwardEvent,
            example = "event: progress\ndata: {\"id\":\"…\",\"status\":\"Running\",\"foldsProcessed\":2,\"totalFolds\":8,\"currentFold\":3,\"processedCombinations\":36,\"totalCombinations\":96,…}\n\nevent: completed\ndata: {\"id\":\"…\",\"status\":\"Completed\",\"foldsProcessed\":8,\"totalFolds\":8,\"result\":{…},…}\n\n"),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No walk-forward with this id (answered before the stream starts).", body = Problem, content_type = "application/problem+json"),
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

/// Cancel a walk-forward
///
/// It stops within a fraction of a second, even mid-fold; the folds already
/// finished are kept (the result is partial, `cancelled: true`).
#[utoipa::path(
    post,
    path = "/api/walkforwards/{id}/cancel",
    tag = "walkforwards",
    operation_id = "cancelWalkForward",
    params(("id" = String, Path, description = "Walk-forward id.")),
    responses(
        (status = 200, description = "Cancelled.", body = CancelResponse),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No walk-forward with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The walk-forward has already ended.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cancel(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    runs::cancel(app, KIND, id).await
}
