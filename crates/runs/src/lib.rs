//! # atf-runs
//!
//! Long-running backtests and optimizations as the HTTP API, the dashboard
//! and remote workers see them (DESIGN §5, the seeds' data model):
//!
//! - [`status`]: a run's lifecycle, `Pending → Running → Completed | Failed
//!   | Cancelled`, with the transitions the seeds allow and no others;
//! - [`key`]: the deterministic run key that deduplicates identical
//!   submissions and never serves a stale result (it covers the strategy
//!   and engine versions and the dataset's content checksum).
//!
//! No I/O here: the server owns HTTP, the cache and SQLite.

pub mod key;
pub mod status;

pub use key::{RunKey, RunKind, RunSpec};
pub use status::{RunStatus, TransitionError};
