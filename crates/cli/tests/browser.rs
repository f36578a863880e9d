//! Browser tests of the dashboard (DESIGN §7): a real `atf serve` on a free
//! loopback port over a temporary data directory, driven by
//! `tests/browser/dashboard.mjs` (playwright-core in Debian's headless
//! chromium): submit a backtest from the form and read its report and
//! charts, watch and cancel an optimization, submit a walk-forward and read
//! its criteria marks, folds and charts, watch and cancel another, read a
//! failed run's stack trace, see validation errors next to their fields
//! (a walk-forward's windows too), polling when the
//! event stream fails, the runs list, datasets, a phone-width layout,
//! keyboard access, a server that requires a token (asked for once, kept,
//! sent to the event stream too), and no console errors. Screenshots go to
//! `target/screenshots/`.
//!
//! Never skipped: without node, chromium or the test's `node_modules` it
//! fails and says what to install (`scripts/test.sh` installs all three).

mod common;

use atf_testkit::process::{self, Proc};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The token of the second server, which requires one.
const TOKEN: &str = "dashboard-test-token";

/// Longest the whole browser run may take.
const TIMEOUT: Duration = Duration::from_secs(300);

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn chromium() -> PathBuf {
    std::env::var_os("ATF_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// `target/screenshots` (beside the profile folder that holds `atf`).
fn screenshot_dir() -> PathBuf {
    let exe = common::exe();
    exe.parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .expect("atf lives in target/<profile>/")
        .join("screenshots")
}

/// What is missing to run the browser tests, each with how to get it.
fn missing() -> Vec<String> {
    let mut missing = Vec::new();
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        missing.push("node (Node.js 20 or later) is not on PATH".to_owned());
    }
    if !chromium().is_file() {
        missing.push(format!(
            "chromium is not at {} (Debian: apt-get install chromium, or set ATF_CHROMIUM)",
            chromium().display()
        ));
    }
    if !browser_dir()
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        missing.push(
            "playwright-core is not installed: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix crates/cli/tests/browser"
                .to_owned(),
        );
    }
    missing
}

/// A running `atf serve` over a data directory of its own, killed on drop.
struct Server {
    url: String,
    proc: Proc,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts `atf serve` with `extra` arguments (e.g. `--api-token T`).
    fn start(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("serve.log");
        let mut cmd = process::command(&common::exe(), Some(&log));
        cmd.args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--threads",
            "1",
            "--data-dir",
        ])
        .arg(dir.path())
        .args(extra)
        .env("ATF_LOG", "warn");
        let (proc, url) = process::serve(&mut cmd, Some(&log));
        Self {
            url,
            proc,
            _dir: dir,
        }
    }

    /// The end of the server's log, for a failure message.
    fn log_tail(&self) -> String {
        self.proc.log_tail(30)
    }
}

#[test]
fn dashboard_in_headless_chromium() {
    let missing = missing();
    assert!(
        missing.is_empty(),
        "the dashboard's browser tests cannot run{} (they are never skipped):\n  - {}\n\
         bash scripts/test.sh installs all of it",
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            " in CI"
        } else {
            ""
        },
        missing.join("\n  - ")
    );
    let server = Server::start(&[]);
    let guarded = Server::start(&["--api-token", TOKEN]);
    let shots = screenshot_dir();
    let out_dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (out_dir.path().join("out"), out_dir.path().join("err"));
    let mut node = Command::new("node")
        .arg(browser_dir().join("dashboard.mjs"))
        .arg(&server.url)
        .arg(&shots)
        .arg(&guarded.url)
        .arg(TOKEN)
        .current_dir(browser_dir())
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .env("ATF_CHROMIUM", chromium())
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .expect("starts node");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = node.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > TIMEOUT {
            let _ = node.kill();
            let _ = node.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = std::fs::read_to_string(&out_path).unwrap_or_default();
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    println!("{out}");
    assert!(
        status.is_some_and(|s| s.success()),
        "the dashboard's browser tests {} (screenshots in {}):\n{out}\n{err}\n\
         --- atf serve log (last lines) ---\n{}",
        if status.is_none() {
            format!("took longer than {TIMEOUT:?}")
        } else {
            "failed".to_owned()
        },
        shots.display(),
        server.log_tail()
    );
}
