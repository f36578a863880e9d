//! `atf backtest|optimize --server URL`: the run is submitted to a running
//! `atf serve`, followed through its server-sent events with the same
//! progress bar as a local run, and printed the same way from the result
//! the server sends at the end.
//!
//! - The request body is built from the same flags, named as the API names
//!   them (`--commission-pct` → `commissionPct`); the server validates it,
//!   and its refusals are shown with the flag's name (`--commission-pct: …`,
//!   `--param fast: …`), exit 2 for a 4xx, 1 for a 5xx or no answer.
//! - Following: `GET …/{id}/events` (`progress` every 500 ms, then one
//!   terminal event carrying the whole status and `result`); if the stream
//!   ends early, `GET …/{id}/status` is polled instead.
//! - Ctrl-C while following asks whether to cancel the remote run (without
//!   asking when stdin is not a terminal): yes cancels it, no detaches and
//!   says how to look it up later. Either exits 130.
//! - Plain HTTP only (no TLS in this build); `--api-token` is sent as
//!   `Authorization: Bearer`.

use crate::args::{BacktestArgs, OptimizeArgs, RemoteArgs, RunSettings};
use crate::exit::{CliError, CliResult};
use crate::progress::Watcher;
use crate::render::{self, BacktestTable};
use crate::render_optimize::{self, CsvTrial, OptimizationTable, TableRow};
use atf_engine::optimize::Fitness;
use atf_engine::params::split_pair;
use atf_engine::report::{Direction, OpenPosition, Trade};
use atf_engine::{ExitReason, PerformanceMetrics, Registry};
use serde_json::{Map, Number, Value};
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How often `/status` is polled when the event stream is not available.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// Trials asked for per `/trials` page (the server's maximum).
const TRIALS_PAGE: u64 = 500;
/// Longest silence on a connection: the event stream sends a keep-alive
/// comment every 15 s, so this means the server or the network is gone.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Which run routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Backtest,
    Optimization,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Self::Backtest => "backtest",
            Self::Optimization => "optimization",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::Backtest => "/api/backtests",
            Self::Optimization => "/api/optimizations",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Self::Backtest => "bars",
            Self::Optimization => "combinations",
        }
    }
}

// ---------------------------------------------------------------------------
// HTTP

/// A server's JSON answer.
struct Reply {
    status: u16,
    body: Value,
}

/// What a refusal is shown with: the user's constraints, to name
/// `constraints[i]` by its text.
#[derive(Default)]
struct FieldNames<'a> {
    constraints: &'a [String],
}

