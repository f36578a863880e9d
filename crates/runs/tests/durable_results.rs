//! No result silently disappears (DESIGN §13), checked on the run service
//! itself: a save the database refuses is retried with a backoff on the
//! service's clock, then the run ends `Failed` with "could not save the
//! result: …" in a row that a restarted service reads; when not even that
//! row can be written, the terminal snapshot stays in the cache past its
//! usual expiry. And a shutdown saves every run in flight, running or
//! queued, as `Cancelled`.
//!
//! The database refuses through triggers that raise SQLite's own error
//! texts: the same path as a full disk, without needing one.

use atf_engine::Registry;
use atf_runs::cache::{MemoryCache, TERMINAL_TTL};
use atf_runs::clock::{Clock, ManualClock};
use atf_runs::request::{BacktestRequest, OptimizationRequest};
use atf_runs::service::{RunService, RunState, ServiceConfig};
use atf_runs::{RunKind, RunStatus};
use atf_testkit::wait::{eventually, PATIENCE};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A service over `dir` whose retries wait on `clock`, as does its
/// in-memory cache's expiry.
fn start(dir: &Path, clock: &Arc<ManualClock>) -> RunService {
    let mut cfg = ServiceConfig::new(
        dir.to_owned(),
        Arc::new(Registry::builtin().with::<atf_engine::strategies::FaultInjection>()),
    );
    cfg.clock = Arc::clone(clock) as Arc<dyn Clock>;
    cfg.optimizer_threads = 1;
    cfg.backtest_slots = 1;
    let cache = MemoryCache::with_clock(Arc::clone(clock) as Arc<dyn Clock>);
    RunService::start(cfg, Arc::new(cache)).unwrap()
}

fn backtest(svc: &RunService, cash: i64) -> String {
    let body = json!({"strategy": "sma-cross", "dataset": "spy-1m", "cash": cash});
    let req = BacktestRequest::from_json(&body).unwrap();
    svc.submit_backtest(&req, body).unwrap().id
}

fn state(svc: &RunService, kind: RunKind, id: &str) -> RunState {
    svc.state(kind, id).unwrap().expect("the run is known")
}

fn ended(svc: &RunService, kind: RunKind, id: &str) -> RunState {
    eventually(PATIENCE, || {
        let s = state(svc, kind, id);
        if s.snapshot.status.is_terminal() {
            Ok(s)
        } else {
            Err(format!("still {}", s.snapshot.status))
        }
    })
}

/// Makes `runs.db` refuse inserts into `backtest_runs` (those `when`
/// selects) with SQLite's error `message`.
fn refuse(dir: &Path, when: &str, message: &str) {
    let db = rusqlite::Connection::open(dir.join("runs.db")).unwrap();
    db.execute_batch(&format!(
        "CREATE TRIGGER refuse BEFORE INSERT ON backtest_runs WHEN {when}
         BEGIN SELECT RAISE(ABORT, '{message}'); END;"
    ))
    .unwrap();
}

#[test]
fn a_result_that_cannot_be_saved_is_retried_then_recorded_failed_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new());
    let svc = start(dir.path(), &clock);
    let earlier = backtest(&svc, 10_000);
    assert_eq!(
        ended(&svc, RunKind::Backtest, &earlier).snapshot.status,
        RunStatus::Completed
    );
    // the full result no longer fits; a small Failed row still does
    refuse(
        dir.path(),
        "NEW.status <> 'Failed'",
        "database or disk is full",
    );
    let before = clock.now();
    let id = backtest(&svc, 20_000);
    let end = ended(&svc, RunKind::Backtest, &id);
    assert_eq!(end.snapshot.status, RunStatus::Failed);
    let reason = end.snapshot.error_message.clone().unwrap();
    assert!(
        reason.starts_with("could not save the result: run database")
            && reason.ends_with("database or disk is full"),
        "{reason}"
    );
    assert_eq!(end.result, None);
    // four attempts, 0.25 + 0.5 + 1 s apart, on the service's clock
    assert_eq!(clock.now() - before, Duration::from_millis(1750));

    // a service started afresh (its cache empty) reads it from SQLite
    let restarted = start(dir.path(), &Arc::new(ManualClock::new()));
    let stored = state(&restarted, RunKind::Backtest, &id);
    assert_eq!(stored.snapshot.status, RunStatus::Failed);
    assert_eq!(stored.snapshot.error_message.as_deref(), Some(&*reason));
    let first = state(&restarted, RunKind::Backtest, &earlier);
    assert_eq!(first.snapshot.status, RunStatus::Completed);
    assert!(first.result.is_some(), "the earlier result is intact");
}

