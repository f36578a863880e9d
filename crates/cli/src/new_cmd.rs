//! `atf new DIR`: a ready crate for the user's own strategies.
//!
//! The crate depends on the `atf` facade only (by path to this checkout,
//! or by git), its `main` is one line registering its strategies, and it
//! starts with one example strategy (`rsi-dip`, from the indicators) and a
//! test of it. The strategy and the test are the very files this workspace
//! compiles and tests as the `atf-extras` example, so the scaffold cannot
//! drift from what CI checks; the lock file is this checkout's, so the new
//! crate builds with the dependency versions tested here.

use crate::args::NewArgs;
use crate::exit::{CliError, CliResult};
use crate::out::outln;
use std::fs;
use std::path::{Path, PathBuf};

const STRATEGY: &str = include_str!("../../atf/templates/rsi_dip.rs");
const TESTS: &str = include_str!("../../atf/templates/tests.rs");
const RUSTFMT: &str = include_str!("../../atf/rustfmt.toml");
const LOCK: &str = include_str!("../../../Cargo.lock");

/// The facade crate of the checkout this binary was built from.
fn built_from() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(PathBuf::new, |crates| crates.join("atf"))
}

pub fn run(a: &NewArgs) -> CliResult {
    let name = match &a.name {
        Some(n) => n.clone(),
        None => a
            .dir
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
            .ok_or_else(|| {
                CliError::usage(format!(
                    "{}: cannot take a crate name from it; give --name",
                    a.dir.display()
                ))
            })?,
    };
    check_crate_name(&name)?;
    let dependency = dependency(a)?;
    if a.dir.exists()
        && fs::read_dir(&a.dir)
            .map_err(|e| CliError::failed(format!("{}: {e}", a.dir.display())))?
            .next()
            .is_some()
    {
        return Err(CliError::usage(format!(
            "{} exists and is not empty; choose a new directory",
            a.dir.display()
        )));
    }
    let files = [
        ("Cargo.toml", manifest(&name, &dependency)),
        ("Cargo.lock", LOCK.to_owned()),
        ("rustfmt.toml", RUSTFMT.to_owned()),
        (".gitignore", "/target\n".to_owned()),
        ("README.md", readme(&name)),
        ("src/main.rs", MAIN.to_owned()),
        ("src/rsi_dip.rs", STRATEGY.to_owned()),
        ("src/tests.rs", TESTS.to_owned()),
    ];
    for (path, text) in files {
        let path = a.dir.join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| CliError::failed(format!("{}: {e}", parent.display())))?;
        }
        fs::write(&path, text).map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?;
    }
    let dir = a.dir.display();
    outln!("created {dir} (crate {name}, strategy rsi-dip)");
    outln!("next:   cd {dir} && cargo test && cargo run --release -- backtest --strategy rsi-dip --dataset spy-1d");
    Ok(())
}

/// A name cargo accepts for a package: ASCII letters, digits, `-` and `_`,
/// starting with a letter, at most 64 characters.
fn check_crate_name(name: &str) -> CliResult {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(CliError::usage(format!(
            "'{name}' is not a crate name (ASCII letters, digits, '-' and '_', starting with a letter); give --name"
        )))
    }
}

/// The `atf = …` line of the manifest.
fn dependency(a: &NewArgs) -> Result<String, CliError> {
    if let Some(url) = &a.atf_git {
        return Ok(match &a.atf_rev {
            Some(rev) => format!(
                "atf = {{ git = {}, rev = {} }}",
                toml_str(url),
                toml_str(rev)
            ),
            None => format!("atf = {{ git = {} }}", toml_str(url)),
        });
    }
    let given = a.atf_path.is_some();
    let path = a.atf_path.clone().unwrap_or_else(built_from);
    // the facade crate itself, or a checkout's root holding it
    let facade = if path.join("crates/atf/Cargo.toml").is_file() {
        path.join("crates/atf")
    } else {
        path
    };
    if !facade.join("Cargo.toml").is_file() || !facade.join("src/lib.rs").is_file() {
        return Err(CliError::usage(format!(
            "{} holds no atf crate ({}); give --atf-path to an atf checkout or --atf-git URL",
            facade.display(),
            if given {
                "as given by --atf-path"
            } else {
                "the checkout this binary was built from"
            }
        )));
    }
    let abs = facade
        .canonicalize()
        .map_err(|e| CliError::failed(format!("{}: {e}", facade.display())))?;
    let text = abs
        .to_str()
        .ok_or_else(|| CliError::usage(format!("{}: the path is not UTF-8", abs.display())))?;
    Ok(format!("atf = {{ path = {} }}", toml_str(text)))
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn manifest(name: &str, dependency: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
{dependency}

# atf's own release settings: whole-program optimization makes grids
# faster, at the price of a slower final link
[profile.release]
lto = "fat"
codegen-units = 1
debug = "line-tables-only"
"#
    )
}

