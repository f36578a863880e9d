//! Submission (checked by [`crate::plan`], deduplicated by run key) and
//! cancellation.

use super::*;
use atf_engine::optimize::Trial;

impl RunService {
    pub(super) fn dataset(&self, name_or_id: &str) -> Result<DatasetInfo, SubmitError> {
        match lock(&self.inner.catalog).get(name_or_id) {
            Ok(ds) => Ok(ds),
            Err(e @ DataError::DatasetNotFound { .. }) => {
                Err(FieldError::new("dataset", e.to_string()).into())
            }
            Err(e) => Err(ServiceError::Catalog(e).into()),
        }
    }

    /// Accepts a backtest (or answers with the identical one).
    ///
    /// # Errors
    /// [`SubmitError::Field`] for bad input; [`SubmitError::Service`] when
    /// storage fails.
    pub fn submit_backtest(
        &self,
        req: &BacktestRequest,
        body: Value,
    ) -> Result<Submitted, SubmitError> {
        let ds = self.dataset(&req.run.dataset)?;
        let plan = plan::backtest(&self.inner.cfg.registry, req, ds)?;
        self.submit(plan, body)
    }

    /// Accepts an optimization (or answers with the identical one).
    ///
    /// # Errors
    /// As [`RunService::submit_backtest`]; `axes` when the grid is larger
    /// than [`ServiceConfig::max_combinations`], `top` when the kept trials'
    /// curves exceed [`ServiceConfig::max_kept_points`].
    pub fn submit_optimization(
        &self,
        req: &OptimizationRequest,
        body: Value,
    ) -> Result<Submitted, SubmitError> {
        let ds = self.dataset(&req.run.dataset)?;
        let cfg = &self.inner.cfg;
        let limits = plan::GridLimits {
            max_combinations: cfg.max_combinations,
            max_kept_points: cfg.max_kept_points,
        };
        let plan = plan::optimization(&cfg.registry, req, ds, limits)?;
        self.submit(plan, body)
    }

    /// Resumes cancelled optimization `id`: the same request (with the
    /// seed its search used), as a new run that keeps the trials `id`
    /// recorded and runs only the rest — ending as the uninterrupted run
    /// would have (issue 17).
    ///
    /// # Errors
    /// [`ResumeError::NotFound`], [`ResumeError::NotResumable`] for a run
    /// in flight or not cancelled, [`ResumeError::Submit`] as a submission
    /// (the server's limits may have changed since).
    pub fn resume_optimization(&self, id: &str) -> Result<Submitted, ResumeError> {
        if lock(&self.inner.live).contains_key(id) {
            return Err(ResumeError::InFlight(id.to_owned()));
        }
        let store = &self.inner.store;
        let stored = store
            .optimization(id, 0)
            .map_err(|e| SubmitError::from(ServiceError::from(e)))?
            .ok_or_else(|| ResumeError::NotFound(id.to_owned()))?;
        let h = &stored.header;
        if h.status != RunStatus::Cancelled {
            return Err(ResumeError::NotResumable {
                id: id.to_owned(),
                status: h.status,
            });
        }
        let mut body = h.request.clone();
        if let (Some(search), Value::Object(fields)) = (&h.spec.search, &mut body) {
            fields.insert("seed".into(), Value::from(search.seed));
        }
        let req = OptimizationRequest::from_json(&body).map_err(SubmitError::from)?;
        let recorded = store
            .recorded_trials(id)
            .map_err(|e| SubmitError::from(ServiceError::from(e)))?
            .unwrap_or_default();
        let ds = self.dataset(&req.run.dataset)?;
        let cfg = &self.inner.cfg;
        let limits = plan::GridLimits {
            max_combinations: cfg.max_combinations,
            max_kept_points: cfg.max_kept_points,
        };
        let plan =
            plan::optimization(&cfg.registry, &req, ds, limits).map_err(SubmitError::from)?;
        info!(run = id, recorded = recorded.len(), "resuming");
        Ok(self.submit_with(plan, body, recorded)?)
    }

