//! What the progress cache holds for a run: its status, counters and
//! error, small enough to publish several times a second and to store in
//! Redis as one JSON value. A finished run's result is not here; it lives
//! in SQLite, which is written before the snapshot turns terminal.

use crate::key::RunKind;
use crate::status::RunStatus;
use atf_engine::optimize::TrialRecord;
use serde::{Deserialize, Serialize};

/// A run's volatile state as status readers see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSnapshot {
    /// Run id.
    pub id: String,
    /// Backtest or optimization.
    pub kind: RunKind,
    /// Deduplication key.
    pub run_key: String,
    /// Lifecycle state.
    pub status: RunStatus,
    /// Strategy name.
    pub strategy: String,
    /// Dataset name.
    pub dataset: String,
    /// When it was accepted, ms since epoch.
    pub submitted_at_ms: i64,
    /// When it started working.
    pub started_at_ms: Option<i64>,
    /// When it ended.
    pub finished_at_ms: Option<i64>,
    /// Total work: sub-bars or combinations.
    pub total: u64,
    /// Sub-bars simulated, or combinations completed (not failed, not skipped).
    pub completed: u64,
    /// Failed trials (optimization).
    pub failed: u64,
    /// Combinations skipped by a constraint (optimization).
    pub skipped: u64,
    /// Why the run failed.
    pub error_message: Option<String>,
    /// Where it failed.
    pub error_stack_trace: Option<String>,
    /// The best trials so far (optimization, at most 10, best first).
    #[serde(default)]
    pub leaders: Vec<TrialRecord>,
    /// A search's batches planned so far (the genetic search's generation);
    /// absent for a grid and a backtest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
    /// A walk-forward's folds (absent for the other kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folds: Option<FoldCounts>,
}

/// How far a walk-forward is, in folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FoldCounts {
    /// Folds finished (in-sample optimization and out-of-sample backtest).
    pub processed: u64,
    /// Folds planned.
    pub total: u64,
    /// The fold working now (1 = first), while the run is running.
    pub current: Option<u64>,
}

impl RunSnapshot {
    /// Work dealt with so far: sub-bars; completed + failed + skipped
    /// combinations of a grid; completed + failed trials of a search's
    /// budget (its skipped combinations do not count against it).
    #[must_use]
    pub fn processed(&self) -> u64 {
        match self.generation {
            Some(_) => self.completed + self.failed,
            None => self.completed + self.failed + self.skipped,
        }
    }
}
