//! The next batch of a search from the previous batches' results: a pure
//! function of the seed and the ranked results (see the parent module).

use super::{skip_allowance, Permutation, Search, SearchMethod};
use crate::optimize::report::RankKey;
use crate::optimize::OptimizeSpec;
use crate::params::ParamValue;
use chacha20::rand_core::{Rng, SeedableRng};
use chacha20::ChaCha8Rng;
use std::collections::HashSet;

/// Trials a random search plans at once (only its progress and its
/// cancellation points depend on it, never its trials).
const RANDOM_BATCH: u64 = 1024;
/// Breeding attempts for one child before a random combination replaces it.
const BREED_ATTEMPTS: usize = 32;

/// A number in `0..n` (`n > 0`) from one draw (Lemire's multiply-shift).
fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    ((u128::from(rng.next_u64()) * u128::from(n)) >> 64) as u64
}

/// The genetic search's population size (μ = λ): a hundredth of the
/// budget, within 16..=256 — about a hundred generations for budgets of
/// 2,000 to 25,600 trials.
#[must_use]
pub(super) fn population(budget: u64) -> u64 {
    (budget / 100).clamp(16, 256)
}

/// What the genetic search keeps between generations.
struct Genetic {
    /// The best trials so far, best first (at most μ).
    pool: Vec<RankKey>,
    /// Every combination proposed (evaluated or refused): no repeats.
    seen: HashSet<u64>,
    /// Values per axis (mixed radix, last axis fastest).
    shape: Vec<u64>,
}

/// Plans a search's batches (see [`Planner::next_batch`]).
pub(super) struct Planner<'a> {
    spec: &'a OptimizeSpec,
    search: Search,
    rng: ChaCha8Rng,
    stream: Permutation,
    /// Position of the next fresh combination in `stream`.
    next: u64,
    planned: u64,
    skipped: u64,
    generation: u64,
    exhausted: bool,
    genetic: Option<Genetic>,
    combo: Vec<(&'static str, ParamValue)>,
}

impl<'a> Planner<'a> {
    pub(super) fn new(spec: &'a OptimizeSpec, search: Search) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(search.seed);
        let stream = Permutation::new(spec.grid.size(), &mut rng);
        let genetic = (search.method == SearchMethod::Genetic).then(|| Genetic {
            pool: Vec::new(),
            seen: HashSet::new(),
            shape: spec
                .grid
                .axes()
                .iter()
                .map(|a| a.values.len() as u64)
                .collect(),
        });
        Self {
            spec,
            search,
            rng,
            stream,
            next: 0,
            planned: 0,
            skipped: 0,
            generation: 0,
            exhausted: false,
            genetic,
            combo: Vec::new(),
        }
    }

    /// The search it plans.
    pub(super) fn search(&self) -> Search {
        self.search
    }

    /// Combinations refused by a constraint so far.
    pub(super) fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Batches planned so far.
    pub(super) fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether combinations (or the skip allowance) ran out before the budget.
    pub(super) fn exhausted(&self) -> bool {
        self.exhausted
    }

    /// The next batch, given the rank keys of the previous batch's trials
    /// (every one of them, in any order); empty when the search is over.
    pub(super) fn next_batch(&mut self, previous: &[RankKey]) -> Vec<u64> {
        let room = self.search.budget.saturating_sub(self.planned);
        if room == 0 || self.exhausted {
            return Vec::new();
        }
        let batch = match self.genetic.take() {
            None => self.fill(room.min(RANDOM_BATCH), None),
            Some(mut g) => {
                g.pool.extend_from_slice(previous);
                g.pool.sort_unstable_by(RankKey::cmp);
                let mu = population(self.search.budget) as usize;
                g.pool.truncate(mu);
                let lambda = room.min(mu as u64);
                let batch = if g.pool.is_empty() {
                    self.fill(lambda, Some(&mut g))
                } else {
                    self.breed(lambda, &mut g)
                };
                self.genetic = Some(g);
                batch
            }
        };
        if batch.is_empty() {
            self.exhausted = true;
        } else {
            self.generation += 1;
            self.planned += batch.len() as u64;
        }
        batch
    }

    /// Whether combination `index` satisfies the constraints.
    fn allowed(&mut self, index: u64) -> bool {
        if self.spec.constraints.is_empty() {
            return true;
        }
        self.spec.grid.decode_into(index, &mut self.combo);
        self.spec.allows(&self.combo)
    }

    fn out_of_skips(&self) -> bool {
        self.skipped >= skip_allowance(self.search.budget)
    }

