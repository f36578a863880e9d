//! The run API end to end: real HTTP against the real server with a real
//! SQLite file, on the in-memory cache and on a real Redis.

mod common;

use common::{backends, big_optimization, Backend, Options, TestServer};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn backtest_body() -> Value {
    json!({
        "strategy": "sma-cross",
        "dataset": "spy-1m",
        "params": {"fast": 10, "slow": 30},
        "cash": 10000,
        "commissionPct": 0.1,
    })
}

fn status_of(v: &Value) -> &str {
    v["status"].as_str().unwrap_or("")
}

#[test]
fn a_backtest_is_accepted_at_once_then_completes_with_its_result_and_is_never_run_twice() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let srv = TestServer::start(dir.path(), backend);
        let (code, sub) = srv.post("/api/backtests", &backtest_body());
        assert_eq!(code, 202, "{backend:?}: {sub}");
        assert_eq!(sub["status"], "Pending");
        assert_eq!(
            sub["totalBars"], 31_757,
            "the demo data's bars, sized from the catalog"
        );
        assert_eq!(sub["runKey"].as_str().unwrap().len(), 64);
        let id = sub["id"].as_str().unwrap().to_owned();

        let done = srv.wait_terminal("backtests", &id);
        assert_eq!(status_of(&done), "Completed", "{done}");
        assert_eq!(done["processedBars"], done["totalBars"]);
        let m = &done["result"]["metrics"];
        for k in [
            "finalEquity",
            "netProfit",
            "totalReturnPct",
            "maxDrawdownPct",
            "sharpe",
            "sortino",
            "profitFactor",
            "winRate",
            "tradeCount",
        ] {
            assert!(m.get(k).is_some(), "metrics.{k} missing: {m}");
        }
        assert!(m["tradeCount"].as_u64().unwrap() > 10);
        assert!(done["result"]["equityCurve"].as_array().unwrap().len() > 1000);
        assert!(!done["result"]["trades"].as_array().unwrap().is_empty());
        assert_eq!(done["errorMessage"], Value::Null);

        // the identical submission answers with the finished run: 200, same id
        let (code, again) = srv.post("/api/backtests", &backtest_body());
        assert_eq!(code, 200, "{again}");
        assert_eq!(again["id"], id);
        assert_eq!(again["existing"], true);
        // a different one is a new run
        let mut other = backtest_body();
        other["params"]["fast"] = json!(11);
        let (code, o) = srv.post("/api/backtests", &other);
        assert_eq!(code, 202);
        assert_ne!(o["id"], id);
        srv.wait_terminal("backtests", o["id"].as_str().unwrap());

        // listed newest first, once each
        let (code, list) = srv.get("/api/backtests?limit=10");
        assert_eq!(code, 200);
        assert_eq!(list["total"], 2, "{list}");
        assert_eq!(list["items"][0]["id"], o["id"]);
        assert_eq!(list["items"][1]["id"], id);
        // and the stored run is the same report
        let (code, stored) = srv.get(&format!("/api/backtests/{id}"));
        assert_eq!(code, 200);
        assert_eq!(stored["result"], done["result"]);
        assert_eq!(stored["request"]["commissionPct"], 0.1);
    }
}

#[test]
fn identical_submissions_in_flight_share_one_run() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let srv = TestServer::start(dir.path(), backend);
        let body = big_optimization(1);
        let (c1, a) = srv.post("/api/optimizations", &body);
        let (c2, b) = srv.post("/api/optimizations", &body);
        assert_eq!((c1, c2), (202, 202), "{backend:?}: {a} {b}");
        assert_eq!(a["id"], b["id"]);
        assert_eq!(b["existing"], true);
        let id = a["id"].as_str().unwrap();
        let (code, _) = srv.post(&format!("/api/optimizations/{id}/cancel"), &json!({}));
        assert_eq!(code, 200);
        let (_, list) = srv.get("/api/optimizations");
        assert_eq!(list["total"], 1);
    }
}

