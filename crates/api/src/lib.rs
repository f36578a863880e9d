//! # atf-api
//!
//! The HTTP contract of `atf serve`, as Rust types shared by both ends:
//! what the server answers ([`status`]: submissions, run statuses, cancel,
//! health, chart bars; [`Problem`] for refusals) next to the stored-run and
//! result types of `atf-runs` and `atf-engine`, and — with the `client`
//! feature — [`client::Client`], the one typed client of that API (the
//! CLI's remote mode, its worker and the tests).
//!
//! With the `server` feature the types also derive their OpenAPI schemas
//! and [`Problem`] is an axum response.

pub mod problem;
pub mod status;

#[cfg(feature = "client")]
pub mod client;

pub use problem::Problem;
pub use status::{
    AnyStatus, BacktestRun, BacktestStatus, BacktestSubmission, CancelResponse, ChartBar,
    DatasetBars, Health, Limits, OptimizationRun, OptimizationStatus, OptimizationSubmission,
    Submission, WalkForwardRun, WalkForwardStatus, WalkForwardSubmission,
};