/// The server at `--server`, and how to talk to it.
#[derive(Clone)]
struct Server {
    /// `http://host:port`, no trailing slash.
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl Server {
    fn new(remote: &RemoteArgs, url: &str) -> Result<Self, CliError> {
        let mut base = url.trim().trim_end_matches('/').to_owned();
        if !base.contains("://") {
            base = format!("http://{base}");
        }
        let refuse = |why: &str| CliError::usage(format!("--server {url}: {why}"));
        let scheme = base.split("://").next().unwrap_or("").to_ascii_lowercase();
        if scheme == "https" {
            return Err(refuse(
                "https is not supported by this build of atf; reach the server over http:// (for example through an SSH tunnel)",
            ));
        }
        if scheme != "http" {
            return Err(refuse("expected http://HOST:PORT"));
        }
        match base.parse::<ureq::http::Uri>() {
            Ok(uri) if uri.host().is_some_and(|h| !h.is_empty()) => {}
            _ => return Err(refuse("expected http://HOST:PORT")),
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_per_read(Some(READ_TIMEOUT))
            .user_agent(format!("atf/{}", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Self {
            base,
            token: remote
                .api_token
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            agent: ureq::Agent::new_with_config(config),
        })
    }

    fn unreachable(&self, e: &ureq::Error) -> CliError {
        CliError::failed(format!(
            "cannot reach the server at {}: {}",
            self.base,
            describe(e)
        ))
    }

    fn auth(&self) -> Option<String> {
        self.token.as_ref().map(|t| format!("Bearer {t}"))
    }

    /// Sends a request; `Err` only when there was no HTTP answer.
    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        accept: &str,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let url = format!("{}{path}", self.base);
        let auth = self.auth();
        if method == "POST" {
            let mut req = self.agent.post(&url).header("Accept", accept);
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            match body {
                Some(b) => req.send_json(b),
                None => req.send_empty(),
            }
        } else {
            let mut req = self.agent.get(&url).header("Accept", accept);
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            req.call()
        }
    }

    /// A JSON exchange: the status and the body (`Null` if not JSON).
    fn json(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Reply, CliError> {
        let res = self
            .send(method, path, body, "application/json")
            .map_err(|e| self.unreachable(&e))?;
        let status = res.status().as_u16();
        let mut text = Vec::new();
        res.into_body()
            .into_reader()
            .read_to_end(&mut text)
            .map_err(|e| {
                CliError::failed(format!(
                    "lost the connection to the server at {}: {e}",
                    self.base
                ))
            })?;
        let body = serde_json::from_slice(&text).unwrap_or_else(|_| {
            // not JSON (a proxy's error page?): keep a line of it
            let line = String::from_utf8_lossy(&text);
            let line = line.lines().next().unwrap_or("").trim();
            if line.is_empty() {
                Value::Null
            } else {
                serde_json::json!({ "detail": line.chars().take(200).collect::<String>() })
            }
        });
        Ok(Reply { status, body })
    }

    /// A refusal (`application/problem+json`) as the user sees it: the
    /// field named by its flag; exit 2 for 4xx, 1 otherwise.
    fn refusal(&self, reply: &Reply, names: &FieldNames<'_>) -> CliError {
        let detail = reply.body.get("detail").and_then(Value::as_str);
        let field = reply.body.get("field").and_then(Value::as_str);
        let mut message = match detail {
            Some(d) => match field.and_then(|f| flag_of(f, names).map(|flag| (f, flag))) {
                Some((f, flag)) => with_flag(&flag, d.strip_prefix(&format!("{f}: ")).unwrap_or(d)),
                None => d.to_owned(),
            },
            None => format!("the server at {} answered HTTP {}", self.base, reply.status),
        };
        if reply.status == 401 {
            message = if self.token.is_some() {
                format!("the server at {} refused the API token given with --api-token or ATF_API_TOKEN", self.base)
            } else {
                format!("the server at {} requires an API token: give it with --api-token or ATF_API_TOKEN", self.base)
            };
        }
        if (400..500).contains(&reply.status) {
            CliError::Usage(message)
        } else {
            CliError::failed(format!("the server failed: {message}"))
        }
    }

    /// `GET …` expecting 200.
    fn get_ok(&self, path: &str) -> Result<Value, CliError> {
        let reply = self.json("GET", path, None)?;
        if reply.status == 200 {
            Ok(reply.body)
        } else {
            Err(match self.refusal(&reply, &FieldNames::default()) {
                CliError::Usage(m) => CliError::failed(m),
                e => e,
            })
        }
    }

    /// Opens the event stream of a run.
    fn events(&self, kind: Kind, id: &str) -> Result<Events, String> {
        let res = self
            .send(
                "GET",
                &format!("{}/{id}/events", kind.path()),
                None,
                "text/event-stream",
            )
            .map_err(|e| describe(&e))?;
        if res.status().as_u16() != 200 {
            return Err(format!("HTTP {}", res.status().as_u16()));
        }
        Ok(Events {
            reader: BufReader::new(Box::new(res.into_body().into_reader())),
        })
    }

    /// The ranked trials of a finished optimization: those inline in its
    /// `result`, then `/trials` pages until `want` (or all) are there.
    fn trials(&self, id: &str, result: &Value, want: u64) -> Result<Vec<Value>, CliError> {
        let mut trials: Vec<Value> = result
            .get("trials")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let total = result
            .get("trialCount")
            .and_then(Value::as_u64)
            .unwrap_or(trials.len() as u64);
        let want = want.min(total);
        while (trials.len() as u64) < want {
            let page = self.get_ok(&format!(
                "/api/optimizations/{id}/trials?offset={}&limit={TRIALS_PAGE}",
                trials.len()
            ))?;
            let items = page
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if items.is_empty() {
                break;
            }
            trials.extend(items);
        }
        trials.truncate(usize::try_from(want).unwrap_or(usize::MAX));
        Ok(trials)
    }

    fn follow_hint(&self, kind: Kind, id: &str) -> String {
        format!("curl {}{}/{id}/status", self.base, kind.path())
    }
}

/// A transport error in a few words.
fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => io.to_string(),
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        other => other.to_string(),
    }
}

/// The flag a request field comes from (`commissionPct` → `--commission-pct`,
/// `params.fast` → `--param fast`); `None` for the body as a whole.
fn flag_of(field: &str, names: &FieldNames<'_>) -> Option<String> {
    if field.is_empty() || field == "body" {
        return None;
    }
    if let Some(name) = field.strip_prefix("params.") {
        return Some(format!("--param {name}"));
    }
    if let Some(name) = field.strip_prefix("axes.") {
        return Some(format!("--axis {name}"));
    }
    if let Some(rest) = field.strip_prefix("constraints[") {
        let text = rest
            .strip_suffix(']')
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| names.constraints.get(i));
        return Some(match text {
            Some(t) => format!("--constraint '{t}'"),
            None => "--constraint".to_owned(),
        });
    }
    Some(match field {
        "params" => "--param".to_owned(),
        "axes" => "--axis".to_owned(),
        "constraints" => "--constraint".to_owned(),
        _ => atf_runs::FieldError::new(field, "").flag(),
    })
}

/// `flag: reason`, without saying twice what the reason already names:
/// `--axis 'fast=5..50:0': step must be positive` as a local run says it.
fn with_flag(flag: &str, reason: &str) -> String {
    for (prefix, word) in [("--axis", "axis '"), ("--constraint", "constraint '")] {
        if flag.starts_with(prefix) && reason.starts_with(word) {
            return format!("--{reason}");
        }
    }
    if flag.starts_with("--param ") {
        if let Some(rest) = reason.strip_prefix("parameter '") {
            return format!("--param '{rest}");
        }
    }
    format!("{flag}: {reason}")
}

// ---------------------------------------------------------------------------
// Server-sent events

struct Events {
    reader: BufReader<Box<dyn Read + Send>>,
}

