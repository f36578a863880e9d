//! Live counters and the cancel flag of a walk-forward.

use super::*;

pub(super) use crate::lock;

/// Live counters and the cancel flag of one walk-forward: folds done and
/// combinations processed over all folds (the current fold's counted as its
/// optimizer counts them).
#[derive(Debug, Default)]
pub struct WalkForwardProgress {
    cancelled: AtomicBool,
    folds_done: AtomicU64,
    before: AtomicU64,
    failed_before: AtomicU64,
    current: Mutex<Option<Arc<OptimizationProgress>>>,
    backtest: Mutex<Option<Arc<Progress>>>,
}

impl WalkForwardProgress {
    /// Fresh counters.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds finished (in-sample optimization and out-of-sample backtest).
    #[must_use]
    pub fn folds_done(&self) -> u64 {
        self.folds_done.load(Ordering::Relaxed)
    }

    /// Combinations processed (completed, failed or skipped) over all folds.
    #[must_use]
    pub fn processed(&self) -> u64 {
        self.before.load(Ordering::Relaxed)
            + lock(&self.current).as_ref().map_or(0, |p| p.processed())
    }

    /// Trials failed over all folds.
    #[must_use]
    pub fn failed(&self) -> u64 {
        self.failed_before.load(Ordering::Relaxed)
            + lock(&self.current).as_ref().map_or(0, |p| p.failed())
    }

    /// Stops the run: between folds, and within one (its optimization or
    /// backtest stops within a few thousand sub-bars).
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
        if let Some(p) = lock(&self.current).as_ref() {
            p.cancel();
        }
        if let Some(p) = lock(&self.backtest).as_ref() {
            p.cancel();
        }
    }

    /// Whether cancellation was asked for.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    pub(super) fn start_fold(&self) -> Arc<OptimizationProgress> {
        let p = Arc::new(OptimizationProgress::new());
        *lock(&self.current) = Some(Arc::clone(&p));
        if self.is_cancelled() {
            p.cancel();
        }
        p
    }

    pub(super) fn start_backtest(&self) -> Arc<Progress> {
        let p = Arc::new(Progress::new());
        *lock(&self.backtest) = Some(Arc::clone(&p));
        if self.is_cancelled() {
            p.cancel();
        }
        p
    }

    pub(super) fn end_fold(&self, combinations: u64) {
        let mut cur = lock(&self.current);
        if let Some(p) = cur.take() {
            self.failed_before.fetch_add(p.failed(), Ordering::Relaxed);
        }
        self.before.fetch_add(combinations, Ordering::Relaxed);
        self.folds_done.fetch_add(1, Ordering::Relaxed);
        drop(cur);
        *lock(&self.backtest) = None;
    }
}