#[test]
fn an_optimization_reports_rising_progress_and_a_live_leaderboard_then_cancels_promptly() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let srv = TestServer::start(dir.path(), backend);
        let (code, sub) = srv.post("/api/optimizations", &big_optimization(2));
        assert_eq!(code, 202, "{sub}");
        let total = sub["totalCombinations"].as_u64().unwrap();
        assert_eq!(total, 399 * 200);
        let id = sub["id"].as_str().unwrap().to_owned();

        let first = srv.wait("optimizations", &id, 60, |s| {
            s["completedCombinations"].as_u64().unwrap_or(0) > 0
                && !s["leaders"].as_array().unwrap().is_empty()
        });
        assert_eq!(status_of(&first), "Running");
        assert_eq!(first["totalCombinations"], total);
        let leader = &first["leaders"][0];
        assert_eq!(leader["rank"], 1);
        assert!(
            leader["params"]["fast"].is_number() && leader["metrics"]["sharpe"].is_number(),
            "{leader}"
        );
        let later = srv.wait("optimizations", &id, 60, |s| {
            s["processedCombinations"].as_u64().unwrap()
                > first["processedCombinations"].as_u64().unwrap()
        });
        assert!(later["processedCombinations"].as_u64().unwrap() < total);

        // cancel: answered Cancelled, and the status says so at once
        let t0 = Instant::now();
        let (code, c) = srv.post(&format!("/api/optimizations/{id}/cancel"), &json!({}));
        assert_eq!(code, 200, "{c}");
        assert_eq!(c, json!({"id": id, "status": "Cancelled"}));
        let (_, now) = srv.get(&format!("/api/optimizations/{id}/status"));
        assert_eq!(status_of(&now), "Cancelled");
        // its threads stop: the partial result is persisted and counting ends
        let stored = loop {
            let (code, v) = srv.get(&format!("/api/optimizations/{id}"));
            if code == 200 && v.get("finishedAtMs").is_some() && !v["result"].is_null() {
                break v;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "cancel did not stop the run: {v}"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let done = stored["completed"].as_u64().unwrap()
            + stored["failed"].as_u64().unwrap()
            + stored["skipped"].as_u64().unwrap();
        assert!(done < total);
        std::thread::sleep(Duration::from_millis(300));
        let (_, after) = srv.get(&format!("/api/optimizations/{id}/status"));
        assert_eq!(
            after["processedCombinations"].as_u64().unwrap(),
            done,
            "nothing runs after the cancel"
        );
        assert_eq!(stored["result"]["cancelled"], true);
        // a second cancel: already ended
        let (code, p) = srv.post(&format!("/api/optimizations/{id}/cancel"), &json!({}));
        assert_eq!(code, 409, "{p}");
        assert!(p["detail"].as_str().unwrap().contains("Cancelled"));
    }
}

#[test]
fn a_failing_strategy_fails_its_run_with_message_and_stack_trace_in_status_and_sqlite() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let srv = TestServer::start(dir.path(), backend);
        let body = json!({
            "strategy": "fault-injection",
            "dataset": "spy-1m",
            "params": {"fault": "panic", "fault_bar": 500},
        });
        let (code, sub) = srv.post("/api/backtests", &body);
        assert_eq!(code, 202);
        let id = sub["id"].as_str().unwrap().to_owned();
        let done = srv.wait_terminal("backtests", &id);
        assert_eq!(status_of(&done), "Failed", "{done}");
        let msg = done["errorMessage"].as_str().unwrap();
        assert!(msg.contains("bar 500"), "{msg}");
        assert!(!done["errorStackTrace"].as_str().unwrap().is_empty());
        assert_eq!(done["result"], Value::Null);
        let (db_msg, db_trace, db_status): (String, String, String) = srv
            .db()
            .query_row(
                "SELECT error_message, error_stack_trace, status FROM backtest_runs WHERE id = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(db_msg, msg);
        assert_eq!(db_trace, done["errorStackTrace"].as_str().unwrap());
        assert_eq!(db_status, "Failed");
        // the events of a finished run: just the terminal one
        let ev = srv.events("backtests", &id);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].0, "failed");
        assert_eq!(ev[0].1["errorMessage"], msg);
    }
}

