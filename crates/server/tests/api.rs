//! The run API end to end: real HTTP against the real server with a real
//! SQLite file, on the in-memory cache and on a real Redis.

mod common;

use atf_testkit::wait::{eventually, PATIENCE};
use common::{backends, big_optimization, Backend, Options, TestServer};
use serde_json::{json, Value};
use std::time::Duration;

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
        // … also when it names the dataset by the id /api/datasets hands out
        let (_, datasets) = srv.get("/api/datasets");
        let spy = datasets
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == "spy-1m")
            .unwrap();
        let mut by_id = backtest_body();
        by_id["dataset"] = spy["id"].clone();
        assert!(by_id["dataset"].is_number());
        let (code, same) = srv.post("/api/backtests", &by_id);
        assert_eq!((code, &same["id"]), (200, &json!(id)), "{same}");
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
fn an_optimization_reports_rising_progress_and_a_live_leaderboard_then_cancels() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let srv = TestServer::start(dir.path(), backend);
        let (code, sub) = srv.post("/api/optimizations", &big_optimization(2));
        assert_eq!(code, 202, "{sub}");
        let total = sub["totalCombinations"].as_u64().unwrap();
        assert_eq!(total, 399 * 200);
        let id = sub["id"].as_str().unwrap().to_owned();

        let first = srv.wait("optimizations", &id, Duration::from_secs(60), |s| {
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
        let later = srv.wait("optimizations", &id, Duration::from_secs(60), |s| {
            s["processedCombinations"].as_u64().unwrap()
                > first["processedCombinations"].as_u64().unwrap()
        });
        assert!(later["processedCombinations"].as_u64().unwrap() < total);

        // cancel: answered Cancelled, and the status says so at once
        let (code, c) = srv.post(&format!("/api/optimizations/{id}/cancel"), &json!({}));
        assert_eq!(code, 200, "{c}");
        assert_eq!(c, json!({"id": id, "status": "Cancelled"}));
        let (_, now) = srv.get(&format!("/api/optimizations/{id}/status"));
        assert_eq!(status_of(&now), "Cancelled");
        // its threads stop: the run is written to SQLite (after its last
        // trial) and counting ends
        eventually(PATIENCE, || {
            let rows: i64 = common::db(&srv)
                .query_row(
                    "SELECT COUNT(*) FROM optimization_runs WHERE id = ?1",
                    [&id],
                    |r| r.get(0),
                )
                .unwrap();
            if rows == 1 {
                Ok(())
            } else {
                Err("cancel did not stop the run: not stored".to_owned())
            }
        });
        let (code, stored) = srv.get(&format!("/api/optimizations/{id}"));
        assert_eq!(code, 200, "{stored}");
        let done = stored["completed"].as_u64().unwrap()
            + stored["failed"].as_u64().unwrap()
            + stored["skipped"].as_u64().unwrap();
        assert!(done < total);
        let (_, after) = srv.get(&format!("/api/optimizations/{id}/status"));
        assert_eq!(
            after["processedCombinations"].as_u64().unwrap(),
            done,
            "nothing runs after the cancel"
        );
        match backend {
            // the trials run so far are kept, as a partial result
            Backend::Memory => assert_eq!(stored["result"]["cancelled"], true, "{stored}"),
            // a scale-out drops the chunks recorded so far with the run
            Backend::Redis => assert_eq!(stored["result"], Value::Null, "{stored}"),
        }
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
        let (db_msg, db_trace, db_status): (String, String, String) = common::db(&srv)
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
        // is the winner real: N = the 5 completed trials, DSR a
        // probability, the winner's neighbours counted; and the same read
        // back from the database
        let robustness = &data["result"]["robustness"];
        assert_eq!(robustness["trials"], 5, "{robustness}");
        let dsr = robustness["sharpe"]["dsr"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&dsr), "{robustness}");
        assert!(robustness["neighbours"]["neighbours"].as_u64().unwrap() >= 1);
        let (code, stored) = srv.get(&format!("/api/optimizations/{id}"));
        assert_eq!(code, 200);
        assert_eq!(&stored["result"]["robustness"], robustness);
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
        let db = common::db(&srv);
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
        // a grid's trials run in index order: no evaluation order to plot
        assert!(page["items"][0].get("evalOrder").is_none(), "{page}");
        let (code, conv) = srv.get(&format!("/api/optimizations/{id}/convergence"));
        assert_eq!(code, 200, "{conv}");
        assert_eq!((&conv["trials"], &conv["points"]), (&json!(0), &json!([])));
    }
}

