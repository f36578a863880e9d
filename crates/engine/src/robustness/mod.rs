//! Is the winner real? Statistics of an optimization's result that say
//! how much of the best trial's performance selection alone would explain.
//!
//! - [`normal`]: Φ and Φ⁻¹ of the standard normal;
//! - [`sharpe`]: the probabilistic and deflated Sharpe ratio (Bailey &
//!   López de Prado 2012, 2014) and the effective number of trials;
//! - [`blocks`]: the per-block sums of returns the bar loop gathers for
//!   every trial;
//! - [`mod@pbo`]: the probability of backtest overfitting by CSCV (Bailey,
//!   Borwein, López de Prado & Zhu 2015);
//! - [`neighbours`]: the winner's grid neighbourhood, plateau or spike;
//! - [`spread`]: quantiles, the spread of the fitness over all trials;
//! - [`Robustness`]: what every optimization reports, built from its trials
//!   in index order, so it is bit for bit the same whatever the thread count.
//!
//! These are statistics, so they are `f64` throughout.

mod assess;
pub mod blocks;
pub mod neighbours;
pub mod normal;
pub mod pbo;
pub mod sharpe;
pub mod spread;

pub use assess::CORRELATED_TRIALS;
pub(crate) use assess::{assess, correlation_sample, AssessInput};
pub use blocks::{BlockRecorder, BlockReturns, BLOCKS};
pub use neighbours::{neighbour_stability, NeighbourStability, Neighbourhood};
pub use pbo::{pbo, Degradation, LogitDistribution, Pbo, PboError};
pub use spread::{FitnessSpread, Quantiles};

use serde::{Deserialize, Serialize};

/// The robustness of an optimization's winner (`result.robustness` in the
/// API, stored with the run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Robustness {
    /// N: trials evaluated (completed; failed ones have no return series).
    pub trials: u64,
    /// Main bars per year in the data (bars ÷ years spanned): what turns a
    /// per-bar Sharpe ratio into the annualised one of the metrics (× √).
    pub periods_per_year: f64,
    /// The winner's probabilistic and deflated Sharpe ratio (absent when
    /// its returns have no variance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharpe: Option<SharpeSignificance>,
    /// The winner's neighbourhood in the grid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neighbours: Option<NeighbourStability>,
    /// The fitness over every trial that has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fitness_spread: Option<FitnessSpread>,
    /// Probability of backtest overfitting by CSCV over every completed
    /// trial's per-block sums (absent with fewer than two such trials or
    /// fewer main bars than blocks, and when a trial came without them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pbo: Option<Pbo>,
}

/// The winner's Sharpe ratio against selection: every Sharpe ratio here is
/// per bar (the metrics' annualised one ÷ √`periodsPerYear`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SharpeSignificance {
    /// The winner's combination index.
    pub winner_index: u64,
    /// T: its per-bar returns.
    pub returns: u64,
    /// Its per-bar Sharpe ratio.
    pub sharpe: f64,
    /// Skewness of its returns.
    pub skewness: f64,
    /// Kurtosis of its returns (raw: 3 for normal returns).
    pub kurtosis: f64,
    /// PSR(0): probability that its true Sharpe ratio is above 0.
    pub psr: f64,
    /// Trials whose Sharpe ratio is defined (those with returns that vary).
    pub sharpe_trials: u64,
    /// V\[SR\]: sample variance of those trials' per-bar Sharpe ratios.
    pub sharpe_variance: f64,
    /// SR₀: the best per-bar Sharpe ratio N worthless trials would show.
    pub expected_max_sharpe: f64,
    /// DSR: PSR(SR₀) at N trials.
    pub dsr: f64,
    /// ρ̄: mean pairwise correlation (Pearson, every pair) of the per-bar
    /// returns of a sample of trials spread evenly over the grid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_correlation: Option<f64>,
    /// Trials ρ̄ was measured on: [`CORRELATED_TRIALS`] completed ones at
    /// evenly spaced positions in index order (all of them if fewer).
    pub correlated_trials: u64,
    /// N̂ = ρ̄ + (1 − ρ̄)·N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_trials: Option<f64>,
    /// DSR at N̂.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsr_effective: Option<f64>,
}