#[test]
fn an_optimization_with_failing_trials_completes_and_keeps_every_failure() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let srv = TestServer::start(dir.path(), backend);
        let body = json!({
            "strategy": "fault-injection",
            "dataset": "spy-1m",
            "axes": {"period": {"min": 5, "max": 25, "step": 5}, "fault": ["none", "panic", "error"]},
            "params": {"fault_bar": 300},
            "maximize": "netProfit",
            "top": 3,
        });
        let (code, sub) = srv.post("/api/optimizations", &body);
        assert_eq!(code, 202, "{sub}");
        assert_eq!(sub["totalCombinations"], 15);
        let id = sub["id"].as_str().unwrap().to_owned();
        // follow it by server-sent events to the end
        let ev = srv.events("optimizations", &id);
        let (last, data) = ev.last().unwrap();
        assert_eq!(last, "completed", "{ev:?}");
        assert!(ev[..ev.len() - 1].iter().all(|(n, _)| n == "progress"));
        assert_eq!(data["completedCombinations"], 5);
        assert_eq!(data["failedCombinations"], 10);
        let trials = data["result"]["trials"].as_array().unwrap();
        assert_eq!(trials.len(), 15);
        let failed: Vec<&Value> = trials.iter().filter(|t| t["status"] == "Failed").collect();
        assert_eq!(failed.len(), 10);
        assert!(failed
            .iter()
            .all(|t| t["errorMessage"].as_str().unwrap().contains("bar 300")
                && !t["errorStackTrace"].as_str().unwrap().is_empty()));
        // the best three are full backtests of their own
        let top = data["result"]["top"].as_array().unwrap();
        assert_eq!(top.len(), 3);
        let (code, best) = srv.get(&format!(
            "/api/backtests/{}",
            top[0]["backtestId"].as_str().unwrap()
        ));
        assert_eq!(code, 200);
        assert_eq!(best["optimizationId"], id);
        assert!(best["result"]["equityCurve"].as_array().unwrap().len() > 100);
        // every trial is in SQLite, failures with their error
        let db = srv.db();
        let n: i64 = db
            .query_row("SELECT COUNT(*) FROM optimization_trials WHERE optimization_id = ?1 AND status = 'Failed' AND error_message IS NOT NULL AND error_stack_trace IS NOT NULL", [&id], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 10);
        // and pages through /trials
        let (code, page) = srv.get(&format!(
            "/api/optimizations/{id}/trials?offset=10&limit=10"
        ));
        assert_eq!(code, 200);
        assert_eq!(page["total"], 15);
        assert_eq!(page["items"].as_array().unwrap().len(), 5);
        assert_eq!(page["items"][0]["rank"], 11);
    }
}

#[test]
fn finished_runs_survive_a_restart() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let (bt, failed, opt) = {
            let srv = TestServer::start(dir.path(), backend);
            let (_, a) = srv.post("/api/backtests", &backtest_body());
            let bt = a["id"].as_str().unwrap().to_owned();
            srv.wait_terminal("backtests", &bt);
            let (_, f) = srv.post("/api/backtests", &json!({"strategy": "fault-injection", "dataset": "spy-1m", "params": {"fault": "error", "fault_bar": 10}}));
            let failed = f["id"].as_str().unwrap().to_owned();
            srv.wait_terminal("backtests", &failed);
            let (_, o) = srv.post("/api/optimizations", &json!({"strategy": "sma-cross", "dataset": "spy-1d", "axes": {"fast": [5, 10], "slow": [20, 40]}}));
            let opt = o["id"].as_str().unwrap().to_owned();
            srv.wait_terminal("optimizations", &opt);
            // one left running is lost with the process, by design
            srv.post("/api/optimizations", &big_optimization(3));
            srv.stop();
            (bt, failed, opt)
        };
        let srv = TestServer::start(dir.path(), Backend::Memory);
        let (code, s) = srv.get(&format!("/api/backtests/{bt}/status"));
        assert_eq!((code, status_of(&s)), (200, "Completed"), "{s}");
        assert!(s["result"]["metrics"]["finalEquity"].is_number());
        let (_, f) = srv.get(&format!("/api/backtests/{failed}/status"));
        assert_eq!(status_of(&f), "Failed");
        assert!(f["errorStackTrace"].as_str().is_some());
        let (_, o) = srv.get(&format!("/api/optimizations/{opt}/status"));
        assert_eq!(status_of(&o), "Completed");
        assert_eq!(o["totalCombinations"], 4);
        assert_eq!(o["result"]["trials"].as_array().unwrap().len(), 4);
        let (_, list) = srv.get("/api/backtests");
        assert_eq!(list["total"], 2);
        // dedup still finds the finished run after the restart
        let (code, again) = srv.post("/api/backtests", &backtest_body());
        assert_eq!((code, again["id"].as_str().unwrap()), (200, bt.as_str()));
    }
}