/// Issue 17: a search through the API — a space the grid limit refuses,
/// progress in trials of the budget with the generation, the chosen seed
/// reported, and the same search with that seed answered by the same run.
#[test]
fn a_search_reports_trials_of_its_budget_its_generation_and_its_seed() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let srv = TestServer::start(dir.path(), backend);
        // 4,000,000 combinations
        let grid = json!({
            "strategy": "sma-cross", "dataset": "spy-1m", "timeframe": "1h",
            "axes": {"fast": {"min": 1, "max": 2000, "step": 1},
                     "slow": {"min": 1, "max": 2000, "step": 1}},
            "constraints": ["fast < slow"], "top": 2
        });
        let (code, p) = srv.post("/api/optimizations", &grid);
        assert_eq!(code, 422, "{p}");
        assert_eq!(p["field"], "axes");
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("search it instead with method random or genetic"),
            "{p}"
        );
        let mut body = grid.clone();
        body["method"] = json!("genetic");
        body["budget"] = json!(64);
        let (code, sub) = srv.post("/api/optimizations", &body);
        assert_eq!(code, 202, "{sub}");
        assert_eq!(sub["totalCombinations"], 64, "the budget is the work");
        let id = sub["id"].as_str().unwrap().to_owned();
        let ev = srv.events("optimizations", &id);
        let (last, data) = ev.last().unwrap();
        assert_eq!(last, "completed", "{ev:?}");
        for (_, p) in &ev {
            assert!(p["processedCombinations"].as_u64() <= Some(64), "{p}");
        }
        assert_eq!(data["processedCombinations"], 64, "{data}");
        assert!(data["generation"].as_u64().unwrap() >= 2, "{data}");
        let search = &data["result"]["search"];
        assert_eq!(search["method"], "genetic", "{data}");
        assert_eq!(search["budget"], 64);
        assert!(
            search["seed"].is_u64(),
            "a seed chosen and reported: {search}"
        );
        assert_eq!(data["result"]["trialCount"], 64);
        // read back from SQLite alike
        let (_, stored) = srv.get(&format!("/api/optimizations/{id}"));
        assert_eq!(&stored["result"]["search"], search);
        // every trial says when it was evaluated: 0..64, once each
        let (code, page) = srv.get(&format!(
            "/api/optimizations/{id}/trials?sort=evalOrder&limit=100"
        ));
        assert_eq!(code, 200, "{page}");
        let orders: Vec<u64> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["evalOrder"].as_u64().expect("an evaluation order"))
            .collect();
        assert_eq!(orders, (0..64).collect::<Vec<_>>());
        // its convergence: the running best rises to the winner's fitness
        let (code, conv) = srv.get(&format!("/api/optimizations/{id}/convergence"));
        assert_eq!(code, 200, "{conv}");
        assert_eq!(
            (conv["trials"].as_u64(), conv["perPoint"].as_u64()),
            (Some(64), Some(1))
        );
        let points = conv["points"].as_array().unwrap();
        assert_eq!(points.len(), 64);
        let bests: Vec<f64> = points.iter().filter_map(|p| p["best"].as_f64()).collect();
        assert!(bests.windows(2).all(|w| w[0] <= w[1]), "{bests:?}");
        assert_eq!(
            bests.last().copied(),
            stored["result"]["trials"][0]["fitness"].as_f64(),
            "the best so far ends at rank 1"
        );
        // folded: 8 points of 8 trials, the same best
        let (_, folded) = srv.get(&format!("/api/optimizations/{id}/convergence?points=8"));
        assert_eq!(folded["perPoint"], 8, "{folded}");
        let folded = folded["points"].as_array().unwrap();
        assert_eq!(
            (folded.len(), &folded[1]["first"], &folded[7]["last"]),
            (8, &json!(8), &json!(63))
        );
        assert_eq!(folded[7]["best"], points[63]["best"]);
        let (code, p) = srv.get(&format!("/api/optimizations/{id}/convergence?points=0"));
        assert_eq!((code, &p["field"]), (422, &json!("points")), "{p}");
        // the same search with its seed: the same run
        body["seed"] = search["seed"].clone();
        let (code, again) = srv.post("/api/optimizations", &body);
        assert_eq!((code, &again["id"]), (200, &json!(id)), "{again}");
        // another seed, another run
        body["seed"] = json!(search["seed"].as_u64().unwrap().wrapping_add(1));
        let (code, other) = srv.post("/api/optimizations", &body);
        assert_eq!(code, 202, "{other}");
        assert_ne!(other["id"], json!(id));
    }
}

