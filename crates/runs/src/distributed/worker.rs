//! A worker: takes chunks from the consumer group, runs them with the
//! same engine code as a single-machine optimization and records them.
//!
//! Per chunk: `XAUTOCLAIM` one entry idle longer than the reclaim time
//! (a dead or hung worker's), else `XREADGROUP … BLOCK 1000 COUNT 1`; the
//! job and the cancel flag in one round trip (a chunk of an ended or
//! cancelled run is acknowledged and dropped); the job planned again from
//! its request body (cached per run) over bars whose checksum is the
//! job's; [`StrategyEntry::run_range`](atf_engine::registry::StrategyEntry::run_range)
//! while a watcher polls the cancel flag every 250 ms and keeps the entry
//! claimed (`XCLAIM … JUSTID` every second, so a slow chunk is not taken
//! from a live worker); then one script records the results and
//! acknowledges the entry. A heartbeat key, refreshed every second,
//! expires 5 s after the worker stops.

use super::codec;
use super::job::{self, Job};
use super::keys;
use super::limits;
use super::link::Link;
use super::source::{DatasetSource, SourceError};
use super::DistError;
use crate::plan::{self, Plan, Work};
use crate::request::OptimizationRequest;
use atf_engine::metrics::RunCommon;
use atf_engine::optimize::{OptimizationProgress, Trial, TrialOutcome};
use atf_engine::MarketData;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use redis::Connection;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{error, info, warn};

/// How long a heartbeat lives without being refreshed.
pub const HEARTBEAT_TTL: Duration = Duration::from_secs(5);
/// How often the cancel flag is checked while a chunk runs.
pub const CANCEL_POLL: Duration = Duration::from_millis(250);
/// Default idle time after which another worker takes a chunk over.
pub const DEFAULT_RECLAIM_AFTER: Duration = Duration::from_secs(30);
/// Leaders each chunk contributes to the live leaderboard.
const CHUNK_LEADERS: usize = atf_engine::optimize::LEADERBOARD_SIZE;
/// How long `XREADGROUP` blocks waiting for a chunk.
const BLOCK: Duration = Duration::from_secs(1);

/// Records a chunk and acknowledges its entry, atomically. Nothing but the
/// acknowledgement happens when the run has ended (its job is gone) or the
/// chunk was recorded before.
const RECORD_LUA: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('HSETNX', KEYS[2], ARGV[3], ARGV[4]) == 1 then
  redis.call('HINCRBY', KEYS[3], 'completed', ARGV[5])
  redis.call('HINCRBY', KEYS[3], 'failed', ARGV[6])
  redis.call('HINCRBY', KEYS[3], 'skipped', ARGV[7])
  redis.call('HINCRBY', KEYS[3], 'chunks', 1)
  for i = 8, #ARGV, 3 do
    redis.call('ZADD', KEYS[4], ARGV[i], ARGV[i + 1])
    redis.call('HSET', KEYS[5], ARGV[i + 1], ARGV[i + 2])
  end
  redis.call('XACK', KEYS[6], ARGV[1], ARGV[2])
  return 1
end
redis.call('XACK', KEYS[6], ARGV[1], ARGV[2])
return 0
";

/// Counts a failed delivery of a chunk of a live run (`KEYS[1]` its job):
/// the count and the latest error in `KEYS[2]`; at the limit `ARGV[3]`
/// the poison message `ARGV[4]` in `KEYS[3]` and the entry acknowledged.
/// The count, or -1 when the run has ended (then only the acknowledgement).
const FAIL_LUA: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XACK', KEYS[4], ARGV[5], ARGV[6])
  return -1
end
local n = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('HSET', KEYS[2], ARGV[1] .. ':error', ARGV[2])
if n >= tonumber(ARGV[3]) then
  redis.call('SET', KEYS[3], ARGV[4], 'NX')
  redis.call('XACK', KEYS[4], ARGV[5], ARGV[6])
end
return n
";

