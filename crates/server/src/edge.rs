//! Who may talk to this server: the `Host` and `Origin` checks that make a
//! loopback bind a real boundary (DESIGN §13, DNS rebinding).
//!
//! A web page on `evil.example` can make the browser resolve that name to
//! `127.0.0.1` and then read this server's answers as "same origin": the
//! requests carry `Host: evil.example:8080`. So a request is answered only
//! when its `Host` names this server — the bound address, `localhost`,
//! `127.0.0.1` or `[::1]` with the bound port, an IP literal when bound to
//! every interface (an IP cannot be rebound), or a name given with
//! `--allow-host` — else `421 Misdirected Request`. A browser's `Origin`,
//! when present, must name one of the same (any `http`/`https` scheme), else
//! `403 Forbidden`: that also stops "simple" cross-origin requests such as
//! multipart uploads, which a browser sends without asking first. The
//! dashboard is served from the same origin, so its own requests pass.

use crate::problem::Problem;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The names this server answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    /// The bound address (port 0 already resolved to the real port).
    bound: SocketAddr,
    /// `--allow-host` names, lowercased: `name` (any port) or `name:port`.
    extra: Vec<String>,
}

impl AllowedHosts {
    /// The hosts of a server bound to `bound`, plus `extra` names
    /// (`name` for any port, `name:port` for that port only).
    #[must_use]
    pub fn new(bound: SocketAddr, extra: &[String]) -> Self {
        Self {
            bound,
            extra: extra
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        }
    }

    /// Whether `authority` (`host[:port]`, as in a `Host` header) names
    /// this server; a missing port means `default_port`.
    #[must_use]
    pub fn allows(&self, authority: &str, default_port: u16) -> bool {
        let authority = authority.trim().to_ascii_lowercase();
        let Some((host, port)) = split_authority(&authority, default_port) else {
            return false;
        };
        let named = |e: &String| match split_authority(e, 0) {
            // `name` alone allows any port (a reverse proxy's 443 included)
            Some((h, 0)) => h == host,
            Some((h, p)) => h == host && p == port,
            None => false,
        };
        if self.extra.iter().any(named) {
            return true;
        }
        if port != self.bound.port() {
            return false;
        }
        if host == "localhost" {
            return true;
        }
        let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        else {
            return false;
        };
        // bound to every interface: any of the machine's addresses reaches
        // it, and an IP literal is never the victim of DNS rebinding
        ip.is_loopback() || ip == self.bound.ip() || self.bound.ip().is_unspecified()
    }

    /// Whether an `Origin` header value (`scheme://host[:port]`) is this
    /// server's own.
    #[must_use]
    pub fn allows_origin(&self, origin: &str) -> bool {
        let (default_port, rest) = if let Some(r) = origin.strip_prefix("http://") {
            (80, r)
        } else if let Some(r) = origin.strip_prefix("https://") {
            (443, r)
        } else {
            return false; // `null` (sandboxes, files) and other schemes
        };
        !rest.contains(['/', '@', '?', '#']) && self.allows(rest, default_port)
    }
}

/// The `host[:port]` of a URL (`http://user@host:port/path` → `host:port`).
#[must_use]
pub fn authority_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    (!authority.is_empty()).then(|| authority.to_owned())
}

/// `host[:port]` → (host, port); `[v6]` keeps its brackets. `None` when
/// malformed.
fn split_authority(a: &str, default_port: u16) -> Option<(&str, u16)> {
    if a.is_empty() {
        return None;
    }
    let (host, port) = if a.starts_with('[') {
        let end = a.find(']')?;
        let (h, rest) = a.split_at(end + 1);
        match rest.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if rest.is_empty() => (h, None),
            None => return None,
        }
    } else {
        match a.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (a, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => default_port,
    };
    Some((host, port))
}

/// The middleware: refuses a foreign `Host` (421) or `Origin` (403) on
/// every route, before the token is looked at.
pub(crate) async fn check_host_and_origin(
    State(allowed): State<Arc<AllowedHosts>>,
    req: Request,
    next: Next,
) -> Response {
    // HTTP/1.1 requires Host; the URI's authority stands in for it (HTTP/2)
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()));
    match host {
        Some(h) if allowed.allows(&h, 80) => {}
        Some(h) => {
            return Problem::new(
                StatusCode::MISDIRECTED_REQUEST,
                format!(
                    "Host '{}' is not this server's (its bound address, localhost with its port, \
                     or a name given with --allow-host): refused against DNS rebinding",
                    h.escape_debug()
                ),
            )
            .into_response()
        }
        None => {
            return Problem::new(StatusCode::BAD_REQUEST, "the request has no Host header")
                .into_response()
        }
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let text = origin.to_str().unwrap_or("");
        if !allowed.allows_origin(text) {
            return Problem::new(
                StatusCode::FORBIDDEN,
                format!(
                    "Origin '{}' is not this server's: cross-origin requests are refused \
                     (give the name with --allow-host if it is yours)",
                    text.escape_debug()
                ),
            )
            .into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(bind: &str, extra: &[&str]) -> AllowedHosts {
        let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        AllowedHosts::new(bind.parse().unwrap(), &extra)
    }

    #[test]
    fn loopback_names_with_the_port_are_allowed_others_are_not() {
        let a = on("127.0.0.1:8080", &[]);
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST:8080",
            "[::1]:8080",
        ] {
            assert!(a.allows(ok, 80), "{ok}");
        }
        for no in [
            "evil.example:8080",
            "evil.example",
            "localhost:9090",
            "localhost",
            "127.0.0.1",
            "10.0.0.1:8080",
            "",
            ":8080",
            "localhost:80x",
            "[::1]x:8080",
        ] {
            assert!(!a.allows(no, 80), "{no}");
        }
        // port 80: a Host without a port means 80
        assert!(on("127.0.0.1:80", &[]).allows("localhost", 80));
    }

    #[test]
    fn allowed_names_and_every_interface() {
        let a = on("0.0.0.0:8080", &["atf.example", "proxy.example:9000"]);
        assert!(a.allows("atf.example", 80));
        assert!(a.allows("atf.example:443", 80));
        assert!(a.allows("proxy.example:9000", 80));
        assert!(!a.allows("proxy.example:9001", 80));
        assert!(
            a.allows("192.168.1.5:8080", 80),
            "an IP literal of any interface"
        );
        assert!(!a.allows("192.168.1.5:8081", 80));
        assert!(!a.allows("evil.example:8080", 80));
        let b = on("192.168.1.5:8080", &[]);
        assert!(b.allows("192.168.1.5:8080", 80));
        assert!(!b.allows("192.168.1.6:8080", 80));
    }

    #[test]
    fn an_advertised_url_names_its_host() {
        assert_eq!(
            authority_of("http://me:pw@atf.example:8080/x?y").as_deref(),
            Some("atf.example:8080")
        );
        assert_eq!(authority_of("http://[::1]:80").as_deref(), Some("[::1]:80"));
        assert_eq!(authority_of("http:///x"), None);
    }

    #[test]
    fn origins_are_checked_like_hosts() {
        let a = on("127.0.0.1:8080", &["atf.example"]);
        assert!(a.allows_origin("http://127.0.0.1:8080"));
        assert!(a.allows_origin("http://localhost:8080"));
        assert!(a.allows_origin("https://atf.example"));
        for no in [
            "null",
            "http://evil.example:8080",
            "http://localhost",
            "https://localhost:8080/x",
            "http://user@localhost:8080",
            "file://",
            "",
        ] {
            assert!(!a.allows_origin(no), "{no}");
        }
    }
}
