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
use atf_runs::redis_client::RedisOptions;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Largest dataset file fetched.
const MAX_DATASET_BYTES: u64 = 4 << 30;

pub fn run(registry: &Arc<Registry>, global: &Global, a: &WorkerArgs) -> CliResult {
    crate::serve_cmd::logging();
    let opts = RedisOptions {
        ca_file: a.redis_ca.clone(),
        ..RedisOptions::default()
    };
    let link = Link::connect_with(&a.redis_url, &opts)
        .map_err(|e| CliError::failed(format!("atf worker: cannot reach Redis: {e}")))?;
    let token = a.api_token.clone().filter(|t| !t.trim().is_empty());
    let server = match &a.server {
        Some(s) => s.clone(),
        None => {
            let advertised = link
                .advertised_coordinator()
                .map_err(CliError::failed)?
                .ok_or_else(|| {
                    CliError::failed(format!(
                        "no coordinator has advertised itself in Redis at {}: start `atf serve --redis-url …` or give --server URL",
                        link.url()
                    ))
                })?;
            // whoever can write to Redis chooses that address: the token
            // goes there only when the user says so
            if token.is_some() && !a.trust_advertised_server {
                return Err(CliError::usage(format!(
                    "atf worker: not sending the API token to {advertised}, an address read from Redis at {}: give --server URL (or --trust-advertised-server)",
                    link.url()
                )));
            }
            advertised
        }
    };
    let server = server.trim_end_matches('/').to_owned();
    let cache_dir = a
        .cache_dir
        .clone()
        .unwrap_or_else(|| data_dir(global).join("worker-cache"));
    let client = atf_api::client::Client::new(&server, token.as_deref())
        .map_err(|e| CliError::usage(format!("--server {e}")))?;
    let fetch = move |ds: &JobDataset| -> Result<Vec<u8>, String> {
        let path = format!("/api/datasets/{}/content", ds.id);
        let what = format!("GET {}{path}", client.base());
        let (body, sha) = client
            .bytes(&path, atf_server::content::SHA256_HEADER, MAX_DATASET_BYTES)
            .map_err(|e| format!("{what}: {e}"))?;
        let sha = sha.unwrap_or_default();
        if sha != ds.sha256 {
            return Err(format!(
                "{what}: the server's dataset has checksum {sha:?}, the job needs {}",
                ds.sha256
            ));
        }
        Ok(body)
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
