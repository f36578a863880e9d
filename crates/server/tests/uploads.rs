//! Dataset uploads under the limits of issue 15: an upload in flight never
//! blocks a submission, and an upload past an import bound is refused
//! with `413` naming `file`, the catalog unchanged.

use atf_testkit::server::{Backend, TestServer};
use serde_json::{json, Value};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;

const BOUNDARY: &str = "atfslowboundary";

/// `n` valid one-minute bars as CSV.
fn csv(n: usize) -> String {
    let mut s = String::from("timestamp,open,high,low,close,volume\n");
    for i in 0..n {
        s += &format!("{},10.5,11,10,10.5,{i}\n", 1_704_067_200 + 60 * i);
    }
    s
}

fn names(srv: &TestServer) -> Vec<String> {
    let (_, d) = srv.get("/api/datasets");
    d.as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap().to_owned())
        .collect()
}

/// An HTTP/1.1 upload written by hand, so the test decides when each byte
/// of the body goes out.
struct SlowUpload {
    stream: TcpStream,
    body: Vec<u8>,
    sent: usize,
}

impl SlowUpload {
    /// Sends the request's head; the body (the file field first, then
    /// `name`, so the options arrive after the file) waits.
    fn start(url: &str, name: &str, file: &[u8]) -> Self {
        let host = url.trim_start_matches("http://");
        let mut body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(file);
        body.extend_from_slice(
            format!(
                "\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n{name}\r\n--{BOUNDARY}--\r\n"
            )
            .as_bytes(),
        );
        let mut stream = TcpStream::connect(host).expect("connects");
        write!(
            stream,
            "POST /api/datasets HTTP/1.1\r\nHost: {host}\r\n\
             Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        Self {
            stream,
            body,
            sent: 0,
        }
    }

    /// Sends the body up to `fraction` of it.
    fn send_until(&mut self, fraction: f64) {
        let to = ((self.body.len() as f64 * fraction) as usize).min(self.body.len());
        self.stream.write_all(&self.body[self.sent..to]).unwrap();
        self.stream.flush().unwrap();
        self.sent = to;
    }

    /// Whether the server has answered anything yet (without waiting).
    fn answered(&self) -> bool {
        self.stream.set_nonblocking(true).unwrap();
        let mut b = [0u8; 1];
        let got = match self.stream.peek(&mut b) {
            Ok(n) => n > 0,
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(e) => panic!("{e}"),
        };
        self.stream.set_nonblocking(false).unwrap();
        got
    }

    /// Sends the rest and reads the answer: status and JSON body.
    fn finish(mut self) -> (u16, Value) {
        self.send_until(1.0);
        self.stream
            .set_read_timeout(Some(atf_testkit::wait::PATIENCE))
            .unwrap();
        let mut answer = String::new();
        self.stream.read_to_string(&mut answer).unwrap();
        let code = answer[9..12].parse().unwrap();
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        (code, serde_json::from_str(body).unwrap_or(Value::Null))
    }
}

#[test]
fn an_upload_in_flight_blocks_no_submission() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), Backend::Memory);
    let file = csv(20_000);
    let mut upload = SlowUpload::start(&srv.url, "slow", file.as_bytes());
    // half the file is out: the import is under way, reading it
    upload.send_until(0.5);

    let (code, sub) = srv.post(
        "/api/backtests",
        &json!({
            "strategy": "sma-cross",
            "dataset": "spy-1m",
            "params": {"fast": 10, "slow": 30},
        }),
    );
    assert_eq!(
        code, 202,
        "a submission during an upload is accepted: {sub}"
    );
    let done = srv.wait_terminal("backtests", sub["id"].as_str().unwrap());
    assert_eq!(done["status"], "Completed", "{done}");
    // the backtest ended while the upload is still in flight
    assert!(!upload.answered(), "the upload ended before its body did");
    assert!(!names(&srv).contains(&"slow".to_owned()));

    let (code, r) = upload.finish();
    assert_eq!(code, 201, "{r}");
    assert_eq!(r["dataset"]["name"], "slow", "the name came after the file");
    assert_eq!(r["rows"], 20_000);
    assert!(names(&srv).contains(&"slow".to_owned()));
}

#[test]
fn an_upload_past_an_import_bound_is_413_naming_file_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), Backend::Memory);
    let before = names(&srv);
    let files = || {
        let mut v: Vec<_> = std::fs::read_dir(dir.path().join("datasets"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    let files_before = files();
    // 80 MiB of one row repeated, gzipped to well under 1 MiB: past the
    // 64 MiB any gzip may expand to
    let row = b"2020-01-01T00:00:00Z,1,2,0.5,1.5,10\n";
    let block: Vec<u8> = row.iter().copied().cycle().take(1 << 20).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(b"timestamp,open,high,low,close,volume\n")
        .unwrap();
    for _ in 0..80 {
        gz.write_all(&block).unwrap();
    }
    let bomb = gz.finish().unwrap();
    let mut upload = SlowUpload::start(&srv.url, "bomb", &bomb);
    upload.send_until(1.0);
    let (code, p) = upload.finish();
    assert_eq!(code, 413, "{p}");
    assert_eq!(p["field"], "file", "{p}");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("gzip expands to more than 67108864 bytes") && !detail.contains('\n'),
        "{detail}"
    );
    assert_eq!(names(&srv), before);
    assert_eq!(files(), files_before);
    // the server goes on
    assert_eq!(srv.get("/api/health").0, 200);
}
