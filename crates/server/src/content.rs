//! `GET /api/datasets/{id}/content`: a dataset's Parquet file, for
//! workers (DESIGN §6) that keep a local copy keyed by its checksum.

use crate::problem::Problem;
use crate::AppState;
use atf_data::DataError;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The response header carrying the dataset's content checksum.
pub const SHA256_HEADER: &str = "x-atf-sha256";

/// `GET /api/datasets/{id}/content`.
#[utoipa::path(
    get,
    path = "/api/datasets/{id}/content",
    tag = "datasets",
    operation_id = "getDatasetContent",
    summary = "A dataset's Parquet file (for workers)",
    description = "The dataset's stored Parquet file, as `atf worker` fetches it; the `X-Atf-Sha256` header carries its content checksum (over the normalized bars, as in the catalog), which the worker checks before running anything on it.",
    params(("id" = String, Path, description = "Dataset name or numeric id.")),
    responses(
        (status = 200, description = "The Parquet file.", content_type = "application/vnd.apache.parquet",
            headers(("X-Atf-Sha256" = String, description = "Content checksum (lowercase hex SHA-256)."))),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, description = "No dataset with this name or id.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Catalog or file failure.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn content(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let svc = app.service.clone();
    let (sha, bytes) = tokio::task::spawn_blocking(move || {
        let ds = svc.with_catalog(|c| c.get(&id)).map_err(|e| match e {
            DataError::DatasetNotFound { .. } => Problem::new(StatusCode::NOT_FOUND, e.to_string()),
            other => Problem::internal(other),
        })?;
        let path = svc.config().data_dir.join(&ds.file);
        let bytes = std::fs::read(&path)
            .map_err(|e| Problem::internal(format!("cannot read {}: {e}", path.display())))?;
        Ok::<_, Problem>((ds.sha256, bytes))
    })
    .await
    .map_err(Problem::internal)??;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.apache.parquet"),
    );
    if let Ok(v) = HeaderValue::from_str(&sha) {
        h.insert(SHA256_HEADER, v);
    }
    Ok(res)
}
