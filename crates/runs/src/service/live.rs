//! A run this process accepted: its phase, counters and snapshot.

use super::*;

/// Where a live run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Pending,
    Running,
    /// Decided, being written to SQLite.
    Finishing(RunStatus),
    Done(RunStatus),
}

impl Phase {
    /// The status readers see: a cancelled run says so at once; a run
    /// being saved still says `Running` until its result can be read.
    pub(super) fn visible(self) -> RunStatus {
        match self {
            Self::Pending => RunStatus::Pending,
            Self::Running | Self::Finishing(RunStatus::Completed | RunStatus::Failed) => {
                RunStatus::Running
            }
            Self::Finishing(s) | Self::Done(s) => s,
        }
    }
}

#[derive(Debug)]
pub(super) struct LiveState {
    pub(super) phase: Phase,
    pub(super) started_at_ms: Option<i64>,
    pub(super) finished_at_ms: Option<i64>,
    pub(super) error: Option<(String, String)>,
}

/// A run this process accepted and has not finished with.
pub(super) struct LiveRun {
    pub(super) id: String,
    pub(super) plan: Plan,
    pub(super) request: Value,
    pub(super) submitted_at_ms: i64,
    pub(super) total: AtomicU64,
    pub(super) state: Mutex<LiveState>,
    pub(super) bars: Progress,
    pub(super) trials: OptimizationProgress,
    /// A walk-forward's folds and combinations.
    pub(super) folds: crate::walkforward::WalkForwardProgress,
    pub(super) common: OnceLock<RunCommon>,
    /// When a cancel reached it while running (logged: how fast it stopped).
    pub(super) cancelled_at: OnceLock<Instant>,
    /// A resumed optimization's trials recorded by the run it resumes
    /// (taken when it starts).
    pub(super) recorded: Mutex<Vec<atf_engine::optimize::Trial>>,
}

pub(super) use crate::lock;

impl LiveRun {
    pub(super) fn kind(&self) -> RunKind {
        self.plan.kind()
    }

    pub(super) fn snapshot(&self) -> RunSnapshot {
        self.snapshot_with(&lock(&self.state))
    }

    /// The snapshot, with the state already locked by the caller (who
    /// publishes it before unlocking, so an older snapshot can never
    /// overwrite a newer one in the cache).
    pub(super) fn snapshot_with(&self, st: &LiveState) -> RunSnapshot {
        let status = st.phase.visible();
        let (completed, failed, skipped) = match self.kind() {
            RunKind::Backtest => (self.bars.processed(), 0, 0),
            RunKind::Optimization => (
                self.trials.completed(),
                self.trials.failed(),
                self.trials.skipped(),
            ),
            RunKind::WalkForward => {
                let failed = self.folds.failed();
                (self.folds.processed().saturating_sub(failed), failed, 0)
            }
        };
        let folds = self.plan.folds().map(|total| {
            let processed = self.folds.folds_done();
            crate::snapshot::FoldCounts {
                processed,
                total,
                current: (status == RunStatus::Running && processed < total)
                    .then_some(processed + 1),
            }
        });
        let leaders = match (&self.plan.work, self.common.get()) {
            (Work::Optimization(spec), Some(common)) => self
                .trials
                .leaders()
                .iter()
                .take(LEADERS)
                .enumerate()
                .map(|(i, l)| TrialRecord {
                    index: l.index,
                    rank: i as u64 + 1,
                    params: (&spec.params_of(l.index)).into(),
                    status: TrialStatus::Completed,
                    fitness: l.fitness,
                    metrics: Some(l.metrics.expand(common, None)),
                    error_message: None,
                    error_stack_trace: None,
                    backtest_id: None,
                    eval_order: None,
                })
                .collect(),
            _ => Vec::new(),
        };
        RunSnapshot {
            id: self.id.clone(),
            kind: self.kind(),
            run_key: self.plan.key.to_string(),
            status,
            strategy: self.plan.spec.strategy.clone(),
            dataset: self.plan.target.dataset.name.clone(),
            submitted_at_ms: self.submitted_at_ms,
            started_at_ms: st.started_at_ms,
            finished_at_ms: st.finished_at_ms,
            total: self.total.load(Ordering::Relaxed),
            completed,
            failed,
            skipped,
            error_message: st.error.as_ref().map(|e| e.0.clone()),
            error_stack_trace: st.error.as_ref().map(|e| e.1.clone()),
            leaders,
            generation: match &self.plan.work {
                Work::Optimization(spec) if spec.search.is_some() => Some(self.trials.generation()),
                _ => None,
            },
            folds,
        }
    }

    pub(super) fn header(&self, status: RunStatus) -> RunHeader {
        let st = lock(&self.state);
        let t = &self.plan.target;
        RunHeader {
            id: self.id.clone(),
            run_key: self.plan.key.to_string(),
            status,
            strategy: self.plan.spec.strategy.clone(),
            strategy_version: self.plan.spec.strategy_version.clone(),
            dataset_id: t.dataset.id,
            dataset: t.dataset.name.clone(),
            dataset_sha256: t.dataset.sha256.clone(),
            timeframe: t.timeframe.to_string(),
            from_ms: t.period.from_ms,
            to_ms: t.period.to_ms,
            total: self.total.load(Ordering::Relaxed),
            error_message: st.error.as_ref().map(|e| e.0.clone()),
            error_stack_trace: st.error.as_ref().map(|e| e.1.clone()),
            submitted_at_ms: self.submitted_at_ms,
            started_at_ms: st.started_at_ms,
            finished_at_ms: st.finished_at_ms.unwrap_or_else(now_ms),
            request: self.request.clone(),
            spec: self.plan.spec.clone(),
        }
    }

    pub(super) fn cancel_engine(&self) {
        self.bars.cancel();
        self.trials.cancel();
        self.folds.cancel();
    }
}
