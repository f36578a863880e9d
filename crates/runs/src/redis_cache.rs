//! The [`ProgressCache`] in Redis (`--redis-url`), shared by a server and
//! its workers.
//!
//! Layout, all keys under `atf:`:
//!
//! - `atf:run:{id}` holds the run's [`RunSnapshot`] as JSON; once it is
//!   terminal with the time to live the service gives it; while the run is
//!   in flight under a *lease*: every put sets the expiry to
//!   [`RedisOptions::lease`] (30 s) plus [`LAPSED_KEPT`] (15 min). The
//!   live server puts it every `publish_every` (250 ms), so the expiry
//!   never comes closer than [`LAPSED_KEPT`] while it lives. Once it does
//!   (the server was killed: nothing refreshes it), the entry reads as
//!   `Failed` "the server running this run stopped" until it expires —
//!   then the run is unknown (404), as DESIGN §5 has it for a restart —
//!   instead of `Running` for ever;
//! - `atf:key:{run_key}` holds the id of the run that claimed the run key.
//!
//! The client is the blocking one of the `redis` crate. A few connections
//! are pooled, each used by one caller at a time, so status reads from many
//! requests do not queue behind a publisher; connecting, reading and
//! writing time out after [`TIMEOUT`] so a dead Redis fails a request
//! within seconds instead of hanging it.

use crate::cache::{CacheError, ProgressCache};
use crate::redis_client::RedisOptions;
use crate::snapshot::RunSnapshot;
use crate::status::RunStatus;
use redis::{Connection, ConnectionLike as _, ErrorKind, RedisError, RedisResult, Script, Value};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How long connecting, sending a command or awaiting its reply may take.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Idle connections kept for reuse; more are opened under load and closed
/// when they come back to a full pool.
const MAX_IDLE: usize = 16;

/// How long a lapsed in-flight entry reads `Failed` before it expires.
pub const LAPSED_KEPT: Duration = crate::cache::TERMINAL_TTL;

/// Tries of "SET NX, else GET the holder" when the holder keeps vanishing
/// between the two.
const CLAIM_ATTEMPTS: usize = 5;

/// Deletes `KEYS[1]` only if it holds `ARGV[1]`, atomically.
const RELEASE_LUA: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// The progress cache in a Redis server (backend name `redis`).
pub struct RedisCache {
    client: redis::Client,
    /// The URL with any password replaced by `***`, for messages.
    url: String,
    idle: Mutex<Vec<Connection>>,
    release: Script,
    /// See [`RedisOptions::lease`].
    lease: Duration,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("url", &self.url)
            .field("idle", &self.idle().len())
            .finish_non_exhaustive()
    }
}

impl RedisCache {
    /// Connects to the Redis server at `url` (`redis://[[user]:password@]host[:port][/db]`)
    /// and checks it answers `PING`.
    ///
    /// # Errors
    /// [`CacheError`] when the URL is invalid or the server cannot be
    /// reached within [`TIMEOUT`]; the message names the URL, its password
    /// redacted.
    pub fn connect(url: &str) -> Result<Self, CacheError> {
        Self::connect_with(url, &RedisOptions::default())
    }

    /// [`RedisCache::connect`] with a CA file for `rediss://` and a lease
    /// of in-flight entries.
    ///
    /// # Errors
    /// As [`RedisCache::connect`], and when the CA file cannot be read.
    pub fn connect_with(url: &str, opts: &RedisOptions) -> Result<Self, CacheError> {
        let shown = redact_url(url);
        let client = crate::redis_client::client(url, &shown, opts).map_err(error)?;
        let cache = Self {
            client,
            url: shown,
            idle: Mutex::new(Vec::new()),
            release: Script::new(RELEASE_LUA),
            lease: opts.lease,
        };
        let mut con = cache.open()?;
        redis::cmd("PING")
            .exec(&mut con)
            .map_err(|e| cache.unreachable(&e))?;
        cache.put_back(con);
        Ok(cache)
    }

