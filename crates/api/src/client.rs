//! The typed client of `atf serve`'s API (blocking, over ureq): every
//! answer is read into the type the server wrote it from, and a refusal
//! into its [`Problem`].
//!
//! Plain HTTP only (no TLS in this build); a token is sent as
//! `Authorization: Bearer`.

use crate::problem::Problem;
use crate::status::{AnyStatus, BacktestRun, Health, OptimizationRun, Submission};
use atf_engine::optimize::TrialRecord;
use atf_runs::store::Page;
use atf_runs::RunKind;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

/// Trials asked for per `/trials` page (the server's maximum).
pub const TRIALS_PAGE: u64 = 500;
/// Longest silence on a connection: the event stream sends a keep-alive
/// comment every 15 s, so this means the server or the network is gone.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The address is not `http://HOST[:PORT]`.
    #[error("{url}: {reason}")]
    BadUrl {
        /// As given.
        url: String,
        /// Why.
        reason: &'static str,
    },
    /// No HTTP answer.
    #[error("cannot reach the server at {base}: {reason}")]
    Unreachable {
        /// The server.
        base: String,
        /// The transport's reason.
        reason: String,
    },
    /// The server answered with a problem (4xx, 5xx).
    #[error("{}", .problem.detail)]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Its `application/problem+json` (or a line of a non-JSON body).
        problem: Problem,
    },
    /// An answer that is not what the API documents.
    #[error("unexpected answer from the server at {base} to {what}: {reason}")]
    Unexpected {
        /// The server.
        base: String,
        /// The request.
        what: String,
        /// What did not fit.
        reason: String,
    },
}

impl ClientError {
    /// The HTTP status of a refusal.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The routes of a run kind.
#[must_use]
pub fn runs_path(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Backtest => "/api/backtests",
        RunKind::Optimization => "/api/optimizations",
        RunKind::WalkForward => "/api/walkforwards",
    }
}