    /// The next fresh combination of the stream that the constraints allow
    /// (and, for a genetic search, that it has not proposed before).
    fn draw(&mut self, mut seen: Option<&mut Genetic>) -> Option<u64> {
        while self.next < self.stream.len() && !self.out_of_skips() {
            let index = self.stream.at(self.next);
            self.next += 1;
            if let Some(g) = seen.as_deref_mut() {
                if !g.seen.insert(index) {
                    continue;
                }
            }
            if self.allowed(index) {
                return Some(index);
            }
            self.skipped += 1;
        }
        None
    }

    fn fill(&mut self, n: u64, mut g: Option<&mut Genetic>) -> Vec<u64> {
        let mut out = Vec::with_capacity(n as usize);
        while (out.len() as u64) < n {
            match self.draw(g.as_deref_mut()) {
                Some(i) => out.push(i),
                None => break,
            }
        }
        out
    }

    fn breed(&mut self, n: u64, g: &mut Genetic) -> Vec<u64> {
        let mut out = Vec::with_capacity(n as usize);
        let mut digits = vec![0u64; g.shape.len()];
        let mut other = vec![0u64; g.shape.len()];
        'children: while (out.len() as u64) < n {
            for _ in 0..BREED_ATTEMPTS {
                if self.out_of_skips() {
                    break 'children;
                }
                let child = self.child(g, &mut digits, &mut other);
                if !g.seen.insert(child) {
                    continue;
                }
                if self.allowed(child) {
                    out.push(child);
                    continue 'children;
                }
                self.skipped += 1;
            }
            match self.draw(Some(g)) {
                Some(i) => out.push(i),
                None => break,
            }
        }
        out
    }

    /// A parent by binary tournament: the better of two random pool members.
    fn parent(&mut self, g: &Genetic) -> u64 {
        let n = g.pool.len() as u64;
        let a = below(&mut self.rng, n);
        let b = below(&mut self.rng, n);
        g.pool[a.min(b) as usize].index
    }

    /// One child: a parent, half the time crossed with another (each axis
    /// from either), then mutated on one axis or more.
    fn child(&mut self, g: &Genetic, digits: &mut [u64], other: &mut [u64]) -> u64 {
        let first = self.parent(g);
        decode(first, &g.shape, digits);
        if below(&mut self.rng, 2) == 0 {
            let second = self.parent(g);
            decode(second, &g.shape, other);
            for (d, o) in digits.iter_mut().zip(other.iter()) {
                if below(&mut self.rng, 2) == 0 {
                    *d = *o;
                }
            }
        }
        let axes = g.shape.len() as u64;
        let mut mutated = false;
        for (digit, &len) in digits.iter_mut().zip(&g.shape) {
            if below(&mut self.rng, axes) == 0 {
                self.mutate(digit, len);
                mutated = true;
            }
        }
        if !mutated {
            let axis = below(&mut self.rng, axes) as usize;
            self.mutate(&mut digits[axis], g.shape[axis]);
        }
        encode(digits, &g.shape)
    }

    /// Moves one axis's value: one time in ten anywhere on the axis,
    /// otherwise a few steps (up to an eighth of the axis seven times in
    /// ten, up to half of it otherwise) up or down.
    fn mutate(&mut self, digit: &mut u64, len: u64) {
        if len < 2 {
            return;
        }
        if below(&mut self.rng, 10) == 0 {
            *digit = below(&mut self.rng, len);
            return;
        }
        let reach = if below(&mut self.rng, 10) < 7 {
            (len / 8).max(1)
        } else {
            (len / 2).max(1)
        };
        let step = 1 + below(&mut self.rng, reach);
        let up = below(&mut self.rng, 2) == 0;
        let (a, b) = (digit.checked_add(step), digit.checked_sub(step));
        let fits = |v: Option<u64>| v.filter(|v| *v < len);
        *digit = if up {
            fits(a).or(b).unwrap_or(0)
        } else {
            b.or(fits(a)).unwrap_or(0)
        };
    }
}

/// Combination `index`'s digit on each axis.
fn decode(mut index: u64, shape: &[u64], out: &mut [u64]) {
    for (d, &len) in out.iter_mut().zip(shape).rev() {
        *d = index % len;
        index /= len;
    }
}

