//! The progress cache: where in-flight runs publish their
//! [`RunSnapshot`] and where status readers look first.
//!
//! Two implementations behind one trait, chosen at start-up:
//! [`MemoryCache`] (the default, one process) and
//! [`crate::redis_cache::RedisCache`] (`--redis-url`, shared by a server
//! and its workers). In-flight entries do not expire while their run
//! lives (in Redis they hold a lease its server renews at every publish,
//! so a killed server's runs do not read `Running` for ever); a terminal
//! entry is given [`TERMINAL_TTL`] once the run's result is in SQLite. The cache
//! also holds the "run key → in-flight run id" claims that deduplicate
//! submissions while a run is working.
//!
//! The memory cache reads the time from a [`Clock`] (the system's by
//! default), so its expiry is tested by moving a [`crate::clock::ManualClock`]
//! rather than by sleeping; Redis expires entries by itself, and its tests
//! check the time to live it is given.

use crate::clock::{Clock, SystemClock};
use crate::snapshot::RunSnapshot;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

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
    /// (in flight; Redis: for its lease, renewed by the next put), `Some`
    /// lets it expire (terminal).
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

/// Puts between two sweeps of expired entries nobody read.
const SWEEP_EVERY: usize = 1024;

/// The in-process cache (default).
#[derive(Debug)]
pub struct MemoryCache {
    inner: Mutex<Inner>,
    clock: Arc<dyn Clock>,
}

/// Entries with their expiry, in [`MemoryCache::clock`] time.
#[derive(Debug, Default)]
struct Inner {
    runs: HashMap<String, (RunSnapshot, Option<Duration>)>,
    claims: HashMap<String, String>,
    puts_since_sweep: usize,
}

impl Default for MemoryCache {
    fn default() -> Self {
        Self::with_clock(Arc::new(SystemClock::default()))
    }
}

impl MemoryCache {
    /// An empty cache on the system's clock.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty cache whose entries expire by `clock`.
    #[must_use]
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            clock,
        }
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
        let now = self.clock.now();
        let mut g = self.lock();
        g.runs.insert(
            snap.id.clone(),
            (snap.clone(), ttl.map(|t| now.saturating_add(t))),
        );
        g.puts_since_sweep += 1;
        if g.puts_since_sweep >= SWEEP_EVERY {
            // expired entries go eventually even if nobody reads them
            g.puts_since_sweep = 0;
            g.runs.retain(|_, (_, exp)| exp.is_none_or(|e| e > now));
        }
        Ok(())
    }

    fn get(&self, id: &str) -> Result<Option<RunSnapshot>, CacheError> {
        let now = self.clock.now();
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
            generation: Some(4),
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
            folds: None,
        }
    }

    /// Put/get round trip and claims. Expiry is each backend's own: see
    /// their tests.
    pub(crate) fn check(cache: &dyn ProgressCache, prefix: &str) {
        let id = format!("{prefix}-run");
        assert_eq!(cache.get(&id).unwrap(), None);
        let mut s = snapshot(&id);
        cache.put(&s, None).unwrap();
        assert_eq!(cache.get(&id).unwrap(), Some(s.clone()));
        s.status = RunStatus::Completed;
        cache.put(&s, Some(Duration::from_secs(60))).unwrap();
        assert_eq!(
            cache.get(&id).unwrap().unwrap().status,
            RunStatus::Completed
        );

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
    use super::*;
    use crate::clock::ManualClock;
    use crate::status::RunStatus;

    #[test]
    fn memory_cache_keeps_the_contract() {
        contract::check(&MemoryCache::new(), "mem");
    }

    fn on_manual_clock() -> (Arc<ManualClock>, MemoryCache) {
        let clock = Arc::new(ManualClock::new());
        let cache = MemoryCache::with_clock(Arc::clone(&clock) as Arc<dyn Clock>);
        (clock, cache)
    }

    #[test]
    fn a_terminal_entry_expires_when_its_time_to_live_is_over() {
        let (clock, cache) = on_manual_clock();
        let mut s = contract::snapshot("ttl");
        s.status = RunStatus::Completed;
        cache.put(&s, Some(Duration::from_millis(1200))).unwrap();
        clock.advance(Duration::from_millis(1199));
        assert_eq!(cache.get("ttl").unwrap(), Some(s.clone()), "still alive");
        clock.advance(Duration::from_millis(1));
        assert_eq!(cache.get("ttl").unwrap(), None, "expired");
        // the default of a finished run
        cache.put(&s, Some(TERMINAL_TTL)).unwrap();
        clock.advance(TERMINAL_TTL - Duration::from_millis(1));
        assert!(cache.get("ttl").unwrap().is_some());
        clock.advance(Duration::from_millis(1));
        assert_eq!(cache.get("ttl").unwrap(), None);
    }

    #[test]
    fn an_in_flight_entry_never_expires_and_replacing_it_resets_its_expiry() {
        let (clock, cache) = on_manual_clock();
        let s = contract::snapshot("live");
        cache.put(&s, Some(Duration::from_secs(1))).unwrap();
        cache.put(&s, None).unwrap();
        clock.advance(Duration::from_secs(365 * 24 * 3600));
        assert_eq!(cache.get("live").unwrap(), Some(s));
    }

    #[test]
    fn expired_entries_are_swept_even_if_nobody_reads_them() {
        let (clock, cache) = on_manual_clock();
        for i in 0..10 {
            let s = contract::snapshot(&format!("old-{i}"));
            cache.put(&s, Some(Duration::from_secs(1))).unwrap();
        }
        clock.advance(Duration::from_secs(2));
        let live = contract::snapshot("live");
        for _ in 10..SWEEP_EVERY {
            cache.put(&live, None).unwrap();
        }
        let runs = &cache.lock().runs;
        assert_eq!(runs.len(), 1, "only the live entry is left");
        assert!(runs.contains_key("live"));
    }
}
