//! The bounds of a distributed run (DESIGN §13): how often a chunk may be
//! handed out before the run fails, how long a run may make no progress,
//! how long Redis may be unreachable — and the check that a chunk's
//! recorded trials are exactly that chunk's, so a confused or lying worker
//! can never have its results merged.

use atf_engine::optimize::Trial;
use std::ops::Range;
use std::time::{Duration, Instant};

/// Default [`DistLimits::max_deliveries`].
pub const DEFAULT_MAX_DELIVERIES: u64 = 3;
/// Default [`DistLimits::stall_timeout`]: generous against chunks sized to
/// take ~2 s on a 4-thread worker, short against "for ever".
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(300);
/// Default [`DistLimits::redis_grace`].
pub const DEFAULT_REDIS_GRACE: Duration = Duration::from_secs(10);

/// The bounds one coordinator applies to each of its runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DistLimits {
    /// Failed deliveries of one chunk (a worker refused it, could not run
    /// it, or returned trials that are not the chunk's) after which the
    /// run fails naming the chunk and the last error.
    pub max_deliveries: u64,
    /// A run whose recorded work has not moved for this long fails (no
    /// worker is taking its chunks).
    pub stall_timeout: Duration,
    /// A run fails when Redis has not answered for this long.
    pub redis_grace: Duration,
}

impl Default for DistLimits {
    fn default() -> Self {
        Self {
            max_deliveries: DEFAULT_MAX_DELIVERIES,
            stall_timeout: DEFAULT_STALL_TIMEOUT,
            redis_grace: DEFAULT_REDIS_GRACE,
        }
    }
}

/// When a run's recorded work last moved.
#[derive(Debug, Clone, Copy)]
pub struct StallClock {
    since: Instant,
    seen: (u64, u64),
}

impl StallClock {
    /// Starting now, with nothing recorded.
    #[must_use]
    pub fn start() -> Self {
        Self {
            since: Instant::now(),
            seen: (0, 0),
        }
    }

    /// Notes `recorded` chunks and `processed` combinations; how long they
    /// have not moved.
    pub fn observe(&mut self, recorded: u64, processed: u64) -> Duration {
        if (recorded, processed) != self.seen {
            *self = Self {
                since: Instant::now(),
                seen: (recorded, processed),
            };
        }
        self.since.elapsed()
    }
}

/// Checks that `trials` (plus `skipped` combinations a constraint left
/// out) are exactly the combinations of `chunk`: every index inside it, none
/// twice, none missing.
///
/// # Errors
/// What is wrong, for the run's error message.
pub fn check_chunk(chunk: &Range<u64>, skipped: u64, trials: &[Trial]) -> Result<(), String> {
    let len = chunk.end.saturating_sub(chunk.start);
    let count = (trials.len() as u64).checked_add(skipped);
    if count != Some(len) {
        return Err(format!(
            "chunk {}..{} has {len} combinations but its result holds {} trials and {skipped} skipped",
            chunk.start,
            chunk.end,
            trials.len()
        ));
    }
    let mut idx: Vec<u64> = trials.iter().map(|t| t.index).collect();
    idx.sort_unstable();
    if let Some(&out) = idx.iter().find(|i| !chunk.contains(i)) {
        return Err(format!(
            "chunk {}..{} holds trial {out}, outside the chunk",
            chunk.start, chunk.end
        ));
    }
    if let Some(w) = idx.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!(
            "chunk {}..{} holds trial {} twice",
            chunk.start, chunk.end, w[0]
        ));
    }
    Ok(())
}

/// Checks that `trials` (plus `skipped` combinations a constraint left
/// out) are exactly the combinations `indices` of the list chunk at
/// position `at` of the run's evaluation order: every one in the list,
/// none twice, none missing.
///
/// # Errors
/// What is wrong, for the run's error message.
pub fn check_list(at: u64, indices: &[u64], skipped: u64, trials: &[Trial]) -> Result<(), String> {
    let len = indices.len() as u64;
    let count = (trials.len() as u64).checked_add(skipped);
    if count != Some(len) {
        return Err(format!(
            "chunk {at} (a list of {len} combinations) has a result of {} trials and {skipped} skipped",
            trials.len()
        ));
    }
    let mut wanted = indices.to_vec();
    wanted.sort_unstable();
    let mut idx: Vec<u64> = trials.iter().map(|t| t.index).collect();
    idx.sort_unstable();
    if let Some(&out) = idx.iter().find(|i| wanted.binary_search(i).is_err()) {
        return Err(format!(
            "chunk {at} holds trial {out}, not one of its combinations"
        ));
    }
    if let Some(w) = idx.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("chunk {at} holds trial {} twice", w[0]));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use atf_engine::optimize::{TrialFailure, TrialOutcome};

    fn trials(idx: &[u64]) -> Vec<Trial> {
        idx.iter()
            .map(|&index| Trial {
                index,
                outcome: TrialOutcome::Failed(Box::new(TrialFailure {
                    message: "x".into(),
                    backtrace: "".into(),
                })),
                blocks: None,
            })
            .collect()
    }

    #[test]
    fn a_chunks_own_trials_pass() {
        assert_eq!(
            check_chunk(&(10..14), 0, &trials(&[10, 11, 12, 13])),
            Ok(())
        );
        assert_eq!(check_chunk(&(10..14), 1, &trials(&[13, 10, 12])), Ok(()));
        assert_eq!(check_chunk(&(10..14), 4, &trials(&[])), Ok(()));
        // skipped ones first: indices past the trials' count
        assert_eq!(check_chunk(&(0..4), 2, &trials(&[2, 3])), Ok(()));
    }

    #[test]
    fn another_chunks_trials_are_rejected() {
        let e = check_chunk(&(10..14), 0, &trials(&[10, 11, 12])).unwrap_err();
        assert!(
            e.contains("has 4 combinations but its result holds 3 trials"),
            "{e}"
        );
        let e = check_chunk(&(10..14), 0, &trials(&[20, 21, 22, 23])).unwrap_err();
        assert!(e.contains("trial 20, outside the chunk"), "{e}");
        let e = check_chunk(&(10..14), 0, &trials(&[10, 11, 11, 13])).unwrap_err();
        assert!(e.contains("trial 11 twice"), "{e}");
        let e = check_chunk(&(0..4), 1, &trials(&[3, 3, 2])).unwrap_err();
        assert!(e.contains("trial 3 twice"), "{e}");
        let e = check_chunk(&(0..4), u64::MAX, &trials(&[1])).unwrap_err();
        assert!(e.contains("has 4 combinations"), "{e}");
    }

    #[test]
    fn a_list_chunks_own_trials_pass_and_others_are_rejected() {
        assert_eq!(
            check_list(7, &[40, 3, 19], 0, &trials(&[3, 19, 40])),
            Ok(())
        );
        assert_eq!(check_list(7, &[40, 3, 19], 1, &trials(&[40, 3])), Ok(()));
        let e = check_list(7, &[40, 3, 19], 0, &trials(&[3, 19])).unwrap_err();
        assert!(e.contains("a list of 3 combinations"), "{e}");
        // a range's worth of trials is not the list's
        let e = check_list(7, &[40, 3, 19], 0, &trials(&[7, 8, 9])).unwrap_err();
        assert!(e.contains("trial 7, not one of its combinations"), "{e}");
        let e = check_list(7, &[40, 3, 19], 0, &trials(&[3, 3, 40])).unwrap_err();
        assert!(e.contains("trial 3 twice"), "{e}");
    }
}