    /// Accepts a walk-forward (or answers with the identical one), held to
    /// the optimizations' limits: each fold's grid to
    /// [`ServiceConfig::max_combinations`], its one kept winner to
    /// [`ServiceConfig::max_kept_points`], waiting runs to
    /// [`ServiceConfig::max_pending`] (with the optimizations: one lane).
    ///
    /// # Errors
    /// As [`RunService::submit_optimization`]; windows that do not fit the
    /// period name their field (`inSample`, `outOfSample`, `folds`, …).
    pub fn submit_walkforward(
        &self,
        req: &crate::walkforward::WalkForwardRequest,
        body: Value,
    ) -> Result<Submitted, SubmitError> {
        let ds = self.dataset(&req.optimization.run.dataset)?;
        let cfg = &self.inner.cfg;
        let limits = plan::GridLimits {
            max_combinations: cfg.max_combinations,
            max_kept_points: cfg.max_kept_points,
        };
        let plan = crate::walkforward::plan_walkforward(&cfg.registry, req, ds, limits)?;
        self.submit(plan, body)
    }

    pub(super) fn submit(&self, plan: Plan, body: Value) -> Result<Submitted, SubmitError> {
        self.submit_with(plan, body, Vec::new())
    }

    /// Submits `plan`; an optimization starts from the trials `recorded`
    /// (a resumed run's).
    fn submit_with(
        &self,
        plan: Plan,
        body: Value,
        recorded: Vec<Trial>,
    ) -> Result<Submitted, SubmitError> {
        let inner = &self.inner;
        let id = uuid::Uuid::new_v4().to_string();
        let key = plan.key.to_string();
        let kind = plan.kind();
        for _ in 0..3 {
            let Some(holder) = inner.cache.claim(&key, &id).map_err(ServiceError::from)? else {
                break;
            };
            let live = lock(&inner.live).get(&holder).cloned();
            if let Some(run) = live {
                let snap = run.snapshot();
                return Ok(Submitted {
                    id: holder,
                    run_key: key,
                    status: snap.status,
                    total: snap.total,
                    folds: snap.folds.map(|f| f.total),
                    existing: true,
                });
            }
            // a claim left by a process that is gone: take it over
            inner
                .cache
                .release(&key, &holder)
                .map_err(ServiceError::from)?;
        }
        if let Some(done) = inner
            .store
            .find_completed(kind, &key)
            .map_err(ServiceError::from)?
        {
            inner.cache.release(&key, &id).map_err(ServiceError::from)?;
            let snap = self.state(kind, &done)?.map(|s| s.snapshot);
            return Ok(Submitted {
                id: done,
                run_key: key,
                status: RunStatus::Completed,
                total: snap.as_ref().map_or(plan.total, |s| s.total),
                folds: snap
                    .and_then(|s| s.folds)
                    .map(|f| f.total)
                    .or_else(|| plan.folds()),
                existing: true,
            });
        }
        // a place in the queue, or 429: counted with the runs already
        // queued, under the queue's lock, so the bound is exact
        let lane = &inner.lanes[lane_of(kind)];
        let admitted = {
            let q = lock(&lane.queue);
            if q.len() + lane.admitting.load(Ordering::Acquire) >= inner.cfg.max_pending {
                drop(q);
                inner.cache.release(&key, &id).map_err(ServiceError::from)?;
                return Err(SubmitError::QueueFull {
                    kind,
                    limit: inner.cfg.max_pending,
                });
            }
            Admitted::new(&lane.admitting)
        };
        let run = Arc::new(LiveRun {
            id: id.clone(),
            total: AtomicU64::new(plan.total),
            request: body,
            submitted_at_ms: now_ms(),
            state: Mutex::new(LiveState {
                phase: Phase::Pending,
                started_at_ms: None,
                finished_at_ms: None,
                error: None,
            }),
            bars: Progress::new(),
            trials: OptimizationProgress::new(),
            folds: crate::walkforward::WalkForwardProgress::new(),
            common: OnceLock::new(),
            cancelled_at: OnceLock::new(),
            recorded: Mutex::new(recorded),
            plan,
        });
        let snap = run.snapshot();
        if let Err(e) = inner.cache.put(&snap, None) {
            let _ = inner.cache.release(&key, &id);
            return Err(ServiceError::from(e).into());
        }
        lock(&inner.live).insert(id.clone(), Arc::clone(&run));
        info!(run = %id, kind = kind.as_str(), strategy = %snap.strategy, dataset = %snap.dataset,
            total = snap.total, "run accepted");
        {
            let mut q = lock(&lane.queue);
            q.push_back(run);
            // queued now: counted by the queue, no longer as admitted
            drop(admitted);
        }
        lane.ready.notify_one();
        Ok(Submitted {
            id,
            run_key: key,
            status: RunStatus::Pending,
            total: snap.total,
            folds: snap.folds.map(|f| f.total),
            existing: false,
        })
    }

