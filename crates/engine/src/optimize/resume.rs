//! Resuming an interrupted optimization (cancelled, or its process gone):
//! the trials it recorded are kept, only the others run, and the report is
//! the one an uninterrupted run gives — trials, ranking, top K and
//! robustness alike, runs being deterministic.
//!
//! A grid runs the combinations no recorded trial covers (those a
//! constraint refuses are refused again, and counted). A search replays
//! its batches from the seed: a batch's recorded trials are taken as they
//! are, the rest run, so it plans exactly the batches the uninterrupted
//! search planned. The best K are run again in full from all the trials
//! ([`assemble`]).

use super::runner::{run_trials, setup, slots_of, Batch};
use super::{
    assemble, OptimizationProgress, OptimizationReport, OptimizeError, OptimizeSpec, Trial,
    LEADERBOARD_SIZE,
};
use crate::bars::MarketData;
use crate::order::BacktestConfig;
use crate::strategy::Strategy;
use std::time::Instant;

/// Finishes the optimization `spec` over `data` whose trials `recorded`
/// (any order; a trial given twice counts once) an interrupted run left,
/// running only the rest on `threads` threads, reporting into `progress`
/// (which counts only the trials run now). Cancelled again, it returns a
/// partial report as [`optimize`](super::optimize) does — which can be
/// resumed in turn.
///
/// # Errors
/// As [`optimize`](super::optimize).
pub fn resume<S: Strategy>(
    data: &MarketData,
    cfg: &BacktestConfig,
    spec: &OptimizeSpec,
    mut recorded: Vec<Trial>,
    progress: &OptimizationProgress,
    threads: usize,
) -> Result<OptimizationReport, OptimizeError> {
    if spec.top == 0 {
        return Err(OptimizeError::NoTop);
    }
    let started = Instant::now();
    let total = spec.grid.size();
    recorded.retain(|t| t.index < total);
    recorded.sort_by_key(|t| t.index);
    recorded.dedup_by_key(|t| t.index);
    let slots = slots_of(spec)?;
    let (pool, shared) = setup(data, cfg, spec, progress, threads, LEADERBOARD_SIZE, slots)?;
    let (trials, search, cancelled) = match spec.search {
        None => {
            let missing: Vec<u64> = (0..total)
                .filter(|i| recorded.binary_search_by_key(i, |t| t.index).is_err())
                .collect();
            let ran = run_trials::<S>(&pool, &shared, Batch::List(&missing));
            let cancelled = progress.is_cancelled()
                && (ran.len() as u64) + progress.skipped() < missing.len() as u64;
            recorded.extend(ran);
            (recorded, None, cancelled)
        }
        Some(s) => {
            let (trials, outcome, cancelled) =
                super::search::run_search::<S>(&pool, &shared, s, recorded);
            (trials, Some(outcome), cancelled)
        }
    };
    let threads = pool.current_num_threads();
    drop(shared);
    let mut report = assemble::<S>(
        data,
        cfg,
        spec,
        trials,
        progress.skipped(),
        cancelled,
        threads,
        started.elapsed().as_secs_f64(),
    )?;
    report.search = search;
    Ok(report)
}