impl Events {
    /// The next event's data (`Ok(None)` at the end of the stream).
    fn next_data(&mut self) -> std::io::Result<Option<String>> {
        let mut data = String::new();
        let mut has_data = false;
        let mut line = String::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Ok(None);
            }
            let l = line.trim_end_matches(['\n', '\r']);
            if l.is_empty() {
                if has_data {
                    return Ok(Some(data));
                }
                continue;
            }
            if l.starts_with(':') {
                continue; // keep-alive comment
            }
            let (field, value) = match l.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (l, ""),
            };
            if field == "data" {
                if has_data {
                    data.push('\n');
                }
                data.push_str(value);
                has_data = true;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Following a run

fn run_status(v: &Value) -> &str {
    v.get("status").and_then(Value::as_str).unwrap_or("")
}

fn is_terminal(v: &Value) -> bool {
    matches!(run_status(v), "Completed" | "Failed" | "Cancelled")
}

fn count(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// What the follower waits for.
enum Msg {
    /// A status (a progress event, or the terminal one).
    Status(Value),
    /// The server can no longer be reached.
    Lost(String),
    /// Ctrl-C.
    Interrupt,
    /// The answer to "Cancel the remote run?".
    Answer(bool),
}

/// Reads the events of run `id` (or polls its status when they stop
/// early) until the terminal status, sending each to `tx`.
fn watch(server: &Server, kind: Kind, id: &str, tx: &Sender<Msg>) {
    let send = |v: Value| tx.send(Msg::Status(v)).is_ok();
    if let Ok(mut events) = server.events(kind, id) {
        // until it ends early or goes silent; then poll
        while let Ok(Some(data)) = events.next_data() {
            let Ok(v) = serde_json::from_str::<Value>(&data) else {
                continue;
            };
            let end = is_terminal(&v);
            if !send(v) || end {
                return;
            }
        }
    }
    let path = format!("{}/{id}/status", kind.path());
    loop {
        match server.get_ok(&path) {
            Ok(v) => {
                let end = is_terminal(&v);
                if !send(v) || end {
                    return;
                }
            }
            Err(e) => {
                let text = match e {
                    CliError::Usage(m) | CliError::Failed { message: m, .. } => m,
                    CliError::Interrupted(m) => m,
                };
                let _ = tx.send(Msg::Lost(text));
                return;
            }
        }
        std::thread::sleep(POLL_EVERY);
    }
}

#[cfg(unix)]
fn listen_ctrl_c() -> std::io::Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
}

#[cfg(windows)]
fn listen_ctrl_c() -> std::io::Result<tokio::signal::windows::CtrlC> {
    tokio::signal::windows::ctrl_c()
}

/// A remote run from submission to its end: the server, and Ctrl-C
/// caught from before the submission so none is lost in between.
struct Session {
    server: Server,
    kind: Kind,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    /// Whether Ctrl-C is handled (while following); otherwise it exits 130.
    following: Arc<AtomicBool>,
}

/// The answer to a submission.
struct Submission {
    id: String,
    total: u64,
    existing: bool,
    status: String,
}

impl Session {
    fn start(server: Server, kind: Kind) -> Result<Self, CliError> {
        let (tx, rx) = mpsc::channel();
        let following = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        {
            let tx = tx.clone();
            let following = Arc::clone(&following);
            std::thread::Builder::new()
                .name("atf-ctrl-c".into())
                .spawn(move || {
                    let rt = match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(rt) => rt,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                            return;
                        }
                    };
                    rt.block_on(async move {
                        let mut signal = match listen_ctrl_c() {
                            Ok(s) => s,
                            Err(e) => {
                                let _ = ready_tx.send(Err(e.to_string()));
                                return;
                            }
                        };
                        let _ = ready_tx.send(Ok(()));
                        while signal.recv().await.is_some() {
                            if !following.load(Ordering::SeqCst) {
                                // not following (submitting, printing): as without a handler
                                std::process::exit(130);
                            }
                            if tx.send(Msg::Interrupt).is_err() {
                                std::process::exit(130);
                            }
                        }
                    });
                })
                .map_err(|e| CliError::failed(format!("cannot start a thread: {e}")))?;
        }
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(CliError::failed(format!("cannot catch Ctrl-C: {e}"))),
            Err(_) => return Err(CliError::failed("cannot catch Ctrl-C")),
        }
        Ok(Self {
            server,
            kind,
            tx,
            rx,
            following,
        })
    }

    fn submit(&self, body: &Value, names: &FieldNames<'_>) -> Result<Submission, CliError> {
        let reply = self.server.json("POST", self.kind.path(), Some(body))?;
        if !(200..=202).contains(&reply.status) {
            return Err(self.server.refusal(&reply, names));
        }
        let b = &reply.body;
        let id = b
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| unexpected("the submission's answer has no id"))?
            .to_owned();
        let total = match self.kind {
            Kind::Backtest => count(b, "totalBars"),
            Kind::Optimization => count(b, "totalCombinations"),
        };
        Ok(Submission {
            id,
            total,
            existing: b.get("existing").and_then(Value::as_bool).unwrap_or(false),
            status: run_status(b).to_owned(),
        })
    }

    /// Follows the run to its end with a progress bar, handling Ctrl-C:
    /// its final status.
    fn follow(&self, sub: &Submission, show_progress: bool) -> Result<Value, CliError> {
        let kind = self.kind;
        let id = sub.id.clone();
        if std::io::stderr().is_terminal() {
            if sub.existing && sub.status == "Completed" {
                eprintln!(
                    "atf: an identical {} already ran on {} ({id}); showing its result",
                    kind.noun(),
                    self.server.base
                );
            } else {
                eprintln!(
                    "atf: {} {id} submitted to {} (Ctrl-C to cancel or detach)",
                    kind.noun(),
                    self.server.base
                );
            }
        }
        {
            let (server, tx, id) = (self.server.clone(), self.tx.clone(), id.clone());
            std::thread::Builder::new()
                .name("atf-follow".into())
                .spawn(move || watch(&server, kind, &id, &tx))
                .map_err(|e| CliError::failed(format!("cannot start a thread: {e}")))?;
        }
        self.following.store(true, Ordering::SeqCst);
        let result = self.follow_loop(sub, show_progress);
        self.following.store(false, Ordering::SeqCst);
        result
    }

    fn follow_loop(&self, sub: &Submission, show_progress: bool) -> Result<Value, CliError> {
        let kind = self.kind;
        let id = sub.id.as_str();
        let shown = Arc::new(Mutex::new((0u64, sub.total, String::new())));
        let mut watcher = Some({
            let shown = Arc::clone(&shown);
            Watcher::start_sized(sub.total, kind.unit(), show_progress, move || {
                shown.lock().unwrap_or_else(PoisonError::into_inner).clone()
            })
        });
        let mut asking = false;
        let mut ended: Option<Value> = None;
        loop {
            let Ok(msg) = self.rx.recv() else {
                return Err(CliError::failed(format!(
                    "lost track of the {} {id}; see {}",
                    kind.noun(),
                    self.server.follow_hint(kind, id)
                )));
            };
            match msg {
                Msg::Status(v) => {
                    if is_terminal(&v) {
                        if asking {
                            ended = Some(v); // answered after the question
                            continue;
                        }
                        drop(watcher.take());
                        return Ok(v);
                    }
                    *shown.lock().unwrap_or_else(PoisonError::into_inner) = progress_of(kind, &v);
                }
                Msg::Lost(e) => {
                    drop(watcher.take());
                    return Err(CliError::failed(format!(
                        "lost the server while following the {} {id}: {e}\n(it may still be running: {})",
                        kind.noun(),
                        self.server.follow_hint(kind, id)
                    )));
                }
                Msg::Interrupt if asking => {
                    // Ctrl-C again at the question: the default answer, no
                    eprintln!();
                    return Err(self.detach(id));
                }
                Msg::Interrupt => {
                    drop(watcher.take());
                    if std::io::stdin().is_terminal() {
                        eprint!("\nCancel the remote run {id}? [y/N] ");
                        let _ = std::io::stderr().flush();
                        let tx = self.tx.clone();
                        asking = true;
                        std::thread::spawn(move || {
                            let mut line = String::new();
                            let yes = match std::io::stdin().read_line(&mut line) {
                                Ok(0) | Err(_) => false,
                                Ok(_) => {
                                    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
                                }
                            };
                            let _ = tx.send(Msg::Answer(yes));
                        });
                    } else if let Some(e) = self.cancel(id)? {
                        return Err(e);
                    }
                }
                Msg::Answer(yes) => {
                    asking = false;
                    if let Some(v) = ended.take() {
                        if yes {
                            eprintln!("the {} {id} had already ended", kind.noun());
                        }
                        return Ok(v);
                    }
                    if !yes {
                        return Err(self.detach(id));
                    }
                    if let Some(e) = self.cancel(id)? {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Cancels the run: `Some(error to end with)` once cancelled, `None`
    /// when it had already ended (its terminal status follows).
    fn cancel(&self, id: &str) -> Result<Option<CliError>, CliError> {
        let kind = self.kind;
        let reply = self
            .server
            .json("POST", &format!("{}/{id}/cancel", kind.path()), None)?;
        match reply.status {
            200 => Ok(Some(CliError::Interrupted(format!(
                "cancelled the remote {} {id}",
                kind.noun()
            )))),
            // already ended: its result is on its way
            409 => {
                eprintln!("the {} {id} had already ended", kind.noun());
                Ok(None)
            }
            _ => Err(match self.server.refusal(&reply, &FieldNames::default()) {
                CliError::Usage(m) => CliError::failed(format!("cannot cancel: {m}")),
                e => e,
            }),
        }
    }

    fn detach(&self, id: &str) -> CliError {
        CliError::Interrupted(format!(
            "detached: the {} {id} keeps running on the server; follow it with\n  {}",
            self.kind.noun(),
            self.server.follow_hint(self.kind, id)
        ))
    }
}

fn progress_of(kind: Kind, v: &Value) -> (u64, u64, String) {
    let mut note = Vec::new();
    if run_status(v) == "Pending" {
        note.push("queued on the server".to_owned());
    }
    match kind {
        Kind::Backtest => {
            let note = note.join(", ");
            (count(v, "processedBars"), count(v, "totalBars"), note)
        }
        Kind::Optimization => {
            let (failed, skipped) = (
                count(v, "failedCombinations"),
                count(v, "skippedCombinations"),
            );
            if failed > 0 {
                note.push(format!("{failed} failed"));
            }
            if skipped > 0 {
                note.push(format!("{skipped} skipped"));
            }
            (
                count(v, "processedCombinations"),
                count(v, "totalCombinations"),
                note.join(", "),
            )
        }
    }
}

/// The final status of a run that completed, or the error it ended with.
fn completed(kind: Kind, server: &Server, status: Value) -> Result<Value, CliError> {
    let id = status.get("id").and_then(Value::as_str).unwrap_or("?");
    match run_status(&status) {
        "Completed" => Ok(status),
        "Failed" => Err(CliError::Failed {
            message: format!(
                "{} failed: {}",
                kind.noun(),
                status
                    .get("errorMessage")
                    .and_then(Value::as_str)
                    .unwrap_or("no error message")
            ),
            detail: status
                .get("errorStackTrace")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }),
        "Cancelled" => Err(CliError::failed(format!(
            "the {} {id} was cancelled on the server (what it did: {})",
            kind.noun(),
            server.follow_hint(kind, id)
        ))),
        other => Err(unexpected(&format!("unknown run status '{other}'"))),
    }
}

fn unexpected(what: &str) -> CliError {
    CliError::failed(format!("unexpected answer from the server: {what}"))
}

/// Submits `body` and follows the run to its successful end.
fn run(
    remote: &RemoteArgs,
    url: &str,
    kind: Kind,
    body: &Value,
    names: &FieldNames<'_>,
    show_progress: bool,
) -> Result<(Server, Value), CliError> {
    let server = Server::new(remote, url)?;
    let session = Session::start(server.clone(), kind)?;
    let sub = session.submit(body, names)?;
    let status = session.follow(&sub, show_progress)?;
    Ok((server.clone(), completed(kind, &server, status)?))
}

// ---------------------------------------------------------------------------
// Request bodies

/// A value as JSON: a boolean, a number whose JSON text is the text itself
/// (so the server reads exactly what was typed), else a string.
fn scalar(text: &str) -> Value {
    let t = text.trim();
    match t {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => match serde_json::from_str::<Number>(t) {
            Ok(n) if n.to_string() == t => Value::Number(n),
            _ => Value::String(t.to_owned()),
        },
    }
}

fn number(flag: &str, text: &str) -> Result<Value, CliError> {
    serde_json::from_str::<Number>(text.trim())
        .map(Value::Number)
        .map_err(|_| CliError::usage(format!("{flag}: '{text}' is not a number")))
}

/// Strategy, data, period, parameters, costs: what both bodies carry.
fn target_body(strategy: &str, s: &RunSettings) -> Result<Map<String, Value>, CliError> {
    if s.qty_decimals > 0 {
        return Err(CliError::usage(
            "--qty-decimals is not supported with --server (the server uses the dataset's quantity decimals)",
        ));
    }
    let mut params = Map::new();
    for p in &s.params {
        let (name, value) = split_pair(p).map_err(CliError::usage)?;
        params.insert(name.to_owned(), scalar(value));
    }
    let mut m = Map::new();
    m.insert("strategy".into(), Value::from(strategy));
    m.insert("dataset".into(), Value::from(s.dataset.as_str()));
    for (key, v) in [
        ("timeframe", &s.timeframe),
        ("from", &s.from),
        ("to", &s.to),
    ] {
        if let Some(v) = v {
            m.insert(key.into(), Value::from(v.as_str()));
        }
    }
    m.insert("params".into(), Value::Object(params));
    m.insert("cash".into(), number("--cash", &s.cash)?);
    m.insert(
        "commissionPct".into(),
        number("--commission-pct", &s.commission_pct)?,
    );
    m.insert(
        "commissionFixed".into(),
        number("--commission-fixed", &s.commission_fixed)?,
    );
    m.insert("slippageTicks".into(), Value::from(s.slippage_ticks));
    match &s.size_qty {
        Some(q) => m.insert("sizeQty".into(), number("--size-qty", q)?),
        None => m.insert("sizePct".into(), number("--size-pct", &s.size_pct)?),
    };
    Ok(m)
}

/// `--axis` texts as the body's `axes`, and the axis names in order.
fn axes_body(texts: &[String]) -> Result<(Map<String, Value>, Vec<String>), CliError> {
    let mut axes = Map::new();
    let mut order = Vec::new();
    for text in texts {
        let bad = |why: &str| CliError::usage(format!("--axis '{text}': {why}"));
        let (name, spec) = text
            .split_once('=')
            .ok_or_else(|| bad("expected name=min..max:step or name=a,b,c"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(bad("expected name=min..max:step or name=a,b,c"));
        }
        let value = match spec.split_once("..") {
            Some((min, rest)) => {
                let (max, step) = rest
                    .split_once(':')
                    .ok_or_else(|| bad("a range needs a step: min..max:step"))?;
                let num = |s: &str| {
                    serde_json::from_str::<Number>(s.trim())
                        .map(Value::Number)
                        .map_err(|_| bad(&format!("'{s}' is not a number")))
                };
                serde_json::json!({ "min": num(min)?, "max": num(max)?, "step": num(step)? })
            }
            None => Value::Array(spec.split(',').map(scalar).collect()),
        };
        if axes.insert(name.to_owned(), value).is_some() {
            return Err(CliError::usage(format!("--axis '{name}' given twice")));
        }
        order.push(name.to_owned());
    }
    Ok((axes, order))
}

// ---------------------------------------------------------------------------
// Reading results

fn f64_of(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

fn u64_of(v: &Value, key: &str) -> Option<u64> {
    let x = v.get(key)?;
    x.as_u64().or_else(|| {
        x.as_f64()
            .filter(|f| *f >= 0.0 && f.fract() == 0.0)
            .map(|f| f as u64)
    })
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A metrics object of the API as the engine's metrics.
fn metrics_of(v: &Value) -> Result<PerformanceMetrics, CliError> {
    let need = |k: &str| f64_of(v, k).ok_or_else(|| unexpected(&format!("metrics.{k} missing")));
    let count = |k: &str| u64_of(v, k).ok_or_else(|| unexpected(&format!("metrics.{k} missing")));
    let opt = |k: &str| f64_of(v, k);
    Ok(PerformanceMetrics {
        initial_equity: need("initialEquity")?,
        final_equity: need("finalEquity")?,
        net_profit: need("netProfit")?,
        total_return_pct: need("totalReturnPct")?,
        annualized_return_pct: opt("annualizedReturnPct"),
        max_drawdown: need("maxDrawdown")?,
        max_drawdown_pct: need("maxDrawdownPct")?,
        sharpe: opt("sharpe"),
        sortino: opt("sortino"),
        profit_factor: opt("profitFactor"),
        return_over_drawdown: opt("returnOverDrawdown"),
        win_rate: opt("winRate"),
        trade_count: count("tradeCount")?,
        winning_trades: count("winningTrades")?,
        losing_trades: count("losingTrades")?,
        average_win: opt("averageWin"),
        average_loss: opt("averageLoss"),
        expectancy: opt("expectancy"),
        largest_win: opt("largestWin"),
        largest_loss: opt("largestLoss"),
        exposure_pct: need("exposurePct")?,
        total_commission: need("totalCommission")?,
        main_bars: count("mainBars")?,
        sub_bars: count("subBars")?,
        wall_time_ms: opt("wallTimeMs"),
        sub_bars_per_second: opt("subBarsPerSecond"),
    })
}

fn direction(v: &Value, key: &str) -> Result<Direction, CliError> {
    match str_of(v, key) {
        "long" => Ok(Direction::Long),
        "short" => Ok(Direction::Short),
        other => Err(unexpected(&format!("{key} '{other}'"))),
    }
}

fn trade_of(t: &Value) -> Result<Trade, CliError> {
    let need = |k: &str| f64_of(t, k).ok_or_else(|| unexpected(&format!("trade.{k} missing")));
    let time = |k: &str| {
        t.get(k)
            .and_then(|x| x.as_i64().or_else(|| x.as_f64().map(|f| f as i64)))
            .ok_or_else(|| unexpected(&format!("trade.{k} missing")))
    };
    Ok(Trade {
        side: direction(t, "side")?,
        quantity: need("quantity")?,
        entry_time: time("entryTime")?,
        entry_price: need("entryPrice")?,
        exit_time: time("exitTime")?,
        exit_price: need("exitPrice")?,
        pnl: need("pnl")?,
        commission: need("commission")?,
        exit_reason: serde_json::from_value::<ExitReason>(
            t.get("exitReason").cloned().unwrap_or(Value::Null),
        )
        .map_err(|e| unexpected(&format!("trade.exitReason: {e}")))?,
    })
}

/// A parameter value as the engine displays it (`1` for the float 1.0).
fn value_text(v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_f64() => {
            n.as_f64().map_or_else(|| n.to_string(), |f| f.to_string())
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `(name, value)` of a parameters object in the strategy's declaration
/// order when this binary knows the strategy (JSON objects come sorted).
fn declared(registry: &Registry, strategy: &str, params: Option<&Value>) -> Vec<(String, String)> {
    let Some(map) = params.and_then(Value::as_object) else {
        return Vec::new();
    };
    let space = registry.find(strategy).ok().map(|s| s.info().params);
    let mut named: Vec<(usize, &String, &Value)> = map
        .iter()
        .map(|(n, v)| {
            let at = space.as_ref().and_then(|s| s.index_of(n));
            (at.unwrap_or(usize::MAX), n, v)
        })
        .collect();
    named.sort_by_key(|(at, _, _)| *at);
    named
        .into_iter()
        .map(|(_, n, v)| (n.clone(), value_text(v)))
        .collect()
}

// ---------------------------------------------------------------------------
// The commands

/// `atf backtest --server URL`.
pub fn backtest(registry: &Registry, url: &str, a: &BacktestArgs) -> CliResult {
    let body = Value::Object(target_body(&a.strategy, &a.settings)?);
    let (_, status) = run(
        &a.remote,
        url,
        Kind::Backtest,
        &body,
        &FieldNames::default(),
        !a.no_progress,
    )?;
    let report = status
        .get("result")
        .filter(|r| r.is_object())
        .ok_or_else(|| unexpected("the completed backtest has no result"))?;
    if let Some(path) = &a.trades_csv {
        let trades = report
            .get("trades")
            .and_then(Value::as_array)
            .map(|t| t.iter().map(trade_of).collect::<Result<Vec<_>, _>>())
            .transpose()?
            .unwrap_or_default();
        render::write_trades_csv(path, &trades)
            .map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?;
    }
    if a.json {
        return render::print_json(&status);
    }
    let metrics = metrics_of(report.get("metrics").unwrap_or(&Value::Null))?;
    let open_position = match report.get("openPosition") {
        Some(p) if p.is_object() => Some(OpenPosition {
            side: direction(p, "side")?,
            quantity: f64_of(p, "quantity").unwrap_or(0.0),
            entry_price: f64_of(p, "entryPrice").unwrap_or(0.0),
            mark_price: f64_of(p, "markPrice").unwrap_or(0.0),
        }),
        _ => None,
    };
    let strategy = str_of(report, "strategy");
    render::print_backtest_table(&BacktestTable {
        dataset: str_of(&status, "dataset"),
        strategy,
        strategy_version: str_of(report, "strategyVersion"),
        params: declared(registry, strategy, report.get("params")),
        symbol: str_of(report, "symbol"),
        timeframe: str_of(report, "timeframe"),
        sub_timeframe: str_of(report, "subTimeframe"),
        from_ms: report.get("fromMs").and_then(Value::as_i64).unwrap_or(0),
        to_ms: report.get("toMs").and_then(Value::as_i64).unwrap_or(0),
        metrics: &metrics,
        open_position,
        rejected_orders: u64_of(report, "rejectedOrders").unwrap_or(0),
        ambiguous_bracket_fills: u64_of(report, "ambiguousBracketFills").unwrap_or(0),
    });
    Ok(())
}

/// `atf optimize --server URL`.
pub fn optimize(registry: &Registry, url: &str, a: &OptimizeArgs) -> CliResult {
    if a.threads.is_some() {
        return Err(CliError::usage(
            "--threads applies to local runs only; with --server the server's own setting is used (atf serve --threads)",
        ));
    }
    let (axes, axis_names) = axes_body(&a.axes)?;
    let mut body = target_body(&a.strategy, &a.settings)?;
    body.insert("axes".into(), Value::Object(axes));
    body.insert(
        "constraints".into(),
        Value::Array(
            a.constraints
                .iter()
                .map(|c| Value::from(c.as_str()))
                .collect(),
        ),
    );
    body.insert("maximize".into(), Value::from(a.maximize.name()));
    body.insert("top".into(), Value::from(a.top));
    let names = FieldNames {
        constraints: &a.constraints,
    };
    let (server, status) = run(
        &a.remote,
        url,
        Kind::Optimization,
        &Value::Object(body),
        &names,
        !a.no_progress,
    )?;
    let id = str_of(&status, "id").to_owned();
    let result = status
        .get("result")
        .filter(|r| r.is_object())
        .ok_or_else(|| unexpected("the completed optimization has no result"))?;
    let strategy = str_of(result, "strategy");
    if let Some(path) = &a.csv {
        let trials = server.trials(&id, result, u64::MAX)?;
        let names: Vec<String> = declared(registry, strategy, result.get("baseParams"))
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let rows = trials
            .iter()
            .map(|t| csv_trial(t, &names))
            .collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        render_optimize::write_csv_rows(path, &refs, rows)
            .map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?;
    }
    if a.json {
        return render::print_json(&status);
    }
    let trials = server.trials(&id, result, u64::from(a.top))?;
    let rows = trials
        .iter()
        .map(|t| {
            Ok(TableRow {
                rank: u64_of(t, "rank").unwrap_or(0) as usize,
                values: axis_names
                    .iter()
                    .map(|n| {
                        t.get("params")
                            .and_then(|p| p.get(n))
                            .map_or_else(String::new, value_text)
                    })
                    .collect(),
                outcome: if str_of(t, "status") == "Completed" {
                    Ok(metrics_of(t.get("metrics").unwrap_or(&Value::Null))?)
                } else {
                    Err(str_of(t, "errorMessage").to_owned())
                },
            })
        })
        .collect::<Result<Vec<_>, CliError>>()?;
    let completed = u64_of(result, "completedCombinations").unwrap_or(0);
    let failed = u64_of(result, "failedCombinations").unwrap_or(0);
    let first_failed = if failed > 0 {
        first_failed(&server, &id, &trials, completed, &axis_names)?
    } else {
        None
    };
    render_optimize::print_optimization_table(&OptimizationTable {
        dataset: str_of(&status, "dataset"),
        strategy,
        strategy_version: str_of(result, "strategyVersion"),
        symbol: str_of(result, "symbol"),
        main_bars: u64_of(result, "mainBars").unwrap_or(0),
        timeframe: str_of(result, "timeframe"),
        from_ms: result.get("fromMs").and_then(Value::as_i64).unwrap_or(0),
        to_ms: result.get("toMs").and_then(Value::as_i64).unwrap_or(0),
        fitness: str_of(result, "maximize")
            .parse::<Fitness>()
            .unwrap_or(a.maximize),
        total: u64_of(result, "totalCombinations").unwrap_or(0),
        completed,
        failed,
        skipped: u64_of(result, "skippedCombinations").unwrap_or(0),
        cancelled: result
            .get("cancelled")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        wall_secs: f64_of(result, "wallTimeMs").unwrap_or(0.0) / 1000.0,
        threads: u64_of(result, "threads").unwrap_or(0),
        axes: axis_names,
        rows,
        first_failed,
    });
    Ok(())
}

/// The best-ranked failed trial (failed trials rank after every completed
/// one): among `trials` if there, else asked for by rank.
fn first_failed(
    server: &Server,
    id: &str,
    trials: &[Value],
    completed: u64,
    axes: &[String],
) -> Result<Option<(Vec<String>, String)>, CliError> {
    let is_failed = |t: &&Value| str_of(t, "status") == "Failed";
    let fetched;
    let trial = match trials.iter().find(is_failed) {
        Some(t) => Some(t),
        None => {
            let page = server.get_ok(&format!(
                "/api/optimizations/{id}/trials?offset={completed}&limit=1"
            ))?;
            fetched = page
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            fetched.iter().find(is_failed)
        }
    };
    Ok(trial.map(|t| {
        let combo = axes
            .iter()
            .map(|n| {
                let v = t
                    .get("params")
                    .and_then(|p| p.get(n))
                    .map_or_else(String::new, value_text);
                format!("{n}={v}")
            })
            .collect();
        (combo, str_of(t, "errorMessage").to_owned())
    }))
}

fn csv_trial(t: &Value, names: &[String]) -> Result<CsvTrial, CliError> {
    let params = names
        .iter()
        .map(|n| {
            t.get("params")
                .and_then(|p| p.get(n))
                .map_or_else(String::new, value_text)
        })
        .collect();
    Ok(CsvTrial {
        rank: u64_of(t, "rank").unwrap_or(0) as usize,
        index: u64_of(t, "index").unwrap_or(0),
        params,
        outcome: if str_of(t, "status") == "Completed" {
            Ok((
                f64_of(t, "fitness"),
                metrics_of(t.get("metrics").unwrap_or(&Value::Null))?,
            ))
        } else {
            Err((
                str_of(t, "errorMessage").to_owned(),
                str_of(t, "errorStackTrace").to_owned(),
            ))
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_text() {
        assert_eq!(scalar("10"), Value::from(10));
        assert_eq!(scalar("0.5"), serde_json::json!(0.5));
        assert_eq!(scalar("true"), Value::Bool(true));
        assert_eq!(scalar("panic"), Value::from("panic"));
        // not the same text as a JSON number: sent as typed
        assert_eq!(scalar("010"), Value::from("010"));
        assert_eq!(scalar("1e3"), Value::from("1e3"));
    }

    #[test]
    fn axes_become_ranges_and_lists() {
        let (axes, order) = axes_body(&["slow=20..60:10".into(), "fast=5,10".into()]).unwrap();
        assert_eq!(order, ["slow", "fast"]);
        assert_eq!(
            axes["slow"],
            serde_json::json!({"min": 20, "max": 60, "step": 10})
        );
        assert_eq!(axes["fast"], serde_json::json!([5, 10]));
        assert!(axes_body(&["fast=1..5".into()]).is_err());
        assert!(axes_body(&["fast=1,2".into(), "fast=3".into()]).is_err());
    }

    #[test]
    fn fields_are_named_by_their_flags() {
        let constraints = ["fast<slow".to_owned()];
        let names = FieldNames {
            constraints: &constraints,
        };
        let flag = |f: &str| flag_of(f, &names);
        assert_eq!(flag("commissionPct").as_deref(), Some("--commission-pct"));
        assert_eq!(flag("params.fast").as_deref(), Some("--param fast"));
        assert_eq!(flag("axes.slow").as_deref(), Some("--axis slow"));
        assert_eq!(
            flag("constraints[0]").as_deref(),
            Some("--constraint 'fast<slow'")
        );
        assert_eq!(flag("dataset").as_deref(), Some("--dataset"));
        assert_eq!(flag("body"), None);
        assert_eq!(
            with_flag("--axis fast", "axis 'fast=1..2:0': step must be positive"),
            "--axis 'fast=1..2:0': step must be positive"
        );
        assert_eq!(
            with_flag("--param fast", "parameter 'fast': 0 is outside"),
            "--param 'fast': 0 is outside"
        );
        assert_eq!(
            with_flag("--commission-pct", "must be between 0 and 10"),
            "--commission-pct: must be between 0 and 10"
        );
    }

    #[test]
    fn sse_data_is_read_across_lines() {
        let text = ": keep-alive\n\nevent: progress\ndata: {\"a\":1}\n\nevent: completed\r\ndata:{\"b\":\r\ndata: 2}\r\n\r\n";
        let mut ev = Events {
            reader: BufReader::new(Box::new(std::io::Cursor::new(text.as_bytes().to_vec()))),
        };
        assert_eq!(ev.next_data().unwrap().as_deref(), Some("{\"a\":1}"));
        assert_eq!(ev.next_data().unwrap().as_deref(), Some("{\"b\":\n2}"));
        assert_eq!(ev.next_data().unwrap(), None);
    }
}
