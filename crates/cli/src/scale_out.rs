//! `atf serve --redis-url`: the coordinator of a scale-out, its advertised
//! URL and the server's own local worker (unless `--no-local-worker`).

use crate::args::ServeArgs;
use crate::exit::{CliError, CliResult};
use atf_runs::distributed::source::CatalogSource;
use atf_runs::distributed::worker::{self, Worker, WorkerConfig};
use atf_runs::distributed::Coordinator;
use atf_runs::service::ServiceConfig;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The coordinator and the local worker of one `atf serve`.
pub struct ScaleOut {
    coordinator: Arc<Coordinator>,
    stop: Arc<AtomicBool>,
}

impl ScaleOut {
    /// Connects to Redis and starts the local worker.
    pub fn start(url: &str, cfg: &ServiceConfig, a: &ServeArgs) -> Result<Self, CliError> {
        let coordinator = Arc::new(
            Coordinator::connect(url)
                .map_err(|e| CliError::failed(format!("atf serve: cannot reach Redis: {e}")))?,
        );
        let stop = Arc::new(AtomicBool::new(false));
        if !a.no_local_worker {
            let local = Worker::new(
                coordinator.link().clone(),
                WorkerConfig {
                    name: format!("{}-serve", crate::worker_cmd::default_name()),
                    threads: cfg.optimizer_threads,
                    reclaim_after: Duration::from_secs(a.reclaim_after),
                    registry: Arc::clone(&cfg.registry),
                },
                Arc::new(CatalogSource::new(cfg.data_dir.clone())),
            );
            worker::spawn(local, Arc::clone(&stop)).map_err(CliError::failed)?;
        }
        Ok(Self { coordinator, stop })
    }

    /// The coordinator, for the run service.
    pub fn coordinator(&self) -> Arc<Coordinator> {
        Arc::clone(&self.coordinator)
    }

    /// Publishes the URL workers fetch datasets from.
    pub fn advertise(&self, url: Option<&str>, local: SocketAddr) -> CliResult {
        let url = url.map_or_else(|| format!("http://{local}"), str::to_owned);
        self.coordinator.advertise(&url).map_err(CliError::failed)?;
        tracing::info!(%url, "advertised to workers");
        Ok(())
    }

    /// Stops the local worker.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
