//! Errors as RFC 9457 `application/problem+json`: a status, a short title,
//! a specific `detail`, and for validation errors the offending `field`.

#[cfg(feature = "server")]
use axum::http::{header, HeaderValue, StatusCode};
#[cfg(feature = "server")]
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// A problem answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank` for plain HTTP ones).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short, the same for every problem of this kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What exactly is wrong with this request.
    pub detail: String,
    /// The request field at fault (`params.fast`, `axes.slow`, `timeframe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[cfg(feature = "server")]
impl Problem {
    /// A problem with `status` and `detail`.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
        }
    }

    /// A refused field (422).
    #[must_use]
    pub fn field(field: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        let field = field.into();
        Self {
            kind: "https://algotradeforge.dev/problems/validation".into(),
            title: "Invalid request".into(),
            status: StatusCode::UNPROCESSABLE_ENTITY.as_u16(),
            detail: format!("{field}: {reason}"),
            field: Some(field),
        }
    }

    /// 404 for a run or dataset id.
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("no {what} with id '{id}'"))
    }

    /// 500 for a storage failure (logged; the detail says what failed).
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

#[cfg(feature = "server")]
impl From<atf_runs::FieldError> for Problem {
    fn from(e: atf_runs::FieldError) -> Self {
        Self::field(e.field, e.reason)
    }
}

#[cfg(feature = "server")]
impl From<atf_runs::service::ServiceError> for Problem {
    fn from(e: atf_runs::service::ServiceError) -> Self {
        Self::internal(e)
    }
}

#[cfg(feature = "server")]
impl From<atf_runs::service::SubmitError> for Problem {
    fn from(e: atf_runs::service::SubmitError) -> Self {
        match e {
            atf_runs::service::SubmitError::Field(f) => f.into(),
            atf_runs::service::SubmitError::Service(s) => s.into(),
            e @ atf_runs::service::SubmitError::QueueFull { .. } => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, e.to_string())
            }
        }
    }
}

#[cfg(feature = "server")]
impl From<atf_runs::service::QueryError> for Problem {
    fn from(e: atf_runs::service::QueryError) -> Self {
        match e {
            atf_runs::service::QueryError::Field(f) => f.into(),
            atf_runs::service::QueryError::Service(s) => s.into(),
        }
    }
}

#[cfg(feature = "server")]
impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        res
    }
}
