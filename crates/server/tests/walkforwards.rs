//! Walk-forwards over HTTP end to end (DESIGN §5, §11): the real server
//! with a real SQLite file, on the in-memory cache (folds optimized here)
//! and on a real Redis (each fold's optimization spread over the
//! scale-out workers) — the same report either way.

use atf_testkit::server::{backends, Backend, Options, TestServer};
use atf_testkit::wait::{eventually, PATIENCE};
use serde_json::{json, Value};
use std::time::Duration;

/// A small walk-forward on the demo daily bars: 2010–2015 in 720-day
/// in-sample and 360-day out-of-sample windows (4 folds) over a
/// 12-combination grid.
fn small_walkforward() -> Value {
    json!({
        "strategy": "sma-cross",
        "dataset": "spy-1d",
        "from": "2010-01-01",
        "to": "2015-12-31",
        "axes": {"fast": [5, 10, 15, 20], "slow": [20, 40, 60]},
        "maximize": "sharpe",
        "commissionPct": 0.1,
        "inSample": "720d",
        "outOfSample": "360d",
    })
}

/// A walk-forward whose folds take a while: 10 folds of the demo minute
/// bars, ~2,000 combinations each.
fn long_walkforward(tag: i64) -> Value {
    json!({
        "strategy": "sma-cross",
        "dataset": "spy-1m",
        "axes": {"fast": {"min": 2, "max": 41, "step": 1}, "slow": {"min": 3, "max": 101, "step": 2}},
        "constraints": ["fast < slow"],
        "cash": 10000 + tag,
        "folds": 10,
        "oosFraction": 0.3,
    })
}

fn status_of(v: &Value) -> &str {
    v["status"].as_str().unwrap_or("")
}

/// Submits the small walk-forward on `backend` and follows it to its end:
/// the server, the submission and the final status.
fn completed_small(dir: &std::path::Path, backend: Backend) -> (TestServer, Value, Value) {
    let srv = TestServer::start(dir, backend);
    let (code, sub) = srv.post("/api/walkforwards", &small_walkforward());
    assert_eq!(code, 202, "{backend:?}: {sub}");
    let done = srv.wait_terminal("walkforwards", sub["id"].as_str().unwrap());
    (srv, sub, done)
}

