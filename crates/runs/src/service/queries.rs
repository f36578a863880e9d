//! What readers ask: a run's state (the cache first, then SQLite), its
//! trials, the runs list, the load.

use super::*;

impl RunService {
    /// A run's status and, once it has one, its result: the cache first,
    /// then SQLite; `None` if neither knows it.
    ///
    /// # Errors
    /// [`ServiceError`] when storage fails.
    pub fn state(&self, kind: RunKind, id: &str) -> Result<Option<RunState>, ServiceError> {
        if let Some(snap) = self.inner.cache.get(id)? {
            if snap.kind != kind {
                return Ok(None);
            }
            if !snap.status.is_terminal() || snap.status == RunStatus::Failed {
                return Ok(Some(RunState {
                    snapshot: snap,
                    result: None,
                }));
            }
            // terminal: the result is in SQLite (written before the snapshot turned)
            if let Some(stored) = self.stored(kind, id)? {
                return Ok(Some(stored));
            }
            return Ok(Some(RunState {
                snapshot: snap,
                result: None,
            }));
        }
        // in flight here but not in the cache (Redis flushed or restarted
        // empty: the next publish puts it back): never a 404 meanwhile
        let live = lock(&self.inner.live).get(id).cloned();
        if let Some(run) = live.filter(|r| r.kind() == kind) {
            let snapshot = run.snapshot();
            if !snapshot.status.is_terminal() {
                return Ok(Some(RunState {
                    snapshot,
                    result: None,
                }));
            }
        }
        self.stored(kind, id)
    }

    pub(super) fn stored(&self, kind: RunKind, id: &str) -> Result<Option<RunState>, ServiceError> {
        let store = &self.inner.store;
        Ok(match kind {
            RunKind::WalkForward => store.walkforward(id)?.map(|w| {
                let mut snapshot = snapshot_of(
                    &w.header,
                    kind,
                    w.processed_combinations.saturating_sub(w.failed_trials),
                    w.failed_trials,
                    0,
                    Vec::new(),
                    None,
                );
                snapshot.folds = Some(crate::snapshot::FoldCounts {
                    processed: w.folds_processed,
                    total: w.total_folds,
                    current: None,
                });
                RunState {
                    snapshot,
                    result: w.result.map(|r| RunResult::WalkForward(Box::new(r))),
                }
            }),
            RunKind::Backtest => store.backtest(id)?.map(|b| RunState {
                snapshot: snapshot_of(&b.header, kind, b.processed, 0, 0, Vec::new(), None),
                result: b.result.map(|r| RunResult::Backtest(Box::new(r))),
            }),
            RunKind::Optimization => store.optimization(id, INLINE_TRIALS)?.map(|o| {
                let leaders = o
                    .result
                    .as_ref()
                    .map(|r| r.trials.iter().take(LEADERS).cloned().collect())
                    .unwrap_or_default();
                let generation = o
                    .result
                    .as_ref()
                    .and_then(|r| r.summary.search.as_ref())
                    .map(|s| s.generations)
                    .or_else(|| o.header.spec.search.as_ref().map(|_| 0));
                RunState {
                    snapshot: snapshot_of(
                        &o.header,
                        kind,
                        o.completed,
                        o.failed,
                        o.skipped,
                        leaders,
                        generation,
                    ),
                    result: o.result.map(|r| RunResult::Optimization(Box::new(r))),
                }
            }),
        })
    }

