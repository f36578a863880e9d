//! What `/api/backtests`, `/api/optimizations` and `/api/walkforwards` do,
//! for any kind: status, events, cancel, get, list (and an optimization's
//! trials, paged). The handlers that name the kind and carry the OpenAPI
//! description are in [`crate::backtests`], [`crate::optimizations`] and
//! [`crate::walkforwards`].

use crate::dto::{AnyStatus, BacktestRun, CancelResponse, OptimizationRun, WalkForwardRun};
use crate::problem::Problem;
use crate::queries::{page_bounds, parse_status, ConvergenceQuery, ListQuery, TrialsQuery};
use crate::streams::EventStreams;
use crate::AppState;
use atf_runs::service::{CancelOutcome, RunService, RunState, SubmitError};
use atf_runs::store::TrialOrder;
use atf_runs::{RunKind, RunStatus};
use axum::extract::Query;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// How often `/events` sends progress (the contract: at least every second).
const EVENT_EVERY: Duration = Duration::from_millis(500);

fn kind_name(kind: RunKind) -> &'static str {
    kind.as_str()
}

fn base(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Backtest => "/api/backtests",
        RunKind::Optimization => "/api/optimizations",
        RunKind::WalkForward => "/api/walkforwards",
    }
}

/// Runs blocking service work (SQLite, Redis) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Problem::internal(format!("worker thread: {e}")))?
}

/// The answer to a submission: `202` with the run (`200` when an identical
/// run has already ended) and its status URL in `Location`.
pub(crate) fn submitted(kind: RunKind, s: atf_runs::service::Submitted) -> Response {
    let code = if s.existing && s.status.is_terminal() {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let location = format!("{}/{}/status", base(kind), s.id);
    let mut res = (code, Json(crate::dto::Submission::of(kind, s))).into_response();
    if let Ok(v) = location.parse() {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

async fn state_of(svc: &RunService, kind: RunKind, id: String) -> Result<RunState, Problem> {
    let svc = svc.clone();
    blocking(move || {
        svc.state(kind, &id)?
            .ok_or_else(|| Problem::not_found(kind_name(kind), &id))
    })
    .await
}

/// `GET …/{id}/status`.
pub async fn status(app: AppState, kind: RunKind, id: String) -> Result<Json<AnyStatus>, Problem> {
    Ok(Json(AnyStatus::of(state_of(&app.service, kind, id).await?)))
}

/// `GET …/{id}`: the stored run once finished, its status while in flight.
pub async fn get(app: AppState, kind: RunKind, id: String) -> Result<Response, Problem> {
    let svc = app.service.clone();
    let stored = blocking(move || {
        let store_view = match kind {
            RunKind::Backtest => svc
                .stored_backtest(&id)?
                .map(|b| Json(BacktestRun::Stored(Box::new(b))).into_response()),
            RunKind::Optimization => svc
                .stored_optimization(&id)?
                .map(|o| Json(OptimizationRun::Stored(Box::new(o))).into_response()),
            RunKind::WalkForward => svc
                .stored_walkforward(&id)?
                .map(|w| Json(WalkForwardRun::Stored(Box::new(w))).into_response()),
        };
        match store_view {
            Some(r) => Ok(r),
            None => match svc.state(kind, &id)? {
                Some(s) => Ok(Json(AnyStatus::of(s)).into_response()),
                None => Err(Problem::not_found(kind_name(kind), &id)),
            },
        }
    })
    .await?;
    Ok(stored)
}

/// `POST …/{id}/cancel`.
pub async fn cancel(app: AppState, kind: RunKind, id: String) -> Result<Response, Problem> {
    let svc = app.service.clone();
    let id2 = id.clone();
    let out = blocking(move || Ok(svc.cancel(kind, &id2)?)).await?;
    match out {
        CancelOutcome::Cancelled => Ok(Json(CancelResponse {
            id,
            status: RunStatus::Cancelled,
        })
        .into_response()),
        CancelOutcome::AlreadyEnded(s) => Err(Problem::new(
            StatusCode::CONFLICT,
            format!("{} '{id}' already ended: {s}", kind_name(kind)),
        )),
        CancelOutcome::NotFound => Err(Problem::not_found(kind_name(kind), &id)),
    }
}

/// `GET …/{id}/events`: `progress` events while it runs, then one
/// `completed`, `failed` or `cancelled` event with the full status, then the
/// stream ends.
///
/// At most [`crate::ServerConfig::max_event_streams`] are open at once
/// (beyond: `503` with `Retry-After`; poll `/status` meanwhile), and every
/// one ends when the server begins to shut down.
pub async fn events(app: AppState, kind: RunKind, id: String) -> Result<Response, Problem> {
    // unknown ids answer 404 before the stream starts
    let first = state_of(&app.service, kind, id.clone()).await?;
    let Some(slot) = app.streams.open() else {
        let mut res = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{} event streams are open, this server's limit (--max-event-streams): \
                 poll {}/{id}/status instead, or try again later",
                app.streams.max(),
                base(kind)
            ),
        )
        .into_response();
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(STREAM_RETRY_AFTER_SECS),
        );
        return Ok(res);
    };
    let svc = app.service.clone();
    let streams = Arc::clone(&app.streams);
    let stream = event_stream(svc, kind, id, first, streams)
        // the slot is freed when the stream is dropped, however it ends
        .map(move |ev| {
            let _held = &slot;
            ev
        });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// `Retry-After` of a refused event stream.
const STREAM_RETRY_AFTER_SECS: u64 = 5;

/// `Retry-After` of a submission refused because its queue is full:
/// about how long a slot takes to free up.
fn queue_retry_after_secs(kind: RunKind) -> u64 {
    match kind {
        RunKind::Backtest => 5,
        RunKind::Optimization | RunKind::WalkForward => 30,
    }
}

/// A refused submission: `429` with `Retry-After` when its queue is full
/// (`--max-pending`), else the problem the error names (`422`, `500`).
pub(crate) fn refused(e: SubmitError) -> Response {
    match e {
        SubmitError::QueueFull { kind, limit } => {
            let mut res = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "{limit} {}s are already waiting, this server's limit (--max-pending): \
                     try again later",
                    kind_name(kind)
                ),
            )
            .into_response();
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(queue_retry_after_secs(kind)),
            );
            res
        }
        e => Problem::from(e).into_response(),
    }
}

