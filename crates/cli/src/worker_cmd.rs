//! `atf worker`: runs chunks of a coordinator's optimizations (DESIGN §6).
//! The protocol lives in `atf_runs::distributed`; this is the shell that
//! finds the coordinator, fetches datasets from it over HTTP and starts
//! the loop.

use crate::args::{Global, WorkerArgs};
use crate::exit::{CliError, CliResult};
use crate::setup::data_dir;
use atf_engine::Registry;
use atf_runs::distributed::job::JobDataset;
use atf_runs::distributed::source::CachedSource;
use atf_runs::distributed::worker::{Worker, WorkerConfig};
use atf_runs::distributed::Link;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Largest dataset file fetched.
const MAX_DATASET_BYTES: u64 = 4 << 30;

pub fn run(registry: &Arc<Registry>, global: &Global, a: &WorkerArgs) -> CliResult {
    crate::serve_cmd::logging();
    let link = Link::connect(&a.redis_url)
        .map_err(|e| CliError::failed(format!("atf worker: cannot reach Redis: {e}")))?;
    let server = match &a.server {
        Some(s) => s.clone(),
        None => link
            .advertised_coordinator()
            .map_err(CliError::failed)?
            .ok_or_else(|| {
                CliError::failed(format!(
                    "no coordinator has advertised itself in Redis at {}: start `atf serve --redis-url …` or give --server URL",
                    link.url()
                ))
            })?,
    };
    let server = server.trim_end_matches('/').to_owned();
    let token = a.api_token.clone().filter(|t| !t.trim().is_empty());
    let cache_dir = a
        .cache_dir
        .clone()
        .unwrap_or_else(|| data_dir(global).join("worker-cache"));
    let fetch_from = server.clone();
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_per_read(Some(Duration::from_secs(60)))
            .user_agent(format!("atf-worker/{}", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    let fetch = move |ds: &JobDataset| -> Result<Vec<u8>, String> {
        let url = format!("{fetch_from}/api/datasets/{}/content", ds.id);
        let mut req = agent.get(&url);
        if let Some(t) = &token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let mut res = req.call().map_err(|e| format!("GET {url}: {e}"))?;
        if !res.status().is_success() {
            return Err(format!("GET {url}: HTTP {}", res.status()));
        }
        let sha = res
            .headers()
            .get(atf_server::content::SHA256_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if sha != ds.sha256 {
            return Err(format!(
                "GET {url}: the server's dataset has checksum {sha:?}, the job needs {}",
                ds.sha256
            ));
        }
        res.body_mut()
            .with_config()
            .limit(MAX_DATASET_BYTES)
            .read_to_vec()
            .map_err(|e| format!("GET {url}: {e}"))
    };
    let source = CachedSource::new(cache_dir.clone(), Box::new(fetch))
        .map_err(|e| CliError::failed(format!("cannot create {}: {e}", cache_dir.display())))?;
    let name = a
        .name
        .clone()
        .unwrap_or_else(atf_runs::distributed::worker::default_name);
    let threads = a.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    tracing::info!(worker = %name, coordinator = %server, cache = %cache_dir.display(), "joining");
    let worker = Worker::new(
        link,
        WorkerConfig {
            name,
            threads,
            reclaim_after: Duration::from_secs(a.reclaim_after),
            registry: Arc::clone(registry),
        },
        Arc::new(source),
    );
    // runs until killed; its heartbeat expires 5 s later and its pending
    // chunks are reclaimed by the others
    worker.run(&AtomicBool::new(false));
    Ok(())
}