/// A worker's settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Its consumer name (unique among live workers).
    pub name: String,
    /// Threads a chunk runs on.
    pub threads: usize,
    /// Chunks pending longer than this with another worker are taken over.
    pub reclaim_after: Duration,
    /// The strategies this worker can run.
    pub registry: Arc<atf_engine::Registry>,
}

/// One entry of the chunk stream.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Chunk {
    entry: String,
    run: String,
    /// Its position: a grid's first combination, or (a list chunk) its
    /// first trial's position in the run's evaluation order.
    start: u64,
    end: u64,
    /// A list chunk's combinations (a search's batch, a resumed run's
    /// missing ones); `None` for a range `start..end` of the grid.
    list: Option<Vec<u64>>,
    reclaimed: bool,
}

impl Chunk {
    fn of(e: &StreamId, reclaimed: bool) -> Option<Self> {
        let list = match e.get::<String>("list") {
            Some(text) => Some(job::decode_list(&text)?),
            None => None,
        };
        let c = Self {
            entry: e.id.clone(),
            run: e.get("run")?,
            start: e.get::<String>("start")?.parse().ok()?,
            end: e.get::<String>("end")?.parse().ok()?,
            list,
            reclaimed,
        };
        let len = c.end.checked_sub(c.start)?;
        c.list
            .as_ref()
            .is_none_or(|l| l.len() as u64 == len)
            .then_some(c)
    }

    /// Checks that `trials` and `skipped` are exactly this chunk's.
    fn check(&self, skipped: u64, trials: &[Trial]) -> Result<(), String> {
        match &self.list {
            None => limits::check_chunk(&(self.start..self.end), skipped, trials),
            Some(l) => limits::check_list(self.start, l, skipped, trials),
        }
    }
}

/// A job ready to run chunks of.
struct Prepared {
    run: String,
    plan: Plan,
    data: MarketData,
    common: RunCommon,
}

/// Why a chunk was not run (it stays pending for another worker).
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{0}")]
    Job(String),
}

/// A chunk-running loop; see the module documentation.
pub struct Worker {
    link: Link,
    cfg: WorkerConfig,
    source: Arc<dyn DatasetSource>,
    record: redis::Script,
    fail: redis::Script,
    prepared: Option<Arc<Prepared>>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("name", &self.cfg.name)
            .field("redis", &self.link)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker on `link` reading bars from `source`.
    #[must_use]
    pub fn new(link: Link, cfg: WorkerConfig, source: Arc<dyn DatasetSource>) -> Self {
        Self {
            link,
            cfg,
            source,
            record: redis::Script::new(RECORD_LUA),
            fail: redis::Script::new(FAIL_LUA),
            prepared: None,
        }
    }

