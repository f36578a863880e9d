//! Request bodies read strictly: JSON only (`415` otherwise), size-limited
//! (`413`), syntax errors with line and column (`400`), and wrong or missing
//! fields named by their path (`422`, `params.fast`).

use crate::problem::Problem;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap, StatusCode};

/// Reads a JSON object body.
///
/// # Errors
/// A [`Problem`] saying what is wrong with the body.
pub fn json(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<serde_json::Value, Problem> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !(mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")) {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "expected Content-Type: application/json, got '{}'",
                if ct.is_empty() { "none" } else { ct }
            ),
        ));
    }
    let bytes = body.map_err(|e| Problem::new(e.status(), e.body_text()))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")))?;
    if !value.is_object() {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed JSON: the body must be an object",
        ));
    }
    Ok(value)
}
