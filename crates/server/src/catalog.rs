//! `/api/strategies`, `/api/datasets` (list and upload), `/api/health`.

use crate::dto::Health;
use crate::problem::Problem;
use crate::AppState;
use atf_data::{DataError, ImportOptions};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// `GET /api/strategies`: every strategy with its parameter space.
#[utoipa::path(
    get,
    path = "/api/strategies",
    tag = "catalog",
    operation_id = "listStrategies",
    summary = "Every strategy with its parameter space",
    responses(
        (status = 200, description = "The registered strategies.", body = [crate::openapi::StrategyInfoSchema]),
        (status = 401, response = crate::openapi::Unauthorized),
    )
)]
pub async fn strategies() -> Response {
    let all: Vec<_> = atf_engine::registry::STRATEGIES
        .iter()
        .map(|s| s.info())
        .collect();
    Json(all).into_response()
}

/// `GET /api/datasets`.
#[utoipa::path(
    get,
    path = "/api/datasets",
    tag = "catalog",
    operation_id = "listDatasets",
    summary = "The datasets in the catalog",
    responses(
        (status = 200, description = "Every dataset.", body = [crate::openapi::DatasetInfoSchema]),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 500, description = "Catalog failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn datasets(State(app): State<AppState>) -> Result<Response, Problem> {
    let svc = app.service.clone();
    let list = tokio::task::spawn_blocking(move || svc.with_catalog(|c| c.list()))
        .await
        .map_err(Problem::internal)?
        .map_err(Problem::internal)?;
    Ok(Json(list).into_response())
}

fn import_problem(e: DataError) -> Problem {
    match e {
        DataError::DuplicateName { .. } => Problem::new(StatusCode::CONFLICT, e.to_string()),
        DataError::InvalidName { .. } => Problem::field("name", e.to_string()),
        DataError::InvalidOption(_) => Problem::field("priceDecimals", e.to_string()),
        DataError::InvalidRow { .. } | DataError::InvalidFile { .. } | DataError::Empty { .. } => {
            Problem::field("file", e.to_string())
        }
        other => Problem::internal(other),
    }
}

/// `POST /api/datasets`: a multipart form with `file` (CSV, gzip CSV,
/// Binance, MetaTrader or Parquet) and optional `name`, `symbol`,
/// `priceDecimals` — validated exactly like `atf data import`.
#[utoipa::path(
    post,
    path = "/api/datasets",
    tag = "catalog",
    operation_id = "uploadDataset",
    summary = "Import a dataset",
    description = "A `multipart/form-data` upload with `file` (CSV, gzip CSV, Binance klines, MetaTrader 4/5 or Parquet) \
and optional `name`, `symbol` and `priceDecimals`, validated exactly like `atf data import`. \
The file's name only labels the dataset; it never chooses a path on disk.",
    request_body(content = crate::openapi::DatasetUploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Imported: the new catalog entry and what the import found.", body = crate::openapi::ImportReportSchema),
        (status = 400, description = "A malformed multipart body.", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 409, description = "A dataset with this name exists.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The upload is larger than the server's limit.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a `multipart/form-data` body.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A missing or invalid field or file, or an unknown form field (named in `field`: `file`, `name`, `priceDecimals`, …).", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Catalog failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn upload(
    State(app): State<AppState>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, Problem> {
    let mut multipart = multipart.map_err(|e| {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("expected a multipart/form-data upload: {}", e.body_text()),
        )
    })?;
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut opts = ImportOptions::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| Problem::new(e.status(), format!("upload: {}", e.body_text())))?
    {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" => {
                // the name only labels the dataset; it never chooses a path
                let file_name = field.file_name().unwrap_or("upload.csv").to_owned();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| Problem::new(e.status(), format!("upload: {}", e.body_text())))?;
                file = Some((file_name, bytes.to_vec()));
            }
            "name" | "symbol" | "priceDecimals" => {
                let text = field
                    .text()
                    .await
                    .map_err(|e| Problem::new(e.status(), e.body_text()))?;
                let text = text.trim().to_owned();
                if text.is_empty() {
                    continue;
                }
                match name.as_str() {
                    "name" => opts.name = Some(text),
                    "symbol" => opts.symbol = Some(text),
                    _ => {
                        opts.price_decimals = Some(text.parse().map_err(|_| {
                            Problem::field("priceDecimals", "expected a number from 0 to 12")
                        })?);
                    }
                }
            }
            other => {
                return Err(Problem::field(
                    other,
                    "unknown form field (file, name, symbol, priceDecimals)",
                ));
            }
        }
    }
    let (file_name, bytes) = file.ok_or_else(|| Problem::field("file", "required"))?;
    let svc = app.service.clone();
    let report = tokio::task::spawn_blocking(move || {
        svc.with_catalog(|c| c.import_bytes(&file_name, &bytes, &opts))
    })
    .await
    .map_err(Problem::internal)?
    .map_err(import_problem)?;
    Ok((StatusCode::CREATED, Json(report)).into_response())
}

/// `GET /api/health`.
#[utoipa::path(
    get,
    path = "/api/health",
    tag = "service",
    operation_id = "getHealth",
    summary = "Liveness, versions and load",
    responses(
        (status = 200, description = "The server is up.", body = Health),
        (status = 401, response = crate::openapi::Unauthorized),
    )
)]
pub async fn health(State(app): State<AppState>) -> Json<Health> {
    let load = app.service.load();
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        engine_version: atf_engine::ENGINE_VERSION,
        cache_backend: app.service.cache_backend(),
        queue_depth: load.pending,
        running: load.running,
        active_workers: load.workers,
    })
}