/// The index of the combination with these digits.
fn encode(digits: &[u64], shape: &[u64]) -> u64 {
    digits
        .iter()
        .zip(shape)
        .fold(0, |acc, (&d, &len)| acc * len + d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::{Axis, Constraint, Grid};
    use crate::optimize::Fitness;
    use crate::params::StrategyParams;

    fn spec(axes: &[&str], constraints: &[&str]) -> OptimizeSpec {
        let space = crate::strategies::SmaCrossParams::space();
        let axes = axes
            .iter()
            .map(|a| Axis::parse(a, &space).unwrap())
            .collect();
        OptimizeSpec {
            grid: Grid::new(axes, u64::MAX).unwrap(),
            constraints: constraints
                .iter()
                .map(|c| Constraint::parse(c, &space).unwrap())
                .collect(),
            base: space.defaults(),
            fitness: Fitness::Sharpe,
            top: 5,
            assess: false,
            search: None,
        }
    }

    fn search(method: SearchMethod, budget: u64, seed: u64) -> Search {
        Search {
            method,
            budget,
            seed,
        }
    }

    #[test]
    fn indices_round_trip_through_digits() {
        let shape = [3u64, 5, 2];
        let mut d = [0u64; 3];
        for i in 0..30 {
            decode(i, &shape, &mut d);
            assert_eq!(encode(&d, &shape), i);
        }
    }

    #[test]
    fn random_samples_without_repeats_and_skips_outside_the_budget() {
        let s = spec(&["fast=5..50:5", "slow=20..200:10"], &["fast<slow"]);
        let mut p = Planner::new(&s, search(SearchMethod::Random, 100, 9));
        let batch = p.next_batch(&[]);
        assert_eq!(
            batch.len(),
            100,
            "100 allowed combinations, skips not counted"
        );
        let mut combo = Vec::new();
        for &i in &batch {
            s.grid.decode_into(i, &mut combo);
            assert!(s.allows(&combo), "{combo:?} breaks the constraint");
        }
        let unique: HashSet<u64> = batch.iter().copied().collect();
        assert_eq!(unique.len(), 100);
        assert!(p.next_batch(&[]).is_empty(), "budget spent");
        // a budget beyond the space: every allowed combination once
        let mut all = Planner::new(&s, search(SearchMethod::Random, 10_000, 9));
        let batch = all.next_batch(&[]);
        assert_eq!(batch.len(), 190 - 16);
        assert_eq!(all.skipped(), 16);
        assert!(all.next_batch(&[]).is_empty() && all.exhausted());
    }

    #[test]
    fn a_search_of_a_huge_space_plans_without_memory_per_candidate() {
        // 10^12 combinations: far beyond any grid limit
        let space = crate::params::ParamSpace(vec![
            crate::params::ParamSpec::int("a", "any", 0, 0, i64::MAX),
            crate::params::ParamSpec::int("b", "any", 0, 0, i64::MAX),
        ]);
        let axes = ["a=1..1000000:1", "b=1..1000000:1"]
            .iter()
            .map(|a| Axis::parse(a, &space).unwrap())
            .collect();
        let s = OptimizeSpec {
            grid: Grid::new(axes, u64::MAX).unwrap(),
            constraints: Vec::new(),
            base: space.defaults(),
            fitness: Fitness::Sharpe,
            top: 5,
            assess: false,
            search: None,
        };
        assert_eq!(s.grid.size(), 1_000_000_000_000);
        let mut p = Planner::new(&s, search(SearchMethod::Random, 3000, 1));
        let first = p.next_batch(&[]);
        assert_eq!(first.len(), RANDOM_BATCH as usize);
        let unique: HashSet<u64> = first.iter().copied().collect();
        assert_eq!(unique.len(), first.len());
        assert!(first.iter().all(|&i| i < s.grid.size()));
    }

    #[test]
    fn generations_breed_from_the_best_and_never_repeat() {
        let s = spec(&["fast=1..100:1", "slow=1..100:1"], &[]);
        let mut p = Planner::new(&s, search(SearchMethod::Genetic, 2000, 5));
        let mut keys = Vec::new();
        let mut seen = HashSet::new();
        let target = 57 * 100 + 23; // fast 58, slow 24: the optimum of a toy fitness
        let score = |i: u64| -(((i / 100).abs_diff(57) + (i % 100).abs_diff(23)) as f64);
        let mut best_by_generation = Vec::new();
        loop {
            let batch = p.next_batch(&keys);
            if batch.is_empty() {
                break;
            }
            assert!(batch.iter().all(|i| seen.insert(*i)), "a repeat");
            keys = batch
                .iter()
                .map(|&index| RankKey {
                    class: 0,
                    score: score(index),
                    index,
                })
                .collect();
            best_by_generation.push(batch.iter().map(|&i| score(i)).fold(f64::MIN, f64::max));
        }
        assert_eq!(seen.len(), 2000, "the whole budget");
        assert!(seen.contains(&target), "found the optimum");
        assert_eq!(p.generation(), 2000 / population(2000));
        assert!(best_by_generation.last() >= best_by_generation.first());
    }
}
