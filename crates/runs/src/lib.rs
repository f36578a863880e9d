//! # atf-runs
//!
//! Long-running backtests and optimizations as the HTTP API, the dashboard
//! and remote workers see them (DESIGN §5, the seeds' data model):
//!
//! - [`status`]: a run's lifecycle, `Pending → Running → Completed | Failed
//!   | Cancelled`, with the transitions the seeds allow and no others;
//! - [`key`]: the deterministic run key that deduplicates identical
//!   submissions and never serves a stale result (it covers the strategy
//!   and engine versions and the dataset's content checksum);
//! - [`settings`], [`period`], [`request`]: what users write (decimal text,
//!   dates, JSON bodies) turned into engine types, refusals naming the field
//!   (and, with the `openapi` feature, `request_schema`: their OpenAPI
//!   schemas, derived from the same types);
//! - [`plan`]: submission — a request checked and sized from the dataset's
//!   catalog entry alone (no bars read), with its key and job;
//! - [`warmup`]: the bars before a run's period its strategy warms up on
//!   (`warmupBars`), read across gaps, never from at or after `from`;
//! - [`cache`]: the progress cache trait, in memory or [`redis_cache`]
//!   ([`clock`]: where the memory cache reads the time and a save's
//!   retries wait);
//! - [`store`]: SQLite persistence of finished runs, every trial included;
//! - [`walkforward`]: walk-forward runs — windows, folds, stitched
//!   out-of-sample equity, efficiency and pass/fail criteria;
//! - [`service`]: the job queue with bounded concurrency, cancellation,
//!   deduplication and the hand-over from cache to SQLite.
//!
//! The crate knows nothing of HTTP: the server and the CLI are shells over
//! [`service::RunService`].

pub mod build;
pub mod cache;
pub mod clock;
pub mod distributed;
pub mod key;
pub mod period;
pub mod plan;
pub mod redis_cache;
pub mod redis_client;
pub mod request;
#[cfg(feature = "openapi")]
pub mod request_schema;
pub mod service;
pub mod settings;
pub mod snapshot;
pub mod status;
pub mod store;
pub mod walkforward;
pub mod warmup;

pub use cache::{CacheError, MemoryCache, ProgressCache};
pub use key::{RunKey, RunKind, RunSpec};
pub use settings::{engine_config, CostSettings, FieldError};
pub use snapshot::{FoldCounts, RunSnapshot};
pub use status::RunStatus;

/// A mutex's guard even when a panicking thread poisoned it: every value
/// kept under a lock here (live counters, connections, queues) stays
/// consistent between statements, and a run's panic is caught and reported
/// as its failure, so it must not take the service down with it.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