    /// The server's URL with any password replaced by `***`.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn put_back(&self, con: Connection) {
        let mut idle = self.idle();
        if idle.len() < MAX_IDLE {
            idle.push(con);
        }
    }

    /// A new connection with read and write timeouts.
    fn open(&self) -> Result<Connection, CacheError> {
        self.client
            .get_connection_with_timeout(TIMEOUT)
            .and_then(|con| {
                con.set_read_timeout(Some(TIMEOUT))?;
                con.set_write_timeout(Some(TIMEOUT))?;
                Ok(con)
            })
            .map_err(|e| self.unreachable(&e))
    }

    fn unreachable(&self, e: &RedisError) -> CacheError {
        error(format!("cannot reach Redis at {}: {e}", self.url))
    }

    /// Runs `f` on a pooled connection (or a new one). A pooled connection
    /// the server has closed (Redis restarted, idle clients killed) gets one
    /// retry on a fresh connection; a connection that failed mid-exchange is
    /// dropped, never returned to the pool.
    fn run<T>(
        &self,
        command: &str,
        key: &str,
        f: impl Fn(&mut Connection) -> RedisResult<T>,
    ) -> Result<T, CacheError> {
        let pooled = self.idle().pop();
        let from_pool = pooled.is_some();
        let mut con = match pooled {
            Some(con) => con,
            None => self.open()?,
        };
        let mut result = f(&mut con);
        if from_pool && matches!(&result, Err(e) if e.is_connection_dropped()) {
            // the other idle connections are most likely dead too
            drop(std::mem::take(&mut *self.idle()));
            con = self.open()?;
            result = f(&mut con);
        }
        match result {
            Ok(value) => {
                self.put_back(con);
                Ok(value)
            }
            Err(e) => {
                if in_sync(&e) && con.is_open() {
                    self.put_back(con);
                }
                Err(error(format!(
                    "{command} {key} failed at {}: {e}",
                    self.url
                )))
            }
        }
    }
}

impl ProgressCache for RedisCache {
    fn backend(&self) -> &'static str {
        "redis"
    }

    fn put(&self, snap: &RunSnapshot, ttl: Option<Duration>) -> Result<(), CacheError> {
        let key = run_key(&snap.id);
        let json = serde_json::to_vec(snap).map_err(|e| {
            error(format!(
                "cannot encode the snapshot of run {}: {e}",
                snap.id
            ))
        })?;
        // in flight: the lease, renewed by every put (see the module doc)
        let ttl = ttl.unwrap_or_else(|| self.lease.saturating_add(LAPSED_KEPT));
        let mut cmd = redis::cmd("SET");
        cmd.arg(&key).arg(json).arg("PX").arg(ttl_ms(ttl));
        self.run("SET", &key, |con| cmd.exec(con))
    }

    fn get(&self, id: &str) -> Result<Option<RunSnapshot>, CacheError> {
        let key = run_key(id);
        let (raw, pttl): (Option<Vec<u8>>, i64) = self.run("GET", &key, |con| {
            redis::pipe()
                .cmd("GET")
                .arg(&key)
                .cmd("PTTL")
                .arg(&key)
                .query(con)
        })?;
        let Some(json) = raw else {
            return Ok(None);
        };
        let mut snap: RunSnapshot = serde_json::from_slice(&json)
            .map_err(|e| error(format!("{key} at {} holds no run snapshot: {e}", self.url)))?;
        if lapsed(&snap, pttl) {
            snap.status = RunStatus::Failed;
            snap.error_message = Some(format!(
                "the server running this run stopped: its progress was not renewed for {} s (the process was killed or lost Redis); resubmit it",
                self.lease.as_secs()
            ));
        }
        Ok(Some(snap))
    }

    fn claim(&self, run_key: &str, id: &str) -> Result<Option<String>, CacheError> {
        let key = claim_key(run_key);
        for _ in 0..CLAIM_ATTEMPTS {
            // one round trip: the GET only matters when the SET did nothing
            let (set, holder): (Value, Option<String>) = self.run("SET NX", &key, |con| {
                redis::pipe()
                    .cmd("SET")
                    .arg(&key)
                    .arg(id)
                    .arg("NX")
                    .cmd("GET")
                    .arg(&key)
                    .query(con)
            })?;
            if set != Value::Nil {
                return Ok(None);
            }
            if holder.is_some() {
                return Ok(holder);
            }
            // the holder released the key between SET and GET: try again
        }
        Err(error(format!(
            "cannot claim {key} at {}: its holder kept changing",
            self.url
        )))
    }

    fn release(&self, run_key: &str, id: &str) -> Result<(), CacheError> {
        let key = claim_key(run_key);
        self.run("release", &key, |con| {
            self.release.key(&key).arg(id).invoke::<i64>(con)
        })
        .map(drop)
    }
}

