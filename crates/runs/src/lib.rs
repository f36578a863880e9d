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
//! - [`settings`]: costs, cash and sizing from decimal text to the engine's
//!   exact config, refusals naming the field (shared by CLI and API);
//! - [`request`]: the API's request bodies and their strategy-dependent
//!   parts (parameters, axes, constraints, fitness) as engine types.
//!
//! No I/O here: the server owns HTTP, the cache and SQLite.

pub mod key;
pub mod request;
pub mod settings;
pub mod status;

pub use key::{RunKey, RunKind, RunSpec};
pub use settings::{engine_config, CostSettings, FieldError};
pub use status::{RunStatus, TransitionError};
