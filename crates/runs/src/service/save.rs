//! Saving a finished run so that no result silently disappears (DESIGN
//! §13): the write is one transaction, retried with a doubling backoff
//! (disk full for a moment, the database busy); if it still fails, the
//! run ends `Failed` with "could not save the result: …" in a small row
//! (it often fits where the big result did not); if even that fails, the
//! terminal snapshot stays in the progress cache, in effect without
//! expiry (a year), and the log says so loudly.
//!
//! Also the start-up check that the data directory can be written at all,
//! so that a server never accepts runs it could not save.

use super::*;
use std::io::Write;
use std::path::Path;

/// Attempts at a save before the run is recorded `Failed`.
pub const DEFAULT_SAVE_ATTEMPTS: u32 = 4;
/// The first wait between two attempts (then 2×, 4×…: 0.25 + 0.5 + 1 s
/// over the default four attempts).
pub const DEFAULT_SAVE_BACKOFF: Duration = Duration::from_millis(250);

/// How long the cache keeps a run that could not be saved at all: in
/// effect for good (a year, not "no expiry": to a cache, `None` means a
/// run in flight, which Redis holds only for a lease its server renews).
pub(super) const UNSAVED_TTL: Duration = Duration::from_secs(365 * 24 * 3600);

/// Where a finished run's record ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Saved {
    /// Saved as it ended.
    AsIs,
    /// The result could not be saved; a `Failed` row with the reason was.
    Failed,
    /// Nothing could be saved: the run lives on only in the cache (as
    /// `Failed` with the reason) for [`UNSAVED_TTL`].
    CacheOnly,
}

impl RunService {
    /// Writes the end of `run` (decided as `status`, with `ended`), with
    /// retries; failing that, a `Failed` row. Sets the run's error when
    /// its result could not be saved.
    pub(super) fn save_end(&self, run: &LiveRun, status: RunStatus, ended: &Ended) -> Saved {
        let header = run.header(status);
        let saved = self.with_retries(&run.id, || self.write_end(run, &header, ended));
        let Err(e) = saved else {
            return Saved::AsIs;
        };
        let reason = format!("could not save the result: {e}");
        error!(run = %run.id, error = %e, "cannot save the run's result; recording it as Failed");
        lock(&run.state).error = Some((reason, trace_here()));
        let header = run.header(RunStatus::Failed);
        let bare = Ended::none(run.kind());
        match self.with_retries(&run.id, || self.write_end(run, &header, &bare)) {
            Ok(()) => Saved::Failed,
            Err(e) => {
                error!(run = %run.id, error = %e,
                    "cannot save even the Failed record of the run: it is kept in the progress cache only (for a year; in memory, until this server stops)");
                Saved::CacheOnly
            }
        }
    }

    /// One attempt at writing the run's row(s) in one transaction.
    fn write_end(
        &self,
        run: &LiveRun,
        header: &RunHeader,
        ended: &Ended,
    ) -> Result<(), StoreError> {
        match ended {
            Ended::Backtest(report) => {
                let params = match &run.plan.work {
                    Work::Backtest(p) => p.clone(),
                    Work::Optimization(s) => s.base.clone(),
                    Work::WalkForward(w) => w.spec.base.clone(),
                };
                let report = report
                    .as_deref()
                    .filter(|_| header.status == RunStatus::Completed);
                self.inner.store.save_backtest(&BacktestEnd {
                    header,
                    processed: run.bars.processed(),
                    params: &params,
                    report,
                })
            }
            Ended::Optimization(report) => self.inner.store.save_optimization(&OptimizationEnd {
                header,
                spec: &run.plan.spec,
                completed: run.trials.completed(),
                failed: run.trials.failed(),
                skipped: run.trials.skipped(),
                report: report.as_deref(),
            }),
            Ended::WalkForward(report) => {
                self.inner
                    .store
                    .save_walkforward(&crate::store::WalkForwardEnd {
                        header,
                        total_folds: run.plan.folds().unwrap_or(0),
                        folds_processed: run.folds.folds_done(),
                        processed: run.folds.processed(),
                        failed: run.folds.failed(),
                        report: report.as_deref(),
                    })
            }
        }
    }

