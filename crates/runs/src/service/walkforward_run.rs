//! A walk-forward run by the service: its folds one after the other, each
//! fold's in-sample optimization on this process's threads or — with a
//! [`Coordinator`] — on the scale-out workers, as an ordinary distributed
//! optimization of the in-sample window (its own id, `{run}-fold-{k}`, and
//! key). The workers run the same trials, so the report is the same.
//!
//! [`Coordinator`]: crate::distributed::Coordinator

use super::{trace_here, Ended, LiveRun, RunService};
use crate::distributed::coordinator::{Coordinator, DistRun};
use crate::plan::{self, Work};
use crate::request::OptimizationRequest;
use crate::walkforward::{
    self, FoldOptimizer, FoldWindow, WalkForwardError, WalkForwardJob, WINDOW_FIELDS,
};
use atf_data::time;
use atf_engine::optimize::{OptimizationProgress, OptimizationReport};
use atf_engine::{Bars, MarketData};
use serde_json::Value;

impl RunService {
    /// Runs the walk-forward `job` of `run` over the period's `bars`:
    /// `(outcome, cancelled)` or the run's error and stack trace.
    pub(super) fn compute_walkforward(
        &self,
        run: &LiveRun,
        job: &WalkForwardJob,
        bars: &Bars,
    ) -> Result<(Ended, bool), (String, String)> {
        let threads = self.inner.cfg.optimizer_threads;
        let result = match &self.inner.coordinator {
            Some(coordinator) => walkforward::run_with(
                job,
                bars,
                &run.folds,
                &WorkerFolds {
                    coordinator,
                    run_id: &run.id,
                    request: &run.request,
                    registry: &self.inner.cfg.registry,
                    threads,
                },
            ),
            None => walkforward::run(job, bars, &run.folds, threads),
        };
        match result {
            Ok(report) => {
                let cancelled = report.cancelled;
                Ok((Ended::WalkForward(Some(Box::new(report))), cancelled))
            }
            Err(e) => {
                let trace = match &e {
                    WalkForwardError::Backtest { backtrace, .. }
                    | WalkForwardError::Workers { backtrace, .. }
                        if !backtrace.is_empty() =>
                    {
                        backtrace.clone()
                    }
                    _ => trace_here(),
                };
                Err((e.to_string(), trace))
            }
        }
    }
}

/// Each fold's in-sample optimization on the workers of a coordinator.
struct WorkerFolds<'a> {
    coordinator: &'a Coordinator,
    run_id: &'a str,
    /// The walk-forward's body (each fold's is derived from it).
    request: &'a Value,
    registry: &'a atf_engine::Registry,
    threads: usize,
}

/// The body of fold `w`'s in-sample optimization: the walk-forward's body
/// without its window fields, the in-sample window as its period (`to` is
/// inclusive in a request: its last millisecond), one trial kept.
pub(crate) fn fold_request(body: &Value, w: &FoldWindow) -> Value {
    let mut fold = body.as_object().cloned().unwrap_or_default();
    for k in WINDOW_FIELDS {
        fold.remove(k);
    }
    fold.insert("from".into(), time::format_iso(w.is_from_ms).into());
    fold.insert("to".into(), time::format_iso(w.is_to_ms - 1).into());
    fold.insert("top".into(), 1.into());
    Value::Object(fold)
}

impl FoldOptimizer for WorkerFolds<'_> {
    fn optimize(
        &self,
        job: &WalkForwardJob,
        w: &FoldWindow,
        data: &MarketData,
        progress: &OptimizationProgress,
    ) -> Result<Option<OptimizationReport>, WalkForwardError> {
        let failed = |message: String, backtrace: String| WalkForwardError::Workers {
            fold: w.fold,
            message,
            backtrace,
        };
        let body = fold_request(self.request, w);
        let req = OptimizationRequest::from_json(&body)
            .map_err(|e| failed(format!("the fold's request: {e}"), trace_here()))?;
        let mut plan = plan::optimization(
            self.registry,
            &req,
            job.target.dataset.clone(),
            plan::GridLimits::NONE,
        )
        .map_err(|e| failed(format!("the fold's request: {e}"), trace_here()))?;
        if let Work::Optimization(spec) = &mut plan.work {
            // what the local fold runs (no robustness for a fold's winner);
            // `assess` is not part of the key the workers check
            spec.assess = job.spec.assess;
        }
        let id = format!("{}-fold-{}", self.run_id, w.fold);
        let dist = DistRun {
            id: &id,
            plan: &plan,
            request: &body,
            data,
            progress,
            threads: self.threads,
            recorded: &[],
        };
        self.coordinator
            .optimize(&dist)
            .map_err(|(message, backtrace)| failed(message, backtrace))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::Period;

    /// A fold's body names exactly its in-sample window as a period.
    #[test]
    fn a_fold_request_is_its_in_sample_window() {
        let body = serde_json::json!({
            "strategy": "sma-cross", "dataset": "d", "axes": {"fast": [5, 10]},
            "inSample": "10d", "outOfSample": "5d", "mode": "rolling",
            "criteria": {"minWfePct": 10}, "top": 20, "from": "2020-01-01"
        });
        let w = FoldWindow {
            fold: 2,
            is_from_ms: 1_600_000_000_000,
            is_to_ms: 1_600_864_000_000,
            oos_from_ms: 1_600_864_000_000,
            oos_to_ms: 1_601_296_000_000,
        };
        let fold = fold_request(&body, &w);
        let req = OptimizationRequest::from_json(&fold).unwrap();
        assert_eq!(req.top, Some(1));
        let p = Period::parse(req.run.from.as_deref(), req.run.to.as_deref()).unwrap();
        assert_eq!((p.from_ms, p.to_ms), (Some(w.is_from_ms), Some(w.is_to_ms)));
    }
}
