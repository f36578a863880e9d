//! A user's own crate, end to end (issue 13): `atf new` writes it, a second
//! strategy is added to it the way its README says, it builds against this
//! checkout, its unit tests pass, and its binary is a complete atf —
//! `backtest` and `optimize` give exactly what the same strategy compiled
//! into our workspace (`atf-extras`) gives, `serve` lists its strategies
//! with their parameter spaces and runs them over HTTP, a `worker` of the
//! same build shares an optimization through Redis — and changing the
//! strategy's code (not its VERSION) changes its run key, so the server
//! never serves the old code's result.
//!
//! The crate is built in this workspace's target directory with the same
//! profile as the tests, so only our crates and the user's are compiled.

mod common;

use atf_testkit::http::Api;
use atf_testkit::process::{self, Proc};
use atf_testkit::redis::RedisServer;
use common::{exe, json};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A second strategy, as a user would add it: a Donchian breakout from the
/// provided indicators.
const BREAKOUT: &str = r#"use atf::prelude::*;

#[derive(Debug, Clone, Params)]
pub struct BreakoutParams {
    /// Channel length in bars
    #[param(default = 20, min = 2, max = 500)]
    pub n: usize,
}

/// Long on a close above the previous bar's channel, flat below its middle.
pub struct Breakout {
    channel: Bands,
}

impl Strategy for Breakout {
    const NAME: &'static str = "breakout";
    type Params = BreakoutParams;

    fn new(p: BreakoutParams, ind: &Indicators<'_>) -> Result<Self, ParamError> {
        Ok(Self { channel: ind.donchian(p.n) })
    }

    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StrategyError> {
        let i = ctx.index();
        let (Some(hi), Some(mid)) = (self.channel.upper.get(i.saturating_sub(1)), self.channel.middle.get(i)) else {
            return Ok(());
        };
        let close = ctx.close() as f64;
        if i > 0 && close > hi && ctx.is_flat() {
            ctx.buy();
        } else if close < mid && ctx.is_long() {
            ctx.close_position();
        }
        Ok(())
    }
}
"#;

/// The profile folder the tests run from (`target/ci`) and its profile.
fn profile() -> (PathBuf, String) {
    let atf = Path::new(env!("CARGO_BIN_EXE_atf"));
    let dir = atf.parent().unwrap().to_owned();
    let name = dir.file_name().unwrap().to_str().unwrap();
    let profile = match name {
        "debug" => "dev",
        other => other,
    }
    .to_owned();
    (dir, profile)
}

