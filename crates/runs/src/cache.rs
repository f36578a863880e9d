//! The progress cache: where in-flight runs publish their
//! [`RunSnapshot`] and where status readers look first.
//!
//! Two implementations behind one trait, chosen at start-up:
//! [`MemoryCache`] (the default, one process) and
//! [`crate::redis_cache::RedisCache`] (`--redis-url`, shared by a server
//! and its workers). In-flight entries never expire; a terminal entry is
//! given [`TERMINAL_TTL`] once the run's result is in SQLite. The cache
//! also holds the "run key → in-flight run id" claims that deduplicate
//! submissions while a run is working.

use crate::snapshot::RunSnapshot;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a terminal entry stays after its result was persisted.
pub const TERMINAL_TTL: Duration = Duration::from_secs(15 * 60);

/// The cache could not be reached or answered nonsense.
#[derive(Debug, thiserror::Error)]
#[error("progress cache ({backend}): {reason}")]
pub struct CacheError {
    /// `memory` or `redis`.
    pub backend: &'static str,
    /// What went wrong.
    pub reason: String,
}

/// Volatile run state shared by whoever runs, watches or cancels runs.
pub trait ProgressCache: Send + Sync {
    /// `memory` or `redis` (reported by `/api/health`).
    fn backend(&self) -> &'static str;

    /// Stores `snap` under its id; `ttl` = `None` keeps it until replaced
    /// (in flight), `Some` lets it expire (terminal).
    ///
    /// # Errors
    /// [`CacheError`] when the backend fails.
    fn put(&self, snap: &RunSnapshot, ttl: Option<Duration>) -> Result<(), CacheError>;

    /// The snapshot of run `id`, if present and not expired.
    ///
    /// # Errors
    /// [`CacheError`] when the backend fails.
    fn get(&self, id: &str) -> Result<Option<RunSnapshot>, CacheError>;

    /// Claims `run_key` for run `id` unless another run holds it; returns
    /// the holder's id when there is one (then nothing changes).
    ///
    /// # Errors
    /// [`CacheError`] when the backend fails.
    fn claim(&self, run_key: &str, id: &str) -> Result<Option<String>, CacheError>;

    /// Releases `run_key` if run `id` holds it.
    ///
    /// # Errors
    /// [`CacheError`] when the backend fails.
    fn release(&self, run_key: &str, id: &str) -> Result<(), CacheError>;
}

/// The in-process cache (default).
#[derive(Debug, Default)]
pub struct MemoryCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    runs: HashMap<String, (RunSnapshot, Option<Instant>)>,
    claims: HashMap<String, String>,
    puts_since_sweep: usize,
}

impl MemoryCache {
    /// An empty cache.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl ProgressCache for MemoryCache {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn put(&self, snap: &RunSnapshot, ttl: Option<Duration>) -> Result<(), CacheError> {
        let now = Instant::now();
        let mut g = self.lock();
        g.runs
            .insert(snap.id.clone(), (snap.clone(), ttl.map(|t| now + t)));
        g.puts_since_sweep += 1;
        if g.puts_since_sweep >= 1024 {
            // expired entries go eventually even if nobody reads them
            g.puts_since_sweep = 0;
            g.runs.retain(|_, (_, exp)| exp.is_none_or(|e| e > now));
        }
        Ok(())
    }

    fn get(&self, id: &str) -> Result<Option<RunSnapshot>, CacheError> {
        let now = Instant::now();
        let mut g = self.lock();
        match g.runs.get(id) {
            Some((_, Some(exp))) if *exp <= now => {
                g.runs.remove(id);
                Ok(None)
            }
            Some((snap, _)) => Ok(Some(snap.clone())),
            None => Ok(None),
        }
    }

    fn claim(&self, run_key: &str, id: &str) -> Result<Option<String>, CacheError> {
        let mut g = self.lock();
        if let Some(holder) = g.claims.get(run_key) {
            return Ok(Some(holder.clone()));
        }
        g.claims.insert(run_key.to_owned(), id.to_owned());
        Ok(None)
    }

    fn release(&self, run_key: &str, id: &str) -> Result<(), CacheError> {
        let mut g = self.lock();
        if g.claims.get(run_key).is_some_and(|h| h == id) {
            g.claims.remove(run_key);
        }
        Ok(())
    }
}

/// Behaviour every implementation must have; run by each one's tests.
#[cfg(test)]
pub(crate) mod contract {
    use super::*;
    use crate::key::RunKind;
    use crate::status::RunStatus;

    pub(crate) fn snapshot(id: &str) -> RunSnapshot {
        RunSnapshot {
            id: id.to_owned(),
            kind: RunKind::Optimization,
            run_key: "k".repeat(64),
            status: RunStatus::Running,
            strategy: "sma-cross".into(),
            dataset: "spy-1m".into(),
            submitted_at_ms: 1,
            started_at_ms: Some(2),
            finished_at_ms: None,
            total: 190,
            completed: 40,
            failed: 2,
            skipped: 3,
            error_message: None,
            error_stack_trace: None,
            // a leader with every kind of value: the cache carries it intact
            leaders: vec![serde_json::from_value(serde_json::json!({
                "index": 4, "rank": 1, "params": {"fast": 5, "k": 2.0, "mode": "close"},
                "status": "Completed", "fitness": 1.5,
                "metrics": {"initialEquity": 10000.0, "finalEquity": 10100.0, "netProfit": 100.0,
                    "totalReturnPct": 1.0, "annualizedReturnPct": null, "maxDrawdown": 5.0,
                    "maxDrawdownPct": 0.05, "sharpe": 1.5, "sortino": null, "profitFactor": null,
                    "returnOverDrawdown": 20.0, "winRate": 100.0, "tradeCount": 1,
                    "winningTrades": 1, "losingTrades": 0, "averageWin": 100.0,
                    "averageLoss": null, "expectancy": 100.0, "largestWin": 100.0,
                    "largestLoss": null, "exposurePct": 50.0, "totalCommission": 0.0,
                    "mainBars": 10, "subBars": 10}
            }))
            .unwrap()],
        }
    }

    /// Put/get round trip, expiry, and claims.
    pub(crate) fn check(cache: &dyn ProgressCache, prefix: &str) {
        let id = format!("{prefix}-run");
        assert_eq!(cache.get(&id).unwrap(), None);
        let mut s = snapshot(&id);
        cache.put(&s, None).unwrap();
        assert_eq!(cache.get(&id).unwrap(), Some(s.clone()));
        s.status = RunStatus::Completed;
        cache.put(&s, Some(Duration::from_millis(1200))).unwrap();
        assert_eq!(
            cache.get(&id).unwrap().unwrap().status,
            RunStatus::Completed
        );
        std::thread::sleep(Duration::from_millis(2100));
        assert_eq!(cache.get(&id).unwrap(), None, "terminal entry expires");

        let key = format!("{prefix}-key");
        assert_eq!(cache.claim(&key, "a").unwrap(), None);
        assert_eq!(cache.claim(&key, "b").unwrap().as_deref(), Some("a"));
        cache.release(&key, "b").unwrap();
        assert_eq!(
            cache.claim(&key, "c").unwrap().as_deref(),
            Some("a"),
            "only the holder releases"
        );
        cache.release(&key, "a").unwrap();
        assert_eq!(cache.claim(&key, "c").unwrap(), None);
        cache.release(&key, "c").unwrap();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn memory_cache_keeps_the_contract() {
        super::contract::check(&super::MemoryCache::new(), "mem");
    }
}