/// Issue 17: a cancelled optimization (here a genetic search) resumed
/// through the API keeps what it recorded, runs only the rest and ends as
/// an uninterrupted run of the same request on another server.
#[test]
fn a_cancelled_optimization_resumes_to_the_uninterrupted_result() {
    let body = json!({
        "strategy": "sma-cross", "dataset": "spy-1m",
        "axes": {"fast": {"min": 2, "max": 200, "step": 1}, "slow": {"min": 3, "max": 401, "step": 2}},
        "constraints": ["fast < slow"], "method": "genetic", "budget": 1500, "seed": 9, "top": 3
    });
    // what the result says, without what names this run (ids)
    let result_of = |srv: &TestServer, id: &str| {
        let (code, run) = srv.get(&format!("/api/optimizations/{id}"));
        assert_eq!(code, 200, "{run}");
        let mut r = run["result"].clone();
        for t in r["trials"].as_array_mut().unwrap() {
            t.as_object_mut().unwrap().remove("backtestId");
        }
        for k in ["top", "wallTimeMs", "threads"] {
            r.as_object_mut().unwrap().remove(k);
        }
        r
    };
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), Backend::Memory);
    let (code, sub) = srv.post("/api/optimizations", &body);
    assert_eq!(code, 202, "{sub}");
    let id = sub["id"].as_str().unwrap().to_owned();
    srv.wait("optimizations", &id, Duration::from_secs(120), |s| {
        s["processedCombinations"].as_u64().unwrap_or(0) >= 100
    });
    let (code, _) = srv.post(&format!("/api/optimizations/{id}/cancel"), &json!({}));
    assert_eq!(code, 200);
    assert_eq!(
        status_of(&srv.wait_terminal("optimizations", &id)),
        "Cancelled"
    );
    // saved (with the trials it recorded) once its threads stopped
    eventually(PATIENCE, || {
        let n: i64 = common::db(&srv)
            .query_row(
                "SELECT COUNT(*) FROM optimization_recorded_trials WHERE optimization_id = ?1",
                [&id],
                |r| r.get(0),
            )
            .map_err(|e| e.to_string())?;
        if n == 1 {
            Ok(())
        } else {
            Err("not saved yet".to_owned())
        }
    });
    let (_, ended) = srv.get(&format!("/api/optimizations/{id}/status"));
    let done = ended["processedCombinations"].as_u64().unwrap();
    assert!((100..1500).contains(&done), "{ended}");
    // only a cancelled run resumes
    let (code, p) = srv.post("/api/optimizations/nope/resume", &json!({}));
    assert_eq!(code, 404, "{p}");
    let (code, resumed) = srv.post(&format!("/api/optimizations/{id}/resume"), &json!({}));
    assert_eq!(code, 202, "{resumed}");
    let new_id = resumed["id"].as_str().unwrap().to_owned();
    assert_ne!(new_id, id);
    let last = srv.wait_terminal("optimizations", &new_id);
    assert_eq!(status_of(&last), "Completed", "{last}");
    let (code, p) = srv.post(&format!("/api/optimizations/{new_id}/resume"), &json!({}));
    assert_eq!(code, 409, "a completed run does not resume: {p}");
    assert_eq!(
        common::db(&srv)
            .query_row(
                "SELECT COUNT(*) FROM optimization_trials WHERE optimization_id = ?1",
                [&new_id],
                |r| r.get::<_, i64>(0)
            )
            .unwrap(),
        1500
    );
    // the same request, never interrupted, on another server
    let dir2 = tempfile::tempdir().unwrap();
    let other = TestServer::start(dir2.path(), Backend::Memory);
    let (code, sub) = other.post("/api/optimizations", &body);
    assert_eq!(code, 202, "{sub}");
    let reference = sub["id"].as_str().unwrap().to_owned();
    assert_eq!(
        status_of(&other.wait_terminal("optimizations", &reference)),
        "Completed"
    );
    let uninterrupted = result_of(&other, &reference);
    assert_eq!(uninterrupted["trials"].as_array().unwrap().len(), 1000);
    assert_eq!(uninterrupted["search"]["seed"], 9);
    assert_eq!(result_of(&srv, &new_id), uninterrupted);
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
        let srv = TestServer::with(
            dir.path(),
            Options {
                optimization_slots: 1,
                ..Options::on(backend)
            },
        );
        let (_, a) = srv.post("/api/optimizations", &big_optimization(4));
        let (_, b) = srv.post("/api/optimizations", &big_optimization(5));
        let (a, b) = (
            a["id"].as_str().unwrap().to_owned(),
            b["id"].as_str().unwrap().to_owned(),
        );
        srv.wait("optimizations", &a, Duration::from_secs(30), |s| {
            status_of(s) == "Running"
        });
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
        // the limits clients check against before submitting
        assert_eq!(health["limits"]["maxTop"], 1000, "{health}");
        assert_eq!(health["limits"]["maxPage"], 500);
        assert!(health["limits"]["maxCombinations"].as_u64().unwrap() > 0);
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
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": [5]}, "top": 1001}),
            "top",
        ),
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": [5]}, "top": 0}),
            "top",
        ),
        // 1,000 kept curves of spy-1m's 31,757 bars: more points than the default 20 M
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": {"min": 1, "max": 1000, "step": 1}}, "top": 1000}),
            "top",
        ),
        // integer axes at the i64 edges: counted without overflow (a 422, never a wrap or a 500)
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": {"min": i64::MIN, "max": i64::MAX, "step": 1}}}),
            "axes.fast",
        ),
        (
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": {"min": i64::MIN, "max": i64::MAX, "step": i64::MAX}}}),
            "axes.fast",
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
    // a body one byte over the 1 MiB limit is refused (just over: the
    // server reads it all before answering, so the answer is never lost to
    // a connection reset while the client is still sending)
    let prefix = "{\"strategy\":\"";
    let big = format!(
        "{prefix}{}\"}}",
        "x".repeat(1024 * 1024 + 1 - prefix.len() - 2)
    );
    assert_eq!(big.len(), 1024 * 1024 + 1);
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
    let (code, p) = common::call(agent, "GET", &url("/api/health"), None, None);
    assert_eq!(code, 401, "{p}");
    let (code, _) = common::call(agent, "GET", &url("/api/backtests"), None, Some("wrong"));
    assert_eq!(code, 401);
    let (code, h) = common::call(agent, "GET", &url("/api/health"), None, Some("s3cret"));
    assert_eq!((code, h["status"].as_str()), (200, Some("ok")));
    let (code, _) = common::call(
        agent,
        "POST",
        &url("/api/backtests"),
        Some(&backtest_body()),
        None,
    );
    assert_eq!(code, 401);
    let (code, _) = common::call(
        agent,
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

/// What `/bars` should answer for `bars` of the dataset, computed apart.
fn chart_of(ds: &atf_data::DatasetInfo, bars: &atf_engine::Bars) -> Vec<Value> {
    let p = |x: i64| x as f64 / 10f64.powi(i32::from(ds.price_decimals));
    let v = |x: i64| x as f64 / 10f64.powi(i32::from(ds.volume_decimals));
    (0..bars.len())
        .map(|i| {
            json!({
                "time": bars.ts[i], "open": p(bars.open[i]), "high": p(bars.high[i]),
                "low": p(bars.low[i]), "close": p(bars.close[i]), "volume": v(bars.volume[i]),
            })
        })
        .collect()
}

#[test]
fn a_dataset_s_bars_come_resampled_to_fit_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), Backend::Memory);
    let ds = srv.service().with_catalog(|c| c.get("spy-1m")).unwrap();
    let all = ds.load(dir.path(), None, None).unwrap();
    assert_eq!(all.len(), 31_757);
    let tf = |t: &str| t.parse::<atf_engine::Timeframe>().unwrap();
    let at = |t: &str| all.resample(tf(t)).0;

    // the whole dataset holds more than 5000 minutes: the finest standard
    // timeframe under the default limit answers, every bar of it
    let (code, b) = srv.get("/api/datasets/spy-1m/bars");
    assert_eq!(code, 200, "{b}");
    assert!(at("5m").len() > 5_000 && at("15m").len() <= 5_000);
    assert_eq!(b["dataset"], "spy-1m");
    assert_eq!(b["timeframe"], "15m");
    assert_eq!(b["truncated"], false);
    assert_eq!(b["bars"], Value::Array(chart_of(&ds, &at("15m"))));
    // prices in display units at the dataset's scale
    let first = &b["bars"][0];
    assert_eq!(first["time"], all.ts[0]);
    assert_eq!(
        first["open"].as_f64().unwrap(),
        all.open[0] as f64 / 10f64.powi(i32::from(ds.price_decimals))
    );
    // the same by numeric id
    let (code, by_id) = srv.get(&format!("/api/datasets/{}/bars", ds.id));
    assert_eq!((code, &by_id), (200, &b));

    // a higher limit: the finer timeframe that now fits
    let (_, b) = srv.get("/api/datasets/spy-1m/bars?limit=20000");
    assert_eq!(b["timeframe"], "5m");
    assert_eq!(b["bars"].as_array().unwrap().len(), at("5m").len());

    // a period at its own timeframe: the bars as stored, `to` through that day
    let day = |d: &str| atf_data::time::parse_timestamp(d).unwrap();
    let (from, to) = ("2011-01-10", "2011-01-11");
    let part = all.slice_time(day(from), day(to) + 86_400_000);
    assert!(!part.is_empty() && part.len() <= 5_000);
    let (code, b) = srv.get(&format!("/api/datasets/spy-1m/bars?from={from}&to={to}"));
    assert_eq!(code, 200, "{b}");
    assert_eq!(
        (&b["timeframe"], &b["truncated"]),
        (&json!("1m"), &json!(false))
    );
    assert_eq!(b["bars"], Value::Array(chart_of(&ds, &part)));
    // an asked-for timeframe, volumes summed
    let (_, b) = srv.get(&format!(
        "/api/datasets/spy-1m/bars?from={from}&to={to}&timeframe=1h"
    ));
    assert_eq!(b["timeframe"], "1h");
    assert_eq!(
        b["bars"],
        Value::Array(chart_of(&ds, &part.resample(tf("1h")).0))
    );
    // epoch milliseconds work as in run requests
    let (_, b2) = srv.get(&format!(
        "/api/datasets/spy-1m/bars?from={}&to={}&timeframe=1h",
        day(from),
        day(to) + 86_400_000 - 1
    ));
    assert_eq!(b2, b);

    // even weekly bars do not fit 3: the last 3 weeks, said so
    let (_, b) = srv.get("/api/datasets/spy-1m/bars?limit=3");
    let weeks = at("1w");
    assert!(weeks.len() > 3);
    assert_eq!(
        (&b["timeframe"], &b["truncated"]),
        (&json!("1w"), &json!(true))
    );
    let last3 = all
        .slice_time(weeks.ts[weeks.len() - 3], i64::MAX)
        .resample(tf("1w"))
        .0;
    assert_eq!(b["bars"], Value::Array(chart_of(&ds, &last3)));

    // a period outside the data: no bars
    let (code, b) = srv.get("/api/datasets/spy-1m/bars?from=2030-01-01");
    assert_eq!(code, 200);
    assert_eq!(b["bars"], json!([]));

    // refusals name their field
    let (code, p) = srv.get("/api/datasets/nope/bars");
    assert_eq!(code, 404, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("nope"), "{p}");
    for (query, field) in [
        ("from=yesterday", "from"),
        ("to=soon", "to"),
        ("from=2011-02-01&to=2011-01-01", "to"),
        ("timeframe=7x", "timeframe"),
        ("timeframe=30s", "timeframe"),
        ("limit=0", "limit"),
        ("limit=20001", "limit"),
        ("limit=many", "limit"),
    ] {
        let (code, p) = srv.get(&format!("/api/datasets/spy-1m/bars?{query}"));
        assert_eq!(code, 422, "{query}: {p}");
        assert_eq!(p["field"], field, "{query}: {p}");
    }
    // daily data cannot be drawn in hours
    let (code, p) = srv.get("/api/datasets/spy-1d/bars?timeframe=1h");
    assert_eq!((code, p["field"].as_str()), (422, Some("timeframe")), "{p}");
    let (code, b) = srv.get("/api/datasets/spy-1d/bars?timeframe=1w");
    assert_eq!((code, b["timeframe"].as_str()), (200, Some("1w")), "{b}");
}