fn run_key(id: &str) -> String {
    format!("atf:run:{id}")
}

fn claim_key(run_key: &str) -> String {
    format!("atf:key:{run_key}")
}

fn error(reason: String) -> CacheError {
    CacheError {
        backend: "redis",
        reason,
    }
}

/// Whether an entry with `pttl` ms to live is an in-flight run whose
/// lease ran out: nothing renewed it for [`RedisOptions::lease`].
fn lapsed(snap: &RunSnapshot, pttl: i64) -> bool {
    !snap.status.is_terminal()
        && pttl >= 0
        && u64::try_from(pttl).is_ok_and(|ms| ms <= ttl_ms(LAPSED_KEPT))
}

/// `PX` wants a positive whole number of milliseconds.
fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Whether the connection is still usable after `e`: the server answered
/// (with an error, or with a value of the wrong type), so no reply is left
/// pending. Anything else (I/O errors, timeouts, garbled replies) may
/// leave a late reply in the socket, so the connection is dropped.
fn in_sync(e: &RedisError) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Server(_) | ErrorKind::Extension | ErrorKind::UnexpectedReturnType
    )
}

/// `url` with the password (or a lone user-info part, which Redis clients
/// may take for a password) replaced by `***`, and the value of a `pass` or
/// `password` query parameter too: `redis://:***@host:6379`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let (scheme, rest) = url.split_at(scheme_end + 3);
    let mut out = String::with_capacity(url.len() + 3);
    out.push_str(scheme);
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    match before_query.rfind('@') {
        Some(at) if !scheme.contains("unix") => {
            let userinfo = &before_query[..at];
            if let Some(colon) = userinfo.find(':') {
                out.push_str(&userinfo[..=colon]);
            }
            out.push_str("***");
            out.push_str(&before_query[at..]);
        }
        _ => out.push_str(before_query),
    }
    if let Some(query) = query {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((name, _))
                    if name.eq_ignore_ascii_case("pass")
                        || name.eq_ignore_ascii_case("password") =>
                {
                    out.push_str(name);
                    out.push_str("=***");
                }
                _ => out.push_str(pair),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::contract;
    use atf_testkit::redis::RedisServer;
    use atf_testkit::wait::PATIENCE;
    use std::sync::Arc;

    /// A port nothing listens on (bound then released).
    fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    fn raw(server: &RedisServer) -> Connection {
        redis::Client::open(server.url.as_str())
            .unwrap()
            .get_connection()
            .unwrap()
    }

    #[test]
    fn redis_cache_keeps_the_contract() {
        let server = RedisServer::start();
        let cache = RedisCache::connect(&server.url).unwrap();
        assert_eq!(cache.backend(), "redis");
        assert_eq!(cache.url(), server.url);
        contract::check(&cache, "redis");
    }

    #[test]
    fn redis_keys_are_namespaced_and_in_flight_entries_hold_a_lease() {
        let server = RedisServer::start();
        let cache = RedisCache::connect(&server.url).unwrap();
        let mut con = raw(&server);
        let s = contract::snapshot("ns");
        // Redis expires entries itself: what we check is the TTL it is given
        cache.put(&s, Some(Duration::from_secs(60))).unwrap();
        let pttl: i64 = redis::cmd("PTTL")
            .arg("atf:run:ns")
            .query(&mut con)
            .unwrap();
        assert!(
            (50_001..=60_000).contains(&pttl),
            "terminal entry has its TTL, got {pttl}"
        );
        cache.put(&s, Some(Duration::from_micros(10))).unwrap();
        let pttl: i64 = redis::cmd("PTTL")
            .arg("atf:run:ns")
            .query(&mut con)
            .unwrap();
        assert!(
            pttl == 1 || pttl == -2,
            "a TTL under a millisecond is one (or already over), got {pttl}"
        );
        cache.put(&s, Some(Duration::from_secs(60))).unwrap();
        cache.put(&s, None).unwrap();
        let pttl: i64 = redis::cmd("PTTL")
            .arg("atf:run:ns")
            .query(&mut con)
            .unwrap();
        let kept = ttl_ms(LAPSED_KEPT) as i64;
        let lease = ttl_ms(crate::redis_client::DEFAULT_LEASE) as i64;
        assert!(
            pttl > kept && pttl <= kept + lease,
            "an in-flight put replaces a previous expiry with the lease, got {pttl}"
        );
        let json: String = redis::cmd("GET").arg("atf:run:ns").query(&mut con).unwrap();
        assert_eq!(serde_json::from_str::<RunSnapshot>(&json).unwrap(), s);

        assert_eq!(cache.claim("rk", "a").unwrap(), None);
        let holder: String = redis::cmd("GET").arg("atf:key:rk").query(&mut con).unwrap();
        assert_eq!(holder, "a");
        cache.release("rk", "a").unwrap();
        let exists: i64 = redis::cmd("EXISTS")
            .arg("atf:key:rk")
            .query(&mut con)
            .unwrap();
        assert_eq!(exists, 0);

        redis::cmd("SET")
            .arg("atf:run:junk")
            .arg("not json")
            .exec(&mut con)
            .unwrap();
        let err = cache.get("junk").unwrap_err().to_string();
        assert!(err.contains("atf:run:junk"), "{err}");
    }

    #[test]
    fn an_in_flight_run_whose_lease_lapsed_reads_failed_until_renewed() {
        let server = RedisServer::start();
        let opts = RedisOptions {
            lease: Duration::from_secs(7),
            ..RedisOptions::default()
        };
        let cache = RedisCache::connect_with(&server.url, &opts).unwrap();
        let s = contract::snapshot("crashed");
        cache.put(&s, None).unwrap();
        assert_eq!(
            cache.get("crashed").unwrap().unwrap(),
            s,
            "within its lease"
        );
        // what 7 s without a put leaves (set by hand rather than waited for)
        let kept = ttl_ms(LAPSED_KEPT);
        redis::cmd("PEXPIRE")
            .arg("atf:run:crashed")
            .arg(kept)
            .exec(&mut raw(&server))
            .unwrap();
        let read = cache.get("crashed").unwrap().unwrap();
        assert_eq!(read.status, RunStatus::Failed);
        let msg = read.error_message.unwrap();
        assert!(
            msg.contains("the server running this run stopped") && msg.contains("7 s"),
            "{msg}"
        );
        assert_eq!((read.completed, read.id.as_str()), (s.completed, "crashed"));
        // a live server's next publish renews it
        cache.put(&s, None).unwrap();
        assert_eq!(
            cache.get("crashed").unwrap().unwrap().status,
            RunStatus::Running
        );
        // a terminal entry near its end is just terminal
        let mut done = contract::snapshot("done");
        done.status = RunStatus::Completed;
        cache.put(&done, Some(Duration::from_secs(5))).unwrap();
        assert_eq!(cache.get("done").unwrap().unwrap(), done);
    }

    #[test]
    fn a_ca_file_needs_rediss_and_must_be_readable() {
        let opts = |ca: &str| RedisOptions {
            ca_file: Some(ca.into()),
            ..RedisOptions::default()
        };
        let msg = RedisCache::connect_with("redis://127.0.0.1:1", &opts("/etc/hostname"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("is not a rediss:// URL"), "{msg}");
        let msg =
            RedisCache::connect_with("rediss://:pw@127.0.0.1:1", &opts("/nonexistent/ca.pem"))
                .unwrap_err()
                .to_string();
        assert!(
            msg.contains("cannot read the Redis CA file /nonexistent/ca.pem"),
            "{msg}"
        );
    }

    #[test]
    fn redis_connect_to_a_closed_port_fails_naming_the_url() {
        let url = format!("redis://127.0.0.1:{}", closed_port());
        let err = RedisCache::connect(&url).unwrap_err();
        assert_eq!(err.backend, "redis");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("cannot reach Redis at {url}: ")),
            "{msg}"
        );
    }

    #[test]
    fn redis_connect_to_a_server_that_never_answers_gives_up() {
        // accepts connections (the kernel does) but never says a word
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("redis://{}", silent.local_addr().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        let connecting = url.clone();
        std::thread::spawn(move || tx.send(RedisCache::connect(&connecting).map(drop)));
        // a liveness bound: without timeouts this would wait for ever
        let answer = rx
            .recv_timeout(PATIENCE)
            .expect("connect gave up (its timeouts are applied)");
        let msg = answer.unwrap_err().to_string();
        assert!(msg.contains(&url), "{msg}");
        drop(silent);
    }

    #[test]
    fn redis_url_password_is_redacted_in_errors() {
        let port = closed_port();
        for (url, shown) in [
            (
                format!("redis://:hunter2@127.0.0.1:{port}"),
                format!("redis://:***@127.0.0.1:{port}"),
            ),
            (
                format!("redis://atf:hunter2@127.0.0.1:{port}/2"),
                format!("redis://atf:***@127.0.0.1:{port}/2"),
            ),
        ] {
            let msg = RedisCache::connect(&url).unwrap_err().to_string();
            assert!(!msg.contains("hunter2"), "{msg}");
            assert!(msg.contains(&shown), "{msg}");
        }
        assert_eq!(
            redact_url("redis://127.0.0.1:6379/0"),
            "redis://127.0.0.1:6379/0"
        );
        assert_eq!(redact_url("redis://hunter2@host"), "redis://***@host");
        assert_eq!(
            redact_url("rediss://u:p@ss@host:1"),
            "rediss://u:***@host:1"
        );
        assert_eq!(
            redact_url("redis+unix:///run/redis.sock?db=1&pass=hunter2"),
            "redis+unix:///run/redis.sock?db=1&pass=***"
        );
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn redis_cache_serves_concurrent_callers() {
        let server = RedisServer::start();
        let cache = Arc::new(RedisCache::connect(&server.url).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let cache = Arc::clone(&cache);
                std::thread::spawn(move || {
                    let mut s = contract::snapshot(&format!("conc-{t}"));
                    for i in 0..200 {
                        s.completed = i;
                        cache.put(&s, None).unwrap();
                        assert_eq!(cache.get(&s.id).unwrap().as_ref(), Some(&s));
                        // everyone also reads the others' entries
                        let _ = cache.get(&format!("conc-{}", (t + 1) % 8)).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(cache.idle().len() <= MAX_IDLE);

        // many claimants of one key at once: exactly one wins, all see it
        let results: Vec<_> = (0..8)
            .map(|t| {
                let cache = Arc::clone(&cache);
                std::thread::spawn(move || (t, cache.claim("contested", &format!("c{t}")).unwrap()))
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        let winners: Vec<_> = results.iter().filter(|(_, h)| h.is_none()).collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        let winner = format!("c{}", winners[0].0);
        for (_, holder) in &results {
            assert!(
                holder.is_none() || holder.as_deref() == Some(winner.as_str()),
                "{results:?}"
            );
        }
    }

    #[test]
    fn redis_cache_replaces_connections_the_server_closed() {
        let server = RedisServer::start();
        let cache = RedisCache::connect(&server.url).unwrap();
        cache.put(&contract::snapshot("killed"), None).unwrap();
        let killed: i64 = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("normal")
            .query(&mut raw(&server))
            .unwrap();
        assert!(killed >= 1);
        assert_eq!(cache.get("killed").unwrap().unwrap().id, "killed");
    }

    #[test]
    fn redis_cache_fails_once_redis_is_gone() {
        let server = RedisServer::start();
        let cache = RedisCache::connect(&server.url).unwrap();
        cache.put(&contract::snapshot("gone"), None).unwrap();
        let url = server.url.clone();
        drop(server);
        let err = cache.get("gone").unwrap_err().to_string();
        assert!(err.contains(&url), "{err}");
    }
}
