//! Scale-out (DESIGN §6): one optimization shared by worker processes on
//! any number of machines through Redis.
//!
//! - [`job`]: what a worker needs to run part of an optimization (the
//!   request body, the dataset's identity and checksum) and how a grid is
//!   cut into chunks of combination indices;
//! - [`codec`]: a chunk's trials as one compact binary value (metrics as
//!   exact `f64` bits, failures with their message and backtrace);
//! - [`coordinator`]: publishes a run's job and chunks, mirrors progress,
//!   gathers the trials and assembles the report (inside `atf serve`);
//! - [`worker`]: takes chunks from the consumer group (reclaiming those of
//!   dead workers), runs them and records them (`atf worker`, and the
//!   server's own local worker);
//! - [`source`]: where a worker gets a dataset's bars, checksum-verified.
//!
//! Redis layout (all keys under `atf:`; `{id}` is the run id):
//!
//! | key | what |
//! |---|---|
//! | `atf:chunks` | stream of chunks `{run, start, end}` (a list chunk — a search's batch, a resumed run's missing combinations — adds `list`, its indices, `start` being its position in the evaluation order), consumer group `atf-workers` |
//! | `atf:opt:{id}:job` | the job JSON; gone = the run ended (drop its chunks) |
//! | `atf:opt:{id}:cancel` | set when the run is cancelled |
//! | `atf:opt:{id}:chunks` | hash chunk start (or list position) → the chunk's encoded trials (written once) |
//! | `atf:opt:{id}:progress` | hash `completed`, `failed`, `skipped`, `chunks` (recorded) |
//! | `atf:opt:{id}:leaders` | sorted set index → fitness (each chunk's best) |
//! | `atf:opt:{id}:leader-metrics` | hash index → metrics of those |
//! | `atf:opt:{id}:failures` | hash chunk start → failed deliveries, `{start}:error` → the latest |
//! | `atf:opt:{id}:poison` | why the run must fail (a chunk reached its delivery limit) |
//! | `atf:worker:{name}` | heartbeat (expires after 5 s) |
//! | `atf:coordinator` | the URL workers fetch data from |
//!
//! A chunk is recorded and acknowledged by one Lua script, atomically: its
//! results, counters and leaders are written only if that chunk start was
//! not recorded before, so a chunk run twice (reclaimed from a worker that
//! was only slow) counts once.
//!
//! Bounds ([`limits`]): a chunk whose delivery failed (refused, could not
//! run, or its trials were not the chunk's) `max_deliveries` times (3)
//! poisons the run; the coordinator fails a run that is poisoned, whose
//! Redis state vanished (restart without persistence, `FLUSHALL`), that
//! made no progress for `stall_timeout`, or whose Redis did not answer for
//! `redis_grace` — and frees its slot.

pub mod codec;
pub mod coordinator;
pub mod job;
pub mod keys;
pub mod limits;
mod link;
pub mod source;
pub mod worker;

pub use coordinator::Coordinator;
pub use link::Link;

/// Why a distributed operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DistError {
    /// Redis refused or could not be reached.
    #[error("Redis at {url}: {op}: {reason}")]
    Redis {
        /// The URL, password redacted.
        url: String,
        /// The command or step.
        op: String,
        /// What went wrong.
        reason: String,
    },
    /// A stored value could not be read.
    #[error("{0}")]
    Corrupt(String),
}