#[test]
fn an_optimization_s_trials_sort_by_fitness_metrics_and_params_nulls_last() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), Backend::Memory);
    let body = json!({
        "strategy": "fault-injection",
        "dataset": "spy-1m",
        "axes": {"period": {"min": 5, "max": 25, "step": 5}, "fault": ["none", "panic", "error"]},
        "params": {"fault_bar": 300},
        "maximize": "netProfit",
    });
    let (code, sub) = srv.post("/api/optimizations", &body);
    assert_eq!(code, 202, "{sub}");
    let id = sub["id"].as_str().unwrap().to_owned();
    assert_eq!(
        status_of(&srv.wait_terminal("optimizations", &id)),
        "Completed"
    );
    let page = |q: &str| -> Vec<Value> {
        let (code, p) = srv.get(&format!("/api/optimizations/{id}/trials?{q}"));
        assert_eq!(code, 200, "{q}: {p}");
        assert_eq!(p["total"], 15);
        p["items"].as_array().unwrap().clone()
    };
    let field = |t: &Value, ptr: &str| t.pointer(ptr).and_then(Value::as_f64);
    let ranks = |v: &[Value]| {
        v.iter()
            .map(|t| t["rank"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    // in order (NULLs last, ties by rank)
    let assert_sorted = |v: &[Value], ptr: &str, desc: bool| {
        for w in v.windows(2) {
            match (field(&w[0], ptr), field(&w[1], ptr)) {
                (Some(a), Some(b)) if a == b => {
                    assert!(w[0]["rank"].as_u64() < w[1]["rank"].as_u64())
                }
                (Some(a), Some(b)) => {
                    assert!(if desc { a > b } else { a < b }, "{ptr}: {a} then {b}")
                }
                (Some(_), None) => {}
                (None, Some(_)) => panic!("{ptr}: null before a value"),
                (None, None) => assert!(w[0]["rank"].as_u64() < w[1]["rank"].as_u64()),
            }
        }
    };

    // rank by default, as before
    assert_eq!(ranks(&page("")), (1..=15).collect::<Vec<_>>());
    assert_eq!(
        ranks(&page("sort=rank&order=desc")),
        (1..=15).rev().collect::<Vec<_>>()
    );
    let idx: Vec<u64> = page("sort=index")
        .iter()
        .map(|t| t["index"].as_u64().unwrap())
        .collect();
    assert_eq!(idx, (0..15).collect::<Vec<_>>());
    // a metric: largest first by default; the 10 failed trials last either way
    for (q, desc) in [
        ("sort=netProfit", true),
        ("sort=netProfit&order=asc", false),
    ] {
        let v = page(q);
        assert_sorted(&v, "/metrics/netProfit", desc);
        assert!(v[..5].iter().all(|t| t["status"] == "Completed"), "{q}");
        assert!(v[5..].iter().all(|t| t["status"] == "Failed"), "{q}");
    }
    assert_sorted(
        &page("sort=maxDrawdownPct&order=asc"),
        "/metrics/maxDrawdownPct",
        false,
    );
    assert_sorted(&page("sort=sharpe"), "/metrics/sharpe", true);
    assert_sorted(&page("sort=fitness&order=asc"), "/fitness", false);
    // a parameter, via json_extract; pages agree with the whole
    let by_period = page("sort=params.period&limit=100");
    assert_sorted(&by_period, "/params/period", true);
    assert_eq!(by_period[0]["params"]["period"], 25);
    let mut paged = Vec::new();
    for off in [0, 4, 8, 12] {
        paged.extend(page(&format!("sort=params.period&offset={off}&limit=4")));
    }
    assert_eq!(paged, by_period);
    assert_sorted(
        &page("sort=params.period&order=asc"),
        "/params/period",
        false,
    );

    // refusals name `sort` or `order`
    for (q, f) in [
        ("sort=luck", "sort"),
        ("sort=net_profit", "sort"),
        ("sort=params.nope", "sort"),
        ("sort=params.a-b", "sort"),
        ("sort=params.period')--", "sort"),
        ("sort=fitness&order=up", "order"),
    ] {
        let (code, p) = srv.get(&format!("/api/optimizations/{id}/trials?{q}"));
        assert_eq!(code, 422, "{q}: {p}");
        assert_eq!(p["field"], f, "{q}: {p}");
    }
    let (_, p) = srv.get(&format!("/api/optimizations/{id}/trials?sort=params.nope"));
    assert!(
        p["detail"].as_str().unwrap().contains("period"),
        "names the real ones: {p}"
    );
    // unknown optimization: 404 whatever the sort
    let (code, _) = srv.get("/api/optimizations/nope/trials?sort=sharpe");
    assert_eq!(code, 404);
}

#[test]
fn an_event_stream_takes_the_token_in_its_url_and_nothing_else_does() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::with(
        dir.path(),
        Options {
            api_token: Some("s3cr t/+".into()),
            ..Options::default()
        },
    );
    let token = "s3cr t/+";
    let in_url = "s3cr%20t%2F%2B";
    let agent = srv.agent();
    let url = |p: &str| format!("{}{p}", srv.url);
    let (code, sub) = common::call(
        agent,
        "POST",
        &url("/api/backtests"),
        Some(&backtest_body()),
        Some(token),
    );
    assert_eq!(code, 202, "{sub}");
    let id = sub["id"].as_str().unwrap().to_owned();

    // the stream with ?access_token= (what a browser's EventSource sends)
    let res = agent
        .get(&url(&format!(
            "/api/backtests/{id}/events?access_token={in_url}"
        )))
        .call()
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.into_body().read_to_string().unwrap();
    assert!(text.contains("event: completed"), "{text}");
    // an optimization's stream too
    let (code, o) = common::call(
        agent,
        "POST",
        &url("/api/optimizations"),
        Some(
            &json!({"strategy": "sma-cross", "dataset": "spy-1d", "axes": {"fast": [5, 10], "slow": [20]}}),
        ),
        Some(token),
    );
    assert_eq!(code, 202, "{o}");
    let events = format!("/api/optimizations/{}/events", o["id"].as_str().unwrap());
    let res = agent
        .get(&url(&format!("{events}?access_token={in_url}")))
        .call()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res
        .into_body()
        .read_to_string()
        .unwrap()
        .contains("event: completed"));

    // without it, or with a wrong one: 401
    let (code, _) = common::call(
        agent,
        "GET",
        &url(&format!("/api/backtests/{id}/events")),
        None,
        None,
    );
    assert_eq!(code, 401);
    let (code, p) = common::call(
        agent,
        "GET",
        &url(&format!("/api/backtests/{id}/events?access_token=wrong")),
        None,
        None,
    );
    assert_eq!(code, 401, "{p}");
    // the header still works there
    let (code, _) = common::call(
        agent,
        "GET",
        &url(&format!("/api/backtests/{id}/events")),
        None,
        Some(token),
    );
    assert_eq!(code, 200);
    // no other request takes it in its URL: not a POST, not another GET
    let (code, _) = common::call(
        agent,
        "POST",
        &url(&format!("/api/backtests/{id}/cancel?access_token={in_url}")),
        None,
        None,
    );
    assert_eq!(code, 401);
    let (code, _) = common::call(
        agent,
        "POST",
        &url(&format!("/api/backtests?access_token={in_url}")),
        Some(&backtest_body()),
        None,
    );
    assert_eq!(code, 401);
    for path in [
        format!("/api/backtests/{id}/status"),
        format!("/api/backtests/{id}"),
        "/api/backtests".to_owned(),
        "/api/health".to_owned(),
        "/api/datasets/spy-1m/bars".to_owned(),
    ] {
        let (code, _) = common::call(
            agent,
            "GET",
            &url(&format!("{path}?access_token={in_url}")),
            None,
            None,
        );
        assert_eq!(code, 401, "{path}");
    }
}

