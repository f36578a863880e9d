//! `/api/optimizations`: one handler per route, each carrying its
//! `#[utoipa::path]` (registered once, in `routes.rs`). The work is
//! [`crate::runs`]'s, shared with backtests; these only name the kind —
//! except `/trials`, which only optimizations have.

use crate::body;
use crate::dto::OptimizationRun;
use crate::dto::{AnyStatus, CancelResponse, OptimizationStatus, OptimizationSubmission};
use crate::openapi::{AccessToken, Unauthorized};
use crate::problem::Problem;
use crate::queries::{ConvergenceQuery, ListQuery, TrialsQuery};
use crate::runs;
use crate::AppState;
use atf_engine::optimize::TrialRecord;
use atf_runs::request::OptimizationRequest;
use atf_runs::service::ResumeError;
use atf_runs::store::{Convergence, Page, RunSummary};
use atf_runs::RunKind;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;

const KIND: RunKind = RunKind::Optimization;

/// Submit an optimization
///
/// Accepted at once: follow it with `GET /api/optimizations/{id}/status`
/// (the `Location`) or `/events`. An identical submission (same run key) is
/// answered with the existing run instead of a new one: `202` while it is
/// pending or running, `200` once it has ended.
#[utoipa::path(
    post,
    path = "/api/optimizations",
    tag = "optimizations",
    operation_id = "submitOptimization",
    request_body(content = OptimizationRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted: a new run, or the identical run still pending or running (`existing: true`).", body = OptimizationSubmission,
            headers(("Location" = String, description = "`/api/optimizations/{id}/status`")),
            links(
                ("status" = (operation_id = "getOptimizationStatus", parameters(("id" = "$response.body#/id")))),
                ("get" = (operation_id = "getOptimization", parameters(("id" = "$response.body#/id")))),
                ("events" = (operation_id = "streamOptimizationEvents", parameters(("id" = "$response.body#/id")))),
                ("cancel" = (operation_id = "cancelOptimization", parameters(("id" = "$response.body#/id")))),
                ("trials" = (operation_id = "listOptimizationTrials", parameters(("id" = "$response.body#/id"))))
            )),
        (status = 200, description = "An identical run has already ended (`existing: true`): its id, nothing run again.", body = OptimizationSubmission,
            headers(("Location" = String, description = "`/api/optimizations/{id}/status`")),
            links(
                ("status" = (operation_id = "getOptimizationStatus", parameters(("id" = "$response.body#/id")))),
                ("get" = (operation_id = "getOptimization", parameters(("id" = "$response.body#/id")))),
                ("events" = (operation_id = "streamOptimizationEvents", parameters(("id" = "$response.body#/id")))),
                ("cancel" = (operation_id = "cancelOptimization", parameters(("id" = "$response.body#/id")))),
                ("trials" = (operation_id = "listOptimizationTrials", parameters(("id" = "$response.body#/id"))))
            )),
        (status = 400, description = "Malformed JSON, or a body that is not an object.", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = Unauthorized),
        (status = 413, description = "The body is larger than the server's limit.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many optimizations are already waiting (the server's `--max-pending`); an identical submission is still answered with its run. Try again after `Retry-After` seconds.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before submitting again."))),
        (status = 422, description = "A field is missing, unknown or invalid (named in `field`: `axes.slow`, `constraints[0]`, `timeframe`, …). \
Besides what this schema says, the server refuses what depends on its strategies and data: an unknown `strategy` or `dataset`, \
a `timeframe` that is not a whole multiple of the dataset's, a period holding none of its bars, `params` or `axes` the strategy \
does not declare or outside their declared ranges, `constraints` naming other parameters, a grid larger than the server's \
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
    let req = OptimizationRequest::from_json(&raw)?;
    let svc = app.service.clone();
    let s = runs::blocking(move || Ok(svc.submit_optimization(&req, raw))).await?;
    Ok(s.map_or_else(runs::refused, |s| runs::submitted(KIND, s)))
}

/// List optimizations
///
/// Newest first (runs in flight first), one page at a time; `metrics` are
/// the best trial's.
#[utoipa::path(
    get,
    path = "/api/optimizations",
    tag = "optimizations",
    operation_id = "listOptimizations",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of optimizations.", body = Page<RunSummary>),
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

