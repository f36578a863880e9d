//! The lanes: threads that take queued runs, execute them on the engine
//! (or the scale-out coordinator), publish their progress, and hand a
//! finished run to SQLite before its snapshot turns terminal.

use super::*;

impl RunService {
    pub(super) fn work_lane(&self, lane: usize) {
        lower_priority();
        let l = &self.inner.lanes[lane];
        loop {
            let run = {
                let mut q = lock(&l.queue);
                loop {
                    if self.inner.stop.load(Ordering::Relaxed) {
                        return;
                    }
                    if let Some(r) = q.pop_front() {
                        break r;
                    }
                    q = l.ready.wait(q).unwrap_or_else(PoisonError::into_inner);
                }
            };
            self.execute(&run);
        }
    }

    pub(super) fn publish_loop(&self) {
        while !self.inner.stop.load(Ordering::Relaxed) {
            std::thread::sleep(self.inner.cfg.publish_every);
            let runs: Vec<Arc<LiveRun>> = lock(&self.inner.live).values().cloned().collect();
            for run in runs {
                let st = lock(&run.state);
                if matches!(st.phase, Phase::Done(_)) {
                    continue;
                }
                if let Err(e) = self.inner.cache.put(&run.snapshot_with(&st), None) {
                    warn!(run = %run.id, error = %e, "cannot publish progress");
                }
            }
        }
    }

