//! `atf`: the AlgoTradeForge command line, as a library.
//!
//! [`main`] is the whole program for a given [`Registry`]: our `atf` binary
//! calls it with the built-in strategies, a user's crate with its own
//! strategies added (through the `atf` facade), so every binary is a
//! complete atf — `serve`, `worker`, `backtest`, `optimize`, `walkforward`, `strategies`,
//! `data`, `new`.
//!
//! A thin shell over the library crates: it parses arguments, opens the
//! data directory, plans runs with `atf-runs` exactly as the HTTP API does
//! (`request`: the flags as the API's request; `flags`: a refused field as
//! its flag), runs them with `atf-engine`, draws progress bars and prints
//! results. Errors end as one line on stderr and a non-zero exit:
//! `2` for bad input (unknown names, values out of range, empty periods),
//! `1` for failures while running. With `--server URL` a backtest or an
//! optimization runs on an `atf serve` instead (`remote`).

mod args;
mod backtest_cmd;
mod data_cmd;
mod exit;
mod flags;
mod new_cmd;
mod optimize_cmd;
mod out;
mod output;
mod progress;
mod remote;
mod render;
mod render_optimize;
mod request;
mod serve_cmd;
mod setup;
mod strategies_cmd;
mod walkforward_cmd;
mod worker_cmd;

use args::{Cli, Command, DataCommand};
pub use atf_engine::Registry;
use clap::Parser;
use std::process::ExitCode;
use std::sync::Arc;

/// mimalloc keeps freed memory for reuse instead of handing large blocks
/// back to the kernel: loading bars and building trial reports then stop
/// paying for fresh zeroed pages on every allocation (page faults were a
/// third of a short optimization's time with the system allocator). On by
/// default (feature `mimalloc`) for every binary built on this crate; a
/// crate with its own global allocator turns the feature off.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs the `atf` command line (arguments from the process) with the
/// strategies of `registry`; the process's exit code.
///
/// A registry that registered a name twice, a name that is not
/// kebab-case, or a parameter declaration that cannot work is refused
/// before anything else: one line, exit code 2.
#[must_use]
pub fn main(registry: Registry) -> ExitCode {
    if let Err(e) = registry.check() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let registry = Arc::new(registry);
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return exit::clap_error(&e),
    };
    let result = match cli.command {
        Command::Data {
            command: DataCommand::Import(a),
        } => data_cmd::import(&cli.global, &a),
        Command::Data {
            command: DataCommand::List(a),
        } => data_cmd::list(&cli.global, &a),
        Command::Backtest(a) => backtest_cmd::run(&registry, &cli.global, &a),
        Command::Optimize(a) => optimize_cmd::run(&registry, &cli.global, &a),
        Command::Walkforward(a) => walkforward_cmd::run(&registry, &cli.global, &a),
        Command::Strategies(a) => strategies_cmd::run(&registry, &a),
        Command::Serve(a) => serve_cmd::run(&registry, &cli.global, &a),
        Command::Worker(a) => worker_cmd::run(&registry, &cli.global, &a),
        Command::New(a) => new_cmd::run(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}
