//! `atf`: the AlgoTradeForge command line.
//!
//! A thin shell over the library crates: it parses arguments, opens the
//! data directory, calls `atf-data` and `atf-engine`, draws progress bars and
//! prints results. Errors end as one line on stderr and a non-zero exit:
//! `2` for bad input (unknown names, values out of range, empty periods),
//! `1` for failures while running. With `--server URL` a backtest or an
//! optimization runs on an `atf serve` instead ([`remote`]).

mod args;
mod backtest_cmd;
mod data_cmd;
mod exit;
mod optimize_cmd;
mod progress;
mod remote;
mod render;
mod render_optimize;
mod scale_out;
mod serve_cmd;
mod setup;
mod strategies_cmd;
mod worker_cmd;

use args::{Cli, Command, DataCommand};
use clap::Parser;
use std::process::ExitCode;

/// mimalloc keeps freed memory for reuse instead of handing large blocks
/// back to the kernel: loading bars and building trial reports then stop
/// paying for fresh zeroed pages on every allocation (page faults were a
/// third of a short optimization's time with the system allocator).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
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
        Command::Backtest(a) => backtest_cmd::run(&cli.global, &a),
        Command::Optimize(a) => optimize_cmd::run(&cli.global, &a),
        Command::Strategies(a) => strategies_cmd::run(&a),
        Command::Serve(a) => serve_cmd::run(&cli.global, &a),
        Command::Worker(a) => worker_cmd::run(&cli.global, &a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}
