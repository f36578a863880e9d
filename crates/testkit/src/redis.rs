//! A throwaway `redis-server` on a free local port, without persistence,
//! killed (and its directory removed) when dropped.
//!
//! Tests needing Redis fail when `redis-server` is missing; they never
//! skip (`scripts/test.sh` installs it).

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a starting server has to answer `PING` (a liveness bound).
const READY_WITHIN: Duration = Duration::from_secs(30);

/// Ports tried before giving up (another process may take a free port
/// between our probe and the server's bind).
const PORT_ATTEMPTS: usize = 3;

/// A `redis-server` child process without persistence, listening on
/// 127.0.0.1; killed, and its directory removed, on drop.
#[derive(Debug)]
pub struct RedisServer {
    /// `redis://127.0.0.1:{port}`.
    pub url: String,
    /// The TCP port it listens on.
    pub port: u16,
    /// `rediss://127.0.0.1:{tls port}` when started with
    /// [`RedisServer::start_tls`].
    pub tls_url: Option<String>,
    child: Child,
    dir: PathBuf,
    /// Arguments besides port, bind and persistence (TLS).
    extra: Vec<String>,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers `PING`.
    ///
    /// # Panics
    /// When `redis-server` is not installed, or does not start and answer
    /// within 30 s (the message quotes its log).
    #[must_use]
    pub fn start() -> Self {
        Self::start_with(Vec::new(), None)
    }

    /// [`RedisServer::start`], also listening for TLS on another free port
    /// ([`RedisServer::tls_url`]) with the PEM files `cert` and `key`
    /// (signed by `ca`); clients need no certificate of their own.
    ///
    /// # Panics
    /// As [`RedisServer::start`] (and when this `redis-server` was built
    /// without TLS).
    #[must_use]
    pub fn start_tls(cert: &std::path::Path, key: &std::path::Path, ca: &std::path::Path) -> Self {
        let tls_port = free_port();
        let path = |p: &std::path::Path| p.display().to_string();
        let extra = vec![
            "--tls-port".into(),
            tls_port.to_string(),
            "--tls-cert-file".into(),
            path(cert),
            "--tls-key-file".into(),
            path(key),
            "--tls-ca-cert-file".into(),
            path(ca),
            "--tls-auth-clients".into(),
            "no".into(),
        ];
        Self::start_with(extra, Some(format!("rediss://127.0.0.1:{tls_port}")))
    }

    fn start_with(extra: Vec<String>, tls_url: Option<String>) -> Self {
        let dir = unique_dir();
        let mut failures = Vec::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let log_path = dir.join(format!("redis-{port}.log"));
            let log = File::create(&log_path)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display()));
            let log_err = log
                .try_clone()
                .unwrap_or_else(|e| panic!("cannot clone {}: {e}", log_path.display()));
            let spawned = spawn(port, &dir, &extra, log, log_err);
            let mut child = match spawned {
                Ok(child) => child,
                Err(e) => {
                    let _ = fs::remove_dir_all(&dir);
                    if e.kind() == std::io::ErrorKind::NotFound {
                        panic!("redis-server not found: install Debian's redis-server (scripts/test.sh does)");
                    }
                    panic!("cannot start redis-server: {e}");
                }
            };
            match wait_ready(&mut child, port) {
                Ok(()) => {
                    return Self {
                        url: format!("redis://127.0.0.1:{port}"),
                        port,
                        tls_url,
                        child,
                        dir,
                        extra,
                    }
                }
                Err(why) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = fs::read_to_string(&log_path).unwrap_or_default();
                    failures.push(format!("port {port}: {why}; its log:\n{log}"));
                }
            }
        }
        let _ = fs::remove_dir_all(&dir);
        panic!("redis-server did not start:\n{}", failures.join("\n"));
    }
}

impl RedisServer {
    /// Kills the server (`SIGKILL`) and starts a new one on the same port:
    /// without persistence it comes back empty, as a crashed Redis would.
    ///
    /// # Panics
    /// When it does not come back within 30 s.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let log_path = self.dir.join(format!("redis-{}-restart.log", self.port));
        let log = File::create(&log_path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display()));
        let log_err = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot clone {}: {e}", log_path.display()));
        self.child = spawn(self.port, &self.dir, &self.extra, log, log_err)
            .unwrap_or_else(|e| panic!("cannot restart redis-server: {e}"));
        if let Err(why) = wait_ready(&mut self.child, self.port) {
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            panic!("redis-server did not restart: {why}; its log:\n{log}");
        }
    }

    /// Empties every database (`FLUSHALL`), as an operator might.
    ///
    /// # Panics
    /// When the server does not answer `+OK`.
    pub fn flush_all(&self) {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("cannot reach {}: {e}", self.url));
        let mut reply = [0_u8; 5];
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .and_then(|()| stream.write_all(b"FLUSHALL\r\n"))
            .and_then(|()| stream.read_exact(&mut reply))
            .unwrap_or_else(|e| panic!("FLUSHALL at {}: {e}", self.url));
        assert_eq!(&reply, b"+OK\r\n", "FLUSHALL at {}", self.url);
    }
}

/// `redis-server` on `port` without persistence, its files in `dir`.
fn spawn(
    port: u16,
    dir: &std::path::Path,
    extra: &[String],
    log: File,
    log_err: File,
) -> std::io::Result<Child> {
    Command::new("redis-server")
        .args(["--port", &port.to_string()])
        .args(["--bind", "127.0.0.1"])
        .args(["--save", ""])
        .args(["--appendonly", "no"])
        .arg("--dir")
        .arg(dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A port nobody listened on a moment ago.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|e| panic!("cannot find a free port: {e}"))
}

/// A new empty directory under the system's temporary directory.
fn unique_dir() -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!(
        "atf-redis-{}-{}-{nanos}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// Waits until the server on `port` answers `PING`, or says why not.
fn wait_ready(child: &mut Child, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Err(format!("redis-server exited ({status})")),
            Ok(None) => {}
            Err(e) => return Err(format!("cannot check on redis-server: {e}")),
        }
        if pong(port) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("no PONG within {READY_WITHIN:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether something on `port` answers `PING` with `+PONG`.
fn pong(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let mut reply = [0_u8; 7];
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .is_ok()
        && stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && reply == *b"+PONG\r\n"
}
