//! The coordinator (inside `atf serve --redis-url`): publishes an
//! optimization's job and chunks, mirrors the workers' progress into the
//! run's [`OptimizationProgress`], and once every chunk is recorded
//! gathers the trials and assembles the report — the same report, trial
//! for trial, a single machine computes.

use super::codec;
use super::job::{self, Job, JobDataset};
use super::keys;
use super::limits::{self, DistLimits};
use super::link::Link;
use super::DistError;
use crate::plan::{Plan, Work};
use crate::redis_client::RedisOptions;
use atf_engine::metrics::{RunCommon, TrialMetrics};
use atf_engine::optimize::{Leader, OptimizationProgress, OptimizationReport, LEADERBOARD_SIZE};
use atf_engine::MarketData;
use redis::Connection;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// How often progress is read from Redis.
pub const POLL: Duration = Duration::from_millis(250);
/// How long a cancel flag stays (workers drop the run's chunks meanwhile).
const CANCEL_TTL_MS: u64 = 10 * 60 * 1_000;
/// Stream entries added or deleted per round trip.
const BATCH: usize = 1_000;

/// The coordinator of a server started with `--redis-url`.
pub struct Coordinator {
    link: Link,
    limits: DistLimits,
    /// Live heartbeats, counted at most once a second.
    workers: Mutex<Option<(Instant, usize)>>,
}

impl std::fmt::Debug for Coordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coordinator")
            .field("redis", &self.link)
            .finish_non_exhaustive()
    }
}

/// One optimization to distribute.
#[derive(Debug, Clone, Copy)]
pub struct DistRun<'a> {
    /// The run id.
    pub id: &'a str,
    /// Its plan.
    pub plan: &'a Plan,
    /// Its request body (workers plan it again).
    pub request: &'a Value,
    /// Its bars, loaded here (the best trials are re-run here).
    pub data: &'a MarketData,
    /// Where its progress is mirrored; cancelling it cancels the run.
    pub progress: &'a OptimizationProgress,
    /// Threads for the final re-run of the best trials.
    pub threads: usize,
}

impl Coordinator {
    /// Connects, checks Redis answers and creates the consumer group.
    ///
    /// # Errors
    /// [`DistError::Redis`] naming the URL (password redacted).
    pub fn connect(url: &str) -> Result<Self, DistError> {
        Self::connect_with(url, &RedisOptions::default(), DistLimits::default())
    }

    /// [`Coordinator::connect`] with a CA file for `rediss://` and the
    /// bounds its runs are held to.
    ///
    /// # Errors
    /// [`DistError::Redis`] naming the URL (password redacted).
    pub fn connect_with(
        url: &str,
        opts: &RedisOptions,
        limits: DistLimits,
    ) -> Result<Self, DistError> {
        let link = Link::connect_with(url, opts)?;
        link.ensure_group(&mut link.open()?)?;
        Ok(Self {
            link,
            limits,
            workers: Mutex::new(None),
        })
    }

    /// The bounds its runs are held to.
    #[must_use]
    pub fn limits(&self) -> DistLimits {
        self.limits
    }

    /// The Redis server.
    #[must_use]
    pub fn link(&self) -> &Link {
        &self.link
    }

    /// Publishes the URL workers reach this server at.
    ///
    /// # Errors
    /// [`DistError::Redis`] when Redis fails.
    pub fn advertise(&self, url: &str) -> Result<(), DistError> {
        let mut con = self.link.open()?;
        self.link.check(
            "SET",
            redis::cmd("SET")
                .arg(keys::COORDINATOR)
                .arg(url)
                .exec(&mut con),
        )
    }

