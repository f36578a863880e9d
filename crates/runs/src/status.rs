//! A run's lifecycle.

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

/// A transition the lifecycle does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} run cannot become {to}")]
pub struct TransitionError {
    /// Current status.
    pub from: RunStatus,
    /// Requested status.
    pub to: RunStatus,
}

impl RunStatus {
    /// Whether the run has ended (its result, if any, is final).
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    /// The next status, if the lifecycle allows it: `Pending → Running`,
    /// `Pending → Failed | Cancelled` (before it starts), `Running →
    /// Completed | Failed | Cancelled`. Terminal statuses never change.
    ///
    /// # Errors
    /// [`TransitionError`] for anything else.
    pub fn advance(self, to: Self) -> Result<Self, TransitionError> {
        use RunStatus::{Cancelled, Completed, Failed, Pending, Running};
        match (self, to) {
            (Pending, Running | Failed | Cancelled) | (Running, Completed | Failed | Cancelled) => {
                Ok(to)
            }
            _ => Err(TransitionError { from: self, to }),
        }
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
    use super::RunStatus::{self, *};

    const ALL: [RunStatus; 5] = [Pending, Running, Completed, Failed, Cancelled];

    #[test]
    fn only_the_seed_transitions_are_allowed() {
        let allowed = [
            (Pending, Running),
            (Pending, Failed),
            (Pending, Cancelled),
            (Running, Completed),
            (Running, Failed),
            (Running, Cancelled),
        ];
        for from in ALL {
            for to in ALL {
                assert_eq!(
                    from.advance(to).is_ok(),
                    allowed.contains(&(from, to)),
                    "{from} → {to}"
                );
            }
        }
        assert_eq!(
            Completed.advance(Cancelled).unwrap_err().to_string(),
            "a Completed run cannot become Cancelled"
        );
    }

    #[test]
    fn serializes_as_the_seeds_spell_it() {
        assert_eq!(serde_json::to_string(&Cancelled).unwrap(), "\"Cancelled\"");
        assert!(Failed.is_terminal() && !Running.is_terminal() && !Pending.is_terminal());
    }
}
