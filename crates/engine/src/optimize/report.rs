//! The outcome of an optimization: every trial in compact form, the best
//! K in full, the ranking — and the forms results travel in
//! ([`OptimizationSummary`], [`TrialRecord`], [`KeptTrial`], [`TopTrial`]).
//!
//! [`OptimizationReport`] is what the optimizer returns: trials as compact
//! [`TrialMetrics`] and per-block return sums (a million of them fit in
//! about 400 MB). The other
//! types are what leaves the engine — into the run database, the cache,
//! the API and the CLI — each `Serialize + Deserialize`, so every layer
//! reads and writes the same type.

use super::{Fitness, OptimizeSpec};
use crate::metrics::{PerformanceMetrics, RunCommon, TrialMetrics};
use crate::param_map::{AxisValues, OrderedMap, ParamMap};
use crate::report::BacktestReport;
use crate::robustness::{BlockReturns, Robustness};
use serde::ser::SerializeSeq;
use serde::Serializer;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::sync::Arc;

/// A trial that failed: what the strategy said and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialFailure {
    /// Panic or error message.
    pub message: Box<str>,
    /// Backtrace, shared between trials that failed at the same place.
    pub backtrace: Arc<str>,
}

/// How one combination ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TrialOutcome {
    /// Ran to the end.
    Completed(TrialMetrics),
    /// Panicked or returned an error.
    Failed(Box<TrialFailure>),
}

/// One combination's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// Combination index in the grid.
    pub index: u64,
    /// Metrics or failure.
    pub outcome: TrialOutcome,
    /// Its returns summed per block, for PBO (completed trials over at
    /// least [`crate::robustness::BLOCKS`] main bars; 256 bytes).
    pub blocks: Option<BlockReturns>,
}

/// Position in the ranking: smaller is better.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct RankKey {
    /// 0 = fitness defined, 1 = undefined, 2 = failed.
    pub(super) class: u8,
    pub(super) score: f64,
    pub(super) index: u64,
}

impl RankKey {
    pub(super) fn of(trial: &Trial, fitness: Fitness, common: &RunCommon) -> Self {
        match &trial.outcome {
            TrialOutcome::Completed(m) => Self::completed(trial.index, m, fitness, common),
            TrialOutcome::Failed(_) => Self {
                class: 2,
                score: 0.0,
                index: trial.index,
            },
        }
    }

    pub(super) fn completed(
        index: u64,
        m: &TrialMetrics,
        fitness: Fitness,
        common: &RunCommon,
    ) -> Self {
        match fitness.score(m, common).filter(|s| !s.is_nan()) {
            Some(score) => Self {
                class: 0,
                score,
                index,
            },
            None => Self {
                class: 1,
                score: 0.0,
                index,
            },
        }
    }

    pub(super) fn cmp(&self, other: &Self) -> Ordering {
        self.class
            .cmp(&other.class)
            .then_with(|| other.score.total_cmp(&self.score))
            .then_with(|| self.index.cmp(&other.index))
    }
}

/// A best trial with everything a backtest report has (the CLI's
/// `--json --curves`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopTrial {
    /// Combination index.
    pub index: u64,
    /// 1 = best.
    pub rank: usize,
    /// Its fitness.
    pub fitness: Option<f64>,
    /// The full report (metrics, equity curve, trades).
    #[serde(flatten)]
    pub report: BacktestReport,
}

/// The outcome of an optimization (complete, or partial when cancelled).
#[derive(Debug, Clone)]
pub struct OptimizationReport {
    /// Strategy name.
    pub strategy: &'static str,
    /// Strategy version.
    pub strategy_version: &'static str,
    /// What was optimized.
    pub spec: OptimizeSpec,
    /// Shared by every trial: initial equity and bar counts.
    pub common: RunCommon,
    /// Instrument symbol.
    pub symbol: String,
    /// Main timeframe.
    pub timeframe: String,
    /// First main bar's open time, ms.
    pub from_ms: i64,
    /// Last main bar's open time, ms.
    pub to_ms: i64,
    /// Main bars before `from_ms` every trial warmed up on.
    pub warmup_bars: u32,
    /// Trials that ran to the end.
    pub completed: u64,
    /// Trials that failed.
    pub failed: u64,
    /// Combinations refused by a constraint.
    pub skipped: u64,
    /// Whether it was cancelled before every combination ran.
    pub cancelled: bool,
    /// Every trial that ran, in combination-index order.
    pub trials: Vec<Trial>,
    /// The best K completed trials with equity curves and trades, best first.
    pub top: Vec<TopTrial>,
    /// Worker threads used.
    pub threads: usize,
    /// Wall time of the whole optimization, seconds.
    pub wall_secs: f64,
    /// Is the winner real: DSR, neighbours, spread (`None` without a
    /// completed trial).
    pub robustness: Option<Robustness>,
    /// What a search did and the order it evaluated its trials in (`None`
    /// for a whole grid).
    pub search: Option<super::search::SearchOutcome>,
}

