//! The HTTP edge's bounds against a real server: a full pending queue
//! answers `429` with `Retry-After` (identical submissions still find their
//! run), open event streams are capped and all end at shutdown, and a
//! client that stalls mid-request is disconnected while others are served.

#[path = "raw_http/mod.rs"]
mod raw_http;

use atf_testkit::server::{backends, Options, TestServer};
use atf_testkit::wait::{eventually, PATIENCE};
use raw_http::{addr_of, open, read_until_closed, request};
use serde_json::{json, Value};
use std::io::Write;
use std::time::Duration;

/// A grid still running when the test acts on it (~80k combinations).
fn big_optimization(tag: i64) -> Value {
    json!({
        "strategy": "sma-cross",
        "dataset": "spy-1m",
        "axes": {"fast": {"min": 2, "max": 400, "step": 1}, "slow": {"min": 3, "max": 401, "step": 2}},
        "constraints": ["fast < slow"],
        "cash": 10000 + tag,
    })
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

#[test]
fn a_full_queue_answers_429_with_retry_after_and_identical_submissions_still_find_their_run() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let srv = TestServer::with(
            dir.path(),
            Options {
                optimization_slots: 1,
                configure: |cfg| cfg.max_pending = 2,
                ..Options::on(backend)
            },
        );
        let (code, a) = srv.post("/api/optimizations", &big_optimization(1));
        assert_eq!(code, 202, "{a}");
        let a = id_of(&a);
        srv.wait("optimizations", &a, PATIENCE, |s| s["status"] == "Running");
        let (b, c) = (big_optimization(2), big_optimization(3));
        let (code, sb) = srv.post("/api/optimizations", &b);
        assert_eq!(code, 202, "{backend:?}: {sb}");
        let (code, sc) = srv.post("/api/optimizations", &c);
        assert_eq!(code, 202, "{backend:?}: {sc}");

        // the third waiting one is refused, with when to come back
        let addr = addr_of(&srv.url);
        let body = big_optimization(4).to_string();
        let r = request(
            &addr,
            "POST",
            "/api/optimizations",
            &[("Host", &addr), ("Content-Type", "application/json")],
            body.as_bytes(),
        );
        assert_eq!(r.status, 429, "{backend:?}: {r:?}");
        assert_eq!(r.header("retry-after"), Some("30"), "{r:?}");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        let p: Value = serde_json::from_str(&r.body).unwrap();
        assert!(
            p["detail"].as_str().unwrap().contains("--max-pending"),
            "{p}"
        );
        // refusals leave nothing behind: still two waiting
        let (_, health) = srv.get("/api/health");
        assert_eq!(health["queueDepth"], 2, "{health}");
        assert_eq!(health["limits"]["maxPending"], 2, "{health}");

        // an identical submission still answers with its run, full or not
        let (code, again) = srv.post("/api/optimizations", &b);
        assert_eq!((code, again["existing"].as_bool()), (202, Some(true)));
        assert_eq!(id_of(&again), id_of(&sb));
        // backtests wait in their own queue
        let (code, bt) = srv.post(
            "/api/backtests",
            &json!({"strategy": "sma-cross", "dataset": "spy-1m", "params": {"fast": 10, "slow": 30}}),
        );
        assert_eq!(code, 202, "{bt}");

        // a place frees up: the refused one is taken
        let (code, _) = srv.post(
            &format!("/api/optimizations/{}/cancel", id_of(&sb)),
            &json!({}),
        );
        assert_eq!(code, 200);
        let (code, sd) = srv.post("/api/optimizations", &big_optimization(4));
        assert_eq!(code, 202, "{backend:?}: {sd}");
        for id in [a, id_of(&sc), id_of(&sd)] {
            srv.post(&format!("/api/optimizations/{id}/cancel"), &json!({}));
        }
        srv.wait_terminal("backtests", &id_of(&bt));
    }
}

