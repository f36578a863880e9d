//! Helpers shared by the end-to-end tests: run the `atf` binary in a data
//! directory and check how it ended.
#![allow(dead_code, reason = "each test file uses a different subset")]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary the end-to-end tests run: `atf-extras`, our `atf` plus the
/// scaffold's `rsi-dip` and the test-only `fault-injection` (the example
/// of the `atf` crate, built by `cargo test --workspace` beside `atf`).
///
/// # Panics
/// If it was not built (`cargo test -p atf-cli` alone does not build it).
pub fn exe() -> PathBuf {
    let atf = Path::new(env!("CARGO_BIN_EXE_atf"));
    let extras = atf
        .parent()
        .expect("atf lives in target/<profile>/")
        .join("examples/atf-extras");
    assert!(
        extras.is_file(),
        "{} is missing: run the tests with `cargo test --workspace` (or build it: cargo build -p atf --examples --profile <the same>)",
        extras.display()
    );
    extras
}

/// Runs `atf --data-dir DIR ARGS…` (locally: a user's `ATF_SERVER` is not
/// inherited).
pub fn atf(dir: &Path, args: &[&str]) -> Output {
    Command::new(exe())
        .env_remove("ATF_SERVER")
        .env_remove("ATF_API_TOKEN")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("runs atf")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs atf and asserts exit 0; returns stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = atf(dir, args);
    assert!(
        out.status.success(),
        "atf {args:?} exited {:?}: {}",
        out.status.code(),
        stderr(&out)
    );
    stdout(&out)
}

/// Runs atf and asserts exit 2 with exactly one `error: …` line on stderr
/// and nothing on stdout; returns that line.
pub fn usage_error(dir: &Path, args: &[&str]) -> String {
    let out = atf(dir, args);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "atf {args:?} should exit 2; stderr: {err}"
    );
    assert_eq!(
        err.lines().count(),
        1,
        "atf {args:?}: stderr should be one line, got:\n{err}"
    );
    assert!(err.ends_with('\n'), "atf {args:?}: {err:?}");
    assert!(
        err.starts_with("error: "),
        "atf {args:?}: stderr should start with 'error: ': {err}"
    );
    assert!(
        out.stdout.is_empty(),
        "atf {args:?}: nothing expected on stdout, got {}",
        stdout(&out)
    );
    err.trim_end().to_owned()
}

pub fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Runs `atf --data-dir DIR ARGS` on a pseudo-terminal (util-linux
/// `script`), as a user at a terminal would; returns exit status and the
/// terminal's text.
pub fn on_terminal(dir: &Path, args: &str) -> (std::process::ExitStatus, String) {
    let cmd = format!(
        "'{}' --data-dir '{}' {args}",
        exe().display(),
        dir.display()
    );
    let out = Command::new("script")
        .env_remove("ATF_SERVER")
        .env_remove("ATF_API_TOKEN")
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .expect("runs `script` from util-linux (needed for a pty)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
    (out.status, text)
}