fn run_ok(cmd: &mut Command, what: &str) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} exited {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `cargo build` (or `test`) of the user's crate into our target folder.
fn cargo(krate: &Path, verb: &str) -> Output {
    let (dir, profile) = profile();
    let target = dir.parent().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run_ok(
        Command::new(cargo)
            .current_dir(krate)
            .env("CARGO_TARGET_DIR", target)
            .args([verb, "--profile", &profile]),
        &format!("cargo {verb} in {}", krate.display()),
    )
}

/// Runs a binary with `--data-dir`, asserting success; stdout.
fn bin(exe: &Path, data: &Path, args: &[&str]) -> String {
    let out = run_ok(
        Command::new(exe)
            .env_remove("ATF_SERVER")
            .env_remove("ATF_API_TOKEN")
            .arg("--data-dir")
            .arg(data)
            .args(args),
        &format!("{} {args:?}", exe.display()),
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A backtest's JSON without the timing fields.
fn comparable(mut v: Value) -> Value {
    if let Some(m) = v["metrics"].as_object_mut() {
        m.remove("wallTimeMs");
        m.remove("subBarsPerSecond");
    }
    v
}

/// `exe serve` on a free port, 2 threads; the process and a client of it.
fn serve(exe: &Path, data: &Path, extra: &[&str]) -> (Proc, Api) {
    let mut cmd = process::command(exe, None);
    cmd.args([
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--threads",
        "2",
        "--data-dir",
    ])
    .arg(data)
    .args(extra);
    let (proc, url) = process::serve(&mut cmd, None);
    (proc, Api::new(url))
}

/// Submits a run (`kind`: `backtests` or `optimizations`); its answer.
fn submit(api: &Api, kind: &str, body: &Value) -> Value {
    let (code, sub) = api.post(&format!("/api/{kind}"), body);
    assert_eq!(code, 202, "{sub}");
    sub
}

/// Waits for run `sub` to end; its final status.
fn ended(api: &Api, kind: &str, sub: &Value) -> Value {
    api.wait_terminal(kind, sub["id"].as_str().unwrap())
}

#[test]
fn a_scaffolded_crate_is_a_complete_atf_with_its_own_strategies() {
    let tmp = tempfile::tempdir().unwrap();
    let krate = tmp.path().join("my-strategies");

    // atf new, then a second strategy added as the crate's README says
    let out = run_ok(
        Command::new(env!("CARGO_BIN_EXE_atf"))
            .arg("new")
            .arg(&krate),
        "atf new",
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("rsi-dip"));
    std::fs::write(krate.join("src/breakout.rs"), BREAKOUT).unwrap();
    let main = std::fs::read_to_string(krate.join("src/main.rs")).unwrap();
    let main = main
        .replace("mod rsi_dip;", "mod breakout;\nmod rsi_dip;")
        .replace(
            ".with::<rsi_dip::RsiDip>()",
            ".with::<rsi_dip::RsiDip>().with::<breakout::Breakout>()",
        );
    std::fs::write(krate.join("src/main.rs"), main).unwrap();
    // the tests' profile, so that the dependencies built for them are reused
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let ours = std::fs::read_to_string(workspace).unwrap();
    let ci = ours
        .split("\n[profile.")
        .find(|s| s.starts_with("ci]"))
        .expect("the workspace has a ci profile");
    let mut manifest = std::fs::read_to_string(krate.join("Cargo.toml")).unwrap();
    manifest.push_str(&format!("\n[profile.{ci}"));
    std::fs::write(krate.join("Cargo.toml"), manifest).unwrap();

    let test = cargo(&krate, "test");
    let said = String::from_utf8_lossy(&test.stdout);
    assert!(said.contains("test result: ok. 2 passed"), "{said}");
    cargo(&krate, "build");
    let user = profile().0.join("my-strategies");
    let data = tmp.path().join("data");

    // both strategies listed, with their parameter spaces
    let listed = json(&bin(&user, &data, &["strategies", "--json"]));
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for name in ["sma-cross", "rsi-dip", "breakout"] {
        assert!(names.contains(&name), "{names:?}");
    }
    assert!(!names.contains(&"fault-injection"), "{names:?}");

    // the same results as the same strategy compiled into our workspace
    let args = [
        "backtest",
        "--strategy",
        "rsi-dip",
        "--dataset",
        "spy-1d",
        "--commission-pct",
        "0.1",
        "--json",
        "--no-progress",
    ];
    let mine = comparable(json(&bin(&user, &data, &args)));
    let ours = comparable(json(&bin(&exe(), &data, &args)));
    assert!(
        mine["metrics"]["tradeCount"].as_u64().unwrap() > 5,
        "{mine}"
    );
    assert_eq!(mine, ours);
    let grid = [
        "optimize",
        "--strategy",
        "rsi-dip",
        "--dataset",
        "spy-1d",
        "--axis",
        "period=5..30:5",
        "--axis",
        "oversold=20..35:5",
        "--axis",
        "overbought=65..80:5",
        "--no-progress",
        "--csv",
    ];
    let (a, b) = (tmp.path().join("mine.csv"), tmp.path().join("ours.csv"));
    bin(&user, &data, &[&grid[..], &[a.to_str().unwrap()]].concat());
    bin(&exe(), &data, &[&grid[..], &[b.to_str().unwrap()]].concat());
    let (a, b) = (
        std::fs::read_to_string(a).unwrap(),
        std::fs::read_to_string(b).unwrap(),
    );
    assert_eq!(a.lines().count(), 6 * 4 * 4 + 1, "{a}");
    assert_eq!(a, b, "every trial equal");
    let breakout = json(&bin(
        &user,
        &data,
        &[
            "backtest",
            "--strategy",
            "breakout",
            "--dataset",
            "spy-1d",
            "--json",
            "--no-progress",
        ],
    ));
    assert!(
        breakout["metrics"]["tradeCount"].as_u64().unwrap() > 5,
        "{breakout}"
    );

    // served: listed over HTTP, run over HTTP
    let (server, api) = serve(&user, &data, &[]);
    let strategies = api.ok("/api/strategies");
    let served = strategies
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "breakout")
        .expect("breakout served")
        .clone();
    assert_eq!(served["params"][0]["name"], "n");
    assert_eq!(served["params"][0]["default"], 20);
    let body = json!({"strategy": "breakout", "dataset": "spy-1d", "params": {"n": 30}});
    let done = ended(&api, "backtests", &submit(&api, "backtests", &body));
    assert_eq!(done["status"], "Completed", "{done}");
    let rsi = json!({"strategy": "rsi-dip", "dataset": "spy-1d"});
    let first = submit(&api, "backtests", &rsi);
    let first_key = first["runKey"].as_str().unwrap().to_owned();
    ended(&api, "backtests", &first);
    drop(server);

    // a worker of this build shares an optimization through Redis
    let redis = RedisServer::start();
    let (_coordinator, api) = serve(
        &user,
        &tmp.path().join("data-dist"),
        &["--redis-url", &redis.url, "--no-local-worker"],
    );
    let _worker = Proc::spawn(
        process::command(&user, None)
            .args([
                "worker",
                "--redis-url",
                &redis.url,
                "--threads",
                "1",
                "--name",
                "user-worker",
            ])
            .arg("--cache-dir")
            .arg(tmp.path().join("worker-cache"))
            .arg("--data-dir")
            .arg(tmp.path().join("worker-data")),
        None,
    );
    let body = json!({
        "strategy": "rsi-dip", "dataset": "spy-1d",
        "axes": {"period": {"min": 5, "max": 30, "step": 5}, "oversold": [20, 30]},
    });
    let done = ended(&api, "optimizations", &submit(&api, "optimizations", &body));
    assert_eq!(done["status"], "Completed", "{done}");
    assert_eq!(done["completedCombinations"], 12, "{done}");

    // changed code, same VERSION: another run key, no stale result
    let path = krate.join("src/rsi_dip.rs");
    let code_now = std::fs::read_to_string(&path).unwrap();
    let changed = code_now.replace("rsi < self.p.oversold", "rsi <= self.p.oversold");
    assert_ne!(code_now, changed, "the template compares with <");
    std::fs::write(&path, changed).unwrap();
    cargo(&krate, "build");
    let (_server, api) = serve(&user, &data, &[]);
    let (code, again) = api.post("/api/backtests", &rsi);
    assert_eq!(code, 202, "a new run, not the old code's result: {again}");
    assert_eq!(again["existing"], false, "{again}");
    assert_ne!(again["runKey"].as_str().unwrap(), first_key);
}