#[test]
fn a_walkforward_is_accepted_then_reports_its_folds_and_the_workers_give_the_local_report() {
    let mut reports = Vec::new();
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let (srv, sub, done) = completed_small(dir.path(), backend);
        assert_eq!(sub["status"], "Pending");
        assert_eq!(sub["totalFolds"], 4, "{sub}");
        assert_eq!(sub["combinationsPerFold"], 12);
        assert_eq!(sub["totalCombinations"], 48, "folds × combinations");
        assert_eq!(sub["runKey"].as_str().unwrap().len(), 64);
        assert_eq!(sub["existing"], false);
        let id = sub["id"].as_str().unwrap().to_owned();

        assert_eq!(status_of(&done), "Completed", "{backend:?}: {done}");
        assert_eq!(done["foldsProcessed"], 4);
        assert_eq!(done["totalFolds"], 4);
        assert_eq!(done["currentFold"], Value::Null);
        assert_eq!(done["processedCombinations"], 48);
        assert_eq!(done["failedTrials"], 0);
        let r = &done["result"];
        assert_eq!(r["folds"].as_array().unwrap().len(), 4, "{r}");
        assert_eq!(r["plannedFolds"], 4);
        assert_eq!(r["cancelled"], false);
        assert!(r["folds"][0]["winner"]["params"]["fast"].is_number(), "{r}");
        assert!(!r["equityCurve"].as_array().unwrap().is_empty());
        assert_eq!(r["checks"].as_array().unwrap().len(), 4);

        // the stored record: the same report, the request as submitted
        let (code, stored) = srv.get(&format!("/api/walkforwards/{id}"));
        assert_eq!(code, 200, "{stored}");
        assert_eq!(stored["status"], "Completed");
        assert_eq!(stored["result"], *r);
        assert_eq!(stored["foldsProcessed"], 4);
        assert_eq!(stored["request"]["inSample"], "720d");
        assert_eq!(stored["spec"]["kind"], "walkForward");
        assert_eq!(
            stored["spec"]["walkForward"]["windows"]
                .as_array()
                .unwrap()
                .len(),
            4
        );

        // the identical submission answers with the finished run
        let (code, again) = srv.post("/api/walkforwards", &small_walkforward());
        assert_eq!(code, 200, "{again}");
        assert_eq!(
            (&again["id"], &again["existing"]),
            (&json!(id), &json!(true))
        );
        assert_eq!(again["totalFolds"], 4);
        // other criteria are another computation: a new run
        let mut stricter = small_walkforward();
        stricter["criteria"] = json!({"minWfePct": 80});
        let (code, other) = srv.post("/api/walkforwards", &stricter);
        assert_eq!(code, 202, "{other}");
        assert_ne!(other["runKey"], sub["runKey"]);
        // its events: progress while in flight, then one `completed` with the report
        let events = srv.events("walkforwards", other["id"].as_str().unwrap());
        let (last, data) = events.last().unwrap();
        assert_eq!(last, "completed", "{events:?}");
        assert_eq!(data["result"]["criteria"]["minWfePct"], 80.0);
        assert!(events[..events.len() - 1]
            .iter()
            .all(|(name, d)| name == "progress" && !d["status"].as_str().unwrap().is_empty()));
        // the stored run's events: the terminal one alone
        let events = srv.events("walkforwards", &id);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].0, "completed");

        // listed with its kind, and among every run
        let (_, list) = srv.get("/api/walkforwards");
        assert_eq!(list["total"], 2, "{list}");
        assert!(list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["kind"] == "walkForward"));
        let (_, all) = srv.get("/api/runs?kind=walkForward");
        assert_eq!(all["total"], 2, "{all}");
        let (_, all) = srv.get("/api/runs");
        assert_eq!(all["total"], 2, "{all}");
        assert_eq!(all["items"][1]["id"], id);
        assert_eq!(all["items"][1]["processed"], 48);
        // its headline in the list: the report's verdict and stitched account
        let line = &all["items"][1]["walkforward"];
        assert_eq!(line["passed"], r["passed"], "{line}");
        assert_eq!(line["wfePct"], r["wfePct"], "{line}");
        assert_eq!(
            line["oosReturnPct"], r["stitched"]["totalReturnPct"],
            "{line}"
        );
        assert_eq!(
            line["oosMaxDrawdownPct"], r["stitched"]["maxDrawdownPct"],
            "{line}"
        );
        assert_eq!(
            (&line["folds"], &line["profitableFolds"]),
            (&r["stitched"]["folds"], &r["stitched"]["profitableFolds"])
        );
        assert!(all["items"][1]["metrics"].is_null(), "{all}");
        let (_, per_kind) = srv.get("/api/walkforwards");
        assert!(per_kind["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["walkforward"]["oosReturnPct"].is_number()));
        // a walk-forward is no optimization
        let (code, _) = srv.get(&format!("/api/optimizations/{id}/status"));
        assert_eq!(code, 404);
        reports.push(r.clone());
    }
    // the scale-out workers ran the same trials: the same report, bit for bit
    assert_eq!(reports[0], reports[1], "memory vs Redis workers");
}

#[test]
fn a_walkforward_cancels_at_once_and_keeps_its_finished_folds() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let srv = TestServer::start(dir.path(), backend);
        let (code, sub) = srv.post("/api/walkforwards", &long_walkforward(1));
        assert_eq!(code, 202, "{backend:?}: {sub}");
        assert_eq!(sub["totalFolds"], 10);
        let id = sub["id"].as_str().unwrap().to_owned();
        let running = srv.wait("walkforwards", &id, Duration::from_secs(120), |s| {
            s["foldsProcessed"].as_u64().unwrap_or(0) >= 1
        });
        assert_eq!(status_of(&running), "Running", "{running}");
        let current = running["currentFold"].as_u64().unwrap();
        assert!(current >= 2, "{running}");
        assert!(running["processedCombinations"].as_u64().unwrap() > 0);

        let (code, c) = srv.post(&format!("/api/walkforwards/{id}/cancel"), &json!({}));
        assert_eq!(code, 200, "{c}");
        assert_eq!(c, json!({"id": id, "status": "Cancelled"}));
        let (_, now) = srv.get(&format!("/api/walkforwards/{id}/status"));
        assert_eq!(status_of(&now), "Cancelled", "readers see it at once");
        eventually(PATIENCE, || {
            let rows: i64 = rusqlite::Connection::open_with_flags(
                srv.dir.join("runs.db"),
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .unwrap()
            .query_row(
                "SELECT COUNT(*) FROM walkforward_runs WHERE id = ?1",
                [&id],
                |r| r.get(0),
            )
            .unwrap();
            if rows == 1 {
                Ok(())
            } else {
                Err("the cancelled walk-forward is not stored".to_owned())
            }
        });
        let (code, stored) = srv.get(&format!("/api/walkforwards/{id}"));
        assert_eq!(code, 200, "{stored}");
        assert_eq!(stored["status"], "Cancelled");
        let r = &stored["result"];
        assert_eq!(r["cancelled"], true, "{backend:?}: {r}");
        assert_eq!(r["passed"], false);
        let kept = r["folds"].as_array().unwrap().len();
        assert!((1..10).contains(&kept), "finished folds kept: {kept}");
        assert_eq!(stored["foldsProcessed"], kept);
        // a second cancel: already ended
        let (code, p) = srv.post(&format!("/api/walkforwards/{id}/cancel"), &json!({}));
        assert_eq!(code, 409, "{p}");
    }
}

