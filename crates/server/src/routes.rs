//! The `/api` routes, listed once.
//!
//! Each `routes!` entry registers its handlers with axum *and* their
//! `#[utoipa::path]` with the OpenAPI document (utoipa-axum), so the
//! router cannot serve an operation the document lacks, nor the document
//! describe one the router does not serve. That holds only while every
//! `/api` route is added here and only through `routes!` — never with a
//! plain `.route(…)`, which axum would serve undocumented.
//!
//! A `routes!` groups the handlers of one path (one per method): utoipa-axum
//! registers a group's method router under each of its paths.

use crate::openapi::ApiDoc;
use crate::{
    all_runs, backtests, catalog, content, openapi, optimizations, walkforwards, AppState,
};
use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

/// Every `/api` route with its description; `max_upload_bytes` bounds the
/// body of `POST /api/datasets` (other bodies are bounded by the caller).
pub(crate) fn api(max_upload_bytes: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(backtests::submit, backtests::list))
        .routes(routes!(backtests::get))
        .routes(routes!(backtests::status))
        .routes(routes!(backtests::events))
        .routes(routes!(backtests::cancel))
        .routes(routes!(optimizations::submit, optimizations::list))
        .routes(routes!(optimizations::get))
        .routes(routes!(optimizations::status))
        .routes(routes!(optimizations::events))
        .routes(routes!(optimizations::cancel))
        .routes(routes!(optimizations::resume))
        .routes(routes!(optimizations::trials))
        .routes(routes!(optimizations::convergence))
        .routes(routes!(walkforwards::submit, walkforwards::list))
        .routes(routes!(walkforwards::get))
        .routes(routes!(walkforwards::status))
        .routes(routes!(walkforwards::events))
        .routes(routes!(walkforwards::cancel))
        .routes(routes!(all_runs::list))
        .routes(routes!(catalog::strategies))
        .routes(
            routes!(catalog::datasets, catalog::upload)
                .layer(DefaultBodyLimit::max(max_upload_bytes)),
        )
        .routes(routes!(catalog::bars))
        .routes(routes!(content::content))
        .routes(routes!(catalog::health))
        .routes(routes!(openapi::document))
}