#[test]
fn a_run_that_cannot_be_saved_at_all_stays_in_the_cache_past_the_usual_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new());
    let svc = start(dir.path(), &clock);
    refuse(dir.path(), "1", "disk I/O error");
    let id = backtest(&svc, 10_000);
    let end = ended(&svc, RunKind::Backtest, &id);
    assert_eq!(end.snapshot.status, RunStatus::Failed);
    let reason = end.snapshot.error_message.unwrap();
    assert!(
        reason.starts_with("could not save the result:") && reason.ends_with("disk I/O error"),
        "{reason}"
    );
    clock.advance(TERMINAL_TTL * 4);
    let later = state(&svc, RunKind::Backtest, &id);
    assert_eq!(
        later.snapshot.status,
        RunStatus::Failed,
        "it did not expire"
    );
    assert_eq!(later.snapshot.error_message.as_deref(), Some(&*reason));
    // a run saved normally still expires from the cache as it should
    let db = rusqlite::Connection::open(dir.path().join("runs.db")).unwrap();
    db.execute_batch("DROP TRIGGER refuse").unwrap();
    let saved = backtest(&svc, 20_000);
    ended(&svc, RunKind::Backtest, &saved);
    clock.advance(TERMINAL_TTL * 2);
    let s = state(&svc, RunKind::Backtest, &saved);
    assert_eq!(
        (s.snapshot.status, s.result.is_some()),
        (RunStatus::Completed, true),
        "read back from SQLite"
    );
}

fn optimization(svc: &RunService, cash: i64) -> String {
    let body = json!({
        "cash": cash,
        "strategy": "sma-cross",
        "dataset": "spy-1m",
        "axes": {"fast": {"min": 2, "max": 400, "step": 1}, "slow": {"min": 3, "max": 401, "step": 2}},
        "constraints": ["fast < slow"],
        "top": 3,
    });
    let req = OptimizationRequest::from_json(&body).unwrap();
    svc.submit_optimization(&req, body).unwrap().id
}

#[test]
fn a_shutdown_saves_every_run_in_flight_running_or_queued_as_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new());
    let svc = start(dir.path(), &clock);
    let opt = optimization(&svc, 10_000);
    working(&svc, &opt);
    // one backtest slot: most of these are still queued
    let backtests: Vec<String> = (0..8).map(|n| backtest(&svc, 10_000 + n)).collect();
    let unsaved = svc.drain(PATIENCE);
    assert_eq!(unsaved, Vec::<String>::new());

    let restarted = start(dir.path(), &Arc::new(ManualClock::new()));
    let o = state(&restarted, RunKind::Optimization, &opt);
    assert_eq!(o.snapshot.status, RunStatus::Cancelled);
    assert!(o.snapshot.completed > 0, "with the trials it finished");
    assert!(o.result.is_some());
    let mut cancelled = 0;
    for id in &backtests {
        let b = state(&restarted, RunKind::Backtest, id).snapshot;
        match b.status {
            RunStatus::Completed => {}
            RunStatus::Cancelled => cancelled += 1,
            s => panic!("backtest {id} is {s}: {b:?}"),
        }
    }
    assert!(cancelled > 0, "queued backtests are saved Cancelled");
}

/// Waits until optimization `id` has finished a trial.
fn working(svc: &RunService, id: &str) {
    eventually(PATIENCE, || {
        let s = state(svc, RunKind::Optimization, id).snapshot;
        if s.completed > 0 {
            Ok(())
        } else {
            Err(format!("{s:?}"))
        }
    });
}

#[test]
fn with_no_grace_at_all_a_shutdown_still_saves_the_queued_runs_and_names_the_unsaved() {
    let dir = tempfile::tempdir().unwrap();
    let svc = start(dir.path(), &Arc::new(ManualClock::new()));
    let running = optimization(&svc, 10_000);
    working(&svc, &running);
    let queued = optimization(&svc, 20_000);
    let unsaved = svc.drain(Duration::ZERO);
    assert!(
        unsaved.is_empty() || unsaved == [running.clone()],
        "only the running one may still be saving: {unsaved:?}"
    );
    let restarted = start(dir.path(), &Arc::new(ManualClock::new()));
    let q = state(&restarted, RunKind::Optimization, &queued).snapshot;
    assert_eq!(q.status, RunStatus::Cancelled, "{q:?}");
    assert_eq!(q.started_at_ms, None, "it never started");
}