// ---- the contract as an independent client tests it (issue 14) -----------
//
// Each case below was found by schemathesis (scripts/schemathesis.sh) as a
// request the OpenAPI document and the server judged differently; these
// keep the server's side of each fix.

/// The request examples of the served document are runs the server accepts
/// (its backtest example once asked for 2024 on the 2011 demo data).
#[test]
fn the_document_s_request_examples_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), Backend::Memory);
    let (code, doc) = srv.get("/api/openapi.json");
    assert_eq!(code, 200);
    for (path, schema) in [
        ("/api/backtests", "BacktestRequest"),
        ("/api/optimizations", "OptimizationRequest"),
    ] {
        let examples = doc["components"]["schemas"][schema]["examples"]
            .as_array()
            .unwrap();
        assert!(!examples.is_empty(), "{schema}");
        for body in examples {
            let (code, sub) = srv.post(path, body);
            assert_eq!(code, 202, "{schema} example {body}: {sub}");
            let kind = path.trim_start_matches("/api/");
            let done = srv.wait_terminal(kind, sub["id"].as_str().unwrap());
            assert_eq!(status_of(&done), "Completed", "{done}");
        }
    }
}

/// Numbers are JSON numbers in any notation: `1e-6` (serde_json's text for
/// it) is 0.000001 %, and a whole number may be written `2.0`, as JSON
/// Schema's `integer` allows; a fraction still is no whole number.
#[test]
fn run_requests_read_numbers_in_any_json_notation() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), Backend::Memory);
    let mut body = backtest_body();
    body["commissionPct"] = json!(1e-6);
    body["slippageTicks"] = json!(2.0);
    body["sizeQty"] = json!(5.0);
    let (code, sub) = srv.post("/api/backtests", &body);
    assert_eq!(code, 202, "{sub}");
    let (code, sub) = srv.post(
        "/api/optimizations",
        &json!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": [5, 10]}, "top": 20.0}),
    );
    assert_eq!(code, 202, "{sub}");
    for (field, value) in [("slippageTicks", json!(1.5)), ("sizeQty", json!(0.5))] {
        let mut body = backtest_body();
        body[field] = value;
        let (code, p) = srv.post("/api/backtests", &body);
        assert_eq!((code, &p["field"]), (422, &json!(field)), "{p}");
    }
}

