//! The typed client (`atf_api::client`, what `atf … --server` and workers
//! use) against a real server: every answer reads back as the type the
//! server wrote it from — submissions, statuses, stored runs, trials,
//! events, health — so the contract is one set of types on both ends.

use atf_api::client::{Client, ClientError};
use atf_api::{AnyStatus, BacktestRun, OptimizationRun, Submission};
use atf_engine::optimize::TrialStatus;
use atf_runs::{RunKind, RunStatus};
use atf_testkit::server::{Backend, TestServer};
use atf_testkit::wait::{eventually, PATIENCE};
use serde_json::json;

fn finished(client: &Client, kind: RunKind, id: &str) -> AnyStatus {
    eventually(PATIENCE, || {
        let s = client.status(kind, id).map_err(|e| e.to_string())?;
        if s.status().is_terminal() {
            Ok(s)
        } else {
            Err(format!("{} still {}", id, s.status()))
        }
    })
}

#[test]
fn every_answer_reads_back_as_its_type() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), Backend::Memory);
    let client = Client::new(&srv.url, None).unwrap();

    let health = client.health().unwrap();
    assert_eq!(health.status, "ok");
    assert_eq!(health.limits.max_top, 1000);
    assert_eq!(health.limits.max_kept_points, 20_000_000);
    assert_eq!(health.limits.max_pending, 64);
    assert_eq!(health.limits.max_import_rows, 50_000_000);
    assert_eq!(health.limits.max_decompressed_bytes, 4 << 30);

    // a backtest: submitted, followed by its events, stored
    let sub = client
        .submit(
            RunKind::Backtest,
            &json!({"strategy": "sma-cross", "dataset": "spy-1m", "timeframe": "1h"}),
        )
        .unwrap();
    let Submission::Backtest(b) = &sub else {
        panic!("{sub:?}")
    };
    assert_eq!(b.total_bars, 31_757);
    let mut events = client.events(RunKind::Backtest, sub.id()).unwrap();
    let mut last = None;
    while let Some(s) = events.next_status().unwrap() {
        last = Some(s);
    }
    let AnyStatus::Backtest(done) = last.expect("a terminal event") else {
        panic!("a backtest's events")
    };
    assert_eq!(done.status, RunStatus::Completed);
    let report = done.result.expect("the report in the terminal event");
    let BacktestRun::Stored(stored) = client.backtest(sub.id()).unwrap() else {
        panic!("stored once ended")
    };
    assert_eq!(
        stored.result.as_ref(),
        Some(&report),
        "events and store agree"
    );
    assert_eq!(stored.header.dataset, "spy-1m");
    // cancelling an ended run: 409, read as "already ended"
    assert!(!client.cancel(RunKind::Backtest, sub.id()).unwrap());

    // an optimization with a failing half: statuses, the stored result, trials
    let sub = client
        .submit(
            RunKind::Optimization,
            &json!({"strategy": "fault-injection", "dataset": "spy-1m", "timeframe": "1h",
                    "axes": {"period": [10, 20, 30], "fault": ["none", "panic"]}, "top": 2}),
        )
        .unwrap();
    let AnyStatus::Optimization(o) = finished(&client, RunKind::Optimization, sub.id()) else {
        panic!("an optimization's status")
    };
    assert_eq!((o.completed_combinations, o.failed_combinations), (3, 3));
    let result = o.result.expect("the result once ended");
    assert_eq!(result.trial_count, 6);
    assert_eq!(result.top.len(), 2);
    let OptimizationRun::Stored(stored) = client.optimization(sub.id()).unwrap() else {
        panic!("stored once ended")
    };
    assert_eq!(stored.result.as_ref(), Some(&result));
    let page = client.trials(sub.id(), 0, 4).unwrap();
    assert_eq!((page.total, page.items.len()), (6, 4));
    let all = client
        .more_trials(sub.id(), page.items, result.trial_count)
        .unwrap();
    assert_eq!(all.len(), 6);
    assert!(all[3..].iter().all(|t| t.status == TrialStatus::Failed
        && t.error_stack_trace
            .as_deref()
            .is_some_and(|s| !s.is_empty())));
    let kept = client.backtest(&result.top[0].backtest_id).unwrap();
    assert!(
        matches!(kept, BacktestRun::Stored(b) if b.optimization_id.as_deref() == Some(sub.id()))
    );

    // a refusal is the server's problem, field and all
    let err = client
        .submit(
            RunKind::Backtest,
            &json!({"strategy": "sma-cross", "dataset": "spy-1m", "commissionPct": -1}),
        )
        .unwrap_err();
    let ClientError::Refused { status, problem } = err else {
        panic!("{err}")
    };
    assert_eq!(
        (status, problem.field.as_deref()),
        (422, Some("commissionPct"))
    );
}
