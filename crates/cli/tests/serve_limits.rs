//! `atf serve`'s edge flags reach the server: `--allow-host`,
//! `--max-pending`, `--max-event-streams`, `--header-timeout`,
//! `--blocking-threads` — published in `/api/health`, enforced on requests,
//! and refused naming the flag (exit 2) when out of range.

mod common;

use atf_testkit::process::{command, serve};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends `GET /api/health` with `host` (and `origin`) by hand (a client
/// library would send the URL's host) and returns the status code.
fn health_status(addr: &str, host: &str, origin: Option<&str>) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let origin = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
    write!(
        s,
        "GET /api/health HTTP/1.1\r\nHost: {host}\r\n{origin}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"))
}

#[test]
fn the_edge_flags_reach_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let (_server, url) = serve(
        command(&common::exe(), Some(&log))
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args([
                "--allow-host",
                "atf.example",
                "--allow-host",
                "proxy.example:9000",
            ])
            .args(["--max-pending", "3", "--max-event-streams", "7"])
            .args(["--header-timeout", "2", "--blocking-threads", "8"]),
        Some(&log),
    );
    let api = atf_testkit::http::Api::new(url.clone());
    let (code, health) = api.get("/api/health");
    assert_eq!(code, 200, "{health}");
    assert_eq!(health["limits"]["maxPending"], 3, "{health}");
    assert_eq!(health["limits"]["maxEventStreams"], 7, "{health}");

    let addr = url.trim_start_matches("http://");
    assert_eq!(health_status(addr, addr, None), 200);
    assert_eq!(
        health_status(addr, "atf.example", Some("https://atf.example")),
        200
    );
    assert_eq!(health_status(addr, "proxy.example:9000", None), 200);
    assert_eq!(health_status(addr, "evil.example", None), 421);
    assert_eq!(health_status(addr, addr, Some("http://evil.example")), 403);

    // --header-timeout: a connection that never finishes its request is closed
    let mut stalled = TcpStream::connect(addr).unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stalled
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: ")
        .unwrap();
    let mut rest = Vec::new();
    let _ = stalled.read_to_end(&mut rest);
    assert!(
        !String::from_utf8_lossy(&rest).contains(" 200 "),
        "{}",
        String::from_utf8_lossy(&rest)
    );
}

#[test]
fn out_of_range_edge_flags_are_refused_naming_the_flag_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for flag in [
        ["--max-pending", "0"],
        ["--max-event-streams", "0"],
        ["--header-timeout", "0"],
        ["--blocking-threads", "1"],
    ] {
        let out = common::atf(dir.path(), &["serve", flag[0], flag[1]]);
        assert_eq!(out.status.code(), Some(2), "{flag:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag[0]), "{flag:?}: {err}");
    }
}

/// Started from a shell whose soft limit of open files is 256 (systemd and
/// most shells start at 1,024), `atf serve` raises it to the hard limit, so
/// a thousand clients are accepted rather than left waiting.
#[test]
fn serve_raises_its_open_file_limit_to_the_hard_limit() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let mut sh = command(std::path::Path::new("sh"), Some(&log));
    sh.arg("-c")
        .arg(r#"ulimit -Sn 256 && exec "$0" --data-dir "$1" serve --bind 127.0.0.1:0"#)
        .arg(common::exe())
        .arg(dir.path().join("data"));
    let (server, _url) = serve(&mut sh, Some(&log));
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.id())).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("a Linux /proc/PID/limits");
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (soft, hard) = (fields[3], fields[4]);
    assert_eq!(soft, hard, "{line}");
    assert_ne!(soft, "256", "{line}");
}