    /// Runs until `stop` is set, heartbeating meanwhile. Redis errors are
    /// logged and retried every second (a restarted Redis is rejoined).
    pub fn run(mut self, stop: &AtomicBool) {
        std::thread::scope(|s| {
            let link = self.link.clone();
            let name = self.cfg.name.clone();
            let threads = self.cfg.threads;
            s.spawn(move || heartbeat(&link, &name, threads, stop));
            info!(worker = %self.cfg.name, threads = self.cfg.threads, redis = %self.link.url(), "worker started");
            let mut con = None;
            let mut failing_since: Option<Instant> = None;
            while !stop.load(Ordering::Relaxed) {
                let step = match con.as_mut() {
                    Some(c) => self.step(c),
                    None => self.link.open_with(BLOCK).and_then(|mut c| {
                        self.link.ensure_group(&mut c)?;
                        con = Some(c);
                        Ok(())
                    }),
                };
                match step {
                    Ok(()) => {
                        if failing_since.take().is_some() {
                            info!(worker = %self.cfg.name, "Redis is back");
                        }
                    }
                    Err(e) => {
                        con = None;
                        if failing_since.is_none() {
                            warn!(worker = %self.cfg.name, error = %e, "Redis failed; retrying every second");
                            failing_since = Some(Instant::now());
                        }
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            }
            info!(worker = %self.cfg.name, "worker stopped");
        });
    }

    /// Takes one chunk (waiting up to a second) and deals with it.
    fn step(&mut self, con: &mut Connection) -> Result<(), DistError> {
        let Some(chunk) = self.next(con)? else {
            return Ok(());
        };
        self.process(con, &chunk)
    }

    fn next(&self, con: &mut Connection) -> Result<Option<Chunk>, DistError> {
        let idle = u64::try_from(self.cfg.reclaim_after.as_millis()).unwrap_or(u64::MAX);
        let claimed: StreamAutoClaimReply = self.link.check(
            "XAUTOCLAIM",
            redis::cmd("XAUTOCLAIM")
                .arg(keys::CHUNKS)
                .arg(keys::GROUP)
                .arg(&self.cfg.name)
                .arg(idle)
                .arg("0-0")
                .arg("COUNT")
                .arg(1)
                .query(con),
        )?;
        if let Some(e) = claimed.claimed.first() {
            return Ok(self.parse(con, e, true));
        }
        let read: Option<StreamReadReply> = self.link.check(
            "XREADGROUP",
            redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg(keys::GROUP)
                .arg(&self.cfg.name)
                .arg("COUNT")
                .arg(1)
                .arg("BLOCK")
                .arg(u64::try_from(BLOCK.as_millis()).unwrap_or(1_000))
                .arg("STREAMS")
                .arg(keys::CHUNKS)
                .arg(">")
                .query(con),
        )?;
        Ok(read
            .and_then(|r| r.keys.into_iter().next())
            .and_then(|k| k.ids.into_iter().next())
            .and_then(|e| self.parse(con, &e, false)))
    }

    /// The chunk of entry `e`; a malformed entry is acknowledged and dropped.
    fn parse(&self, con: &mut Connection, e: &StreamId, reclaimed: bool) -> Option<Chunk> {
        let chunk = Chunk::of(e, reclaimed);
        if chunk.is_none() {
            warn!(entry = %e.id, "malformed chunk entry dropped");
            let _ = self.ack(con, &e.id);
        }
        chunk
    }

    fn ack(&self, con: &mut Connection, entry: &str) -> Result<(), DistError> {
        self.link.check(
            "XACK",
            redis::cmd("XACK")
                .arg(keys::CHUNKS)
                .arg(keys::GROUP)
                .arg(entry)
                .exec(con),
        )
    }

    fn process(&mut self, con: &mut Connection, chunk: &Chunk) -> Result<(), DistError> {
        let (job, cancelled): (Option<String>, bool) = self.link.check(
            "GET job",
            redis::pipe()
                .cmd("GET")
                .arg(keys::job(&chunk.run))
                .cmd("EXISTS")
                .arg(keys::cancel(&chunk.run))
                .query(con),
        )?;
        if chunk.reclaimed {
            info!(worker = %self.cfg.name, run = %chunk.run, start = chunk.start, end = chunk.end,
                "reclaimed a chunk another worker left pending");
        }
        let Some(job) = job.filter(|_| !cancelled) else {
            info!(worker = %self.cfg.name, run = %chunk.run, start = chunk.start,
                "chunk dropped: run cancelled or ended before it started");
            return self.ack(con, &chunk.entry);
        };
        // the delivery limit travels with the job; an unreadable job is
        // refused under the default one
        let parsed: Result<Job, Refusal> =
            serde_json::from_str(&job).map_err(|e| Refusal::Job(format!("unreadable job: {e}")));
        let limit = parsed
            .as_ref()
            .map_or(limits::DEFAULT_MAX_DELIVERIES, |j| j.max_deliveries);
        let prepared = match parsed.and_then(|j| self.prepare(j)) {
            Ok(p) => p,
            Err(e) => {
                error!(worker = %self.cfg.name, run = %chunk.run, start = chunk.start, end = chunk.end,
                    error = %e, "refusing chunk; it stays pending for another worker");
                return self.failed_delivery(
                    con,
                    chunk,
                    &format!("refused by worker {}: {e}", self.cfg.name),
                    limit,
                );
            }
        };
        let t0 = Instant::now();
        let progress = OptimizationProgress::new();
        let outcome = self.run_chunk(&prepared, chunk, &progress)?;
        if progress.is_cancelled() {
            info!(worker = %self.cfg.name, run = %chunk.run, start = chunk.start,
                stop_ms = t0.elapsed().as_secs_f64() * 1e3, "chunk dropped: run cancelled or ended");
            return self.ack(con, &chunk.entry);
        }
        // a chunk that did not run, or whose trials are not the chunk's
        // (never recorded), is a failed delivery
        let trials = match outcome.and_then(|t| chunk.check(progress.skipped(), &t).map(|()| t)) {
            Ok(t) => t,
            Err(e) => {
                error!(worker = %self.cfg.name, run = %chunk.run, start = chunk.start, error = %e, "chunk failed");
                return self.failed_delivery(
                    con,
                    chunk,
                    &format!("worker {} failed on it: {e}", self.cfg.name),
                    limit,
                );
            }
        };
        let run_secs = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let new = self.record(con, &prepared, chunk, &progress, &trials)?;
        info!(worker = %self.cfg.name, run = %chunk.run, start = chunk.start, end = chunk.end,
            trials = trials.len(), reclaimed = chunk.reclaimed, run_secs,
            record_ms = t1.elapsed().as_secs_f64() * 1e3, new, "chunk done");
        Ok(())
    }

    /// Counts a failed delivery of `chunk` (its latest error `why`). Under
    /// `limit` the chunk is offered again at once (as if idle past any
    /// reclaim threshold) rather than held here until a reclaim: another
    /// worker may run it. At `limit` the run is poisoned — the coordinator
    /// fails it with `why` — and the entry acknowledged: it is delivered no
    /// more.
    fn failed_delivery(
        &self,
        con: &mut Connection,
        chunk: &Chunk,
        why: &str,
        limit: u64,
    ) -> Result<(), DistError> {
        let poison = format!(
            "chunk {}..{} failed {limit} times (the limit is --chunk-attempts {limit}); the last time: {why}",
            chunk.start, chunk.end
        );
        let n: i64 = self.link.check(
            "count failed delivery",
            self.fail
                .key(keys::job(&chunk.run))
                .key(keys::failures(&chunk.run))
                .key(keys::poison(&chunk.run))
                .key(keys::CHUNKS)
                .arg(chunk.start)
                .arg(why)
                .arg(limit)
                .arg(poison)
                .arg(keys::GROUP)
                .arg(&chunk.entry)
                .invoke(con),
        )?;
        if n < 0 || u64::try_from(n).is_ok_and(|n| n >= limit) {
            // run ended, or chunk given up on: acknowledged by the script
            return Ok(());
        }
        let idle = u64::try_from(self.cfg.reclaim_after.as_millis())
            .unwrap_or(u64::MAX / 2)
            .saturating_add(1);
        self.link.check(
            "XCLAIM failed",
            redis::cmd("XCLAIM")
                .arg(keys::CHUNKS)
                .arg(keys::GROUP)
                .arg(&self.cfg.name)
                .arg(0)
                .arg(&chunk.entry)
                .arg("IDLE")
                .arg(idle)
                .arg("JUSTID")
                .exec(con),
        )?;
        // let it age towards reclaim elsewhere instead of spinning on it
        std::thread::sleep(BLOCK);
        Ok(())
    }

    /// Runs the chunk while a watcher relays cancellation and keeps the
    /// entry claimed. The outer error is Redis's, the inner the engine's.
    fn run_chunk(
        &self,
        p: &Prepared,
        chunk: &Chunk,
        progress: &OptimizationProgress,
    ) -> Result<Result<Vec<Trial>, String>, DistError> {
        let Work::Optimization(spec) = &p.plan.work else {
            return Ok(Err("the job is not an optimization".into()));
        };
        let mut watch_con = self.link.open()?;
        let done = AtomicBool::new(false);
        let t = &p.plan.target;
        Ok(std::thread::scope(|s| {
            s.spawn(|| self.watch(&mut watch_con, chunk, progress, &done));
            let r = match &chunk.list {
                None => t.strategy.run_range(
                    &p.data,
                    &t.config,
                    spec,
                    chunk.start..chunk.end,
                    progress,
                    self.cfg.threads,
                ),
                Some(l) => {
                    t.strategy
                        .run_list(&p.data, &t.config, spec, l, progress, self.cfg.threads)
                }
            }
            .map_err(|e| e.to_string());
            done.store(true, Ordering::Relaxed);
            r
        }))
    }

    /// Until `done`: every 250 ms, cancels `progress` when the run was
    /// cancelled or ended; every second, resets the entry's idle time.
    fn watch(
        &self,
        con: &mut Connection,
        chunk: &Chunk,
        progress: &OptimizationProgress,
        done: &AtomicBool,
    ) {
        let (job, cancel) = (keys::job(&chunk.run), keys::cancel(&chunk.run));
        let mut last_touch = Instant::now();
        let mut last_check = Instant::now();
        while !done.load(Ordering::Relaxed) {
            // short sleeps, so a finished chunk is not held up
            std::thread::sleep(Duration::from_millis(25));
            if done.load(Ordering::Relaxed) || last_check.elapsed() < CANCEL_POLL {
                continue;
            }
            last_check = Instant::now();
            let mut pipe = redis::pipe();
            pipe.cmd("EXISTS").arg(&job).cmd("EXISTS").arg(&cancel);
            let touch = last_touch.elapsed() >= Duration::from_secs(1);
            if touch {
                pipe.cmd("XCLAIM")
                    .arg(keys::CHUNKS)
                    .arg(keys::GROUP)
                    .arg(&self.cfg.name)
                    .arg(0)
                    .arg(&chunk.entry)
                    .arg("JUSTID")
                    .ignore();
                last_touch = Instant::now();
            }
            match pipe.query::<(bool, bool)>(con) {
                Ok((true, false)) => {}
                Ok(_) => {
                    info!(worker = %self.cfg.name, run = %chunk.run, "run cancelled or ended: stopping its chunk");
                    progress.cancel();
                    return;
                }
                Err(e) => {
                    warn!(worker = %self.cfg.name, error = %e, "cannot check for cancellation")
                }
            }
        }
    }

    fn record(
        &self,
        con: &mut Connection,
        p: &Prepared,
        chunk: &Chunk,
        progress: &OptimizationProgress,
        trials: &[Trial],
    ) -> Result<bool, DistError> {
        let Work::Optimization(spec) = &p.plan.work else {
            return Ok(false);
        };
        let (mut completed, mut failed) = (0u64, 0u64);
        let mut best: Vec<(f64, u64, [u64; 15])> = Vec::new();
        for t in trials {
            match &t.outcome {
                TrialOutcome::Completed(m) => {
                    completed += 1;
                    if let Some(f) = spec.fitness.score(m, &p.common).filter(|f| f.is_finite()) {
                        best.push((f, t.index, m.to_bits()));
                    }
                }
                TrialOutcome::Failed(_) => failed += 1,
            }
        }
        best.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        best.truncate(CHUNK_LEADERS);
        let mut inv = self.record.prepare_invoke();
        for k in [
            keys::job(&chunk.run),
            keys::chunks(&chunk.run),
            keys::progress(&chunk.run),
            keys::leaders(&chunk.run),
            keys::leader_metrics(&chunk.run),
            keys::CHUNKS.to_owned(),
        ] {
            inv.key(k);
        }
        inv.arg(keys::GROUP)
            .arg(&chunk.entry)
            .arg(chunk.start)
            .arg(codec::encode(progress.skipped(), trials))
            .arg(completed)
            .arg(failed)
            .arg(progress.skipped());
        for (f, index, bits) in &best {
            let raw: Vec<u8> = bits.iter().flat_map(|b| b.to_le_bytes()).collect();
            inv.arg(f.to_string()).arg(*index).arg(raw);
        }
        let new: i64 = self.link.check("record chunk", inv.invoke(con))?;
        Ok(new == 1)
    }

    /// The job's plan and bars, reused while chunks of the same run come.
    fn prepare(&mut self, job: Job) -> Result<Arc<Prepared>, Refusal> {
        if let Some(p) = self.prepared.as_ref().filter(|p| p.run == job.run) {
            return Ok(Arc::clone(p));
        }
        self.prepared = None;
        let req = OptimizationRequest::from_json(&job.request)
            .map_err(|e| Refusal::Job(e.to_string()))?;
        let info = job
            .dataset
            .info(std::path::PathBuf::new())
            .map_err(Refusal::Job)?;
        let plan = plan::optimization(&self.cfg.registry, &req, info, plan::GridLimits::NONE)
            .map_err(|e| Refusal::Job(format!("cannot plan the run here: {e}")))?;
        if plan.key.as_str() != job.run_key || plan.total != job.total {
            return Err(Refusal::Job(format!(
                "this worker's build ({}) is not the coordinator's: it plans run key {} ({} combinations) where the coordinator planned {} ({}); run the same atf binary (same strategies, same code) everywhere",
                crate::build::fingerprint(),
                plan.key,
                plan.total,
                job.run_key,
                job.total
            )));
        }
        let t = &plan.target;
        let bars = self
            .source
            .bars(&job.dataset, t.period.from_ms, t.period.to_ms)?;
        let before = crate::warmup::load_before(
            t.period.from_ms,
            t.warmup_bars,
            t.timeframe,
            (t.dataset.first_ts_ms, t.dataset.timeframe),
            |a, b| self.source.bars(&job.dataset, Some(a), Some(b)),
        )?;
        let data = crate::warmup::market_data(t, &before, bars)
            .map_err(|e| Refusal::Job(format!("no data to run on: {e}")))?;
        let common = RunCommon {
            initial_equity: t.instrument.money_scale.to_f64(t.config.initial_cash.raw()),
            main_bars: data.window_times().len() as u64,
            sub_bars: data.total_sub_bars(),
        };
        info!(worker = %self.cfg.name, run = %job.run, dataset = %job.dataset.name, sub_bars = common.sub_bars, "job prepared");
        let p = Arc::new(Prepared {
            run: job.run,
            plan,
            data,
            common,
        });
        self.prepared = Some(Arc::clone(&p));
        Ok(p)
    }
}

/// Refreshes `atf:worker:{name}` every second until `stop`, then deletes it.
fn heartbeat(link: &Link, name: &str, threads: usize, stop: &AtomicBool) {
    let key = keys::worker(name);
    let ttl = u64::try_from(HEARTBEAT_TTL.as_millis()).unwrap_or(5_000);
    let mut con = None;
    while !stop.load(Ordering::Relaxed) {
        if con.is_none() {
            con = link.open().ok();
        }
        if let Some(c) = con.as_mut() {
            let r = redis::cmd("SET")
                .arg(&key)
                .arg(threads)
                .arg("PX")
                .arg(ttl)
                .exec(c);
            if r.is_err() {
                con = None;
            }
        }
        for _ in 0..10 {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    if let Some(c) = con.as_mut() {
        let _ = redis::cmd("DEL").arg(&key).exec(c);
    }
}

/// Starts a worker on its own thread (the server's local worker), at a
/// lower CPU priority like the server's run threads.
///
/// # Errors
/// When the thread cannot start.
pub fn spawn(
    worker: Worker,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("atf-worker-{}", worker.cfg.name))
        .spawn(move || {
            #[cfg(unix)]
            if let Err(e) = rustix::process::nice(10) {
                warn!(error = %e, "cannot lower the priority of the local worker");
            }
            worker.run(&stop);
        })
}

/// The default name of a worker: `host-pid` (unique among live workers,
/// readable in `XPENDING` and the logs).
#[must_use]
pub fn default_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into());
    format!("{host}-{}", std::process::id())
}