/// `warmupBars`: a whole number up to 100000, refused naming the field
/// otherwise; runs warm up on as many bars as the data has before `from`
/// and say how many, and the work counted is the period's alone.
#[test]
fn warm_up_is_bounded_and_its_result_says_how_many_bars_were_used() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), Backend::Memory);
    for value in [json!(100_001), json!(-1), json!(1.5), json!("60")] {
        let mut body = backtest_body();
        body["warmupBars"] = value.clone();
        let (code, p) = srv.post("/api/backtests", &body);
        assert_eq!(
            (code, &p["field"]),
            (422, &json!("warmupBars")),
            "{value}: {p}"
        );
        let mut grid =
            json!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": [5, 10]}});
        grid["warmupBars"] = value.clone();
        let (code, p) = srv.post("/api/optimizations", &grid);
        assert_eq!(
            (code, &p["field"]),
            (422, &json!("warmupBars")),
            "{value}: {p}"
        );
    }
    let run = |kind: &str, mut body: Value, warmup: u32| {
        body["from"] = json!("2011-03-01");
        body["timeframe"] = json!("1h");
        body["warmupBars"] = json!(warmup);
        let (code, sub) = srv.post(&format!("/api/{kind}"), &body);
        assert_eq!(code, 202, "{sub}");
        let done = srv.wait_terminal(kind, sub["id"].as_str().unwrap());
        assert_eq!(status_of(&done), "Completed", "{done}");
        done
    };
    let warm = run("backtests", backtest_body(), 100_000);
    let cold = run("backtests", backtest_body(), 0);
    // all of January before March (the demo has no February), not 100000
    let used = warm["result"]["warmupBars"].as_u64().unwrap();
    assert!((100..1_000).contains(&used), "{used}");
    assert_eq!(cold["result"]["warmupBars"], 0);
    assert_eq!(warm["processedBars"], cold["processedBars"]);
    assert_eq!(warm["result"]["fromMs"], cold["result"]["fromMs"]);
    assert_eq!(
        warm["result"]["equityCurve"].as_array().unwrap().len(),
        cold["result"]["equityCurve"].as_array().unwrap().len()
    );
    let grid =
        json!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": [5, 10]}, "top": 1});
    let opt = run("optimizations", grid, 20);
    assert_eq!(opt["result"]["warmupBars"], 20, "{}", opt["result"]);
}

