//! `atf backtest|optimize|walkforward --server URL`: the run is submitted to a running
//! `atf serve` through the typed client ([`atf_api::client::Client`]),
//! followed with the same progress bar as a local run ([`follow`]), and
//! printed exactly as a local run prints — the same tables, and `--json`
//! identical to a local run's (the server's ids and timings aside).
//!
//! - The request body is the same typed request a local run plans
//!   (`crate::request`: the flags named as the API names them); the server
//!   validates it, and its refusals are shown
//!   with the flag's name (`--commission-pct: …`, `--param fast: …`), exit 2
//!   for a 4xx, 1 for a 5xx or no answer.
//! - Plain HTTP only (no TLS in this build); `--api-token` is sent as
//!   `Authorization: Bearer`.

mod follow;

use crate::args::{BacktestArgs, OptimizeArgs, RemoteArgs, WalkForwardArgs};
use crate::exit::{CliError, CliResult};
use crate::flags::{flag_of, refused, with_flag, FieldNames};
use crate::output::{BacktestOutput, DatasetRef, OptimizationOutput};
use crate::render;
use crate::render_optimize;
use atf_api::client::{Client, ClientError};
use atf_api::{AnyStatus, BacktestRun, OptimizationRun, Submission, WalkForwardRun};
use atf_engine::optimize::{OptimizationOutcome, TopTrial, TrialRecord, TrialStatus};
use atf_engine::Registry;
use atf_runs::RunKind;
use follow::{completed, Session};

/// A client error as the user sees it: a refused field named by its flag;
/// exit 2 for a 4xx, 1 otherwise.
fn cli_error(client: &Client, e: ClientError, names: &FieldNames<'_>) -> CliError {
    match e {
        ClientError::Refused { status, problem } => {
            let d = problem.detail.as_str();
            let mut message = match problem
                .field
                .as_deref()
                .and_then(|f| flag_of(f, names).map(|flag| (f, flag)))
            {
                Some((f, flag)) => with_flag(&flag, d.strip_prefix(&format!("{f}: ")).unwrap_or(d)),
                None => d.to_owned(),
            };
            if status == 401 {
                message = if client.has_token() {
                    format!("the server at {} refused the API token given with --api-token or ATF_API_TOKEN", client.base())
                } else {
                    format!("the server at {} requires an API token: give it with --api-token or ATF_API_TOKEN", client.base())
                };
            }
            if (400..500).contains(&status) {
                CliError::Usage(message)
            } else {
                CliError::failed(format!("the server failed: {message}"))
            }
        }
        other => CliError::failed(other.to_string()),
    }
}

/// A failed read after the run ended (never a usage error).
fn after_run(client: &Client) -> impl Fn(ClientError) -> CliError + '_ {
    |e| match cli_error(client, e, &FieldNames::default()) {
        CliError::Usage(m) => CliError::failed(m),
        e => e,
    }
}

fn unexpected(what: &str) -> CliError {
    CliError::failed(format!("unexpected answer from the server: {what}"))
}

/// `--qty-decimals` is the server's to decide.
fn no_qty_decimals(qty_decimals: u8) -> Result<(), CliError> {
    if qty_decimals > 0 {
        return Err(CliError::usage(
            "--qty-decimals is not supported with --server (the server uses the dataset's quantity decimals)",
        ));
    }
    Ok(())
}

/// Submits `body` (the request the API reads) and follows the run to its
/// successful end.
fn run<B: serde::Serialize>(
    remote: &RemoteArgs,
    url: &str,
    kind: RunKind,
    body: &B,
    names: &FieldNames<'_>,
    show_progress: bool,
    resume: Option<&str>,
) -> Result<(Client, AnyStatus), CliError> {
    let client = Client::new(url, remote.api_token.as_deref())
        .map_err(|e| CliError::Usage(format!("--server {e}")))?;
    let session = Session::start(client.clone(), kind)?;
    let sub: Submission = match resume {
        Some(id) => client.resume(id),
        None => client.submit(kind, body),
    }
    .map_err(|e| cli_error(&client, e, names))?;
    let status = session.follow(&sub, show_progress)?;
    let status = completed(&client, status)?;
    Ok((client, status))
}

/// `atf backtest --server URL`.
pub fn backtest(_registry: &Registry, url: &str, a: &BacktestArgs) -> CliResult {
    no_qty_decimals(a.settings.qty_decimals)?;
    let names = FieldNames::default();
    let body = crate::request::backtest(a).map_err(|e| refused(&e, &names))?;
    let (client, status) = run(
        &a.remote,
        url,
        RunKind::Backtest,
        &body,
        &names,
        !a.no_progress,
        None,
    )?;
    let AnyStatus::Backtest(status) = status else {
        return Err(unexpected("a backtest answered as an optimization"));
    };
    let BacktestRun::Stored(stored) = client.backtest(&status.id).map_err(after_run(&client))?
    else {
        return Err(unexpected("the completed backtest is not stored"));
    };
    let report = stored
        .result
        .as_ref()
        .ok_or_else(|| unexpected("the completed backtest has no result"))?;
    if let Some(path) = &a.trades_csv {
        render::write_trades_csv(path, &report.trades)
            .map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?;
    }
    if a.json {
        return render::print_json(&BacktestOutput {
            dataset: DatasetRef::from(&stored.header),
            report,
        });
    }
    render::print_backtest(&stored.header.dataset, report);
    Ok(())
}

