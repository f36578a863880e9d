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
    child: Child,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers `PING`.
    ///
    /// # Panics
    /// When `redis-server` is not installed, or does not start and answer
    /// within 30 s (the message quotes its log).
    #[must_use]
    pub fn start() -> Self {
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
            let spawned = Command::new("redis-server")
                .args(["--port", &port.to_string()])
                .args(["--bind", "127.0.0.1"])
                .args(["--save", ""])
                .args(["--appendonly", "no"])
                .arg("--dir")
                .arg(&dir)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log_err)
                .spawn();
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
                        child,
                        dir,
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
