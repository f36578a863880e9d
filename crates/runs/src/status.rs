//! A run's lifecycle: `Pending → Running → Completed | Failed |
//! Cancelled`, or `Pending → Failed | Cancelled` before it starts. The
//! run service's own phases (`service.rs`, which also knows "decided, being
//! saved") are what enforce it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a run is in its life (serialized as the seeds spell it: `Pending`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RunStatus {
    /// Accepted, waiting for a slot.
    Pending,
    /// Working.
    Running,
    /// Finished with a result.
    Completed,
    /// Ended by an error (the run's, or a start-up failure).
    Failed,
    /// Stopped on request.
    Cancelled,
}

impl RunStatus {
    /// Whether the run has ended (its result, if any, is final).
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pending => "Pending",
            Self::Running => "Running",
            Self::Completed => "Completed",
            Self::Failed => "Failed",
            Self::Cancelled => "Cancelled",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::RunStatus::*;

    #[test]
    fn serializes_as_the_seeds_spell_it() {
        assert_eq!(serde_json::to_string(&Cancelled).unwrap(), "\"Cancelled\"");
        assert!(Failed.is_terminal() && !Running.is_terminal() && !Pending.is_terminal());
    }
}