/// Get an optimization
///
/// The stored run (summary and ranked trials) once it has ended; its status
/// while it is pending or running.
#[utoipa::path(
    get,
    path = "/api/optimizations/{id}",
    tag = "optimizations",
    operation_id = "getOptimization",
    params(("id" = String, Path, description = "Optimization id.")),
    responses(
        (status = 200, description = "The stored optimization, or its status while in flight.", body = OptimizationRun),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No optimization with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(State(app): State<AppState>, Path(id): Path<String>) -> Result<Response, Problem> {
    runs::get(app, KIND, id).await
}

/// An optimization's status
///
/// Progress in combinations and the live leaderboard; the result once
/// ended. Poll it, or follow `/events`.
#[utoipa::path(
    get,
    path = "/api/optimizations/{id}/status",
    tag = "optimizations",
    operation_id = "getOptimizationStatus",
    params(("id" = String, Path, description = "Optimization id.")),
    responses(
        (status = 200, description = "The optimization's status.", body = OptimizationStatus),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No optimization with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn status(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AnyStatus>, Problem> {
    runs::status(app, KIND, id).await
}

/// Follow an optimization
///
/// Server-sent events: the current status at once, a `progress` event at
/// least every second while it is pending or running, then one
/// `completed`, `failed` or `cancelled` event, and the stream ends (at once
/// for a run that has already ended). Keep-alive comments may come between
/// events. Every event's `data` is the status JSON of
/// `GET /api/optimizations/{id}/status` (schema `OptimizationStatus`). If
/// the run vanishes or storage fails the stream ends early: fall back to
/// polling `/status`.
#[utoipa::path(
    get,
    path = "/api/optimizations/{id}/events",
    tag = "optimizations",
    operation_id = "streamOptimizationEvents",
    params(("id" = String, Path, description = "Optimization id."), AccessToken),
    responses(
        (status = 200, description = "A `text/event-stream` of `progress` events (`Pending` or `Running`), then one `completed`, `failed` or `cancelled` event; each event's `data` is an `OptimizationStatus` JSON object.",
            content_type = "text/event-stream", body = crate::event_schema::OptimizationEvent,
            example = "event: progress\ndata: {\"id\":\"…\",\"status\":\"Running\",\"processedCombinations\":12,\"totalCombinations\":30,\"leaders\":[…],…}\n\nevent: completed\ndata: {\"id\":\"…\",\"status\":\"Completed\",\"processedCombinations\":30,\"totalCombinations\":30,\"result\":{…},…}\n\n"),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No optimization with this id (answered before the stream starts).", body = Problem, content_type = "application/problem+json"),
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

/// Cancel an optimization
///
/// Trials already done are kept; the result is partial.
#[utoipa::path(
    post,
    path = "/api/optimizations/{id}/cancel",
    tag = "optimizations",
    operation_id = "cancelOptimization",
    params(("id" = String, Path, description = "Optimization id.")),
    responses(
        (status = 200, description = "Cancelled.", body = CancelResponse),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No optimization with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The optimization has already ended.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cancel(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    runs::cancel(app, KIND, id).await
}

/// Resume a cancelled optimization
///
/// A new run of the same request (with the seed its search used) that
/// keeps every trial the cancelled run recorded and runs only the rest: it
/// ends as the run would have had it never been cancelled — trials,
/// ranking, best trials and robustness alike. The cancelled run stays as
/// it is. Answered like a submission (the server's current limits apply).
#[utoipa::path(
    post,
    path = "/api/optimizations/{id}/resume",
    tag = "optimizations",
    operation_id = "resumeOptimization",
    params(("id" = String, Path, description = "The cancelled optimization's id.")),
    responses(
        (status = 202, description = "Accepted: the resuming run (or an identical run still pending or running, `existing: true`).", body = OptimizationSubmission,
            headers(("Location" = String, description = "`/api/optimizations/{id}/status`"))),
        (status = 200, description = "An identical run has already completed (`existing: true`): its id, nothing run again.", body = OptimizationSubmission,
            headers(("Location" = String, description = "`/api/optimizations/{id}/status`"))),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No optimization with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The optimization is pending, running, completed or failed: only a cancelled one can be resumed.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Its request is refused by this server now (a limit lowered, a strategy or dataset gone), naming the field.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many optimizations are already waiting; try again after `Retry-After` seconds.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before submitting again."))),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn resume(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let svc = app.service.clone();
    let out = runs::blocking(move || Ok(svc.resume_optimization(&id))).await?;
    match out {
        Ok(s) => Ok(runs::submitted(KIND, s)),
        Err(ResumeError::NotFound(id)) => Err(Problem::not_found("optimization", &id)),
        Err(e @ (ResumeError::NotResumable { .. } | ResumeError::InFlight(_))) => {
            Err(Problem::new(StatusCode::CONFLICT, e.to_string()))
        }
        Err(ResumeError::Submit(e)) => Ok(runs::refused(e)),
    }
}

/// An ended optimization's trials
///
/// Every trial, one page at a time, in rank order (best first) or sorted by
/// `sort` (`fitness`, `index`, any metric such as `netProfit` or
/// `maxDrawdownPct`, or `params.<name>`) in `order`; NULLs (failed trials,
/// undefined ratios) always come last and ties are broken by rank.
/// Completed trials carry their fitness and metrics, failed ones their
/// error; the best trials name the backtest kept in full for them.
#[utoipa::path(
    get,
    path = "/api/optimizations/{id}/trials",
    tag = "optimizations",
    operation_id = "listOptimizationTrials",
    params(
        ("id" = String, Path, description = "Optimization id."),
        TrialsQuery,
    ),
    responses(
        (status = 200, description = "A page of trials.", body = Page<TrialRecord>),
        (status = 400, description = "Unreadable query string.", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No optimization with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The optimization has not ended; its leaders are in `/status`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` or `offset` out of its range, an unknown `sort` (or a parameter the optimization does not have) or `order` (named in `field`).", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn trials(
    State(app): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<TrialsQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    runs::trials(app, id, q).await
}

/// An ended optimization's convergence
///
/// A search's (`method` random or genetic) fitness by evaluation order —
/// the search converging: at most `points` points, each folding
/// consecutive evaluated trials into their lowest and highest fitness and
/// the best found so far (higher is better, as ranked). A grid's trials
/// have no evaluation order: `trials` is 0 and `points` empty.
#[utoipa::path(
    get,
    path = "/api/optimizations/{id}/convergence",
    tag = "optimizations",
    operation_id = "getOptimizationConvergence",
    params(
        ("id" = String, Path, description = "Optimization id."),
        ConvergenceQuery,
    ),
    responses(
        (status = 200, description = "Fitness by evaluation order.", body = Convergence),
        (status = 400, description = "Unreadable query string.", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = Unauthorized),
        (status = 404, description = "No optimization with this id.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The optimization has not ended.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`points` out of its range (named in `field`).", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Storage failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn convergence(
    State(app): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<ConvergenceQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    runs::convergence(app, id, q).await
}
