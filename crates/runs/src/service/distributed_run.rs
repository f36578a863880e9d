//! An optimization — a grid, a search or a resumed run — run by the
//! workers of a [`Coordinator`] instead of this process's threads; it ends
//! exactly like a local one.
//!
//! [`Coordinator`]: crate::distributed::Coordinator

use super::{log_failed_trials, Ended, LiveRun, RunService};
use crate::distributed::coordinator::DistRun;
use atf_engine::MarketData;

impl RunService {
    /// Distributes `run` over `data`: `(outcome, cancelled)` or the run's
    /// error and stack trace (Redis lost mid-run).
    pub(super) fn compute_distributed(
        &self,
        run: &LiveRun,
        data: &MarketData,
    ) -> Result<(Ended, bool), (String, String)> {
        let Some(coordinator) = &self.inner.coordinator else {
            return Err(("no coordinator".into(), String::new()));
        };
        // a resumed run starts from the trials its original recorded
        let mut recorded = std::mem::take(&mut *super::lock(&run.recorded));
        recorded.sort_by_key(|t| t.index);
        recorded.dedup_by_key(|t| t.index);
        let dist = DistRun {
            id: &run.id,
            plan: &run.plan,
            request: &run.request,
            data,
            progress: &run.trials,
            threads: self.inner.cfg.optimizer_threads,
            recorded: &recorded,
        };
        match coordinator.optimize(&dist)? {
            Some(report) => {
                let cancelled = report.cancelled;
                log_failed_trials(&run.id, &report);
                Ok((Ended::Optimization(Some(Box::new(report))), cancelled))
            }
            None => Ok((Ended::Optimization(None), true)),
        }
    }
}
