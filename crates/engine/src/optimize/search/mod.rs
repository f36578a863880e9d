//! Searching a grid instead of running all of it: `random` (a seeded
//! sample of the combination indices, without repeats) and `genetic` (an
//! evolutionary search over the same indices), each limited by a budget of
//! trials (DESIGN §12).
//!
//! - **Batches.** A search advances one batch of combination indices at a
//!   time; a batch is an ordinary list that any thread (or machine) runs,
//!   its trials coming back in the list's order. The next batch depends
//!   only on the seed and the previous batches' results, so a search is
//!   bit-identical whatever the thread count.
//! - **Random** walks a keyed bijection of `[0, N)` ([`Permutation`]:
//!   Feistel network with cycle-walking, keyed by ChaCha8) — no repeats, no
//!   memory per candidate, so spaces of 10^12 combinations are searched as
//!   cheaply as small ones.
//! - **Genetic** is a (μ + λ) evolution: a first generation drawn like
//!   `random`, then each generation of λ children bred from the best μ
//!   trials so far (binary tournament, uniform crossover, a mutation of a
//!   few steps on one axis or more). A child seen before is bred again;
//!   when breeding keeps landing on known combinations, a fresh random one
//!   takes its place. Why genetic rather than TPE: a generation is a pure
//!   function of the ranked previous results and the generator, with no
//!   floating-point density model whose fit could differ between
//!   platforms, so batch determinism comes for free; it also works on
//!   choice and boolean axes without a distance.
//! - **Constraints** are checked while a batch is planned (decoding an
//!   index is cheap); a refused combination is counted as skipped, not
//!   against the budget. Planning gives up after refusing
//!   [`skip_allowance`] combinations (constraints that leave almost nothing
//!   of a huge space would otherwise be walked for ever).
//! - **Determinism across versions** is named by [`GENERATOR`], part of a
//!   run's key: change the generator or the breeding and change the name.

mod drive;
mod feistel;
mod planner;

pub(super) use drive::run_search;
pub use drive::SearchDriver;
pub use feistel::Permutation;

use serde::{Deserialize, Serialize};

/// The generator and breeding rules of searches, as a run key names them:
/// ChaCha8 (RustCrypto `chacha20`), a six-round Feistel permutation, the
/// genetic rules of this module (version 1).
pub const GENERATOR: &str = "chacha8/feistel6/ga1";

/// Most trials a search may ask for (each trial keeps ~130 bytes, and a
/// genetic search remembers every combination it proposed).
pub const MAX_BUDGET: u64 = 1_000_000;

/// Largest space a search takes: 2^53 combinations, the most a JSON
/// number counts exactly in every client (JavaScript's safe integers).
pub const MAX_SEARCH_SPACE: u64 = 1 << 53;

/// Constraint refusals after which a search stops planning: four per trial
/// of the budget, and 100,000 more for small budgets.
#[must_use]
pub fn skip_allowance(budget: u64) -> u64 {
    budget.saturating_mul(4).saturating_add(100_000)
}

/// How a search picks its trials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SearchMethod {
    /// A seeded sample of the grid's indices, without repeats.
    Random,
    /// Generations bred from the best trials so far.
    Genetic,
}

impl SearchMethod {
    /// Every method, in the order help texts list them.
    pub const ALL: [Self; 2] = [Self::Random, Self::Genetic];

    /// `random` / `genetic`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Random => "random",
            Self::Genetic => "genetic",
        }
    }
}

impl std::fmt::Display for SearchMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A search instead of the whole grid: how, how many trials, which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Search {
    /// Random or genetic.
    pub method: SearchMethod,
    /// Trials to evaluate (completed or failed; skipped ones do not count).
    pub budget: u64,
    /// Seed of the generator.
    pub seed: u64,
}

/// What a search did: how it was asked, and how far it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchSummary {
    /// Random or genetic.
    pub method: SearchMethod,
    /// Trials it could evaluate.
    pub budget: u64,
    /// Seed of its generator (chosen at random when the request gave none).
    pub seed: u64,
    /// Generator and breeding rules ([`GENERATOR`]).
    pub generator: String,
    /// Batches planned: the genetic search's generations.
    pub generations: u64,
    /// Whether it ran out of combinations (or of the constraints' skip
    /// allowance) before the budget.
    pub exhausted: bool,
}

/// A search's summary and the combinations in the order they were
/// evaluated (the report's trials are in index order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchOutcome {
    /// Method, budget, seed, generations.
    pub summary: SearchSummary,
    /// Combination indices, first evaluated first.
    pub order: Vec<u64>,
}