/// What the document constrains on its own the server enforces exactly:
/// `sizePct` even when `sizeQty` overrides it, `maximize` spelled as the
/// document lists it, no unknown field in an axis range.
#[test]
fn run_requests_are_refused_exactly_where_the_document_says() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), Backend::Memory);
    let mut body = backtest_body();
    body["sizeQty"] = json!(1);
    body["sizePct"] = json!(-5);
    let (code, p) = srv.post("/api/backtests", &body);
    assert_eq!((code, &p["field"]), (422, &json!("sizePct")), "{p}");

    let grid = |extra: Value| {
        let mut b = json!({"strategy": "sma-cross", "dataset": "spy-1m", "axes": {"fast": {"min": 5, "max": 10, "step": 5}}});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (extra, field) in [
        (json!({"maximize": "NetProfit"}), "maximize"),
        (json!({"maximize": "net profit"}), "maximize"),
        (
            json!({"axes": {"fast": {"min": 5, "max": 10, "step": 5, "stpe": 1}}}),
            "axes.fast",
        ),
    ] {
        let (code, p) = srv.post("/api/optimizations", &grid(extra.clone()));
        assert_eq!((code, &p["field"]), (422, &json!(field)), "{extra}: {p}");
    }
    for spelling in ["net-profit", "netProfit", "net_profit"] {
        let (code, p) = srv.post("/api/optimizations", &grid(json!({"maximize": spelling})));
        assert!(code == 202 || code == 200, "{spelling}: {p}");
    }
}