const MAIN: &str = r#"//! My strategies, run by atf. This binary is a complete atf — `serve`
//! (API and dashboard), `worker`, `backtest`, `optimize`, `strategies`,
//! `data` — with the strategies registered below beside the built-in ones.

mod rsi_dip;
#[cfg(test)]
mod tests;

fn main() -> std::process::ExitCode {
    atf::main(atf::Registry::builtin().with::<rsi_dip::RsiDip>())
}
"#;

fn readme(name: &str) -> String {
    format!(
        r#"# {name}

Trading strategies run by [atf](https://example.invalid/algotradeforge)
(AlgoTradeForge). The binary this crate builds is a complete atf with these
strategies registered beside the built-in ones.

## Build, test, run

    cargo test                                    # the strategies' unit tests
    cargo run --release -- strategies             # yours are listed with the built-ins
    cargo run --release -- backtest --strategy rsi-dip --dataset spy-1d
    cargo run --release -- optimize --strategy rsi-dip --dataset spy-1d \
        --axis period=5..30:5 --axis oversold=20..40:5 --axis overbought=60..80:5
    cargo run --release -- serve                  # dashboard and API on http://127.0.0.1:8080/

The first build compiles atf itself (a few minutes); later builds only this
crate. `spy-1d` and `spy-1m` are demo datasets imported on first use; add
your own with `cargo run --release -- data import FILE.csv`.

## Add a second strategy

1. Copy `src/rsi_dip.rs` to `src/my_idea.rs`; rename the types, give it a
   new `NAME` (kebab-case, unique), its parameters (a struct with
   `#[derive(Params)]`: `default`, `min`, `max`, `step` for numbers,
   `options(...)` for choices) and its logic in `on_bar`.
2. In `src/main.rs` add `mod my_idea;` and register it:
   `atf::Registry::builtin().with::<rsi_dip::RsiDip>().with::<my_idea::MyIdea>()`.
3. Test it in `src/tests.rs` with `atf::testing::daily_closes` and
   `atf::testing::backtest`, then run it as above.

Take indicators from `ind` in `new` (`ind.sma(n)`, `ind.ema(n)`,
`ind.rsi(n)`, `ind.atr(n)`, `ind.macd(12, 26, 9)`, `ind.bollinger(20, 2.0)`,
`ind.stoch(14, 3, 3)`, `ind.adx(14)`, `ind.donchian(20)`,
`ind.keltner(20, 10, 2.0)`, `ind.stddev(n)`, `ind.highest(n)`,
`ind.lowest(n)`, `ind.vwap()`, `ind.obv()`): each is computed once per
distinct argument and shared by every trial of an optimization, and
`on_bar` reads its value at the current bar with `line.now(ctx)`.

A run's key covers a fingerprint of this binary, so after you change a
strategy the server never serves a result computed by the old code. Workers
of a scale-out must run this same binary.
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_names_and_toml_strings() {
        assert!(check_crate_name("my-strategies").is_ok());
        assert!(check_crate_name("9lives").is_err());
        assert!(check_crate_name("a b").is_err());
        assert_eq!(toml_str(r#"C:\x "y""#), r#""C:\\x \"y\"""#);
    }

    #[test]
    fn the_example_strategy_stays_under_40_lines() {
        assert!(
            STRATEGY.lines().count() < 40,
            "{}",
            STRATEGY.lines().count()
        );
        assert!(MAIN.contains(".with::<rsi_dip::RsiDip>()"));
    }
}
