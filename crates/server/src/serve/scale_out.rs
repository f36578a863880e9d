//! The coordinator side of a scale-out (DESIGN §6) inside a server: the
//! connection to Redis the run service hands optimizations to, the URL
//! advertised to workers, and the server's own local worker.

use super::config::ScaleOutConfig;
use super::ServeError;
use atf_engine::Registry;
use atf_runs::distributed::source::CatalogSource;
use atf_runs::distributed::worker::{self, Worker, WorkerConfig};
use atf_runs::distributed::Coordinator;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The coordinator and the local worker of one server; the worker stops
/// when this is dropped.
#[derive(Debug)]
pub(crate) struct ScaleOut {
    coordinator: Arc<Coordinator>,
    stop: Arc<AtomicBool>,
}

impl ScaleOut {
    /// Connects to Redis (creating the chunk stream's consumer group) and
    /// starts the local worker unless the config leaves chunks to others.
    pub(crate) fn start(
        cfg: &ScaleOutConfig,
        data_dir: &Path,
        threads: usize,
        registry: &Arc<Registry>,
    ) -> Result<Self, ServeError> {
        let coordinator = Arc::new(Coordinator::connect_with(
            &cfg.redis_url,
            &cfg.redis,
            cfg.limits,
        )?);
        let stop = Arc::new(AtomicBool::new(false));
        if cfg.local_worker {
            let local = Worker::new(
                coordinator.link().clone(),
                WorkerConfig {
                    name: cfg.worker_name.clone(),
                    threads,
                    reclaim_after: cfg.reclaim_after,
                    registry: Arc::clone(registry),
                },
                // same disk as the server: no download, no copy
                Arc::new(CatalogSource::new(data_dir.to_owned())),
            );
            worker::spawn(local, Arc::clone(&stop)).map_err(|source| ServeError::Thread {
                what: "local worker",
                source,
            })?;
        }
        Ok(Self { coordinator, stop })
    }

    /// The coordinator, for the run service.
    pub(crate) fn coordinator(&self) -> Arc<Coordinator> {
        Arc::clone(&self.coordinator)
    }

    /// Publishes the URL workers fetch datasets from: `url`, or the bound
    /// address.
    pub(crate) fn advertise(&self, url: Option<&str>, local: SocketAddr) -> Result<(), ServeError> {
        let url = url.map_or_else(|| format!("http://{local}"), str::to_owned);
        self.coordinator.advertise(&url)?;
        tracing::info!(%url, "advertised to workers");
        Ok(())
    }
}

impl Drop for ScaleOut {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
