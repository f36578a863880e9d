//! The OpenAPI 3.1 document (being written).

use axum::response::{IntoResponse, Response};

/// `GET /api/openapi.json`.
pub async fn document() -> Response {
    axum::Json(serde_json::json!({"openapi": "3.1.0"})).into_response()
}
