//! HTTP/1.1 by hand over a `TcpStream`, for what a client library will not
//! send: any `Host`, a request cut off half-way, a stream left open.

#![allow(dead_code, reason = "each test file uses part of it")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long one read may block before the test fails (a liveness bound).
pub const READ_BOUND: Duration = Duration::from_secs(60);

/// An answer: status, headers (names lowercased) and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The first header called `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `host:port` of a test server's `http://host:port`.
pub fn addr_of(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

/// Connects to `addr` with reads bounded by [`READ_BOUND`].
pub fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(READ_BOUND)).unwrap();
    s
}

fn head_text(method: &str, path: &str, headers: &[(&str, &str)], body_len: usize) -> String {
    let mut text = format!("{method} {path} HTTP/1.1\r\n");
    for (n, v) in headers {
        text.push_str(&format!("{n}: {v}\r\n"));
    }
    if body_len > 0 || method == "POST" || method == "PUT" || method == "PATCH" {
        text.push_str(&format!("Content-Length: {body_len}\r\n"));
    }
    text.push_str("\r\n");
    text
}

/// Sends one request (the caller gives `Host`; `Connection: close` is
/// added) and reads the whole answer.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut s = connect(addr);
    let mut all = headers.to_vec();
    all.push(("Connection", "close"));
    s.write_all(head_text(method, path, &all, body.len()).as_bytes())
        .unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("{method} {path}: no complete answer: {e}"));
    parse(&raw).unwrap_or_else(|| {
        panic!(
            "{method} {path}: not an HTTP answer: {:?}",
            String::from_utf8_lossy(&raw)
        )
    })
}

/// Sends a request and reads only the answer's head (for event streams);
/// the connection stays open for the caller to read the rest.
pub fn open(addr: &str, path: &str, headers: &[(&str, &str)]) -> (TcpStream, Reply) {
    let mut s = connect(addr);
    s.write_all(head_text("GET", path, headers, 0).as_bytes())
        .unwrap();
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).unwrap();
        assert!(n > 0, "GET {path}: closed before its head");
        raw.push(byte[0]);
    }
    let reply = parse(&raw).unwrap();
    (s, reply)
}

/// Reads until the server closes the connection (EOF) and returns what came.
/// Fails the test when it is still open after [`READ_BOUND`] (however
/// much it sends meanwhile: an event stream never goes quiet).
pub fn read_until_closed(s: &mut TcpStream) -> Vec<u8> {
    let t0 = std::time::Instant::now();
    let mut rest = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = READ_BOUND.saturating_sub(t0.elapsed());
        assert!(
            !left.is_zero(),
            "the server did not close the connection within {READ_BOUND:?} (a liveness bound)"
        );
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return rest,
            Ok(n) => rest.extend_from_slice(&buf[..n]),
            // a reset is a close too
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return rest,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
}

fn parse(raw: &[u8]) -> Option<Reply> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Reply {
        status,
        headers,
        body: body.to_owned(),
    })
}
