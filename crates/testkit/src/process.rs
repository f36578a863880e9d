//! `atf` processes for end-to-end tests (`serve`, `worker`, any build of
//! the binary), killed when dropped so a failing test leaves none behind.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

/// The environment variables through which a user's own settings would
/// leak into a test's `atf` (a server, a token, a Redis).
const USER_ENV: [&str; 4] = ["ATF_SERVER", "ATF_API_TOKEN", "ATF_REDIS_URL", "ATF_BIND"];

/// `exe` with none of the user's `ATF_*` settings, stdin closed, stdout
/// discarded, and stderr in the file `log` (or discarded).
///
/// # Panics
/// When `log` cannot be created.
#[must_use]
pub fn command(exe: &Path, log: Option<&Path>) -> Command {
    let mut cmd = Command::new(exe);
    for var in USER_ENV {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    match log {
        Some(path) => cmd.stderr(
            File::create(path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display())),
        ),
        None => cmd.stderr(Stdio::null()),
    };
    cmd
}

/// A child process, killed and reaped when dropped.
#[derive(Debug)]
pub struct Proc {
    child: Child,
    log: Option<PathBuf>,
    /// Held open: a process writing to a closed pipe would fail.
    _stdout: Option<BufReader<ChildStdout>>,
}

impl Proc {
    /// Spawns `cmd`; `log` is where its stderr goes (for [`Proc::log`]).
    ///
    /// # Panics
    /// When it cannot start.
    #[must_use]
    pub fn spawn(cmd: &mut Command, log: Option<&Path>) -> Self {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        Self {
            child,
            log: log.map(Path::to_owned),
            _stdout: None,
        }
    }

    /// Its stderr so far (empty without a log file), for failure messages.
    #[must_use]
    pub fn log(&self) -> String {
        self.log
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    }

    /// The last `n` lines of [`Proc::log`].
    #[must_use]
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Its process id.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends it SIGTERM (what service managers and `kill` send: it may
    /// clean up).
    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// Sends it SIGINT (what Ctrl-C in its terminal would send).
    pub fn interrupt(&self) {
        self.signal("INT");
    }

    /// Sends it signal `name` (`TERM`, `INT`, …) through the system's
    /// `kill`.
    ///
    /// # Panics
    /// When `kill` cannot be run or fails.
    pub fn signal(&self, name: &str) {
        let st = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("runs kill");
        assert!(st.success(), "kill -{name} {} failed", self.child.id());
    }

    /// Waits until it has exited, `bound` at most (a liveness bound, not
    /// a timing); how it exited.
    ///
    /// # Panics
    /// When it is still running after `bound` (the message quotes its log).
    pub fn wait_exit(&mut self, bound: std::time::Duration) -> std::process::ExitStatus {
        crate::wait::eventually(bound, || match self.child.try_wait() {
            Ok(Some(st)) => Ok(st),
            Ok(None) => Err(format!("still running:\n{}", self.log_tail(20))),
            Err(e) => Err(e.to_string()),
        })
    }

    /// Kills it (SIGKILL: no chance to clean up) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `cmd` — an `… serve --bind 127.0.0.1:0 …` — and reads the first
/// line it prints (`atf serve: listening on http://127.0.0.1:PORT (…)`);
/// the process and its URL.
///
/// # Panics
/// When it does not start or does not say where it listens (the message
/// quotes its log).
#[must_use]
pub fn serve(cmd: &mut Command, log: Option<&Path>) -> (Proc, String) {
    let mut proc = Proc::spawn(cmd.stdout(Stdio::piped()), log);
    let mut stdout = BufReader::new(proc.child.stdout.take().expect("stdout is piped"));
    let mut line = String::new();
    let _ = stdout.read_line(&mut line);
    proc._stdout = Some(stdout);
    let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) else {
        proc.kill();
        panic!(
            "{cmd:?} did not say where it listens: {line:?}\n{}",
            proc.log()
        );
    };
    (proc, url.to_owned())
}
