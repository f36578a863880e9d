//! A search stepped one batch at a time: [`SearchDriver`] plans a batch,
//! takes its trials back (from this process's thread pool, or from
//! scale-out workers) and plans the next — until the budget is spent, the
//! space runs out or the run is cancelled. [`run_search`] drives it on the
//! optimizer's thread pool.

use super::planner::Planner;
use super::{Search, SearchOutcome, SearchSummary, GENERATOR};
use crate::metrics::RunCommon;
use crate::optimize::report::RankKey;
use crate::optimize::runner::{run_trials, Batch, Shared};
use crate::optimize::{OptimizeSpec, Trial};
use crate::strategy::Strategy;
use std::sync::atomic::Ordering;

/// A search advanced from outside, one batch at a time. Whoever runs the
/// batches (threads here, or workers on other machines) gets the same
/// batches, trials and outcome: the next batch depends only on the seed
/// and the previous batches' trials, handed back in the batch's order.
///
/// Trials `recorded` by an interrupted run are taken as they are instead
/// of run again: the search replays the same batches, its results being
/// the same.
pub struct SearchDriver<'a> {
    planner: Planner<'a>,
    spec: &'a OptimizeSpec,
    common: RunCommon,
    /// Sorted by index, one per index.
    recorded: Vec<Trial>,
    /// The batch planned last, whose trials are awaited.
    batch: Vec<u64>,
    keys: Vec<RankKey>,
    trials: Vec<Trial>,
    order: Vec<u64>,
}

impl std::fmt::Debug for SearchDriver<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchDriver")
            .field("generation", &self.planner.generation())
            .field("trials", &self.trials.len())
            .finish_non_exhaustive()
    }
}

impl<'a> SearchDriver<'a> {
    /// A driver of `search` over `spec`'s grid, ranking trials against
    /// `common`, taking `recorded` trials (any order; one per index counts)
    /// as they are.
    #[must_use]
    pub fn new(
        spec: &'a OptimizeSpec,
        search: Search,
        common: RunCommon,
        mut recorded: Vec<Trial>,
    ) -> Self {
        recorded.sort_by_key(|t| t.index);
        recorded.dedup_by_key(|t| t.index);
        Self {
            planner: Planner::new(spec, search),
            spec,
            common,
            recorded,
            batch: Vec::new(),
            keys: Vec::new(),
            trials: Vec::new(),
            order: Vec::new(),
        }
    }

    fn known(&self, i: u64) -> Option<&Trial> {
        self.recorded
            .binary_search_by_key(&i, |t| t.index)
            .ok()
            .map(|at| &self.recorded[at])
    }

    /// Plans the next batch: the combinations of it to run (those not
    /// recorded, in the batch's order; possibly none), or `None` when the
    /// search is over. Their trials go to [`SearchDriver::feed`] next.
    pub fn next_batch(&mut self) -> Option<Vec<u64>> {
        self.batch = self.planner.next_batch(&self.keys);
        if self.batch.is_empty() {
            return None;
        }
        Some(
            self.batch
                .iter()
                .copied()
                .filter(|&i| self.known(i).is_none())
                .collect(),
        )
    }

    /// Takes the trials of the combinations [`SearchDriver::next_batch`]
    /// returned, in that order; `false` when there are fewer (the run was
    /// cut short: the batch's trials up to the first missing one are kept).
    pub fn feed(&mut self, fresh: Vec<Trial>) -> bool {
        let mut fresh = fresh.into_iter();
        let mut ran = Vec::with_capacity(self.batch.len());
        let mut whole = true;
        for &i in &self.batch {
            match self.known(i) {
                Some(t) => ran.push(t.clone()),
                None => match fresh.next() {
                    Some(t) => ran.push(t),
                    None => {
                        whole = false;
                        break;
                    }
                },
            }
        }
        self.keys = ran
            .iter()
            .map(|t| RankKey::of(t, self.spec.fitness, &self.common))
            .collect();
        self.order.extend(ran.iter().map(|t| t.index));
        self.trials.extend(ran);
        whole
    }

    /// Combinations a constraint refused while planning, so far.
    #[must_use]
    pub fn skipped(&self) -> u64 {
        self.planner.skipped()
    }

    /// Batches planned so far (the genetic search's generations).
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.planner.generation()
    }

    /// Every trial evaluated (in index order) and what the search did.
    #[must_use]
    pub fn finish(self) -> (Vec<Trial>, SearchOutcome) {
        let mut trials = self.trials;
        trials.sort_unstable_by_key(|t| t.index);
        let summary = SearchSummary {
            method: self.planner.search().method,
            budget: self.planner.search().budget,
            seed: self.planner.search().seed,
            generator: GENERATOR.to_owned(),
            generations: self.planner.generation(),
            exhausted: self.planner.exhausted(),
        };
        (
            trials,
            SearchOutcome {
                summary,
                order: self.order,
            },
        )
    }
}

/// Runs `search` over `shared`'s spec on `pool`: every trial evaluated (in
/// index order), what the search did, and whether a cancel cut it short.
/// Trials of `recorded` (an interrupted run's) are taken as they are.
pub(in crate::optimize) fn run_search<S: Strategy>(
    pool: &rayon::ThreadPool,
    shared: &Shared<'_>,
    search: Search,
    recorded: Vec<Trial>,
) -> (Vec<Trial>, SearchOutcome, bool) {
    let mut driver = SearchDriver::new(shared.spec, search, shared.common, recorded);
    let progress = shared.progress;
    let mut cancelled = false;
    loop {
        let before = driver.skipped();
        let todo = driver.next_batch();
        progress
            .skipped
            .fetch_add(driver.skipped() - before, Ordering::Relaxed);
        progress
            .generation
            .store(driver.generation(), Ordering::Relaxed);
        let Some(todo) = todo else { break };
        if progress.is_cancelled() {
            cancelled = true;
            break;
        }
        let fresh = run_trials::<S>(pool, shared, Batch::List(&todo));
        if !driver.feed(fresh) {
            cancelled = true;
            break;
        }
    }
    let (trials, outcome) = driver.finish();
    (trials, outcome, cancelled)
}