/// `--threads` is the server's to decide.
fn no_threads<T>(threads: Option<T>) -> Result<(), CliError> {
    if threads.is_some() {
        return Err(CliError::usage(
            "--threads applies to local runs only; with --server the server's own setting is used (atf serve --threads)",
        ));
    }
    Ok(())
}

/// `atf walkforward --server URL`: the request a local walk-forward runs
/// (without `top`: each fold keeps only its winner), followed with the same
/// bar, printed as the same table or `--json` from the stored report.
pub fn walkforward(url: &str, a: &WalkForwardArgs) -> CliResult {
    let o = &a.opt;
    no_threads(o.threads)?;
    no_qty_decimals(o.settings.qty_decimals)?;
    let names = FieldNames {
        constraints: &o.constraints,
    };
    let mut body =
        crate::walkforward_cmd::walkforward_request(a).map_err(|e| refused(&e, &names))?;
    body.optimization.top = None;
    let (client, status) = run(
        &o.remote,
        url,
        RunKind::WalkForward,
        &body,
        &names,
        !o.no_progress,
        None,
    )?;
    let AnyStatus::WalkForward(status) = status else {
        return Err(unexpected("a walk-forward answered as another kind of run"));
    };
    let WalkForwardRun::Stored(stored) =
        client.walkforward(&status.id).map_err(after_run(&client))?
    else {
        return Err(unexpected("the completed walk-forward is not stored"));
    };
    let report = stored
        .result
        .as_ref()
        .ok_or_else(|| unexpected("the completed walk-forward has no result"))?;
    if o.json {
        return render::print_json(&crate::walkforward_cmd::WalkForwardOutput {
            dataset: DatasetRef::from(&stored.header),
            report,
        });
    }
    crate::walkforward_cmd::print_table(&stored.header.dataset, report);
    Ok(())
}

/// `atf optimize --server URL`.
pub fn optimize(_registry: &Registry, url: &str, a: &OptimizeArgs) -> CliResult {
    no_threads(a.threads)?;
    no_qty_decimals(a.settings.qty_decimals)?;
    let names = FieldNames {
        constraints: &a.constraints,
    };
    let body = crate::request::optimization(a).map_err(|e| refused(&e, &names))?;
    let (client, status) = run(
        &a.remote,
        url,
        RunKind::Optimization,
        &body,
        &names,
        !a.no_progress,
        a.resume.as_deref(),
    )?;
    let AnyStatus::Optimization(status) = status else {
        return Err(unexpected("an optimization answered as a backtest"));
    };
    let OptimizationRun::Stored(stored) = client
        .optimization(&status.id)
        .map_err(after_run(&client))?
    else {
        return Err(unexpected("the completed optimization is not stored"));
    };
    let id = stored.header.id.clone();
    let result = stored
        .result
        .ok_or_else(|| unexpected("the completed optimization has no result"))?;
    let every = |inline: Vec<TrialRecord>| {
        client
            .more_trials(&id, inline, result.trial_count)
            .map_err(after_run(&client))
    };
    if let Some(path) = &a.csv {
        let names: Vec<String> = result
            .summary
            .base_params
            .keys()
            .map(str::to_owned)
            .collect();
        render_optimize::write_csv(path, &names, every(result.trials.clone())?)
            .map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?;
    }
    if a.json {
        let mut trials = every(result.trials.clone())?;
        // the server's ids of its kept backtests are not part of the run
        for t in &mut trials {
            t.backtest_id = None;
        }
        let top = if a.curves {
            let mut top = Vec::with_capacity(result.top.len());
            for kept in &result.top {
                let BacktestRun::Stored(bt) = client
                    .backtest(&kept.backtest_id)
                    .map_err(after_run(&client))?
                else {
                    return Err(unexpected("a kept trial's backtest is not stored"));
                };
                top.push(TopTrial {
                    index: kept.index,
                    rank: usize::try_from(kept.rank).unwrap_or(usize::MAX),
                    fitness: kept.fitness,
                    report: bt
                        .result
                        .ok_or_else(|| unexpected("a kept trial's backtest has no result"))?,
                });
            }
            Some(top)
        } else {
            None
        };
        return render::print_json(&OptimizationOutput {
            dataset: DatasetRef::from(&stored.header),
            outcome: OptimizationOutcome {
                summary: result.summary,
                trials,
                top,
            },
        });
    }
    let best = client
        .more_trials(&id, result.trials.clone(), u64::from(a.top))
        .map_err(after_run(&client))?;
    let first_failed = if result.summary.failed_combinations > 0 {
        match best.iter().find(|t| t.status == TrialStatus::Failed) {
            Some(t) => Some(t.clone()),
            // failed trials rank after every completed one
            None => client
                .trials(&id, result.summary.completed_combinations, 1)
                .map_err(after_run(&client))?
                .items
                .into_iter()
                .find(|t| t.status == TrialStatus::Failed),
        }
    } else {
        None
    };
    render_optimize::print_table(
        &stored.header.dataset,
        &result.summary,
        &best,
        first_failed.as_ref(),
    );
    Ok(())
}
