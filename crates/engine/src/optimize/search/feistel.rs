//! A keyed bijection of `[0, n)`: the order in which a random search visits
//! a grid's combinations, without repeats and without memory per candidate.
//!
//! A balanced Feistel network permutes the `2k`-bit integers for the
//! smallest `k` with `4^k ≥ n`; cycle-walking (apply it again while the
//! result is `≥ n`) restricts it to `[0, n)`, still a bijection. Since
//! `4^k < 4n`, a lookup walks fewer than four steps on average. Six rounds
//! with round keys drawn from the search's ChaCha8 generator make the order
//! a well-mixed function of the seed; the same seed gives the same order on
//! every machine (only integer arithmetic).

use chacha20::rand_core::Rng;

/// Feistel rounds.
const ROUNDS: usize = 6;

/// A permutation of `0..n` (see the module doc).
#[derive(Debug, Clone)]
pub struct Permutation {
    n: u64,
    half_bits: u32,
    keys: [u64; ROUNDS],
}

impl Permutation {
    /// A permutation of `0..n` keyed by six draws from `rng`.
    #[must_use]
    pub fn new(n: u64, rng: &mut impl Rng) -> Self {
        let bits = 64 - n.saturating_sub(1).leading_zeros();
        let half_bits = bits.div_ceil(2).max(1);
        let mut keys = [0u64; ROUNDS];
        for k in &mut keys {
            *k = rng.next_u64();
        }
        Self { n, half_bits, keys }
    }

    /// The size of the permuted range.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.n
    }

    /// Whether the range is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The element at position `i` (`i < len()`).
    ///
    /// # Panics
    /// If `i >= len()`.
    #[must_use]
    pub fn at(&self, i: u64) -> u64 {
        assert!(
            i < self.n,
            "position {i} outside a permutation of {}",
            self.n
        );
        let mut x = i;
        loop {
            x = self.round_trip(x);
            if x < self.n {
                return x;
            }
        }
    }

    fn round_trip(&self, x: u64) -> u64 {
        let mask = if self.half_bits >= 32 {
            u64::from(u32::MAX)
        } else {
            (1u64 << self.half_bits) - 1
        };
        let (mut left, mut right) = (x >> self.half_bits, x & mask);
        for &k in &self.keys {
            let next = left ^ (mix(right ^ k) & mask);
            left = right;
            right = next;
        }
        (left << self.half_bits) | right
    }
}

/// SplitMix64's finalizer: every input bit reaches every output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chacha20::rand_core::SeedableRng;
    use chacha20::ChaCha8Rng;

    #[test]
    fn every_size_is_permuted_exactly_once() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for n in [1u64, 2, 3, 5, 16, 17, 100, 1000, 4097] {
            let p = Permutation::new(n, &mut rng);
            let mut seen = vec![false; n as usize];
            for i in 0..n {
                let x = p.at(i);
                assert!(x < n && !seen[x as usize], "n={n}: {x} twice or outside");
                seen[x as usize] = true;
            }
        }
    }

    #[test]
    fn the_order_follows_the_seed_and_reaches_huge_spaces() {
        let order = |seed, n| {
            let p = Permutation::new(n, &mut ChaCha8Rng::seed_from_u64(seed));
            (0..8).map(|i| p.at(i)).collect::<Vec<_>>()
        };
        assert_eq!(order(1, 1000), order(1, 1000));
        assert_ne!(order(1, 1000), order(2, 1000));
        // 10^12 combinations: no table, just arithmetic
        let big = order(3, 1_000_000_000_000);
        assert!(big.iter().all(|&x| x < 1_000_000_000_000));
        assert!(big.iter().any(|&x| x > 1_000_000_000), "spread: {big:?}");
        // the largest space a search takes
        let top = 1u64 << 53;
        assert!(order(4, top).iter().all(|&x| x < top));
    }
}
