//! A search on the optimizer's thread pool: plan a batch, run it, rank its
//! trials, plan the next — until the budget is spent, the space runs out
//! or the run is cancelled.

use super::planner::Planner;
use super::{Search, SearchOutcome, SearchSummary, GENERATOR};
use crate::optimize::report::RankKey;
use crate::optimize::runner::{run_trials, Batch, Shared};
use crate::optimize::Trial;
use crate::strategy::Strategy;
use std::sync::atomic::Ordering;

/// Runs `search` over `shared`'s spec on `pool`: every trial evaluated (in
/// index order), what the search did, and whether a cancel cut it short.
pub(in crate::optimize) fn run_search<S: Strategy>(
    pool: &rayon::ThreadPool,
    shared: &Shared<'_>,
    search: Search,
) -> (Vec<Trial>, SearchOutcome, bool) {
    let mut planner = Planner::new(shared.spec, search);
    let mut trials: Vec<Trial> = Vec::new();
    let mut order = Vec::new();
    let mut keys: Vec<RankKey> = Vec::new();
    let mut cancelled = false;
    loop {
        let before = planner.skipped();
        let batch = planner.next_batch(&keys);
        let progress = shared.progress;
        progress
            .skipped
            .fetch_add(planner.skipped() - before, Ordering::Relaxed);
        progress
            .generation
            .store(planner.generation(), Ordering::Relaxed);
        if batch.is_empty() {
            break;
        }
        if progress.is_cancelled() {
            cancelled = true;
            break;
        }
        let ran = run_trials::<S>(pool, shared, Batch::List(&batch));
        keys = ran
            .iter()
            .map(|t| RankKey::of(t, shared.spec.fitness, &shared.common))
            .collect();
        order.extend(ran.iter().map(|t| t.index));
        let short = ran.len() < batch.len();
        trials.extend(ran);
        if short {
            cancelled = true;
            break;
        }
    }
    trials.sort_unstable_by_key(|t| t.index);
    let summary = SearchSummary {
        method: search.method,
        budget: search.budget,
        seed: search.seed,
        generator: GENERATOR.to_owned(),
        generations: planner.generation(),
        exhausted: planner.exhausted(),
    };
    (trials, SearchOutcome { summary, order }, cancelled)
}