enum Step {
    Emit(Box<RunState>),
    Wait,
    Done,
}

fn event_of(state: RunState) -> Event {
    let status = AnyStatus::of(state);
    let name = match status.status() {
        RunStatus::Completed => "completed",
        RunStatus::Failed => "failed",
        RunStatus::Cancelled => "cancelled",
        RunStatus::Pending | RunStatus::Running => "progress",
    };
    Event::default()
        .event(name)
        .json_data(&status)
        .unwrap_or_else(|_| Event::default().event(name))
}

/// The events of one run: its state every [`EVENT_EVERY`] until it ends —
/// or until the server shuts down, when the state read right then (its
/// runs are cancelled first, so usually `cancelled`) is the last event.
fn event_stream(
    svc: RunService,
    kind: RunKind,
    id: String,
    first: RunState,
    streams: Arc<EventStreams>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(Step::Emit(Box::new(first)), move |step| {
        let (svc, id, streams) = (svc.clone(), id.clone(), Arc::clone(&streams));
        async move {
            let (state, closing) = match step {
                Step::Done => return None,
                Step::Emit(s) => (*s, false),
                Step::Wait => {
                    let closing = tokio::select! {
                        () = tokio::time::sleep(EVENT_EVERY) => false,
                        () = streams.closed() => true,
                    };
                    let read = tokio::task::spawn_blocking(move || svc.state(kind, &id)).await;
                    match read {
                        Ok(Ok(Some(s))) => (s, closing),
                        // vanished or storage failed: end the stream; the
                        // client falls back to polling /status
                        _ => return None,
                    }
                }
            };
            let last = closing || state.snapshot.status.is_terminal();
            let ev = event_of(state);
            Some((Ok(ev), if last { Step::Done } else { Step::Wait }))
        }
    })
}

/// `GET /api/backtests`, `GET /api/optimizations`.
pub async fn list(
    app: AppState,
    kind: RunKind,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = q.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    page_of_runs(app, Some(kind), q.offset, q.limit, q.status.as_deref()).await
}

/// A page of runs of `kind` (both when `None`): the bounds and status
/// checked as every list route checks them.
pub(crate) async fn page_of_runs(
    app: AppState,
    kind: Option<RunKind>,
    offset: Option<u64>,
    limit: Option<u64>,
    status: Option<&str>,
) -> Result<Response, Problem> {
    let (offset, limit) = page_bounds(offset, limit)?;
    let status = status.map(parse_status).transpose()?;
    let svc = app.service.clone();
    let page = blocking(move || Ok(svc.list(kind, status, offset, limit)?)).await?;
    Ok(Json(page).into_response())
}

/// An ended optimization's id, or why it cannot be read yet: `404`
/// unknown, `409` still in flight.
fn ended_optimization(svc: &RunService, id: &str) -> Result<(), Problem> {
    if svc.stored_optimization(id)?.is_none() {
        return Err(match svc.state(RunKind::Optimization, id)? {
            Some(_) => Problem::new(
                StatusCode::CONFLICT,
                format!("optimization '{id}' has not ended; its leaders are in /status"),
            ),
            None => Problem::not_found("optimization", id),
        });
    }
    Ok(())
}

/// `GET /api/optimizations/{id}/convergence`.
pub async fn convergence(
    app: AppState,
    id: String,
    q: Result<Query<ConvergenceQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = q.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let points = q.points.unwrap_or(1000);
    if !(1..=atf_runs::store::MAX_CONVERGENCE_POINTS).contains(&points) {
        return Err(Problem::field(
            "points",
            format!(
                "must be between 1 and {}",
                atf_runs::store::MAX_CONVERGENCE_POINTS
            ),
        ));
    }
    let svc = app.service.clone();
    let out = blocking(move || {
        ended_optimization(&svc, &id)?;
        Ok(svc.convergence(&id, points)?)
    })
    .await?;
    Ok(Json(out).into_response())
}

/// `GET /api/optimizations/{id}/trials`.
pub async fn trials(
    app: AppState,
    id: String,
    q: Result<Query<TrialsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = q.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let (offset, limit) = page_bounds(q.offset, q.limit)?;
    let order = TrialOrder::parse(q.sort.as_deref(), q.order.as_deref())?;
    let svc = app.service.clone();
    let page = blocking(move || {
        ended_optimization(&svc, &id)?;
        Ok(svc.sorted_trials(&id, offset, limit, &order)?)
    })
    .await?;
    Ok(Json(page).into_response())
}