    /// Workers whose heartbeat is live (counted at most once a second;
    /// `0` when Redis does not answer).
    #[must_use]
    pub fn active_workers(&self) -> usize {
        let mut cached = self.workers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, n)) = *cached {
            if at.elapsed() < Duration::from_secs(1) {
                return n;
            }
        }
        let n = self.count_workers().unwrap_or_else(|e| {
            warn!(error = %e, "cannot count workers");
            0
        });
        *cached = Some((Instant::now(), n));
        n
    }

    fn count_workers(&self) -> Result<usize, DistError> {
        let mut con = self.link.open()?;
        let mut n = 0;
        let mut cursor = 0u64;
        loop {
            let (next, found): (u64, Vec<String>) = self.link.check(
                "SCAN",
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(format!("{}*", keys::WORKER_PREFIX))
                    .arg("COUNT")
                    .arg(1_000)
                    .query(&mut con),
            )?;
            n += found.len();
            if next == 0 {
                return Ok(n);
            }
            cursor = next;
        }
    }

    /// Runs `run` on the workers: `Ok(None)` when it was cancelled,
    /// `Ok(Some(report))` when every chunk came back, or the error and
    /// where it happened (Redis lost mid-run, the report not assembled).
    ///
    /// # Errors
    /// `(message, stack trace)` as the run service records a failed run.
    pub fn optimize(
        &self,
        run: &DistRun<'_>,
    ) -> Result<Option<OptimizationReport>, (String, String)> {
        let Work::Optimization(spec) = &run.plan.work else {
            return Err(("not an optimization".into(), String::new()));
        };
        let t0 = Instant::now();
        let lost = |e: DistError| {
            (
                format!("lost Redis mid-run: {e}"),
                std::backtrace::Backtrace::force_capture().to_string(),
            )
        };
        let mut con = self.link.open().map_err(lost)?;
        let total = run.plan.total;
        let size = job::chunk_size(total, run.data.total_sub_bars());
        let ranges = job::chunks(total, size);
        let entries = self.publish(&mut con, run, &ranges).map_err(lost)?;
        info!(run = %run.id, chunks = ranges.len(), chunk_size = size, "chunks published");
        let common = common_of(run);
        let mut last_ok = Instant::now();
        let mut stall = limits::StallClock::start();
        let mut polls = 0u64;
        loop {
            if run.progress.is_cancelled() {
                self.cancel(&mut con, run.id, &entries);
                return Ok(None);
            }
            let why = match self.poll(&mut con, run, &common, polls.is_multiple_of(4)) {
                Ok(p) if p.poison.is_some() || !p.job => p.poison.or_else(|| {
                    Some(format!(
                        "Redis lost this run's state ({} is gone: Redis restarted without persistence, or was flushed); resubmit it",
                        keys::job(run.id)
                    ))
                }),
                Ok(p) if p.recorded >= ranges.len() as u64 => break,
                Ok(p) => {
                    last_ok = Instant::now();
                    let still = stall.observe(p.recorded, p.processed);
                    (still >= self.limits.stall_timeout).then(|| {
                        format!(
                            "no progress for {} s (the limit is --stall-timeout): {} of {} chunks recorded, {} live workers",
                            self.limits.stall_timeout.as_secs(),
                            p.recorded,
                            ranges.len(),
                            self.active_workers()
                        )
                    })
                }
                Err(e) => {
                    if last_ok.elapsed() >= self.limits.redis_grace {
                        // should Redis come back, its workers drop the run
                        if let Ok(mut c) = self.link.open() {
                            self.cancel(&mut c, run.id, &entries);
                        }
                        run.progress.cancel();
                        return Err(lost(e));
                    }
                    warn!(run = %run.id, error = %e, "cannot read progress; retrying");
                    if let Ok(c) = self.link.open() {
                        con = c;
                    }
                    None
                }
            };
            if let Some(reason) = why {
                warn!(run = %run.id, %reason, "failing the distributed run");
                self.cancel(&mut con, run.id, &entries);
                run.progress.cancel();
                return Err((reason, String::new()));
            }
            polls += 1;
            std::thread::sleep(POLL);
        }
        let (trials, skipped) = self
            .gather(&mut con, run.id, &ranges)
            .map_err(|e| match e {
                DistError::Corrupt(why) => (
                    format!("a worker's result was rejected: {why}"),
                    String::new(),
                ),
                e => lost(e),
            })?;
        let t = &run.plan.target;
        let report = t
            .strategy
            .assemble(
                run.data,
                &t.config,
                spec,
                trials,
                skipped,
                false,
                run.threads,
                t0.elapsed().as_secs_f64(),
            )
            .map_err(|e| {
                (
                    e.to_string(),
                    std::backtrace::Backtrace::force_capture().to_string(),
                )
            })?;
        run.progress
            .publish(report.completed, report.failed, report.skipped, None);
        self.forget(&mut con, run.id, &entries);
        info!(run = %run.id, wall_secs = t0.elapsed().as_secs_f64(), "distributed optimization assembled");
        Ok(Some(report))
    }

    /// Stores the job, then adds the chunks to the stream; their entry ids.
    fn publish(
        &self,
        con: &mut Connection,
        run: &DistRun<'_>,
        ranges: &[std::ops::Range<u64>],
    ) -> Result<Vec<String>, DistError> {
        let job = Job {
            run: run.id.to_owned(),
            run_key: run.plan.key.to_string(),
            request: run.request.clone(),
            dataset: JobDataset::of(&run.plan.target.dataset),
            total: run.plan.total,
            chunks: ranges.len() as u64,
            max_deliveries: self.limits.max_deliveries,
        };
        let json = serde_json::to_string(&job).map_err(|e| DistError::Corrupt(e.to_string()))?;
        self.link.check(
            "SET job",
            redis::cmd("SET").arg(keys::job(run.id)).arg(json).exec(con),
        )?;
        let mut ids = Vec::with_capacity(ranges.len());
        for batch in ranges.chunks(BATCH) {
            let mut pipe = redis::pipe();
            for r in batch {
                pipe.cmd("XADD")
                    .arg(keys::CHUNKS)
                    .arg("*")
                    .arg("run")
                    .arg(run.id)
                    .arg("start")
                    .arg(r.start)
                    .arg("end")
                    .arg(r.end);
            }
            let added: Vec<String> = self.link.check("XADD", pipe.query(con))?;
            ids.extend(added);
        }
        Ok(ids)
    }

    /// Mirrors the counters (and, when `leaders`, the leaderboard) into the
    /// run's progress; what it found (chunks recorded, whether the job is
    /// still there, the poison once a chunk reached its delivery limit).
    fn poll(
        &self,
        con: &mut Connection,
        run: &DistRun<'_>,
        common: &RunCommon,
        leaders: bool,
    ) -> Result<Polled, DistError> {
        type Counts = (Option<u64>, Option<u64>, Option<u64>, Option<u64>);
        let ((c, f, s, chunks), poison, job): (Counts, Option<String>, bool) = self.link.check(
            "HMGET progress",
            redis::pipe()
                .cmd("HMGET")
                .arg(keys::progress(run.id))
                .arg(&["completed", "failed", "skipped", "chunks"])
                .cmd("GET")
                .arg(keys::poison(run.id))
                .cmd("EXISTS")
                .arg(keys::job(run.id))
                .query(con),
        )?;
        let board = if leaders {
            Some(self.leaders(con, run, common)?)
        } else {
            None
        };
        let (c, f, s) = (c.unwrap_or(0), f.unwrap_or(0), s.unwrap_or(0));
        run.progress.publish(c, f, s, board);
        Ok(Polled {
            recorded: chunks.unwrap_or(0),
            processed: c.saturating_add(f).saturating_add(s),
            poison,
            job,
        })
    }

    /// The best trials recorded so far, best first.
    fn leaders(
        &self,
        con: &mut Connection,
        run: &DistRun<'_>,
        common: &RunCommon,
    ) -> Result<Vec<Leader>, DistError> {
        let Work::Optimization(spec) = &run.plan.work else {
            return Ok(Vec::new());
        };
        let top: Vec<u64> = self.link.check(
            "ZREVRANGE",
            redis::cmd("ZREVRANGE")
                .arg(keys::leaders(run.id))
                .arg(0)
                .arg(3 * LEADERBOARD_SIZE - 1)
                .query(con),
        )?;
        if top.is_empty() {
            return Ok(Vec::new());
        }
        let raw: Vec<Option<Vec<u8>>> = self.link.check(
            "HMGET leader metrics",
            redis::cmd("HMGET")
                .arg(keys::leader_metrics(run.id))
                .arg(&top)
                .query(con),
        )?;
        let mut board: Vec<Leader> = top
            .iter()
            .zip(raw)
            .filter_map(|(&index, raw)| {
                let raw = raw?;
                let mut bits = [0u64; 15];
                for (b, c) in bits.iter_mut().zip(raw.chunks_exact(8)) {
                    *b = u64::from_le_bytes(c.try_into().ok()?);
                }
                let metrics = TrialMetrics::from_bits(&bits);
                Some(Leader {
                    index,
                    fitness: spec.fitness.score(&metrics, common),
                    metrics,
                })
            })
            .collect();
        board.sort_by(|a, b| {
            let (fa, fb) = (
                a.fitness.unwrap_or(f64::NEG_INFINITY),
                b.fitness.unwrap_or(f64::NEG_INFINITY),
            );
            fb.total_cmp(&fa).then(a.index.cmp(&b.index))
        });
        board.truncate(LEADERBOARD_SIZE);
        Ok(board)
    }

    /// Every recorded chunk's trials, and the combinations skipped.
    /// Each chunk is checked against its range first (the trials are
    /// exactly its combinations): one that is not fails the gathering, so
    /// nothing of it is merged.
    fn gather(
        &self,
        con: &mut Connection,
        id: &str,
        ranges: &[std::ops::Range<u64>],
    ) -> Result<(Vec<atf_engine::optimize::Trial>, u64), DistError> {
        let key = keys::chunks(id);
        let ends: HashMap<u64, u64> = ranges.iter().map(|r| (r.start, r.end)).collect();
        // HSCAN may return a field twice; each chunk counts once
        let mut seen = std::collections::HashSet::new();
        let mut interned = HashMap::new();
        let (mut trials, mut skipped) = (Vec::new(), 0);
        let mut cursor = 0u64;
        loop {
            let (next, pairs): (u64, Vec<(String, Vec<u8>)>) = self.link.check(
                "HSCAN",
                redis::cmd("HSCAN")
                    .arg(&key)
                    .arg(cursor)
                    .arg("COUNT")
                    .arg(16)
                    .query(con),
            )?;
            for (start, blob) in pairs {
                if !seen.insert(start.clone()) {
                    continue;
                }
                let chunk = codec::decode(&blob, &mut interned)
                    .map_err(|e| DistError::Corrupt(format!("{key} {start}: {e}")))?;
                let range = start
                    .parse::<u64>()
                    .ok()
                    .and_then(|s| Some(s..*ends.get(&s)?))
                    .ok_or_else(|| {
                        DistError::Corrupt(format!(
                            "{key} holds {start:?}, not a chunk of this run"
                        ))
                    })?;
                limits::check_chunk(&range, chunk.skipped, &chunk.trials)
                    .map_err(DistError::Corrupt)?;
                skipped += chunk.skipped;
                trials.extend(chunk.trials);
            }
            if next == 0 {
                if seen.len() != ranges.len() {
                    return Err(DistError::Corrupt(format!(
                        "{key} holds {} chunks, the run has {}",
                        seen.len(),
                        ranges.len()
                    )));
                }
                return Ok((trials, skipped));
            }
            cursor = next;
        }
    }

    /// Flags the run cancelled (workers stop its chunks within 250 ms and
    /// drop the rest), then removes its keys and stream entries.
    fn cancel(&self, con: &mut Connection, id: &str, entries: &[String]) {
        let r: redis::RedisResult<()> = redis::cmd("SET")
            .arg(keys::cancel(id))
            .arg(1)
            .arg("PX")
            .arg(CANCEL_TTL_MS)
            .exec(con);
        if let Err(e) = r {
            warn!(run = %id, error = %e, "cannot flag the run cancelled in Redis");
        }
        info!(run = %id, "cancel published to the workers");
        self.forget(con, id, entries);
    }

    /// Deletes the run's keys and its entries of the stream.
    fn forget(&self, con: &mut Connection, id: &str, entries: &[String]) {
        let mut pipe = redis::pipe();
        pipe.cmd("DEL")
            .arg(keys::job(id))
            .arg(keys::chunks(id))
            .arg(keys::progress(id))
            .arg(keys::leaders(id))
            .arg(keys::leader_metrics(id))
            .arg(keys::failures(id))
            .arg(keys::poison(id))
            .ignore();
        for batch in entries.chunks(BATCH) {
            pipe.cmd("XDEL").arg(keys::CHUNKS).arg(batch).ignore();
        }
        if let Err(e) = pipe.exec(con) {
            warn!(run = %id, error = %e, "cannot delete the run's keys from Redis");
        }
    }
}

