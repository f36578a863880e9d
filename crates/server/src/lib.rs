//! # atf-server
//!
//! The HTTP API of DESIGN §5 over [`atf_runs::service::RunService`]:
//! runs answer `202 Accepted` at once and are followed by polling
//! (`/status`) or server-sent events (`/events`); errors are
//! `application/problem+json` naming the field at fault; the OpenAPI 3.1
//! document is generated from the code ([`openapi`]).
//!
//! Safety: the server binds loopback unless told otherwise, and then
//! requires a bearer token on every `/api` request ([`ServerConfig`]);
//! requests naming another `Host` or coming from another `Origin` are
//! refused on every route ([`edge`], DNS rebinding). Bodies are
//! size-limited; uploads never choose a path on disk; open event streams
//! are capped and end at shutdown ([`streams`]).
//!
//! [`serve`] starts the whole server (run service, progress cache,
//! scale-out, this router) from one [`serve::ServeConfig`]: `atf serve` and
//! the tests share that one wiring path.

pub mod all_runs;
pub mod backtests;
pub mod body;
pub mod catalog;
pub mod content;
pub mod dashboard;
pub mod dto;
pub mod edge;
pub mod event_schema;
pub mod openapi;
pub mod optimizations;
pub mod problem;
pub mod queries;
mod routes;
pub mod runs;
pub mod serve;
pub mod streams;
mod upload;
pub mod walkforwards;

use atf_runs::service::RunService;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use problem::Problem;
use std::net::SocketAddr;
use std::sync::Arc;
use streams::EventStreams;

/// How the HTTP layer behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// When set, every `/api` request must carry `Authorization: Bearer <token>`
    /// (a `GET …/{id}/events` may pass `?access_token=<token>` instead).
    pub api_token: Option<String>,
    /// Largest JSON body accepted.
    pub max_body_bytes: usize,
    /// Largest dataset upload accepted.
    pub max_upload_bytes: usize,
    /// The bounds of an uploaded dataset's import.
    pub import_limits: atf_data::ImportLimits,
    /// Event streams open at once (`--max-event-streams`); more answer `503`.
    pub max_event_streams: usize,
    /// Names besides the bound address and `localhost` that requests may
    /// carry in `Host` / `Origin` (`--allow-host`): `name` for any port,
    /// `name:port` for that one.
    pub allow_hosts: Vec<String>,
}

/// Event streams open at once unless configured.
pub const DEFAULT_MAX_EVENT_STREAMS: usize = 256;

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            api_token: None,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 512 * 1024 * 1024,
            import_limits: atf_data::ImportLimits::default(),
            max_event_streams: DEFAULT_MAX_EVENT_STREAMS,
            allow_hosts: Vec::new(),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The runs.
    pub service: RunService,
    /// HTTP settings.
    pub config: Arc<ServerConfig>,
    /// The open event streams and their shutdown signal.
    pub streams: Arc<EventStreams>,
}

impl AppState {
    /// The state of a server over `service` with `config`.
    #[must_use]
    pub fn new(service: RunService, config: ServerConfig) -> Self {
        Self {
            service,
            streams: EventStreams::new(config.max_event_streams),
            config: Arc::new(config),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn require_token(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let Some(token) = app.config.api_token.as_deref() else {
        return next.run(req).await;
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
        .or_else(|| event_stream_token(&req));
    if given
        .as_deref()
        .is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes()))
    {
        return next.run(req).await;
    }
    let mut res = Problem::new(
        StatusCode::UNAUTHORIZED,
        if given.is_some() {
            "wrong API token"
        } else {
            "this server requires 'Authorization: Bearer <token>' (its --api-token)"
        },
    )
    .into_response();
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    res
}

/// The `?access_token=` of a `GET /api/{backtests|optimizations|walkforwards}/{id}/events`
/// (browsers' `EventSource` cannot send an `Authorization` header); no
/// other request may carry the token in its URL.
fn event_stream_token(req: &Request) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct TokenQuery {
        access_token: Option<String>,
    }
    let mut tail = req.uri().path().rsplit('/');
    let events = tail.next() == Some("events")
        && tail.next().is_some_and(|id| !id.is_empty())
        && matches!(
            tail.next(),
            Some("backtests" | "optimizations" | "walkforwards")
        );
    if req.method() != Method::GET || !events {
        return None;
    }
    Query::<TokenQuery>::try_from_uri(req.uri())
        .ok()?
        .0
        .access_token
}

async fn not_found(req: Request) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        format!("no route {} {}", req.method(), req.uri().path()),
    )
}

async fn method_not_allowed(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let res = next.run(req).await;
    if res.status() == StatusCode::METHOD_NOT_ALLOWED {
        return Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed on {path}"),
        )
        .into_response();
    }
    res
}

/// The whole application: `/api/…`, the OpenAPI document and the
/// dashboard, for a server bound to `bound` (the `Host` requests must name).
pub fn router(state: AppState, bound: SocketAddr) -> Router {
    let hosts = Arc::new(edge::AllowedHosts::new(bound, &state.config.allow_hosts));
    // the routes and their OpenAPI description come from one list
    let (api, _) = routes::api(state.config.max_upload_bytes).split_for_parts();
    let api = api
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .merge(api)
        .merge(dashboard::router())
        .fallback(not_found)
        .layer(middleware::from_fn(method_not_allowed))
        .layer(middleware::from_fn_with_state(
            hosts,
            edge::check_host_and_origin,
        ))
        .with_state(state)
}