/// Lists take the statuses as runs spell them, and offsets SQLite can
/// count (one above `i64::MAX` was answered as if it were fine).
#[test]
fn list_queries_are_bounded_as_the_document_says() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), Backend::Memory);
    for kind in ["backtests", "optimizations"] {
        let (code, page) = srv.get(&format!(
            "/api/{kind}?status=Completed&offset=9223372036854775807"
        ));
        assert_eq!(code, 200, "{page}");
        for (query, field) in [
            ("offset=9223372036854775808", "offset"),
            ("status=completed", "status"),
            ("status=", "status"),
            ("limit=501", "limit"),
        ] {
            let (code, p) = srv.get(&format!("/api/{kind}?{query}"));
            assert_eq!(
                (code, &p["field"]),
                (422, &json!(field)),
                "{kind}?{query}: {p}"
            );
        }
    }
    let (code, p) = srv.get("/api/optimizations/nope/trials?offset=9223372036854775808");
    assert_eq!((code, &p["field"]), (422, &json!("offset")), "{p}");
}

#[test]
fn runs_of_both_kinds_list_together_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), Backend::Memory);
    let (_, bt) = srv.post("/api/backtests", &backtest_body());
    let bt = bt["id"].as_str().unwrap().to_owned();
    srv.wait_terminal("backtests", &bt);
    let (_, opt) = srv.post(
        "/api/optimizations",
        &json!({
            "strategy": "sma-cross", "dataset": "spy-1m", "timeframe": "1h",
            "axes": {"fast": [5, 10], "slow": [20, 30]}, "top": 1
        }),
    );
    let opt = opt["id"].as_str().unwrap().to_owned();
    srv.wait_terminal("optimizations", &opt);

    let (code, all) = srv.get("/api/runs");
    assert_eq!(code, 200, "{all}");
    assert_eq!(all["total"], 2, "{all}");
    let seen: Vec<(&str, &str)> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["kind"].as_str().unwrap(), r["id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [("optimization", opt.as_str()), ("backtest", bt.as_str())]
    );
    let (_, only) = srv.get("/api/runs?kind=backtest&status=Completed");
    assert_eq!(only["total"], 1, "{only}");
    assert_eq!(only["items"][0]["id"], json!(bt));
    let (_, page) = srv.get("/api/runs?offset=1&limit=1");
    assert_eq!(page["items"][0]["id"], json!(bt), "{page}");
    let (code, bad) = srv.get("/api/runs?kind=walkforward");
    assert_eq!(code, 400, "{bad}");
    let (code, bad) = srv.get("/api/runs?limit=0");
    assert_eq!((code, &bad["field"]), (422, &json!("limit")), "{bad}");
}
