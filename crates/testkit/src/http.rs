//! A JSON client of the HTTP API, for tests: every call answers `(HTTP
//! status, body)` and checks that errors are `application/problem+json`
//! (DESIGN §5), and runs are followed by polling `/status` until they
//! reach a state (a liveness wait, see [`crate::wait`]).

use crate::wait::{eventually, PATIENCE};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::time::Duration;

/// How long one request may take before the test fails.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A client of the server at one base URL (`http://127.0.0.1:PORT`),
/// optionally with its API token.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl Api {
    /// A client of `base` (no trailing slash needed).
    #[must_use]
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into().trim_end_matches('/').to_owned(),
            token: None,
            agent: agent(),
        }
    }

    /// The same client sending `Authorization: Bearer {token}`.
    #[must_use]
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The base URL.
    #[must_use]
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `base + path`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The agent it sends with (HTTP errors are answers, not `Err`s).
    #[must_use]
    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// `GET path`.
    #[must_use]
    pub fn get(&self, path: &str) -> (u16, Value) {
        call(
            &self.agent,
            "GET",
            &self.url(path),
            None,
            self.token.as_deref(),
        )
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        call(
            &self.agent,
            "POST",
            &self.url(path),
            Some(body),
            self.token.as_deref(),
        )
    }

    /// `GET path`, which must answer 200; its body.
    ///
    /// # Panics
    /// On any other status.
    #[must_use]
    pub fn ok(&self, path: &str) -> Value {
        let (code, body) = self.get(path);
        assert_eq!(code, 200, "GET {path}: {body}");
        body
    }

    /// The status of run `id` (`kind`: `backtests` or `optimizations`).
    ///
    /// # Panics
    /// When it does not answer 200.
    #[must_use]
    pub fn status(&self, kind: &str, id: &str) -> Value {
        self.ok(&format!("/api/{kind}/{id}/status"))
    }

    /// Polls the status of run `id` until `until` holds; that status.
    ///
    /// # Panics
    /// When it does not hold within `bound`, or `/status` fails.
    pub fn wait(
        &self,
        kind: &str,
        id: &str,
        bound: Duration,
        until: impl Fn(&Value) -> bool,
    ) -> Value {
        eventually(bound, || {
            let s = self.status(kind, id);
            if until(&s) {
                Ok(s)
            } else {
                Err(format!("{kind} {id} is still {s}"))
            }
        })
    }

    /// [`Api::wait`] until the run has ended, within [`PATIENCE`].
    pub fn wait_terminal(&self, kind: &str, id: &str) -> Value {
        self.wait(kind, id, PATIENCE, is_terminal)
    }

    /// Reads `/events` of run `id` to its end: `(event name, data)` pairs.
    ///
    /// # Panics
    /// When the answer is not a 200 event stream of JSON data.
    #[must_use]
    pub fn events(&self, kind: &str, id: &str) -> Vec<(String, Value)> {
        let mut req = self
            .agent
            .get(&self.url(&format!("/api/{kind}/{id}/events")));
        if let Some(t) = &self.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        let res = req.call().expect("GET …/events");
        assert_eq!(res.status(), 200);
        let ct = header(&res, "content-type");
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        let reader = BufReader::new(res.into_body().into_reader());
        let mut out = Vec::new();
        let mut name = String::new();
        for line in reader.lines() {
            let line = line.expect("reads the event stream");
            if let Some(n) = line.strip_prefix("event: ") {
                n.clone_into(&mut name);
            } else if let Some(d) = line.strip_prefix("data: ") {
                let data = serde_json::from_str(d).unwrap_or_else(|e| panic!("{e}: {d}"));
                out.push((name.clone(), data));
            }
        }
        out
    }
}

/// Whether a status is `Completed`, `Failed` or `Cancelled`.
#[must_use]
pub fn is_terminal(status: &Value) -> bool {
    matches!(
        status["status"].as_str(),
        Some("Completed" | "Failed" | "Cancelled")
    )
}

/// An agent for which HTTP error statuses are answers, with a timeout.
#[must_use]
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(REQUEST_TIMEOUT))
        .build()
        .into()
}

/// One request: `GET` (body ignored) or `POST` (JSON body, or empty),
/// with a bearer token if given; the status and the JSON answer (a string
/// when it is not JSON, `null` when empty).
///
/// # Panics
/// When the request cannot be sent, or a 4xx/5xx is not problem+json.
#[must_use]
pub fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> (u16, Value) {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let res = if method == "GET" {
        let mut r = agent.get(url);
        if let Some(b) = &bearer {
            r = r.header("Authorization", b);
        }
        r.call()
    } else {
        let mut r = agent.post(url);
        if let Some(b) = &bearer {
            r = r.header("Authorization", b);
        }
        match body {
            Some(b) => r.send_json(b),
            None => r.send_empty(),
        }
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let code = res.status().as_u16();
    let ct = header(&res, "content-type");
    let text = res
        .into_body()
        .read_to_string()
        .unwrap_or_else(|e| panic!("{method} {url}: reading the answer: {e}"));
    if code >= 400 {
        assert_eq!(ct, "application/problem+json", "{code} {text}");
    }
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (code, v)
}

fn header(res: &ureq::http::Response<ureq::Body>, name: &str) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
