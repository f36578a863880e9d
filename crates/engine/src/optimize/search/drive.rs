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
/// Trials of `recorded` (sorted by index: an interrupted run's) are taken
/// as they are instead of run again — the search replays the same batches,
/// its results being the same.
pub(in crate::optimize) fn run_search<S: Strategy>(
    pool: &rayon::ThreadPool,
    shared: &Shared<'_>,
    search: Search,
    recorded: &[Trial],
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
        let known = |i: u64| {
            recorded
                .binary_search_by_key(&i, |t| t.index)
                .ok()
                .map(|at| &recorded[at])
        };
        let todo: Vec<u64> = batch
            .iter()
            .copied()
            .filter(|&i| known(i).is_none())
            .collect();
        let mut fresh = run_trials::<S>(pool, shared, Batch::List(&todo)).into_iter();
        let cut = fresh.len() < todo.len();
        // the batch's trials in the batch's order, recorded or just run
        let mut ran = Vec::with_capacity(batch.len());
        for &i in &batch {
            match known(i) {
                Some(t) => ran.push(t.clone()),
                None => match fresh.next() {
                    Some(t) => ran.push(t),
                    None => break,
                },
            }
        }
        keys = ran
            .iter()
            .map(|t| RankKey::of(t, shared.spec.fitness, &shared.common))
            .collect();
        order.extend(ran.iter().map(|t| t.index));
        trials.extend(ran);
        if cut {
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