/// What one look at a run's progress found.
struct Polled {
    /// Chunks recorded.
    recorded: u64,
    /// Combinations completed, failed or skipped.
    processed: u64,
    /// Why the run cannot go on, once a chunk failed too often.
    poison: Option<String>,
    /// Whether the run's job is still in Redis (gone: Redis lost its state).
    job: bool,
}

fn common_of(run: &DistRun<'_>) -> RunCommon {
    let t = &run.plan.target;
    RunCommon {
        initial_equity: t.instrument.money_scale.to_f64(t.config.initial_cash.raw()),
        main_bars: run.data.window_times().len() as u64,
        sub_bars: run.data.total_sub_bars(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atf_engine::optimize::{Trial, TrialFailure, TrialOutcome};
    use atf_testkit::redis::RedisServer;

    fn trials(idx: impl IntoIterator<Item = u64>) -> Vec<Trial> {
        idx.into_iter()
            .map(|index| Trial {
                index,
                outcome: TrialOutcome::Failed(Box::new(TrialFailure {
                    message: "boom".into(),
                    backtrace: "".into(),
                })),
            })
            .collect()
    }

    /// Records `chunks` (start → trials) as workers would.
    fn recorded(server: &RedisServer, id: &str, chunks: &[(u64, Vec<Trial>)]) -> Coordinator {
        let c = Coordinator::connect(&server.url).unwrap();
        let mut con = c.link.open().unwrap();
        for (start, t) in chunks {
            redis::cmd("HSET")
                .arg(keys::chunks(id))
                .arg(start)
                .arg(codec::encode(0, t))
                .exec(&mut con)
                .unwrap();
        }
        c
    }

    #[test]
    fn gathered_chunks_must_be_exactly_the_chunks_combinations() {
        let server = RedisServer::start();
        let ranges = [0..4, 4..8];
        let good = recorded(&server, "good", &[(0, trials(0..4)), (4, trials(4..8))]);
        let (all, skipped) = good
            .gather(&mut good.link.open().unwrap(), "good", &ranges)
            .unwrap();
        assert_eq!((all.len(), skipped), (8, 0));

        for (id, chunks, why) in [
            // a worker returned another chunk's trials under this start
            (
                "other",
                vec![(0, trials(0..4)), (4, trials(0..4))],
                "trial 0, outside the chunk",
            ),
            (
                "twice",
                vec![(0, trials([0, 1, 1, 3])), (4, trials(4..8))],
                "trial 1 twice",
            ),
            (
                "short",
                vec![(0, trials(0..3)), (4, trials(4..8))],
                "holds 3 trials",
            ),
            (
                "stray",
                vec![(0, trials(0..4)), (5, trials(5..9))],
                "\"5\", not a chunk of this run",
            ),
            (
                "missing",
                vec![(0, trials(0..4))],
                "holds 1 chunks, the run has 2",
            ),
        ] {
            let c = recorded(&server, id, &chunks);
            let err = c
                .gather(&mut c.link.open().unwrap(), id, &ranges)
                .unwrap_err();
            assert!(
                matches!(&err, DistError::Corrupt(m) if m.contains(why)),
                "{id}: {err}"
            );
        }
    }
}