impl OptimizationReport {
    /// Combinations in the grid.
    #[must_use]
    pub fn total_combinations(&self) -> u64 {
        self.spec.grid.size()
    }

    /// Indices into [`OptimizationReport::trials`], best first.
    #[must_use]
    pub fn ranking(&self) -> Vec<usize> {
        let keys: Vec<RankKey> = self
            .trials
            .iter()
            .map(|t| RankKey::of(t, self.spec.fitness, &self.common))
            .collect();
        let mut order: Vec<usize> = (0..self.trials.len()).collect();
        order.sort_unstable_by(|&a, &b| keys[a].cmp(&keys[b]));
        order
    }

    /// The fitness of a trial (`None` if undefined or failed).
    #[must_use]
    pub fn fitness_of(&self, trial: &Trial) -> Option<f64> {
        match &trial.outcome {
            TrialOutcome::Completed(m) => self.spec.fitness.score(m, &self.common),
            TrialOutcome::Failed(_) => None,
        }
    }

    /// A view that serializes the trials in ranked order, each with its
    /// parameters and full metrics (or error).
    #[must_use]
    pub fn ranked_trials(&self) -> RankedTrials<'_> {
        RankedTrials {
            report: self,
            order: self.ranking(),
        }
    }
}

/// Every trial of a report, best first (see [`OptimizationReport::ranked_trials`]).
#[derive(Debug)]
pub struct RankedTrials<'a> {
    report: &'a OptimizationReport,
    order: Vec<usize>,
}

impl<'a> RankedTrials<'a> {
    /// `(rank, trial)` pairs, rank 1 first.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &'a Trial)> + '_ {
        self.order
            .iter()
            .enumerate()
            .map(|(r, &i)| (r + 1, &self.report.trials[i]))
    }
}

impl OptimizationReport {
    /// Everything but the trials: what a summary row stores.
    #[must_use]
    pub fn summary(&self) -> OptimizationSummary {
        OptimizationSummary {
            strategy: self.strategy.to_owned(),
            strategy_version: self.strategy_version.to_owned(),
            symbol: self.symbol.clone(),
            timeframe: self.timeframe.clone(),
            from_ms: self.from_ms,
            to_ms: self.to_ms,
            warmup_bars: self.warmup_bars,
            maximize: self.spec.fitness,
            axes: OrderedMap(
                self.spec
                    .grid
                    .axes()
                    .iter()
                    .map(|a| {
                        (
                            a.name.to_owned(),
                            a.values.iter().map(|&v| v.into()).collect(),
                        )
                    })
                    .collect(),
            ),
            constraints: self
                .spec
                .constraints
                .iter()
                .map(ToString::to_string)
                .collect(),
            base_params: (&self.spec.base).into(),
            total_combinations: self.total_combinations(),
            completed_combinations: self.completed,
            failed_combinations: self.failed,
            skipped_combinations: self.skipped,
            cancelled: self.cancelled,
            initial_equity: self.common.initial_equity,
            main_bars: self.common.main_bars,
            sub_bars: self.common.sub_bars,
            threads: self.threads as u64,
            wall_time_ms: self.wall_secs * 1000.0,
            robustness: self.robustness.clone(),
            search: self.search.as_ref().map(|s| s.summary.clone()),
        }
    }

    /// Each evaluated combination's position in a search's evaluation
    /// order, as `(index, position)` sorted by index (empty for a grid,
    /// whose order is its index order).
    #[must_use]
    pub fn eval_positions(&self) -> Vec<(u64, u64)> {
        let Some(search) = &self.search else {
            return Vec::new();
        };
        let mut pairs: Vec<(u64, u64)> = search
            .order
            .iter()
            .enumerate()
            .map(|(pos, &index)| (index, pos as u64))
            .collect();
        pairs.sort_unstable();
        pairs
    }