#[test]
fn event_streams_are_capped_and_every_open_one_ends_at_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::with(
        dir.path(),
        Options {
            configure: |cfg| {
                cfg.http.max_event_streams = 2;
                // far beyond the liveness bound below: only streams that
                // end by themselves let the server stop in time
                cfg.shutdown_grace = Duration::from_secs(3_600);
            },
            ..Options::default()
        },
    );
    let (_, run) = srv.post("/api/optimizations", &big_optimization(1));
    let id = id_of(&run);
    srv.wait("optimizations", &id, PATIENCE, |s| s["status"] == "Running");
    // and one waiting behind it, which nothing would ever end
    let (_, waiting) = srv.post("/api/optimizations", &big_optimization(2));
    let waiting = id_of(&waiting);
    let addr = addr_of(&srv.url);
    let stream_of = |id: &str| {
        open(
            &addr,
            &format!("/api/optimizations/{id}/events"),
            &[("Host", &addr)],
        )
    };
    let stream = || stream_of(&id);

    let (first, r1) = stream();
    let (mut second, r2) = stream();
    for r in [&r1, &r2] {
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.header("content-type"), Some("text/event-stream"));
    }
    let (_, r3) = stream();
    assert_eq!(r3.status, 503, "a third stream: {r3:?}");
    assert_eq!(r3.header("retry-after"), Some("5"));
    assert_eq!(r3.header("content-type"), Some("application/problem+json"));
    let (_, health) = srv.get("/api/health");
    assert_eq!(health["limits"]["maxEventStreams"], 2, "{health}");
    // polling still works meanwhile
    let (code, _) = srv.get(&format!("/api/optimizations/{id}/status"));
    assert_eq!(code, 200);

    // a client that goes away frees its place
    drop(first);
    let mut third = eventually(PATIENCE, || match stream_of(&waiting) {
        (s, r) if r.status == 200 => Ok(s),
        (_, r) => Err(format!("still refused: {r:?}")),
    });

    // shutdown with streams open on a long run and on a waiting one: both
    // end with their run's `cancelled`, and the server stops
    let stopping = std::thread::spawn(move || srv.stop());
    for s in [&mut second, &mut third] {
        let rest = read_until_closed(s);
        let text = String::from_utf8_lossy(&rest);
        // each ends with its run's end: cancelled (and saved) by the stop
        let last = text.rsplit("event: ").next().unwrap_or_default();
        assert!(last.starts_with("cancelled"), "{text}");
    }
    eventually(PATIENCE, || {
        if stopping.is_finished() {
            Ok(())
        } else {
            Err("the server is still stopping".into())
        }
    });
    stopping.join().unwrap();
}

#[test]
fn a_client_that_stalls_mid_request_is_disconnected_and_others_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::with(
        dir.path(),
        Options {
            configure: |cfg| cfg.header_timeout = Duration::from_secs(1),
            ..Options::default()
        },
    );
    let addr = addr_of(&srv.url);

    // half a request line, then nothing
    let mut stalled = raw_http::connect(&addr);
    stalled.write_all(b"GET /api/hea").unwrap();
    // a request trickled a byte at a time, slower than the timeout allows
    let mut trickling = raw_http::connect(&addr);
    let trickle = std::thread::spawn(move || {
        let line = format!(
            "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: {}\r\n\r\n",
            "x".repeat(40)
        );
        for b in line.as_bytes() {
            if trickling.write_all(&[*b]).is_err() {
                break; // cut off: what this test wants
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        read_until_closed(&mut trickling)
    });

    // meanwhile everyone else is served
    for _ in 0..5 {
        let r = request(&addr, "GET", "/api/health", &[("Host", &addr)], b"");
        assert_eq!(r.status, 200, "{r:?}");
    }
    // the stalled connection is closed by the server (EOF), not answered
    let rest = read_until_closed(&mut stalled);
    assert!(
        !String::from_utf8_lossy(&rest).contains(" 200 "),
        "{}",
        String::from_utf8_lossy(&rest)
    );
    let rest = trickle.join().unwrap();
    assert!(
        !String::from_utf8_lossy(&rest).contains(" 200 "),
        "the trickled request was answered: {}",
        String::from_utf8_lossy(&rest)
    );
    // and the server still answers
    let (code, _) = srv.get("/api/health");
    assert_eq!(code, 200);
}
