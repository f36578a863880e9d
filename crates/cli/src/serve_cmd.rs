//! `atf serve`: the run service behind the HTTP API, on embedded defaults
//! (SQLite under the data dir, in-memory progress, the demo datasets).

use crate::args::{Global, ServeArgs};
use crate::exit::{CliError, CliResult};
use crate::setup::data_dir;
use atf_engine::Registry;
use atf_runs::cache::{MemoryCache, ProgressCache};
use atf_runs::redis_cache::RedisCache;
use atf_runs::service::{RunService, ServiceConfig};
use atf_server::ServerConfig;
use std::net::SocketAddr;
use std::sync::Arc;

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
    let addr: SocketAddr = a
        .bind
        .parse()
        .map_err(|e| CliError::usage(format!("--bind {}: {e} (expected ADDR:PORT)", a.bind)))?;
    let token = a.api_token.clone().filter(|t| !t.is_empty());
    if !addr.ip().is_loopback() && token.is_none() {
        return Err(CliError::usage(format!(
            "--bind {addr} is reachable from other machines: give --api-token (or ATF_API_TOKEN) so every /api request needs it"
        )));
    }
    logging();
    let cache: Arc<dyn ProgressCache> = match &a.redis_url {
        Some(url) => Arc::new(RedisCache::connect(url).map_err(CliError::failed)?),
        None => Arc::new(MemoryCache::new()),
    };
    let dir = data_dir(global);
    let mut cfg = ServiceConfig::new(dir.clone(), Arc::clone(registry));
    cfg.backtest_slots = usize::from(a.backtest_slots);
    cfg.optimization_slots = usize::from(a.optimization_slots);
    if let Some(t) = a.threads {
        cfg.optimizer_threads = usize::from(t);
    }
    cfg.max_combinations = a.max_combinations;
    let scale_out = match &a.redis_url {
        Some(url) => Some(crate::scale_out::ScaleOut::start(url, &cfg, a)?),
        None => None,
    };
    let service = match &scale_out {
        Some(s) => RunService::start_distributed(cfg, cache, s.coordinator()),
        None => RunService::start(cfg, cache),
    }
    .map_err(CliError::failed)?;
    let app = atf_server::router(
        service.clone(),
        ServerConfig {
            api_token: token,
            max_upload_bytes: a.max_upload_mb.saturating_mul(1024 * 1024),
            ..ServerConfig::default()
        },
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::failed)?;
    let backend = service.cache_backend();
    let scale_ref = scale_out.as_ref();
    let result = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| CliError::failed(format!("cannot listen on {addr}: {e}")))?;
        let local = listener.local_addr().map_err(CliError::failed)?;
        // the first line on stdout: scripts and tests read the port from it
        println!(
            "atf serve: listening on http://{local} (data dir {}, cache {})",
            dir.display(),
            backend
        );
        tracing::info!(%local, cache = backend, "listening");
        if let Some(s) = scale_ref {
            s.advertise(a.advertise_url.as_deref(), local)?;
        }
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
                tracing::info!("shutting down; runs in flight are abandoned");
            })
            .await
            .map_err(CliError::failed)
    });
    service.shutdown();
    if let Some(s) = scale_out {
        s.stop();
    }
    result
}
