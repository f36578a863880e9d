//! `atf serve`: its flags turned into a [`ServeConfig`], then the one
//! wiring path every server goes through ([`atf_server::serve`]), stopped
//! by Ctrl-C or SIGTERM.

use crate::args::{Global, ServeArgs};
use crate::exit::{CliError, CliResult};
use crate::out::outln;
use crate::setup::data_dir;
use atf_engine::Registry;
use atf_server::serve::{shutdown_signal, ScaleOutConfig, ServeConfig, ServeError, Server};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub(crate) fn logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ATF_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

pub fn run(registry: &Arc<Registry>, global: &Global, a: &ServeArgs) -> CliResult {
    let cfg = config(global, a)?;
    logging();
    raise_open_file_limit();
    let dir = cfg.data_dir.clone();
    let server = Server::start(cfg, Arc::clone(registry)).map_err(cli_error)?;
    // the first line on stdout: scripts and tests read the port from it
    outln!(
        "atf serve: listening on http://{} (data dir {}, cache {})",
        server.local_addr(),
        dir.display(),
        server.service().cache_backend()
    );
    server.run(shutdown_signal()).map_err(cli_error)
}

/// The server's settings from the command line.
fn config(global: &Global, a: &ServeArgs) -> Result<ServeConfig, CliError> {
    let bind: SocketAddr = a
        .bind
        .parse()
        .map_err(|e| CliError::usage(format!("--bind {}: {e} (expected ADDR:PORT)", a.bind)))?;
    let mut cfg = ServeConfig::new(data_dir(global));
    cfg.bind = bind;
    cfg.http.api_token = a.api_token.clone().filter(|t| !t.is_empty());
    cfg.http.max_upload_bytes = a.max_upload_mb.saturating_mul(1024 * 1024);
    cfg.http.import_limits = a.import_limits.limits(cfg.http.max_upload_bytes as u64);
    cfg.backtest_slots = usize::from(a.backtest_slots);
    cfg.optimization_slots = usize::from(a.optimization_slots);
    if let Some(t) = a.threads {
        cfg.optimizer_threads = usize::from(t);
    }
    cfg.max_combinations = a.max_combinations;
    cfg.http.allow_hosts.clone_from(&a.allow_hosts);
    cfg.http.max_event_streams = a.max_event_streams as usize;
    cfg.max_pending = a.max_pending as usize;
    cfg.header_timeout = Duration::from_secs(a.header_timeout);
    cfg.blocking_threads = usize::from(a.blocking_threads);
    cfg.max_kept_points = a.max_kept_points;
    cfg.shutdown_grace = Duration::from_secs(a.shutdown_grace);
    cfg.save_attempts = a.save_attempts;
    cfg.save_backoff = Duration::from_millis(a.save_backoff_ms);
    cfg.scale_out = a.redis_url.as_ref().map(|url| ScaleOutConfig {
        local_worker: !a.no_local_worker,
        reclaim_after: Duration::from_secs(a.reclaim_after),
        advertise_url: a.advertise_url.clone(),
        redis: atf_runs::redis_client::RedisOptions {
            ca_file: a.redis_ca.clone(),
            lease: Duration::from_secs(a.redis_lease),
        },
        limits: atf_runs::distributed::limits::DistLimits {
            max_deliveries: a.chunk_attempts,
            stall_timeout: Duration::from_secs(a.stall_timeout),
            redis_grace: Duration::from_secs(a.redis_grace),
        },
        ..ScaleOutConfig::new(url.clone())
    });
    Ok(cfg)
}

/// Bad flags exit 2, everything else 1.
fn cli_error(e: ServeError) -> CliError {
    match e {
        ServeError::TokenRequired { addr } => CliError::usage(format!(
            "--bind {addr} is reachable from other machines: give --api-token (or ATF_API_TOKEN) so every /api request needs it"
        )),
        e => CliError::failed(e),
    }
}

/// Raises this process's soft limit of open files to its hard limit (as Go
/// does for every program since 1.19): shells and systemd start processes
/// at 1,024, which caps a server at about a thousand connections — past it
/// new ones wait unaccepted. Idle connections are still closed after
/// `--header-timeout`, so the count stays bounded by the clients' pace.
fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open files"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
}
