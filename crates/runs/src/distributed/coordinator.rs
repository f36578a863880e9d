//! The coordinator (inside `atf serve --redis-url`): publishes an
//! optimization's job and chunks (a grid's ranges at once; a search's
//! batches, or a resumed run's missing combinations, as lists), mirrors the
//! workers' progress into the run's [`OptimizationProgress`], and once
//! every chunk is recorded gathers the trials and assembles the report —
//! the same report, trial for trial, a single machine computes.

use super::codec;
use super::job::{self, Job, JobDataset};
use super::keys;
use super::limits::{self, DistLimits};
use super::link::Link;
use super::DistError;
use crate::plan::{Plan, Work};
use crate::redis_client::RedisOptions;
use atf_engine::metrics::{RunCommon, TrialMetrics};
use atf_engine::optimize::search::SearchDriver;
use atf_engine::optimize::{
    Leader, OptimizationProgress, OptimizationReport, OptimizeSpec, Trial, LEADERBOARD_SIZE,
};
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
    /// A resumed run's trials recorded by the run it resumes, sorted by
    /// index, one per index (empty for a fresh run): taken as they are.
    pub recorded: &'a [Trial],
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

    /// Runs `run` on the workers: `Ok(None)` when a grid was cancelled,
    /// `Ok(Some(report))` when every chunk came back (or, cancelled, a
    /// search's or resumed run's partial report, marked `cancelled`, which
    /// a resume finishes), or the error and where it happened (Redis lost
    /// mid-run, the report not assembled).
    ///
    /// A grid is cut into ranges of combinations, published at once. A
    /// search, and a resumed run, hand out lists of combinations instead
    /// (`Coordinator::optimize_listed`).
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
        if spec.search.is_some() || !run.recorded.is_empty() {
            return self.optimize_listed(run, spec);
        }
        let t0 = Instant::now();
        let mut con = self.link.open().map_err(lost)?;
        let total = run.plan.total;
        let size = job::chunk_size(total, run.data.total_sub_bars());
        let ranges = job::chunks(total, size);
        let entries = self.publish(&mut con, run, &ranges).map_err(lost)?;
        info!(run = %run.id, chunks = ranges.len(), chunk_size = size, "chunks published");
        let common = common_of(run);
        if !self.await_chunks(&mut con, run, &common, &entries, ranges.len() as u64, 0)? {
            return Ok(None);
        }
        let (trials, skipped) = self.gather(&mut con, run.id, &ranges).map_err(rejected)?;
        let report = assemble(run, spec, trials, skipped, false, t0)?;
        run.progress
            .publish(report.completed, report.failed, report.skipped, None);
        self.forget(&mut con, run.id, &entries);
        info!(run = %run.id, wall_secs = t0.elapsed().as_secs_f64(), "distributed optimization assembled");
        Ok(Some(report))
    }

    /// A search, or a resumed run, on the workers. A search advances one
    /// batch at a time ([`SearchDriver`]): each batch's combinations still
    /// to run are published as list chunks keyed by their position in the
    /// evaluation order, and once all are recorded their trials, put back
    /// in the batch's order, plan the next batch — so the trials are the
    /// ones a single machine evaluates, whatever the worker count. A
    /// resumed grid runs the combinations its recorded trials lack as one
    /// such list.
    fn optimize_listed(
        &self,
        run: &DistRun<'_>,
        spec: &OptimizeSpec,
    ) -> Result<Option<OptimizationReport>, (String, String)> {
        let t0 = Instant::now();
        let mut con = self.link.open().map_err(lost)?;
        self.store_job(&mut con, run, 0).map_err(lost)?;
        let mut lists = Lists {
            common: common_of(run),
            entries: Vec::new(),
            at: 0,
            published: 0,
            skipped: 0,
        };
        let report = match spec.search {
            Some(search) => {
                let mut driver =
                    SearchDriver::new(spec, search, lists.common, run.recorded.to_vec());
                let mut cancelled = false;
                loop {
                    let todo = driver.next_batch();
                    run.progress.set_generation(driver.generation());
                    let Some(todo) = todo else { break };
                    let Some(fresh) =
                        self.run_list(&mut con, run, &mut lists, &todo, driver.skipped())?
                    else {
                        // the batches done so far make a partial report,
                        // which a resume finishes
                        cancelled = true;
                        break;
                    };
                    if !driver.feed(fresh) {
                        self.cancel(&mut con, run.id, &lists.entries);
                        return Err((
                            "internal error: a search batch came back incomplete".into(),
                            std::backtrace::Backtrace::force_capture().to_string(),
                        ));
                    }
                }
                let skipped = lists.skipped + driver.skipped();
                let (trials, outcome) = driver.finish();
                let mut report = assemble(run, spec, trials, skipped, cancelled, t0)?;
                report.search = Some(outcome);
                report
            }
            None => {
                let total = spec.grid.size();
                let missing: Vec<u64> = (0..total)
                    .filter(|i| run.recorded.binary_search_by_key(i, |t| t.index).is_err())
                    .collect();
                let mut trials = run.recorded.to_vec();
                let fresh = self.run_list(&mut con, run, &mut lists, &missing, 0)?;
                let cancelled = fresh.is_none();
                trials.extend(fresh.unwrap_or_default());
                assemble(run, spec, trials, lists.skipped, cancelled, t0)?
            }
        };
        run.progress
            .publish(report.completed, report.failed, report.skipped, None);
        self.forget(&mut con, run.id, &lists.entries);
        info!(run = %run.id, chunks = lists.published, wall_secs = t0.elapsed().as_secs_f64(), "distributed optimization assembled");
        Ok(Some(report))
    }

    /// Runs the combinations `todo` on the workers as list chunks: their
    /// trials in `todo`'s order (those a constraint refused left out and
    /// counted in `lists.skipped`), or `None` when the run was cancelled.
    /// `planned_skips` are counted as skipped in the progress besides the
    /// workers' (a search's planner refused them).
    fn run_list(
        &self,
        con: &mut Connection,
        run: &DistRun<'_>,
        lists: &mut Lists,
        todo: &[u64],
        planned_skips: u64,
    ) -> Result<Option<Vec<Trial>>, (String, String)> {
        if todo.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let size = job::chunk_size(todo.len() as u64, run.data.total_sub_bars());
        let pieces: Vec<(u64, &[u64])> = todo
            .chunks(usize::try_from(size).unwrap_or(usize::MAX))
            .scan(lists.at, |at, piece| {
                let here = *at;
                *at += piece.len() as u64;
                Some((here, piece))
            })
            .collect();
        lists.at += todo.len() as u64;
        let added = self.add_lists(con, run.id, &pieces).map_err(lost)?;
        lists.entries.extend(added);
        lists.published += pieces.len() as u64;
        if !self.await_chunks(
            con,
            run,
            &lists.common,
            &lists.entries,
            lists.published,
            planned_skips,
        )? {
            return Ok(None);
        }
        let (trials, skipped) = self.gather_lists(con, run.id, &pieces).map_err(rejected)?;
        lists.skipped += skipped;
        // back in `todo`'s order, as the single-machine runner returns them
        let mut by_index: HashMap<u64, Trial> = trials.into_iter().map(|t| (t.index, t)).collect();
        Ok(Some(
            todo.iter().filter_map(|i| by_index.remove(i)).collect(),
        ))
    }

    /// Waits until `want` chunks of `run` are recorded, mirroring its
    /// progress (`extra_skips` added to the workers' skipped count):
    /// `Ok(true)` then, `Ok(false)` when the run was cancelled, or why it
    /// failed (poisoned, Redis lost its state or did not answer, stalled) —
    /// its chunks withdrawn either way.
    fn await_chunks(
        &self,
        con: &mut Connection,
        run: &DistRun<'_>,
        common: &RunCommon,
        entries: &[String],
        want: u64,
        extra_skips: u64,
    ) -> Result<bool, (String, String)> {
        let mut last_ok = Instant::now();
        let mut stall = limits::StallClock::start();
        let mut polls = 0u64;
        loop {
            if run.progress.is_cancelled() {
                self.cancel(con, run.id, entries);
                return Ok(false);
            }
            let why = match self.poll(con, run, common, polls.is_multiple_of(4), extra_skips) {
                Ok(p) if p.poison.is_some() || !p.job => p.poison.or_else(|| {
                    Some(format!(
                        "Redis lost this run's state ({} is gone: Redis restarted without persistence, or was flushed); resubmit it",
                        keys::job(run.id)
                    ))
                }),
                Ok(p) if p.recorded >= want => return Ok(true),
                Ok(p) => {
                    last_ok = Instant::now();
                    let still = stall.observe(p.recorded, p.processed);
                    (still >= self.limits.stall_timeout).then(|| {
                        format!(
                            "no progress for {} s (the limit is --stall-timeout): {} of {} chunks recorded, {} live workers",
                            self.limits.stall_timeout.as_secs(),
                            p.recorded,
                            want,
                            self.active_workers()
                        )
                    })
                }
                Err(e) => {
                    if last_ok.elapsed() >= self.limits.redis_grace {
                        // should Redis come back, its workers drop the run
                        if let Ok(mut c) = self.link.open() {
                            self.cancel(&mut c, run.id, entries);
                        }
                        run.progress.cancel();
                        return Err(lost(e));
                    }
                    warn!(run = %run.id, error = %e, "cannot read progress; retrying");
                    if let Ok(c) = self.link.open() {
                        *con = c;
                    }
                    None
                }
            };
            if let Some(reason) = why {
                warn!(run = %run.id, %reason, "failing the distributed run");
                self.cancel(con, run.id, entries);
                run.progress.cancel();
                return Err((reason, String::new()));
            }
            polls += 1;
            // a search waits for each batch: look again soon at first
            // (5, 10, 20 … ms), then every `POLL`
            std::thread::sleep(POLL.min(Duration::from_millis(5 << polls.min(6))));
        }
    }

    /// Stores the job, then adds the chunks to the stream; their entry ids.
    fn publish(
        &self,
        con: &mut Connection,
        run: &DistRun<'_>,
        ranges: &[std::ops::Range<u64>],
    ) -> Result<Vec<String>, DistError> {
        self.store_job(con, run, ranges.len() as u64)?;
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

    /// Stores the job of `run` (`chunks` published at once; 0 when they
    /// are handed out batch by batch). A search's request carries its seed
    /// — the one chosen here when the request had none — so every worker
    /// plans the same run key and the same trials.
    fn store_job(
        &self,
        con: &mut Connection,
        run: &DistRun<'_>,
        chunks: u64,
    ) -> Result<(), DistError> {
        let mut request = run.request.clone();
        if let (Work::Optimization(spec), Some(body)) = (&run.plan.work, request.as_object_mut()) {
            if let Some(search) = spec.search {
                body.insert("seed".into(), Value::from(search.seed));
            }
        }
        let job = Job {
            run: run.id.to_owned(),
            run_key: run.plan.key.to_string(),
            request,
            dataset: JobDataset::of(&run.plan.target.dataset),
            total: run.plan.total,
            chunks,
            max_deliveries: self.limits.max_deliveries,
        };
        let json = serde_json::to_string(&job).map_err(|e| DistError::Corrupt(e.to_string()))?;
        self.link.check(
            "SET job",
            redis::cmd("SET").arg(keys::job(run.id)).arg(json).exec(con),
        )
    }

    /// Adds list chunks `(position, combinations)` to the stream; their
    /// entry ids.
    fn add_lists(
        &self,
        con: &mut Connection,
        id: &str,
        pieces: &[(u64, &[u64])],
    ) -> Result<Vec<String>, DistError> {
        let mut ids = Vec::with_capacity(pieces.len());
        for batch in pieces.chunks(BATCH) {
            let mut pipe = redis::pipe();
            for (at, list) in batch {
                pipe.cmd("XADD")
                    .arg(keys::CHUNKS)
                    .arg("*")
                    .arg("run")
                    .arg(id)
                    .arg("start")
                    .arg(*at)
                    .arg("end")
                    .arg(at + list.len() as u64)
                    .arg("list")
                    .arg(job::encode_list(list));
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
        extra_skips: u64,
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
        let (c, f) = (c.unwrap_or(0), f.unwrap_or(0));
        let s = s.unwrap_or(0).saturating_add(extra_skips);
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

    /// The trials of the list chunks `pieces` (position, combinations),
    /// each checked against its list first, and the combinations skipped.
    fn gather_lists(
        &self,
        con: &mut Connection,
        id: &str,
        pieces: &[(u64, &[u64])],
    ) -> Result<(Vec<Trial>, u64), DistError> {
        let key = keys::chunks(id);
        let mut interned = HashMap::new();
        let (mut trials, mut skipped) = (Vec::new(), 0);
        for batch in pieces.chunks(64) {
            let at: Vec<u64> = batch.iter().map(|(at, _)| *at).collect();
            let blobs: Vec<Option<Vec<u8>>> = self.link.check(
                "HMGET chunks",
                redis::cmd("HMGET").arg(&key).arg(&at).query(con),
            )?;
            for ((at, list), blob) in batch.iter().zip(blobs) {
                let blob = blob.ok_or_else(|| {
                    DistError::Corrupt(format!("{key} lacks chunk {at}, counted as recorded"))
                })?;
                let chunk = codec::decode(&blob, &mut interned)
                    .map_err(|e| DistError::Corrupt(format!("{key} {at}: {e}")))?;
                limits::check_list(*at, list, chunk.skipped, &chunk.trials)
                    .map_err(DistError::Corrupt)?;
                skipped += chunk.skipped;
                trials.extend(chunk.trials);
            }
        }
        Ok((trials, skipped))
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

/// The list chunks of one run handed out so far.
struct Lists {
    common: RunCommon,
    /// Their stream entries.
    entries: Vec<String>,
    /// Position of the next combination in the evaluation order.
    at: u64,
    /// Chunks published.
    published: u64,
    /// Combinations the workers found a constraint refuses.
    skipped: u64,
}

/// A Redis failure mid-run, as the run's error.
fn lost(e: DistError) -> (String, String) {
    (
        format!("lost Redis mid-run: {e}"),
        std::backtrace::Backtrace::force_capture().to_string(),
    )
}

/// A gathering failure: a worker's result rejected, or Redis lost.
fn rejected(e: DistError) -> (String, String) {
    match e {
        DistError::Corrupt(why) => (
            format!("a worker's result was rejected: {why}"),
            String::new(),
        ),
        e => lost(e),
    }
}

/// The report of `run` from its trials (the best K re-run here).
fn assemble(
    run: &DistRun<'_>,
    spec: &OptimizeSpec,
    trials: Vec<Trial>,
    skipped: u64,
    cancelled: bool,
    t0: Instant,
) -> Result<OptimizationReport, (String, String)> {
    let t = &run.plan.target;
    t.strategy
        .assemble(
            run.data,
            &t.config,
            spec,
            trials,
            skipped,
            cancelled,
            run.threads,
            t0.elapsed().as_secs_f64(),
        )
        .map_err(|e| {
            (
                e.to_string(),
                std::backtrace::Backtrace::force_capture().to_string(),
            )
        })
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
                blocks: None,
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