    /// The reported form of `trial` at `rank`; `positions` are
    /// [`Self::eval_positions`] (its `evalOrder` for a search).
    #[must_use]
    pub fn record(&self, rank: u64, trial: &Trial, positions: &[(u64, u64)]) -> TrialRecord {
        let params = (&self.spec.params_of(trial.index)).into();
        let eval_order = positions
            .binary_search_by_key(&trial.index, |&(index, _)| index)
            .ok()
            .map(|k| positions[k].1);
        match &trial.outcome {
            TrialOutcome::Completed(m) => TrialRecord {
                index: trial.index,
                rank,
                params,
                status: TrialStatus::Completed,
                fitness: self.spec.fitness.score(m, &self.common),
                metrics: Some(m.expand(&self.common, None)),
                error_message: None,
                error_stack_trace: None,
                backtest_id: None,
                eval_order,
            },
            TrialOutcome::Failed(f) => TrialRecord {
                index: trial.index,
                rank,
                params,
                status: TrialStatus::Failed,
                fitness: None,
                metrics: None,
                error_message: Some(f.message.to_string()),
                error_stack_trace: Some(f.backtrace.to_string()),
                backtest_id: None,
                eval_order,
            },
        }
    }

    /// Every trial's reported form, best first — built one at a time as
    /// they are consumed (a million-trial list is never held twice).
    pub fn records(&self) -> impl Iterator<Item = TrialRecord> + '_ {
        let positions = self.eval_positions();
        self.ranking()
            .into_iter()
            .enumerate()
            .map(move |(r, i)| self.record(r as u64 + 1, &self.trials[i], &positions))
    }

    /// The best `n` trials' reported forms, best first, and the
    /// best-ranked failed trial's (failed trials rank after every
    /// completed one): what a summary table shows.
    #[must_use]
    pub fn best_and_first_failed(&self, n: usize) -> (Vec<TrialRecord>, Option<TrialRecord>) {
        let ranking = self.ranking();
        let positions = self.eval_positions();
        let best = ranking
            .iter()
            .take(n)
            .enumerate()
            .map(|(r, &i)| self.record(r as u64 + 1, &self.trials[i], &positions))
            .collect();
        let failed = ranking
            .iter()
            .position(|&i| matches!(self.trials[i].outcome, TrialOutcome::Failed(_)))
            .map(|r| self.record(r as u64 + 1, &self.trials[ranking[r]], &positions));
        (best, failed)
    }

    /// The summary, every trial best first and (when `with_top`) the best
    /// trials' full reports, written as one [`OptimizationOutcome`] object
    /// without collecting the trials first.
    #[must_use]
    pub fn outcome(&self, with_top: bool) -> impl Serialize + '_ {
        OutcomeView {
            summary: self.summary(),
            trials: SeqOf(std::cell::Cell::new(Some(self.records()))),
            top: with_top.then_some(self.top.as_slice()),
        }
    }

    /// The same as [`OptimizationReport::outcome`], collected (for tests
    /// and small runs).
    #[must_use]
    pub fn to_outcome(&self, with_top: bool) -> OptimizationOutcome {
        OptimizationOutcome {
            summary: self.summary(),
            trials: self.records().collect(),
            top: with_top.then(|| self.top.clone()),
        }
    }
}

/// [`OptimizationOutcome`]'s serialized form with the trials streamed
/// (a test checks that the two read back equal).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutcomeView<'a, T: Serialize> {
    #[serde(flatten)]
    summary: OptimizationSummary,
    trials: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    top: Option<&'a [TopTrial]>,
}

/// Writes a sequence from an iterator without collecting it (for the
/// streamed forms of large results).
struct SeqOf<I>(pub std::cell::Cell<Option<I>>);

impl<I: Iterator<Item = T>, T: Serialize> Serialize for SeqOf<I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(it) = self.0.take() else {
            return s.serialize_seq(Some(0))?.end();
        };
        let mut seq = s.serialize_seq(it.size_hint().1)?;
        for item in it {
            seq.serialize_element(&item)?;
        }
        seq.end()
    }
}

/// How a trial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TrialStatus {
    /// Ran to the end.
    Completed,
    /// Panicked or returned an error.
    Failed,
}