#[test]
fn queue_limits_keep_extra_runs_pending_and_a_pending_run_cancels_at_once() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let redis = matches!(backend, Backend::Redis)
            .then(|| std::sync::Arc::new(atf_runs::test_support::RedisServer::start()));
        let srv = TestServer::with(
            dir.path(),
            Options {
                optimization_slots: 1,
                redis,
                ..Options::default()
            },
        );
        let (_, a) = srv.post("/api/optimizations", &big_optimization(4));
        let (_, b) = srv.post("/api/optimizations", &big_optimization(5));
        let (a, b) = (
            a["id"].as_str().unwrap().to_owned(),
            b["id"].as_str().unwrap().to_owned(),
        );
        srv.wait("optimizations", &a, 30, |s| status_of(s) == "Running");
        std::thread::sleep(Duration::from_millis(200));
        let (_, sb) = srv.get(&format!("/api/optimizations/{b}/status"));
        assert_eq!(
            status_of(&sb),
            "Pending",
            "one optimization at a time: {sb}"
        );
        assert_eq!(sb["processedCombinations"], 0);
        let (_, health) = srv.get("/api/health");
        assert_eq!(health["queueDepth"], 1, "{health}");
        assert_eq!(health["running"], 1);
        // backtests have their own slots: not stuck behind the optimization
        let (_, bt) = srv.post("/api/backtests", &backtest_body());
        let done = srv.wait_terminal("backtests", bt["id"].as_str().unwrap());
        assert_eq!(status_of(&done), "Completed");
        // cancelling the pending one ends it without it ever starting
        let (code, _) = srv.post(&format!("/api/optimizations/{b}/cancel"), &json!({}));
        assert_eq!(code, 200);
        let sb = srv.wait_terminal("optimizations", &b);
        assert_eq!(status_of(&sb), "Cancelled");
        assert_eq!(sb["startedAtMs"], Value::Null);
        let (code, _) = srv.post(&format!("/api/optimizations/{b}/cancel"), &json!({}));
        assert_eq!(code, 409);
        let (code, _) = srv.post(&format!("/api/optimizations/{a}/cancel"), &json!({}));
        assert_eq!(code, 200);
        let (_, cancelled) = srv.get("/api/optimizations?status=Cancelled");
        srv.wait_terminal("optimizations", &a);
        assert!(cancelled["total"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn unknown_runs_are_404_and_bad_requests_name_their_field() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), Backend::Memory);
    for path in [
        "/api/backtests/nope/status",
        "/api/backtests/nope",
        "/api/optimizations/nope/status",
        "/api/backtests/nope/events",
        "/api/optimizations/nope/trials",
    ] {
        let (code, p) = srv.get(path);
        assert_eq!(code, 404, "{path}: {p}");
        assert!(p["detail"].as_str().unwrap().contains("nope"));
    }
    let (code, _) = srv.post("/api/optimizations/nope/cancel", &json!({}));
    assert_eq!(code, 404);
    let cases = [
        (json!({"strategy": "nope", "dataset": "spy-1m"}), "strategy"),
        (
            json!({"strategy": "sma-cross", "dataset": "nope"}),
            "dataset",
        ),
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "params": {"fast": 0}}),
            "params.fast",
        ),
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "params": {"speed": 3}}),
            "params.speed",
        ),
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "from": "yesterday"}),
            "from",
        ),
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "from": "2030-01-01"}),
            "from",
        ),
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "timeframe": "7x"}),
            "timeframe",
        ),
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "commissionPct": -1}),
            "commissionPct",
        ),
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "comissionPct": 1}),
            "comissionPct",
        ),
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "cash": "lots"}),
            "cash",
        ),
        (json!({"dataset": "spy-1m"}), "strategy"),
    ];
    for (body, field) in cases {
        let (code, p) = srv.post("/api/backtests", &body);
        assert_eq!(code, 422, "{body}: {p}");
        assert_eq!(p["field"], field, "{body}: {p}");
        assert!(p["detail"].as_str().unwrap().starts_with(field), "{p}");
    }
    let opt_cases = [
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": {"min": 5, "max": 1, "step": 1}}}),
            "axes.fast",
        ),
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": {"min": 1, "max": 1000000, "step": 1}, "slow": {"min": 1, "max": 1000000, "step": 1}}}),
            "axes.fast",
        ),
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": [5], "slow": {"min": 2, "max": 2000, "step": 1}, "long_only": [true, false], "x": [1]}}),
            "axes.x",
        ),
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": [5]}, "constraints": ["fast <> slow"]}),
            "constraints[0]",
        ),
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": [5]}, "maximize": "luck"}),
            "maximize",
        ),
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {}}),
            "axes",
        ),
    ];
    for (body, field) in opt_cases {
        let (code, p) = srv.post("/api/optimizations", &body);
        assert_eq!(code, 422, "{body}: {p}");
        assert_eq!(p["field"], field, "{body}: {p}");
    }
    // a grid above the limit is refused by size
    let (code, p) = srv.post("/api/optimizations", &json!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": {"min": 1, "max": 1000, "step": 1}, "slow": {"min": 2, "max": 2000, "step": 1}}}));
    assert_eq!(code, 422, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("1000000"), "{p}");
    // malformed JSON, wrong content type
    let agent = srv.agent();
    let res = agent
        .post(&format!("{}/api/backtests", srv.url))
        .header("Content-Type", "application/json")
        .send("{\"strategy\":")
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = agent
        .post(&format!("{}/api/backtests", srv.url))
        .header("Content-Type", "text/plain")
        .send("{}")
        .unwrap();
    assert_eq!(res.status(), 415);
    let big = format!("{{\"strategy\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let res = agent
        .post(&format!("{}/api/backtests", srv.url))
        .header("Content-Type", "application/json")
        .send(&big)
        .unwrap();
    assert_eq!(res.status(), 413);
    // nothing of that was stored
    assert_eq!(srv.get("/api/backtests").1["total"], 0);
    assert_eq!(srv.get("/api/optimizations").1["total"], 0);
}

#[test]
fn a_token_guards_every_api_route() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::with(
        dir.path(),
        Options {
            api_token: Some("s3cret".into()),
            ..Options::default()
        },
    );
    let agent = srv.agent();
    let url = |p: &str| format!("{}{p}", srv.url);
    let (code, p) = common::call(&agent, "GET", &url("/api/health"), None, None);
    assert_eq!(code, 401, "{p}");
    let (code, _) = common::call(&agent, "GET", &url("/api/backtests"), None, Some("wrong"));
    assert_eq!(code, 401);
    let (code, h) = common::call(&agent, "GET", &url("/api/health"), None, Some("s3cret"));
    assert_eq!((code, h["status"].as_str()), (200, Some("ok")));
    let (code, _) = common::call(
        &agent,
        "POST",
        &url("/api/backtests"),
        Some(&backtest_body()),
        None,
    );
    assert_eq!(code, 401);
    let (code, _) = common::call(
        &agent,
        "POST",
        &url("/api/backtests"),
        Some(&backtest_body()),
        Some("s3cret"),
    );
    assert_eq!(code, 202);
}