#[test]
fn walkforwards_wait_in_the_optimizations_queue_bounded_by_max_pending() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::with(
        dir.path(),
        Options {
            configure: |c| c.max_pending = 1,
            ..Options::on(Backend::Memory)
        },
    );
    let (_, a) = srv.post("/api/walkforwards", &long_walkforward(2));
    let a = a["id"].as_str().unwrap().to_owned();
    srv.wait("walkforwards", &a, Duration::from_secs(30), |s| {
        status_of(s) == "Running"
    });
    // one waits; the next is refused
    let (code, b) = srv.post("/api/walkforwards", &long_walkforward(3));
    assert_eq!(code, 202, "{b}");
    let (code, p) = srv.post("/api/walkforwards", &long_walkforward(4));
    assert_eq!(code, 429, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("walk-forward"),
        "{p}"
    );
    let b = b["id"].as_str().unwrap();
    let (_, sb) = srv.get(&format!("/api/walkforwards/{b}/status"));
    assert_eq!(status_of(&sb), "Pending", "{sb}");
    assert_eq!(sb["currentFold"], Value::Null);
    for id in [b, a.as_str()] {
        let (code, _) = srv.post(&format!("/api/walkforwards/{id}/cancel"), &json!({}));
        assert_eq!(code, 200);
    }
    let sb = srv.wait_terminal("walkforwards", b);
    assert_eq!(status_of(&sb), "Cancelled");
    assert_eq!(sb["startedAtMs"], Value::Null);
}

#[test]
fn bad_walkforwards_are_refused_naming_their_field() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), Backend::Memory);
    let with = |changes: Value| {
        let mut body = small_walkforward();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    for (body, field, reason) in [
        // windows that do not fit the period
        (
            with(json!({"inSample": "2000d"})),
            "inSample",
            "do not fit the period",
        ),
        (
            with(json!({"folds": 4, "oosFraction": 0.2})),
            "folds",
            "not both",
        ),
        (
            with(json!({"inSample": null, "outOfSample": null})),
            "inSample",
            "required",
        ),
        (
            with(json!({"outOfSample": "36h"})),
            "outOfSample",
            "whole number of bars",
        ),
        (
            with(json!({"inSample": null, "outOfSample": null, "folds": 501, "oosFraction": 0.2})),
            "folds",
            "between 1 and 500",
        ),
        (
            with(json!({"inSample": "six months"})),
            "inSample",
            "not a duration",
        ),
        (
            with(json!({"criteria": {"maxDrawdownPct": 120}})),
            "criteria.maxDrawdownPct",
            "between 0 and 100",
        ),
        (
            with(json!({"top": 5})),
            "top",
            "each fold keeps only its winner",
        ),
        (with(json!({"mode": "sideways"})), "mode", ""),
        (with(json!({"axes": {"nope": [1, 2]}})), "axes.nope", ""),
    ] {
        let (code, p) = srv.post("/api/walkforwards", &body);
        assert_eq!(code, 422, "{field}: {p}");
        assert_eq!(p["field"], field, "{p}");
        assert!(
            p["detail"].as_str().unwrap().contains(reason),
            "{field}: {p}"
        );
    }
    for path in [
        "/api/walkforwards/nope/status",
        "/api/walkforwards/nope",
        "/api/walkforwards/nope/events",
    ] {
        let (code, p) = srv.get(path);
        assert_eq!(code, 404, "{path}: {p}");
    }
    let (code, _) = srv.post("/api/walkforwards/nope/cancel", &json!({}));
    assert_eq!(code, 404);
    let (_, list) = srv.get("/api/walkforwards");
    assert_eq!(list["total"], 0, "nothing refused was run: {list}");
}

