//! Errors as RFC 9457 `application/problem+json`: the contract's
//! [`Problem`], from `atf-api` (an axum response there).

pub use atf_api::Problem;