/// A server and how to talk to it.
#[derive(Clone)]
pub struct Client {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
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

impl Client {
    /// A client of the server at `url` (`http://host:port`; `http://` is
    /// assumed when missing), sending `token` when given.
    ///
    /// # Errors
    /// [`ClientError::BadUrl`].
    pub fn new(url: &str, token: Option<&str>) -> Result<Self, ClientError> {
        let given = url.trim();
        let mut base = if given.contains("://") {
            given.to_owned()
        } else {
            format!("http://{given}")
        };
        while base.ends_with('/') && !base.ends_with("://") {
            base.pop();
        }
        let refuse = |reason| ClientError::BadUrl {
            url: url.to_owned(),
            reason,
        };
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
            token: token
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            agent: ureq::Agent::new_with_config(config),
        })
    }

    /// `http://host:port`, no trailing slash.
    #[must_use]
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Whether a token is sent.
    #[must_use]
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    fn unreachable(&self, e: &ureq::Error) -> ClientError {
        ClientError::Unreachable {
            base: self.base.clone(),
            reason: describe(e),
        }
    }

    fn unexpected(&self, what: &str, reason: impl ToString) -> ClientError {
        ClientError::Unexpected {
            base: self.base.clone(),
            what: what.to_owned(),
            reason: reason.to_string(),
        }
    }

    /// Sends a request; `Err` only when there was no HTTP answer.
    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        accept: &str,
    ) -> Result<ureq::http::Response<ureq::Body>, ClientError> {
        let url = format!("{}{path}", self.base);
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let res = if method == "POST" {
            let mut req = self.agent.post(&url).header("Accept", accept);
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            match body {
                Some(b) => req.header("Content-Type", "application/json").send(b),
                None => req.send_empty(),
            }
        } else {
            let mut req = self.agent.get(&url).header("Accept", accept);
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            req.call()
        };
        res.map_err(|e| self.unreachable(&e))
    }

    /// One JSON exchange: the status and the body's bytes.
    fn exchange(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let res = self.send(method, path, body, "application/json")?;
        let status = res.status().as_u16();
        let mut text = Vec::new();
        res.into_body()
            .into_reader()
            .read_to_end(&mut text)
            .map_err(|e| ClientError::Unreachable {
                base: self.base.clone(),
                reason: format!("lost the connection: {e}"),
            })?;
        Ok((status, text))
    }

    /// The problem of a non-2xx answer (a line of the body when it is not
    /// problem+json, e.g. a proxy's error page).
    fn refusal(status: u16, text: &[u8]) -> ClientError {
        let problem = serde_json::from_slice::<Problem>(text).unwrap_or_else(|_| {
            let line = String::from_utf8_lossy(text);
            let line = line.lines().next().unwrap_or("").trim();
            Problem {
                kind: "about:blank".into(),
                title: String::new(),
                status,
                detail: if line.is_empty() {
                    format!("HTTP {status}")
                } else {
                    line.chars().take(200).collect()
                },
                field: None,
            }
        });
        ClientError::Refused { status, problem }
    }

    fn read<T: DeserializeOwned>(
        &self,
        what: &str,
        (status, text): (u16, Vec<u8>),
    ) -> Result<(u16, T), ClientError> {
        if !(200..300).contains(&status) {
            return Err(Self::refusal(status, &text));
        }
        serde_json::from_slice(&text)
            .map(|v| (status, v))
            .map_err(|e| self.unexpected(what, e))
    }

    /// `GET path` read as a `T`.
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let what = format!("GET {path}");
        Ok(self.read(&what, self.exchange("GET", path, None)?)?.1)
    }

    /// `POST path` with a JSON body (or none), read as a `T`, with the status.
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&B>,
    ) -> Result<(u16, T), ClientError> {
        let bytes = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| self.unexpected(path, e))?;
        let what = format!("POST {path}");
        self.read(&what, self.exchange("POST", path, bytes.as_deref())?)
    }

    /// Submits a run of `kind` (the request body as the API documents it).
    ///
    /// # Errors
    /// [`ClientError::Refused`] with the field at fault, or a transport error.
    pub fn submit<B: Serialize>(&self, kind: RunKind, body: &B) -> Result<Submission, ClientError> {
        Ok(self.post(runs_path(kind), Some(body))?.1)
    }

    /// Resumes cancelled optimization `id`: a new run that keeps its
    /// recorded trials and runs the rest (`POST /api/optimizations/{id}/resume`).
    ///
    /// # Errors
    /// [`ClientError`] (`404` unknown, `409` not cancelled).
    pub fn resume(&self, id: &str) -> Result<Submission, ClientError> {
        let path = format!("{}/{id}/resume", runs_path(RunKind::Optimization));
        Ok(self.post::<(), _>(&path, None)?.1)
    }

    /// A run's status (and result once it ended).
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn status(&self, kind: RunKind, id: &str) -> Result<AnyStatus, ClientError> {
        self.get(&format!("{}/{id}/status", runs_path(kind)))
    }

    /// A backtest: stored once ended, its status while in flight.
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn backtest(&self, id: &str) -> Result<BacktestRun, ClientError> {
        self.get(&format!("/api/backtests/{id}"))
    }

    /// `GET /api/walkforwards/{id}`: the stored walk-forward, or its status
    /// while in flight.
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn walkforward(&self, id: &str) -> Result<crate::status::WalkForwardRun, ClientError> {
        self.get(&format!("/api/walkforwards/{id}"))
    }

    /// An optimization: stored once ended, its status while in flight.
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn optimization(&self, id: &str) -> Result<OptimizationRun, ClientError> {
        self.get(&format!("/api/optimizations/{id}"))
    }

    /// A page of an optimization's trials, best first.
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn trials(
        &self,
        id: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Page<TrialRecord>, ClientError> {
        self.get(&format!(
            "/api/optimizations/{id}/trials?offset={offset}&limit={limit}"
        ))
    }

    /// The first `want` trials of an optimization (all when `want` is
    /// larger), best first, after `have` already read.
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn more_trials(
        &self,
        id: &str,
        mut have: Vec<TrialRecord>,
        want: u64,
    ) -> Result<Vec<TrialRecord>, ClientError> {
        loop {
            let at = have.len() as u64;
            if at >= want {
                break;
            }
            let page = self.trials(id, at, TRIALS_PAGE.min(want - at))?;
            if page.items.is_empty() {
                break;
            }
            have.extend(page.items);
        }
        have.truncate(usize::try_from(want).unwrap_or(usize::MAX));
        Ok(have)
    }

    /// Cancels a run: `Ok(true)` when cancelled now, `Ok(false)` when it
    /// had already ended (409).
    ///
    /// # Errors
    /// [`ClientError`] for anything else.
    pub fn cancel(&self, kind: RunKind, id: &str) -> Result<bool, ClientError> {
        match self.post::<(), crate::status::CancelResponse>(
            &format!("{}/{id}/cancel", runs_path(kind)),
            None,
        ) {
            Ok(_) => Ok(true),
            Err(e) if e.status() == Some(409) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `GET /api/health`.
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn health(&self) -> Result<Health, ClientError> {
        self.get("/api/health")
    }

    /// Opens the event stream of a run.
    ///
    /// # Errors
    /// [`ClientError`] when it cannot be opened.
    pub fn events(&self, kind: RunKind, id: &str) -> Result<Events, ClientError> {
        let path = format!("{}/{id}/events", runs_path(kind));
        let res = self.send("GET", &path, None, "text/event-stream")?;
        let status = res.status().as_u16();
        if status != 200 {
            let mut text = Vec::new();
            let _ = res.into_body().into_reader().read_to_end(&mut text);
            return Err(Self::refusal(status, &text));
        }
        Ok(Events {
            reader: BufReader::new(Box::new(res.into_body().into_reader())),
        })
    }

    /// `GET path` as raw bytes (at most `limit`) with one response header
    /// (a dataset's content and its checksum header, for workers).
    ///
    /// # Errors
    /// [`ClientError`], also for a body over `limit`.
    pub fn bytes(
        &self,
        path: &str,
        header: &str,
        limit: u64,
    ) -> Result<(Vec<u8>, Option<String>), ClientError> {
        let mut res = self.send("GET", path, None, "*/*")?;
        let status = res.status().as_u16();
        let value = res
            .headers()
            .get(header)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = res
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| ClientError::Unreachable {
                base: self.base.clone(),
                reason: format!("lost the connection: {e}"),
            })?;
        if !(200..300).contains(&status) {
            return Err(Self::refusal(status, &body));
        }
        Ok((body, value))
    }
}

/// A run's server-sent events, each read as the run's status.
pub struct Events {
    reader: BufReader<Box<dyn Read + Send>>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    /// The next event's data (`Ok(None)` at the end of the stream).
    ///
    /// # Errors
    /// The connection's I/O error.
    pub fn next_data(&mut self) -> std::io::Result<Option<String>> {
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

    /// The next status (`Ok(None)` at the end of the stream); events that
    /// are not a status are skipped.
    ///
    /// # Errors
    /// The connection's I/O error.
    pub fn next_status(&mut self) -> std::io::Result<Option<AnyStatus>> {
        while let Some(data) = self.next_data()? {
            if let Ok(s) = serde_json::from_str::<AnyStatus>(&data) {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }

    #[cfg(test)]
    fn of(text: &'static str) -> Self {
        Self {
            reader: BufReader::new(Box::new(text.as_bytes())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_data_is_read_across_lines() {
        let mut e = Events::of(": keep-alive\n\nevent: progress\ndata: a\ndata: b\n\ndata:c\n\n");
        assert_eq!(e.next_data().unwrap().as_deref(), Some("a\nb"));
        assert_eq!(e.next_data().unwrap().as_deref(), Some("c"));
        assert_eq!(e.next_data().unwrap(), None);
    }

    #[test]
    fn addresses_are_checked() {
        assert_eq!(
            Client::new("127.0.0.1:8080/", None).unwrap().base(),
            "http://127.0.0.1:8080"
        );
        assert!(matches!(
            Client::new("https://x", None),
            Err(ClientError::BadUrl { .. })
        ));
        assert!(matches!(
            Client::new("ftp://x", None),
            Err(ClientError::BadUrl { .. })
        ));
        assert!(matches!(
            Client::new("http://", None),
            Err(ClientError::BadUrl { .. })
        ));
        assert!(!Client::new("x:1", Some("  ")).unwrap().has_token());
    }
}