#[test]
fn a_stopping_server_saves_its_walkforwards_cancelled_with_their_finished_folds() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), Backend::Memory);
    let (_, a) = srv.post("/api/walkforwards", &long_walkforward(5));
    let (_, b) = srv.post("/api/walkforwards", &long_walkforward(6));
    let (a, b) = (
        a["id"].as_str().unwrap().to_owned(),
        b["id"].as_str().unwrap().to_owned(),
    );
    srv.wait("walkforwards", &a, Duration::from_secs(120), |s| {
        s["foldsProcessed"].as_u64().unwrap_or(0) >= 1
    });
    srv.stop();

    // after a restart on the same data, both are stored Cancelled
    let srv = TestServer::start(dir.path(), Backend::Memory);
    let (code, running) = srv.get(&format!("/api/walkforwards/{a}"));
    assert_eq!(code, 200, "{running}");
    assert_eq!(running["status"], "Cancelled", "{running}");
    assert_eq!(running["result"]["cancelled"], true);
    let kept = running["result"]["folds"].as_array().unwrap().len();
    assert!(kept >= 1, "the folds it finished are kept: {running}");
    assert_eq!(running["foldsProcessed"], kept);
    let (code, queued) = srv.get(&format!("/api/walkforwards/{b}"));
    assert_eq!(code, 200, "the queued one is saved too: {queued}");
    assert_eq!(queued["status"], "Cancelled");
    assert_eq!(queued["startedAtMs"], Value::Null);
    assert_eq!(queued["result"], Value::Null);
    assert_eq!(queued["foldsProcessed"], 0);
}

#[test]
fn a_winner_failing_out_of_sample_fails_the_walkforward_with_message_and_stack_trace() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let srv = TestServer::start(dir.path(), backend);
        // in-sample windows of 20 bars never reach the fault at bar 100; the
        // year out of sample does
        let body = json!({
            "strategy": "fault-injection",
            "dataset": "spy-1d",
            "from": "2010-01-01",
            "to": "2013-12-31",
            "axes": {"period": [5, 10]},
            "params": {"fault": "error", "fault_bar": 100},
            "inSample": "28d",
            "outOfSample": "364d",
        });
        let (code, sub) = srv.post("/api/walkforwards", &body);
        assert_eq!(code, 202, "{backend:?}: {sub}");
        let id = sub["id"].as_str().unwrap().to_owned();
        let done = srv.wait_terminal("walkforwards", &id);
        assert_eq!(status_of(&done), "Failed", "{backend:?}: {done}");
        let msg = done["errorMessage"].as_str().unwrap();
        assert!(
            msg.starts_with("fold 1: the out-of-sample backtest of the winner failed"),
            "{msg}"
        );
        assert!(msg.contains("bar 100"), "{msg}");
        let trace = done["errorStackTrace"].as_str().unwrap();
        assert!(!trace.is_empty());
        assert_eq!(done["result"], Value::Null);
        let (db_msg, db_trace, db_status): (String, String, String) =
            rusqlite::Connection::open_with_flags(
                srv.dir.join("runs.db"),
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .unwrap()
            .query_row(
                "SELECT error_message, error_stack_trace, status FROM walkforward_runs WHERE id = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((db_msg.as_str(), db_trace.as_str()), (msg, trace));
        assert_eq!(db_status, "Failed");
        // a failed run is no answer to the same request: it runs again
        // (once the failed one has let go of its key, just after its end)
        let again = eventually(PATIENCE, || match srv.post("/api/walkforwards", &body) {
            (202, again) => Ok(again),
            (code, other) => Err(format!("{code}: {other}")),
        });
        assert_ne!(again["id"], json!(id));
        srv.wait_terminal("walkforwards", again["id"].as_str().unwrap());
    }
}
