//! What a scale-out's Redis says about its chunks (DESIGN §6): which
//! worker holds which, and how many are still published. Tests read this
//! state instead of the workers' logs.

use atf_runs::distributed::keys;
use redis::streams::StreamPendingReply;
use std::collections::BTreeMap;

fn connection(redis_url: &str) -> redis::Connection {
    redis::Client::open(redis_url)
        .and_then(|c| c.get_connection())
        .unwrap_or_else(|e| panic!("cannot reach Redis at {redis_url}: {e}"))
}

/// Chunks each worker has taken and not yet acknowledged (recorded or
/// dropped), by worker name; workers holding none are absent.
///
/// # Panics
/// When Redis cannot be read.
#[must_use]
pub fn held(redis_url: &str) -> BTreeMap<String, usize> {
    let reply: StreamPendingReply = redis::cmd("XPENDING")
        .arg(keys::CHUNKS)
        .arg(keys::GROUP)
        .query(&mut connection(redis_url))
        .unwrap_or_else(|e| panic!("XPENDING at {redis_url}: {e}"));
    match reply {
        StreamPendingReply::Data(d) => d
            .consumers
            .into_iter()
            .filter(|c| c.pending > 0)
            .map(|c| (c.name, c.pending))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// Chunks in the stream: published and not yet removed (a run's chunks
/// are removed when it completes, fails or is cancelled).
///
/// # Panics
/// When Redis cannot be read.
#[must_use]
pub fn published(redis_url: &str) -> usize {
    redis::cmd("XLEN")
        .arg(keys::CHUNKS)
        .query(&mut connection(redis_url))
        .unwrap_or_else(|e| panic!("XLEN at {redis_url}: {e}"))
}

/// Chunks ever added to the stream, removed ones included (`XINFO STREAM`
/// `entries-added`): how many chunks the runs so far handed to workers.
///
/// # Panics
/// When Redis cannot be read.
#[must_use]
pub fn ever_published(redis_url: &str) -> u64 {
    let info: std::collections::HashMap<String, redis::Value> = redis::cmd("XINFO")
        .arg("STREAM")
        .arg(keys::CHUNKS)
        .query(&mut connection(redis_url))
        .unwrap_or_else(|e| panic!("XINFO STREAM at {redis_url}: {e}"));
    info.get("entries-added")
        .and_then(|v| redis::from_redis_value(v.clone()).ok())
        .unwrap_or_else(|| panic!("XINFO STREAM at {redis_url} has no entries-added: {info:?}"))
}
