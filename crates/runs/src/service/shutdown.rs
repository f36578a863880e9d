//! Stopping the service without losing a run (DESIGN §13): every run in
//! flight — running or still queued — is cancelled and saved `Cancelled`
//! (an optimization with the trials it finished, as an explicit cancel
//! does) before the process exits. Shutdown never waits for a long run to
//! finish: a cancelled engine stops within 4,096 sub-bars, and the wait
//! for the saves is bounded by a grace period.

use super::*;

/// How often [`RunService::drain`] looks whether the last runs are saved.
const DRAIN_POLL: Duration = Duration::from_millis(10);

impl RunService {
    /// Stops taking jobs and cancels the runs working now (readers see
    /// them `Cancelled` at once; their lanes save them when their engine
    /// has stopped). Returns at once, without touching the database: the
    /// queued runs are saved by [`RunService::drain`], which should follow.
    pub fn shutdown(&self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        for lane in &self.inner.lanes {
            lane.ready.notify_all();
        }
        let live: Vec<Arc<LiveRun>> = lock(&self.inner.live).values().cloned().collect();
        for run in live {
            if lock(&run.state).phase == Phase::Running {
                self.cancel_for_shutdown(&run);
            }
        }
    }

    /// Cancels every run in flight (as [`RunService::shutdown`]; a queued
    /// run is saved `Cancelled` here, in the caller's thread) and waits
    /// until all of them are saved, `grace` at most. Runs submitted
    /// meanwhile are cancelled too. The ids of the runs still not saved
    /// when `grace` ran out (they are lost with the process) — empty when
    /// every run was saved.
    pub fn drain(&self, grace: Duration) -> Vec<String> {
        self.shutdown();
        let deadline = Instant::now() + grace;
        loop {
            // queued runs are saved here and now, even with no grace at all
            let live: Vec<Arc<LiveRun>> = lock(&self.inner.live).values().cloned().collect();
            for run in &live {
                self.cancel_for_shutdown(run);
            }
            let left: Vec<String> = lock(&self.inner.live).keys().cloned().collect();
            if left.is_empty() {
                info!("every run in flight is saved");
                return left;
            }
            if Instant::now() >= deadline {
                error!(runs = ?left, grace_secs = grace.as_secs_f64(),
                    "runs still not saved after the grace period; they are lost with this process");
                return left;
            }
            std::thread::sleep(DRAIN_POLL);
        }
    }

    /// Cancels `run` as an explicit cancel would (a no-op once it is
    /// ending).
    fn cancel_for_shutdown(&self, run: &LiveRun) {
        let phase = lock(&run.state).phase;
        if !matches!(phase, Phase::Pending | Phase::Running) {
            return;
        }
        match self.cancel(run.kind(), &run.id) {
            Ok(_) => info!(run = %run.id, "run cancelled by the shutdown"),
            Err(e) => warn!(run = %run.id, error = %e, "cannot cancel the run at shutdown"),
        }
    }
}