/// One trial as reported: the API's trials pages, the run database's
/// trial rows, the CLI's `--json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrialRecord {
    /// Combination index in the grid.
    pub index: u64,
    /// 1 = best.
    pub rank: u64,
    /// The combination's parameters (axes and fixed ones).
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, crate::param_map::ParamScalar>))]
    pub params: ParamMap,
    /// Completed or failed.
    pub status: TrialStatus,
    /// The fitness (`null` when undefined for this trial, or failed).
    pub fitness: Option<f64>,
    /// Every statistic (completed trials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<PerformanceMetrics>,
    /// What the strategy said (failed trials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Where it failed (failed trials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_stack_trace: Option<String>,
    /// The stored backtest of a best trial kept in full (server only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backtest_id: Option<String>,
    /// A search's trials: when it was evaluated (0 = first); absent for a
    /// grid, whose trials run in index order (server only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_order: Option<u64>,
}

/// A best trial kept in full by the server: where its backtest is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeptTrial {
    /// 1 = best.
    pub rank: u64,
    /// Combination index.
    pub index: u64,
    /// Its fitness.
    pub fitness: Option<f64>,
    /// `GET /api/backtests/{backtestId}` has its equity curve and trades.
    pub backtest_id: String,
}

/// An optimization without its trials: what it ran and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OptimizationSummary {
    /// Strategy name.
    pub strategy: String,
    /// Strategy version.
    pub strategy_version: String,
    /// Instrument symbol.
    pub symbol: String,
    /// Main timeframe.
    pub timeframe: String,
    /// First main bar's open time, ms.
    pub from_ms: i64,
    /// Last main bar's open time, ms.
    pub to_ms: i64,
    /// Main bars before `fromMs` every trial warmed up on (see
    /// `BacktestReport::warmup_bars`).
    #[serde(default)]
    pub warmup_bars: u32,
    /// The fitness trials are ranked by.
    pub maximize: Fitness,
    /// Each axis's values, in grid order.
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, Vec<crate::param_map::ParamScalar>>))]
    pub axes: AxisValues,
    /// Constraints, as normalized text (`fast < slow`).
    pub constraints: Vec<String>,
    /// Every parameter's value outside the axes.
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, crate::param_map::ParamScalar>))]
    pub base_params: ParamMap,
    /// Combinations in the grid.
    pub total_combinations: u64,
    /// Trials that ran to the end.
    pub completed_combinations: u64,
    /// Trials that failed.
    pub failed_combinations: u64,
    /// Combinations refused by a constraint.
    pub skipped_combinations: u64,
    /// Whether it was cancelled before every combination ran.
    pub cancelled: bool,
    /// Starting cash of every trial.
    pub initial_equity: f64,
    /// Main bars each trial saw.
    pub main_bars: u64,
    /// Sub-bars each trial covered.
    pub sub_bars: u64,
    /// Worker threads used.
    pub threads: u64,
    /// Wall time of the whole optimization, ms.
    pub wall_time_ms: f64,
    /// Is the winner real: deflated Sharpe ratio, neighbour stability,
    /// fitness spread (absent for runs stored before it existed, or
    /// without a completed trial).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robustness: Option<Robustness>,
    /// How a search (`random`, `genetic`) picked its trials; absent for a
    /// whole grid. Its trials are then the ones it evaluated, and
    /// `totalCombinations` is the size of the space it searched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<super::search::SearchSummary>,
}

/// A finished optimization as the CLI writes it (`--json`), locally and
/// from a server alike: the summary, every trial best first, and with
/// `--curves` the best trials' full reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OptimizationOutcome {
    /// What ran and how it ended.
    #[serde(flatten)]
    pub summary: OptimizationSummary,
    /// Every trial, best first.
    pub trials: Vec<TrialRecord>,
    /// The best trials' full reports (asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top: Option<Vec<TopTrial>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trial_records_round_trip_through_json() {
        let failed = TrialRecord {
            index: 3,
            rank: 9,
            params: OrderedMap(vec![("fast".into(), crate::ParamScalar::Int(5))]),
            status: TrialStatus::Failed,
            fitness: None,
            metrics: None,
            error_message: Some("boom".into()),
            error_stack_trace: Some("at line 1".into()),
            backtest_id: None,
            eval_order: Some(4),
        };
        let text = serde_json::to_string(&failed).unwrap();
        assert_eq!(serde_json::from_str::<TrialRecord>(&text).unwrap(), failed);
    }
}
