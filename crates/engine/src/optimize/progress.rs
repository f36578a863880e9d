//! The live counters, best-so-far and cancel flag of one optimization.

use crate::metrics::TrialMetrics;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Mutex, MutexGuard};

/// Live counters and the best-so-far of one optimization, shared between
/// the engine (which writes them once per trial) and whoever watches or
/// cancels it. Use a fresh one per optimization.
#[derive(Debug, Default)]
pub struct OptimizationProgress {
    pub(super) completed: AtomicU64,
    pub(super) failed: AtomicU64,
    pub(super) skipped: AtomicU64,
    pub(super) cancelled: AtomicBool,
    /// Batches a search has planned (its generations); 0 for a grid.
    pub(super) generation: AtomicU64,
    pub(super) leaders: Mutex<Vec<Leader>>,
}

/// One of the best trials so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Leader {
    /// Combination index.
    pub index: u64,
    /// Its fitness (`None` if undefined).
    pub fitness: Option<f64>,
    /// Its metrics.
    pub metrics: TrialMetrics,
}

impl OptimizationProgress {
    /// Fresh counters.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Trials that ran to the end.
    #[must_use]
    pub fn completed(&self) -> u64 {
        self.completed.load(AtomicOrdering::Relaxed)
    }

    /// Trials that failed (panic or error).
    #[must_use]
    pub fn failed(&self) -> u64 {
        self.failed.load(AtomicOrdering::Relaxed)
    }

    /// Combinations refused by a constraint.
    #[must_use]
    pub fn skipped(&self) -> u64 {
        self.skipped.load(AtomicOrdering::Relaxed)
    }

    /// Combinations dealt with: completed + failed + skipped.
    #[must_use]
    pub fn processed(&self) -> u64 {
        self.completed() + self.failed() + self.skipped()
    }

    /// Batches a search has planned so far (the genetic search's
    /// generation); 0 for a grid.
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation.load(AtomicOrdering::Relaxed)
    }

    /// Sets the batches a search has planned (a search driven from
    /// outside the engine, e.g. over scale-out workers).
    pub fn set_generation(&self, generation: u64) {
        self.generation.store(generation, AtomicOrdering::Relaxed);
    }

    /// Asks every thread to stop (running trials stop within 4,096 sub-bars).
    pub fn cancel(&self) {
        self.cancelled.store(true, AtomicOrdering::Relaxed);
    }

    /// Whether cancellation was requested.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(AtomicOrdering::Relaxed)
    }

    /// The best trials so far, best first (at most [`LEADERBOARD_SIZE`](super::LEADERBOARD_SIZE)).
    #[must_use]
    pub fn leaders(&self) -> Vec<Leader> {
        lock(&self.leaders).clone()
    }

    /// Sets the counters (and, when given, the leaderboard) from outside
    /// the engine: a coordinator whose trials run in other processes
    /// mirrors their progress here, so watchers read it as usual.
    pub fn publish(&self, completed: u64, failed: u64, skipped: u64, leaders: Option<Vec<Leader>>) {
        self.completed.store(completed, AtomicOrdering::Relaxed);
        self.failed.store(failed, AtomicOrdering::Relaxed);
        self.skipped.store(skipped, AtomicOrdering::Relaxed);
        if let Some(l) = leaders {
            *lock(&self.leaders) = l;
        }
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means another thread panicked while holding it;
    // the data (a ranking) is still consistent at every await point.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