    /// Cancels run `id` of `kind`.
    ///
    /// # Errors
    /// [`ServiceError`] when storage fails.
    pub fn cancel(&self, kind: RunKind, id: &str) -> Result<CancelOutcome, ServiceError> {
        let live = lock(&self.inner.live).get(id).cloned();
        if let Some(run) = live.filter(|r| r.kind() == kind) {
            let mut st = lock(&run.state);
            match st.phase {
                Phase::Pending => {
                    st.phase = Phase::Finishing(RunStatus::Cancelled);
                    st.finished_at_ms = Some(now_ms());
                    drop(st);
                    let lane = &self.inner.lanes[lane_of(kind)];
                    lock(&lane.queue).retain(|r| r.id != run.id);
                    info!(run = %run.id, "pending run cancelled");
                    self.finish(&run, RunStatus::Cancelled, Ended::none(kind), None);
                    return Ok(CancelOutcome::Cancelled);
                }
                Phase::Running => {
                    st.phase = Phase::Finishing(RunStatus::Cancelled);
                    let _ = run.cancelled_at.set(Instant::now());
                    run.cancel_engine();
                    info!(run = %run.id, "cancel requested");
                    // readers see Cancelled now, not at the next publish
                    self.inner.cache.put(&run.snapshot_with(&st), None)?;
                    return Ok(CancelOutcome::Cancelled);
                }
                Phase::Finishing(s) | Phase::Done(s) => {
                    return Ok(CancelOutcome::AlreadyEnded(s));
                }
            }
        }
        Ok(match self.state(kind, id)? {
            Some(s) if s.snapshot.status.is_terminal() => {
                CancelOutcome::AlreadyEnded(s.snapshot.status)
            }
            // known to the cache but run by no one here (another process)
            Some(_) | None => CancelOutcome::NotFound,
        })
    }
}

/// Why a resume was refused.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// No optimization with this id (HTTP 404).
    #[error("no optimization '{0}'")]
    NotFound(String),
    /// The run is still pending, running or being saved (HTTP 409).
    #[error("optimization '{0}' is still in flight (pending, running or being saved): resume it once it has ended")]
    InFlight(String),
    /// Only a cancelled optimization can be resumed (HTTP 409).
    #[error("optimization '{id}' is {status}: only a cancelled optimization can be resumed")]
    NotResumable {
        /// The run.
        id: String,
        /// Its status.
        status: RunStatus,
    },
    /// Its request, planned again, was refused, or storage failed.
    #[error(transparent)]
    Submit(#[from] SubmitError),
}

/// A submission counted against its lane's `max_pending` until it is
/// queued or gives up (a cache failure): the count drops with it.
struct Admitted<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Admitted<'a> {
    fn new(counter: &'a std::sync::atomic::AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::AcqRel);
        Self(counter)
    }
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
