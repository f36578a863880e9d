//! The auth and origin matrix, generated from the OpenAPI document a real
//! server serves: every documented route × method, with no token, a wrong
//! one and the right one, a foreign `Host` and a foreign `Origin` — each
//! must get the answer class the contract promises (401; not 401; 421;
//! 403). A route added to the document is in the matrix without anyone
//! touching this file.

#[path = "raw_http/mod.rs"]
mod raw_http;

use atf_testkit::server::{Options, TestServer};
use raw_http::{addr_of, request, Reply};
use serde_json::Value;

const TOKEN: &str = "matrix-secret";
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every documented operation: (METHOD, path with `{id}` filled in).
fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if item.get(m).is_some() {
                // an id no run or dataset has: the route answers before
                // any long work (events: 404 before a stream opens)
                let concrete = path.replace("{id}", "no-such-id");
                out.push((m.to_ascii_uppercase(), concrete));
            }
        }
    }
    out
}

fn detail(r: &Reply) -> String {
    serde_json::from_str::<Value>(&r.body)
        .ok()
        .and_then(|v| v["detail"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn problem(r: &Reply, what: &str) {
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{what}: {r:?}"
    );
    assert!(!detail(r).is_empty(), "{what}: no detail: {r:?}");
}

#[test]
fn every_route_and_method_answers_by_token_host_and_origin_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::with(
        dir.path(),
        Options {
            api_token: Some(TOKEN.into()),
            ..Options::default()
        },
    );
    let addr = addr_of(&srv.url);
    let port = addr.rsplit(':').next().unwrap().to_owned();
    let own_host = addr.clone();
    let localhost = format!("localhost:{port}");
    let bearer = format!("Bearer {TOKEN}");
    let own_origin = format!("http://{addr}");

    let doc = request(
        &addr,
        "GET",
        "/api/openapi.json",
        &[("Host", &own_host), ("Authorization", &bearer)],
        b"",
    );
    assert_eq!(doc.status, 200, "{doc:?}");
    let doc: Value = serde_json::from_str(&doc.body).unwrap();
    let ops = operations(&doc);
    assert!(ops.len() >= 20, "{ops:?}");
    let datasets_before = srv.get("/api/datasets").1;

    for (method, path) in &ops {
        let send = |headers: &[(&str, &str)]| request(&addr, method, path, headers, b"");
        let case = |what: &str| format!("{method} {path} {what}");

        let r = send(&[("Host", &own_host)]);
        assert_eq!(r.status, 401, "{}: {r:?}", case("without a token"));
        assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{}", case(""));
        problem(&r, &case("without a token"));

        let r = send(&[("Host", &own_host), ("Authorization", "Bearer wrong")]);
        assert_eq!(r.status, 401, "{}: {r:?}", case("with a wrong token"));
        assert_eq!(detail(&r), "wrong API token", "{}", case(""));

        for host in [&own_host, &localhost] {
            let r = send(&[("Host", host), ("Authorization", &bearer)]);
            assert!(
                ![401, 403, 421].contains(&r.status) && r.status < 500,
                "{}: {r:?}",
                case(&format!("with the token, Host {host}"))
            );
            // the dashboard's own requests carry its origin
            let r = send(&[
                ("Host", host),
                ("Authorization", &bearer),
                ("Origin", &own_origin),
            ]);
            assert!(
                ![401, 403, 421].contains(&r.status),
                "{}: {r:?}",
                case("from its own origin")
            );
        }

        // DNS rebinding: the right token does not help a foreign Host …
        for host in [
            format!("evil.example:{port}"),
            "evil.example".to_owned(),
            format!("localhost:{}", port.parse::<u16>().unwrap() ^ 1),
        ] {
            for auth in [None, Some(bearer.as_str())] {
                let mut h = vec![("Host", host.as_str())];
                h.extend(auth.map(|a| ("Authorization", a)));
                let r = send(&h);
                assert_eq!(r.status, 421, "{}: {r:?}", case(&format!("Host {host}")));
                problem(&r, &case("foreign Host"));
            }
        }
        // … nor a page of another origin
        for origin in [
            "http://evil.example".to_owned(),
            format!("http://evil.example:{port}"),
            "null".to_owned(),
            format!("http://localhost:{}", port.parse::<u16>().unwrap() ^ 1),
        ] {
            let r = send(&[
                ("Host", &own_host),
                ("Authorization", &bearer),
                ("Origin", &origin),
            ]);
            assert_eq!(
                r.status,
                403,
                "{}: {r:?}",
                case(&format!("Origin {origin}"))
            );
            problem(&r, &case("foreign Origin"));
        }
    }

    // the event streams' URL token: right → not 401, wrong → 401; no
    // other route takes it
    for kind in ["backtests", "optimizations", "walkforwards"] {
        let good = format!("/api/{kind}/no-such-id/events?access_token={TOKEN}");
        let r = request(&addr, "GET", &good, &[("Host", &own_host)], b"");
        assert_eq!(r.status, 404, "{r:?}");
        let bad = format!("/api/{kind}/no-such-id/events?access_token=wrong");
        let r = request(&addr, "GET", &bad, &[("Host", &own_host)], b"");
        assert_eq!(r.status, 401, "{r:?}");
        let other = format!("/api/{kind}/no-such-id/status?access_token={TOKEN}");
        let r = request(&addr, "GET", &other, &[("Host", &own_host)], b"");
        assert_eq!(r.status, 401, "{r:?}");
    }

    // the dashboard is behind the same checks
    let r = request(&addr, "GET", "/", &[("Host", &own_host)], b"");
    assert_eq!(r.status, 200, "{r:?}");
    let r = request(&addr, "GET", "/", &[("Host", "evil.example")], b"");
    assert_eq!(r.status, 421, "{r:?}");

    // a cross-origin multipart upload (a "simple" request a page may send
    // without asking) is refused and imports nothing, token or not
    let boundary = "matrixboundary";
    let csv = "timestamp,open,high,low,close,volume\n2024-01-01 00:00:00,1,2,0.5,1.5,10\n2024-01-01 00:01:00,1.5,2,1,1.8,12\n";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nrebound\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let ctype = format!("multipart/form-data; boundary={boundary}");
    for auth in [None, Some(bearer.as_str())] {
        let mut h = vec![
            ("Host", own_host.as_str()),
            ("Origin", "http://evil.example"),
            ("Content-Type", ctype.as_str()),
        ];
        h.extend(auth.map(|a| ("Authorization", a)));
        let r = request(&addr, "POST", "/api/datasets", &h, body.as_bytes());
        assert_eq!(r.status, 403, "{r:?}");
    }
    assert_eq!(srv.get("/api/datasets").1, datasets_before);
    // the same upload from the server's own origin is taken
    let r = request(
        &addr,
        "POST",
        "/api/datasets",
        &[
            ("Host", &own_host),
            ("Origin", &own_origin),
            ("Authorization", &bearer),
            ("Content-Type", &ctype),
        ],
        body.as_bytes(),
    );
    assert_eq!(r.status, 201, "{r:?}");
}

/// `--allow-host` names are answered like the bound address.
#[test]
fn names_given_with_allow_host_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::with(
        dir.path(),
        Options {
            configure: |cfg| {
                cfg.http.allow_hosts = vec!["atf.example".into(), "proxy.example:9000".into()];
            },
            ..Options::default()
        },
    );
    let addr = addr_of(&srv.url);
    for (host, origin, code) in [
        ("atf.example", "https://atf.example", 200),
        ("atf.example:8443", "http://atf.example:8443", 200),
        ("proxy.example:9000", "http://proxy.example:9000", 200),
        ("proxy.example:9001", "http://proxy.example:9000", 421),
        ("atf.example", "http://proxy.example:9001", 403),
        ("other.example", "https://atf.example", 421),
    ] {
        let r = request(
            &addr,
            "GET",
            "/api/health",
            &[("Host", host), ("Origin", origin)],
            b"",
        );
        assert_eq!(r.status, code, "Host {host}, Origin {origin}: {r:?}");
    }
}