    /// A page of an optimization's trials, best first.
    ///
    /// # Errors
    /// [`ServiceError`] when storage fails.
    pub fn trials(
        &self,
        id: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Page<TrialRecord>, ServiceError> {
        Ok(self.inner.store.trials(id, offset, limit)?)
    }

    /// A page of an optimization's trials in `order` (NULLs last, ties by
    /// rank). A parameter to sort by must be one of the optimization's own.
    ///
    /// # Errors
    /// [`QueryError::Field`] (`sort`) for a parameter the optimization does
    /// not have; [`QueryError::Service`] when storage fails.
    pub fn sorted_trials(
        &self,
        id: &str,
        offset: u64,
        limit: u64,
        order: &TrialOrder,
    ) -> Result<Page<TrialRecord>, QueryError> {
        let store = &self.inner.store;
        if let TrialSort::Param(name) = &order.sort {
            let names = store.trial_param_names(id).map_err(ServiceError::from)?;
            if let Some(names) = names.filter(|n| !n.contains(name)) {
                return Err(FieldError::new(
                    "sort",
                    format!(
                        "unknown parameter '{name}' (this optimization's: {})",
                        names.join(", ")
                    ),
                )
                .into());
            }
        }
        Ok(store
            .sorted_trials(id, offset, limit, order)
            .map_err(ServiceError::from)?)
    }

    /// A stored optimization's fitness by evaluation order in at most
    /// `points` points (see [`RunStore::convergence`](crate::store::RunStore::convergence)).
    ///
    /// # Errors
    /// [`ServiceError`] when storage fails.
    pub fn convergence(
        &self,
        id: &str,
        points: u64,
    ) -> Result<crate::store::Convergence, ServiceError> {
        Ok(self.inner.store.convergence(id, points)?)
    }

    /// Runs of `kind`, newest first: this process's runs in flight, then
    /// the finished ones from SQLite.
    ///
    /// # Errors
    /// [`ServiceError`] when storage fails.
    pub fn list(
        &self,
        kind: Option<RunKind>,
        status: Option<RunStatus>,
        offset: u64,
        limit: u64,
    ) -> Result<Page<RunSummary>, ServiceError> {
        let mut live: Vec<RunSnapshot> = lock(&self.inner.live)
            .values()
            .filter(|r| {
                kind.is_none_or(|k| r.kind() == k)
                    && !matches!(lock(&r.state).phase, Phase::Done(_))
            })
            .map(|r| r.snapshot())
            .filter(|s| status.is_none_or(|want| s.status == want))
            .collect();
        live.sort_by(|a, b| {
            b.submitted_at_ms
                .cmp(&a.submitted_at_ms)
                .then(b.id.cmp(&a.id))
        });
        let n_live = live.len() as u64;
        let mut items: Vec<RunSummary> = live
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|s| RunSummary {
                processed: s.processed(),
                id: s.id,
                kind: s.kind,
                status: s.status,
                strategy: s.strategy,
                dataset: s.dataset,
                timeframe: String::new(),
                total: s.total,
                failed: s.failed,
                error_message: s.error_message,
                submitted_at_ms: s.submitted_at_ms,
                finished_at_ms: 0,
                metrics: None,
                walkforward: None,
            })
            .collect();
        let room = limit.saturating_sub(items.len() as u64);
        let stored_offset = offset.saturating_sub(n_live);
        let stored = self.inner.store.list(kind, status, stored_offset, room)?;
        let total = n_live + stored.total;
        items.extend(stored.items);
        Ok(Page {
            items,
            total,
            offset,
            limit,
        })
    }

    /// Queue depth, running runs and worker threads.
    #[must_use]
    pub fn load(&self) -> Load {
        let pending = self.inner.lanes.iter().map(|l| lock(&l.queue).len()).sum();
        Load {
            pending,
            running: usize::try_from(self.inner.running.load(Ordering::Relaxed)).unwrap_or(0),
            workers: match &self.inner.coordinator {
                Some(c) => c.active_workers(),
                None => self.inner.cfg.backtest_slots + self.inner.cfg.optimization_slots,
            },
        }
    }
}

pub(super) fn snapshot_of(
    h: &RunHeader,
    kind: RunKind,
    completed: u64,
    failed: u64,
    skipped: u64,
    leaders: Vec<TrialRecord>,
    generation: Option<u64>,
) -> RunSnapshot {
    RunSnapshot {
        id: h.id.clone(),
        kind,
        run_key: h.run_key.clone(),
        status: h.status,
        strategy: h.strategy.clone(),
        dataset: h.dataset.clone(),
        submitted_at_ms: h.submitted_at_ms,
        started_at_ms: h.started_at_ms,
        finished_at_ms: Some(h.finished_at_ms),
        total: h.total,
        completed,
        failed,
        skipped,
        error_message: h.error_message.clone(),
        error_stack_trace: h.error_stack_trace.clone(),
        leaders,
        generation,
        folds: None,
    }
}

impl RunService {
    /// A finished backtest as stored (with its result), if any.
    ///
    /// # Errors
    /// [`ServiceError`] when storage fails.
    pub fn stored_backtest(
        &self,
        id: &str,
    ) -> Result<Option<crate::store::StoredBacktest>, ServiceError> {
        Ok(self.inner.store.backtest(id)?)
    }

    /// A finished walk-forward as stored (with its report), if any.
    ///
    /// # Errors
    /// [`ServiceError`] when storage fails.
    pub fn stored_walkforward(
        &self,
        id: &str,
    ) -> Result<Option<crate::store::StoredWalkForward>, ServiceError> {
        Ok(self.inner.store.walkforward(id)?)
    }

    /// A finished optimization as stored (summary and its first
    /// [`INLINE_TRIALS`] trials), if any.
    ///
    /// # Errors
    /// [`ServiceError`] when storage fails.
    pub fn stored_optimization(
        &self,
        id: &str,
    ) -> Result<Option<crate::store::StoredOptimization>, ServiceError> {
        Ok(self.inner.store.optimization(id, INLINE_TRIALS)?)
    }
}