#[test]
fn strategies_datasets_and_uploads() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), Backend::Memory);
    let (_, s) = srv.get("/api/strategies");
    let sma = s
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "sma-cross")
        .unwrap();
    assert!(sma["params"].to_string().contains("fast"));
    let (_, d) = srv.get("/api/datasets");
    assert!(d.as_array().unwrap().iter().any(|x| x["name"] == "spy-1m"));

    let agent = srv.agent();
    let upload = |name: &str, csv: &str| -> (u16, Value) {
        let boundary = "atfboundary42";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n{name}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../etc/passwd.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
        );
        let res = agent
            .post(&format!("{}/api/datasets", srv.url))
            .header(
                "Content-Type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .send(body.as_bytes())
            .unwrap();
        let code = res.status().as_u16();
        (
            code,
            serde_json::from_str(&res.into_body().read_to_string().unwrap()).unwrap(),
        )
    };
    let good = "timestamp,open,high,low,close,volume\n2024-01-02T00:00:00Z,1.10,1.20,1.00,1.15,5\n2024-01-02T00:01:00Z,1.15,1.25,1.10,1.20,7\n2024-01-02T00:02:00Z,1.20,1.22,1.18,1.19,3\n";
    let (code, r) = upload("mine", good);
    assert_eq!(code, 201, "{r}");
    let bad = "timestamp,open,high,low,close,volume\n2024-01-02T00:00:00Z,1.10,1.00,1.20,1.15,5\n";
    let (code, p) = upload("broken", bad);
    assert_eq!(code, 422, "{p}");
    assert_eq!(p["field"], "file");
    assert!(
        p["detail"].as_str().unwrap().contains(":2:"),
        "line number: {p}"
    );
    let (code, p) = upload("mine", good);
    assert_eq!(code, 409, "{p}");
    let (_, d) = srv.get("/api/datasets");
    let names: Vec<&str> = d
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"mine") && !names.contains(&"broken"),
        "{names:?}"
    );
    // nothing was written outside the data dir
    assert!(!dir.path().join("../etc").exists());
    // and it can be backtested at once
    let (code, sub) = srv.post(
        "/api/backtests",
        &json!({"strategy": "sma-cross", "dataset": "mine", "params": {"fast": 1, "slow": 2}}),
    );
    assert_eq!(code, 202, "{sub}");
    assert_eq!(sub["totalBars"], 3);
}
