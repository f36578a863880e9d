//! Connections to the Redis server of a scale-out.

use super::DistError;
use crate::redis_client::RedisOptions;
use redis::Connection;
use std::time::Duration;

/// Connecting, and a command's round trip, time out after this long.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// A Redis server to open connections to (each user keeps its own
/// connection: the worker's blocking stream reads must not hold up others).
#[derive(Clone)]
pub struct Link {
    client: redis::Client,
    url: String,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link").field("url", &self.url).finish()
    }
}

impl Link {
    /// Checks `url` and that the server answers `PING`.
    ///
    /// # Errors
    /// [`DistError::Redis`] naming the URL (password redacted).
    pub fn connect(url: &str) -> Result<Self, DistError> {
        Self::connect_with(url, &RedisOptions::default())
    }

    /// [`Link::connect`] with a CA file for `rediss://`.
    ///
    /// # Errors
    /// [`DistError::Redis`] naming the URL (password redacted) or the CA file.
    pub fn connect_with(url: &str, opts: &RedisOptions) -> Result<Self, DistError> {
        let shown = crate::redis_cache::redact_url(url);
        let client =
            crate::redis_client::client(url, &shown, opts).map_err(|reason| DistError::Redis {
                url: shown.clone(),
                op: "connect".into(),
                reason,
            })?;
        let link = Self { client, url: shown };
        let mut con = link.open()?;
        link.check("PING", redis::cmd("PING").exec(&mut con))?;
        Ok(link)
    }

    /// The URL, password redacted.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A new connection whose commands time out after `TIMEOUT` (2 s) (plus
    /// `extra` for blocking reads).
    ///
    /// # Errors
    /// [`DistError::Redis`] when the server cannot be reached.
    pub fn open_with(&self, extra: Duration) -> Result<Connection, DistError> {
        let con = self
            .client
            .get_connection_with_timeout(TIMEOUT)
            .map_err(|e| self.err("connect", &e))?;
        con.set_read_timeout(Some(TIMEOUT + extra))
            .and_then(|()| con.set_write_timeout(Some(TIMEOUT)))
            .map_err(|e| self.err("connect", &e))?;
        Ok(con)
    }

    /// [`Link::open_with`] without extra time.
    ///
    /// # Errors
    /// As [`Link::open_with`].
    pub fn open(&self) -> Result<Connection, DistError> {
        self.open_with(Duration::ZERO)
    }

    /// The error of `op`.
    pub(crate) fn err(&self, op: &str, e: &redis::RedisError) -> DistError {
        DistError::Redis {
            url: self.url.clone(),
            op: op.to_owned(),
            reason: e.to_string(),
        }
    }

    /// `r`, its error naming `op` and the URL.
    pub(crate) fn check<T>(&self, op: &str, r: redis::RedisResult<T>) -> Result<T, DistError> {
        r.map_err(|e| self.err(op, &e))
    }

    /// Creates the consumer group (and the stream), unless it exists.
    ///
    /// # Errors
    /// [`DistError::Redis`] when Redis fails.
    pub fn ensure_group(&self, con: &mut Connection) -> Result<(), DistError> {
        let r: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(super::keys::CHUNKS)
            .arg(super::keys::GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .exec(con);
        match r {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            r => self.check("XGROUP CREATE", r),
        }
    }
}

impl Link {
    /// The URL a coordinator advertised (`atf:coordinator`), if any.
    ///
    /// # Errors
    /// [`DistError::Redis`] when Redis fails.
    pub fn advertised_coordinator(&self) -> Result<Option<String>, DistError> {
        let mut con = self.open()?;
        self.check(
            "GET",
            redis::cmd("GET")
                .arg(super::keys::COORDINATOR)
                .query(&mut con),
        )
    }
}