    /// `attempt` up to [`ServiceConfig::save_attempts`] times, waiting
    /// [`ServiceConfig::save_backoff`] (doubling) on the service's clock
    /// between failures; the last error if none succeeded.
    fn with_retries(
        &self,
        id: &str,
        attempt: impl FnMut() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let cfg = &self.inner.cfg;
        retry(
            cfg.save_attempts,
            cfg.save_backoff,
            cfg.clock.as_ref(),
            attempt,
            |n, wait, e| {
                warn!(run = %id, attempt = n, retry_in_ms = wait.as_millis(), error = %e, "cannot save the run; retrying");
            },
        )
    }
}

/// Calls `attempt` until it succeeds, at most `attempts` times (at least
/// once), sleeping `backoff`, then twice that, … on `clock` in between;
/// `failed(n, wait, error)` hears of each failure that is retried.
pub(super) fn retry<E>(
    attempts: u32,
    backoff: Duration,
    clock: &dyn Clock,
    mut attempt: impl FnMut() -> Result<(), E>,
    mut failed: impl FnMut(u32, Duration, &E),
) -> Result<(), E> {
    let mut wait = backoff;
    let mut n = 1;
    loop {
        match attempt() {
            Ok(()) => return Ok(()),
            Err(e) if n < attempts => {
                failed(n, wait, &e);
                clock.sleep(wait);
                wait = wait.saturating_mul(2);
                n += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Creates `dir` if needed and writes, syncs and removes a small file in
/// it: a read-only or full directory is refused at start-up rather than
/// at the end of the first run.
pub(super) fn probe_data_dir(dir: &Path) -> Result<(), ServiceError> {
    let fail = |source| ServiceError::DataDir {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(format!(".atf-write-probe-{}", std::process::id()));
    let written = std::fs::File::create(&probe).and_then(|mut f| {
        f.write_all(b"atf: can this directory be written?\n")?;
        f.sync_all()
    });
    let removed = std::fs::remove_file(&probe);
    written.map_err(fail)?;
    removed.map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn a_failing_attempt_is_retried_with_a_doubling_backoff_until_it_succeeds() {
        let clock = ManualClock::new();
        let mut calls = 0;
        let mut waits = Vec::new();
        let out = retry(
            4,
            Duration::from_millis(250),
            &clock,
            || {
                calls += 1;
                if calls < 3 {
                    Err("disk full")
                } else {
                    Ok(())
                }
            },
            |_, wait, _| waits.push(wait),
        );
        assert_eq!(out, Ok(()));
        assert_eq!(calls, 3);
        assert_eq!(
            waits,
            [Duration::from_millis(250), Duration::from_millis(500)]
        );
        assert_eq!(
            clock.now(),
            Duration::from_millis(750),
            "waited on the clock"
        );
    }

    #[test]
    fn retries_are_bounded_and_the_last_error_is_kept() {
        let clock = ManualClock::new();
        let mut calls = 0;
        let out: Result<(), String> = retry(
            3,
            Duration::from_millis(100),
            &clock,
            || {
                calls += 1;
                Err(format!("attempt {calls}"))
            },
            |_, _, _| {},
        );
        assert_eq!(out, Err("attempt 3".to_owned()));
        assert_eq!(clock.now(), Duration::from_millis(300));
        // zero attempts still tries once
        let out: Result<(), &str> = retry(0, Duration::ZERO, &clock, || Err("once"), |_, _, _| {});
        assert_eq!(out, Err("once"));
    }

    #[test]
    fn a_data_dir_that_cannot_be_written_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "not a directory").unwrap();
        let e = probe_data_dir(&file.join("data")).unwrap_err().to_string();
        assert!(e.starts_with("data directory "), "{e}");
        assert!(e.contains("a-file/data is not writable"), "{e}");
        probe_data_dir(&dir.path().join("fresh")).unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path().join("fresh")).unwrap().count(),
            0,
            "the probe leaves nothing behind"
        );
    }
}
