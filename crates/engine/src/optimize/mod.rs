//! Grid optimization: every combination of a [`Grid`], in parallel, each
//! trial isolated, memory bounded.
//!
//! - The data is loaded and resampled once by the caller and shared
//!   read-only by every thread; each rayon worker owns one [`Broker`](crate::Broker), one
//!   equity buffer and one parameter set, reset and reused for every trial.
//! - Combinations are cut into chunks of consecutive indices; a chunk is the
//!   unit of work (of a thread here, of a machine in a scale-out), and its
//!   trials come back in index order, so the result never depends on which
//!   thread ran what.
//! - A trial that panics or returns an error is recorded as failed with its
//!   message and backtrace (identical backtraces are stored once); the
//!   others go on. Combinations refused by a constraint are counted as
//!   skipped, never as failed.
//! - Every trial keeps its compact [`TrialMetrics`](crate::metrics::TrialMetrics) and its returns
//!   summed over 16 blocks for PBO ([`BlockReturns`](crate::robustness::BlockReturns), 256 bytes):
//!   about 400 bytes with its index, so a million combinations stay well
//!   under 1 GiB. Equity
//!   curves and trades are kept only for the best K: when every trial has
//!   run, those K are run again (in parallel) to build their full reports —
//!   cheaper than copying a curve each time a trial enters the running top
//!   K, and the same result, runs being deterministic.
//! - Ranking is a total order — fitness descending, undefined fitness after
//!   every defined one, failed trials last, ties by combination index — so
//!   the best K and the ranked list are identical whatever the thread count.

mod fitness;
mod progress;
mod report;
mod resume;
mod runner;
pub mod search;

pub use fitness::{Fitness, UnknownFitness};
pub use progress::{Leader, OptimizationProgress};
pub use report::{
    KeptTrial, OptimizationOutcome, OptimizationReport, OptimizationSummary, RankedTrials,
    TopTrial, Trial, TrialFailure, TrialOutcome, TrialRecord, TrialStatus,
};
pub use resume::resume;
pub use runner::{assemble, optimize, run_list, run_range};

use crate::grid::{numeric, Constraint, Grid};
use crate::params::{ParamValue, Params};

/// Trials shown while an optimization runs ("best so far").
pub const LEADERBOARD_SIZE: usize = 10;

/// What to optimize: the grid, its constraints, the values of the
/// parameters that are not axes, the fitness and how many best trials keep
/// their equity curve and trades.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizeSpec {
    /// The combinations.
    pub grid: Grid,
    /// Relations a combination must satisfy to run.
    pub constraints: Vec<Constraint>,
    /// Every parameter's value outside the axes (defaults or fixed by the user).
    pub base: Params,
    /// What "best" means.
    pub fitness: Fitness,
    /// Best trials kept with equity curve and trades (K).
    pub top: usize,
    /// Whether to assess the winner's robustness when the grid is done
    /// ([`crate::robustness`]: it re-runs a sample of trials). A
    /// walk-forward fold needs only its winner and turns it off.
    pub assess: bool,
    /// A search of the grid within a budget instead of every combination
    /// (`None`: the whole grid).
    pub search: Option<search::Search>,
}

impl OptimizeSpec {
    /// Parameters of combination `index`: the base with the axes' values.
    ///
    /// # Panics
    /// If `index` is outside the grid or an axis is not a parameter of
    /// `base` (a spec built against another strategy).
    #[must_use]
    pub fn params_of(&self, index: u64) -> Params {
        let mut combo = Vec::with_capacity(self.grid.axes().len());
        self.grid.decode_into(index, &mut combo);
        let mut params = self.base.clone();
        for (name, v) in combo {
            let at = params
                .position(name)
                .unwrap_or_else(|| panic!("axis '{name}' is not a parameter of the strategy"));
            params.set_at(at, v);
        }
        params
    }

    /// Whether combination `combo` satisfies every constraint (a
    /// constrained parameter that is not an axis takes its base value).
    fn allows(&self, combo: &[(&'static str, ParamValue)]) -> bool {
        self.constraints.iter().all(|c| {
            c.allows(|name| {
                combo
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| *v)
                    .or_else(|| self.base.position(name).map(|_| self.base.value(name)))
                    .and_then(numeric)
            })
        })
    }
}

/// Why an optimization could not run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptimizeError {
    /// An axis names a parameter the strategy does not declare.
    #[error("axis '{0}' is not a parameter of the strategy")]
    UnknownAxis(String),
    /// `top` must keep at least one trial.
    #[error("top must be at least 1")]
    NoTop,
    /// The thread pool could not start.
    #[error("cannot start {threads} worker threads: {reason}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// The system's reason.
        reason: String,
    },
}