    pub(super) fn execute(&self, run: &Arc<LiveRun>) {
        {
            let mut st = lock(&run.state);
            if st.phase != Phase::Pending {
                return; // cancelled while waiting
            }
            st.phase = Phase::Running;
            st.started_at_ms = Some(now_ms());
            let _ = self.inner.cache.put(&run.snapshot_with(&st), None);
        }
        self.inner.running.fetch_add(1, Ordering::Relaxed);
        let t0 = Instant::now();
        info!(run = %run.id, kind = run.kind().as_str(), "run started");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.compute(run)))
            .unwrap_or_else(|p| {
                let msg = p
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into());
                Err((format!("internal error: {msg}"), trace_here()))
            });
        if let Some(at) = run.cancelled_at.get() {
            info!(run = %run.id, stop_ms = at.elapsed().as_secs_f64() * 1e3, "engine stopped after cancel");
        }
        let (status, ended, error) = match outcome {
            Ok((ended, cancelled)) => (
                if cancelled {
                    RunStatus::Cancelled
                } else {
                    RunStatus::Completed
                },
                ended,
                None,
            ),
            Err(e) => (RunStatus::Failed, Ended::none(run.kind()), Some(e)),
        };
        self.finish(run, status, ended, error);
        self.inner.running.fetch_sub(1, Ordering::Relaxed);
        let wall = t0.elapsed().as_secs_f64();
        let final_status = match lock(&run.state).phase {
            Phase::Done(s) | Phase::Finishing(s) => s,
            _ => status,
        };
        match final_status {
            RunStatus::Failed => {
                let st = lock(&run.state);
                let msg = st.error.as_ref().map_or("", |e| e.0.as_str());
                error!(run = %run.id, wall_secs = wall, error = msg, "run failed");
            }
            s => info!(run = %run.id, wall_secs = wall, status = %s, "run ended"),
        }
    }

    /// Loads the data and runs the engine: `(outcome, cancelled)` or the
    /// run's error and stack trace.
    pub(super) fn compute(&self, run: &LiveRun) -> Result<(Ended, bool), (String, String)> {
        let t = &run.plan.target;
        let catalog =
            Catalog::open(&self.inner.cfg.data_dir).map_err(|e| (e.to_string(), trace_here()))?;
        let (mut before, bars) = crate::warmup::load(t, catalog.data_dir())
            .map_err(|e| (e.to_string(), trace_here()))?;
        drop(catalog);
        if let Work::WalkForward(job) = &run.plan.work {
            // each window is resampled on its own (the period never is) and
            // warms up on the bars before it: those of the period's warm-up
            // and the earlier windows'
            before.extend_from(&bars);
            return self.compute_walkforward(run, job, &before);
        }
        let data = crate::warmup::market_data(t, &before, bars)
            .map_err(|e| (format!("no data to run on: {e}"), trace_here()))?;
        info!(run = %run.id, sub_bars = data.total_sub_bars(), "data loaded");
        if run.kind() == RunKind::Backtest {
            run.total.store(data.total_sub_bars(), Ordering::Relaxed);
        }
        let _ = run.common.set(RunCommon {
            initial_equity: t.instrument.money_scale.to_f64(t.config.initial_cash.raw()),
            main_bars: data.window_times().len() as u64,
            sub_bars: data.total_sub_bars(),
        });
        match &run.plan.work {
            Work::Backtest(params) => {
                match t
                    .strategy
                    .backtest(&data, &t.config, params, Some(&run.bars))
                {
                    Ok(report) => Ok((Ended::Backtest(Some(Box::new(report))), false)),
                    Err(RunFailure::Cancelled { .. }) => Ok((Ended::Backtest(None), true)),
                    Err(RunFailure::Failed(f)) => Err((f.message, f.backtrace)),
                    Err(e) => Err((e.to_string(), trace_here())),
                }
            }
            // grids, searches and resumed runs alike go to the workers
            Work::Optimization(_) if self.inner.coordinator.is_some() => {
                self.compute_distributed(run, &data)
            }
            Work::WalkForward(_) => Err((
                "internal error: a walk-forward ran as an optimization".into(),
                trace_here(),
            )),
            Work::Optimization(spec) => {
                // a resumed run starts from the trials its original recorded
                let recorded = std::mem::take(&mut *lock(&run.recorded));
                let threads = self.inner.cfg.optimizer_threads;
                let result = if recorded.is_empty() {
                    t.strategy
                        .optimize(&data, &t.config, spec, &run.trials, threads)
                } else {
                    t.strategy
                        .resume(&data, &t.config, spec, recorded, &run.trials, threads)
                };
                match result {
                    Ok(report) => {
                        let cancelled = report.cancelled;
                        log_failed_trials(&run.id, &report);
                        Ok((Ended::Optimization(Some(Box::new(report))), cancelled))
                    }
                    Err(e) => Err((e.to_string(), trace_here())),
                }
            }
        }
    }

    /// Persists the run (`save`: retried, else recorded `Failed`), then
    /// turns its snapshot terminal, then releases its key and forgets it.
    pub(super) fn finish(
        &self,
        run: &Arc<LiveRun>,
        computed: RunStatus,
        ended: Ended,
        error: Option<(String, String)>,
    ) {
        let status = {
            let mut st = lock(&run.state);
            let status = match st.phase {
                // a cancel that arrived while the engine was finishing wins
                Phase::Finishing(RunStatus::Cancelled) => RunStatus::Cancelled,
                _ => computed,
            };
            st.phase = Phase::Finishing(status);
            st.finished_at_ms = Some(now_ms());
            if status == RunStatus::Failed {
                st.error = error;
            }
            status
        };
        let t_save = Instant::now();
        let saved = self.save_end(run, status, &ended);
        {
            let mut st = lock(&run.state);
            st.phase = Phase::Done(match saved {
                save::Saved::AsIs => status,
                save::Saved::Failed | save::Saved::CacheOnly => RunStatus::Failed,
            });
            let snap = run.snapshot_with(&st);
            // a run that is nowhere else must not expire from the cache
            let ttl = match saved {
                save::Saved::CacheOnly => save::UNSAVED_TTL,
                _ => self.inner.cfg.terminal_ttl,
            };
            if let Err(e) = self.inner.cache.put(&snap, Some(ttl)) {
                warn!(run = %run.id, error = %e, "cannot publish the final status");
            }
        }
        info!(run = %run.id, save_ms = t_save.elapsed().as_secs_f64() * 1e3, saved = ?saved, "run saved");
        if let Err(e) = self.inner.cache.release(run.plan.key.as_str(), &run.id) {
            warn!(run = %run.id, error = %e, "cannot release the run key");
        }
        lock(&self.inner.live).remove(&run.id);
        if let Err(e) = self.inner.store.checkpoint() {
            warn!(run = %run.id, error = %e, "cannot checkpoint the run database");
        }
    }
}

/// Lowers the calling thread's CPU priority (threads it starts inherit it).
pub(super) fn lower_priority() {
    #[cfg(unix)]
    if let Err(e) = rustix::process::nice(10) {
        warn!(error = %e, "cannot lower the priority of a worker thread");
    }
}

pub(super) fn log_failed_trials(id: &str, report: &OptimizationReport) {
    let mut n = 0usize;
    for t in &report.trials {
        if let TrialOutcome::Failed(f) = &t.outcome {
            n += 1;
            if n <= LOGGED_TRIAL_FAILURES {
                warn!(run = %id, combination = t.index, error = &*f.message, "trial failed");
            }
        }
    }
    if n > LOGGED_TRIAL_FAILURES {
        warn!(run = %id, failed = n, "more trials failed (first {LOGGED_TRIAL_FAILURES} logged)");
    }
}
