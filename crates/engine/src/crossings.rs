//! Crossovers of two moving averages, found 64 bars at a time.
//!
//! A crossover strategy over precomputed series (see [`crate::series`])
//! asks, for every bar, how the mean of the last `na` closes compares with
//! the mean of the last `nb`, and acts where that sign flips from −1 to +1
//! or back. Trial after trial of a grid does this over every bar, so it is
//! the engine's second-hottest loop. Both window sums come from one
//! [`PrefixSums`] shared by every trial (a subtraction each), and the means
//! are compared exactly by cross-multiplying: `sum_a · nb` vs `sum_b · na`.
//!
//! When every product is an integer below 2^53 it is exact in `f64`, so
//! the comparison can run on SIMD lanes: each block of 64 bars becomes two
//! bit masks (above, below), and a crossover is an "above" bit whose
//! previous bit was "below" (or the reverse) — a few shifts and ANDs, then
//! one step per crossover found. The kernel is compiled for AVX2 and
//! AVX-512 as well as the baseline and picked at run time (the
//! `multiversion` crate), so one binary runs everywhere. Larger values fall
//! back to exact `i64` (or `i128`) products bar by bar; both give the same
//! crossovers.

use crate::indicators::Cross;
use crate::series::PrefixSums;

/// Largest integer magnitude every `f64` product must stay within to be exact.
const EXACT_F64: u64 = 1 << 53;

/// Crossovers of the mean of the last `na` elements vs the mean of the
/// last `nb`, at elements `start..` (`start ≥ max(na, nb) − 1`, so both
/// windows are full), strict: the sign of `mean_a − mean_b` goes from −1
/// straight to +1 ([`Cross::Above`]) or from +1 to −1 ([`Cross::Below`]);
/// an element where they are equal breaks the run, so touching is not
/// crossing. `start` itself is never a crossover (it has no previous one).
///
/// # Panics
/// If `na` or `nb` is 0 or `start` is before both windows are full.
#[must_use]
pub fn mean_crossovers(
    prefix: &PrefixSums,
    na: usize,
    nb: usize,
    start: usize,
) -> Vec<(usize, Cross)> {
    assert!(
        na > 0 && nb > 0 && start + 1 >= na.max(nb),
        "windows must be full"
    );
    let mut out = Vec::new();
    let p = &prefix.values;
    let n = p.len().saturating_sub(1);
    if start >= n {
        return out;
    }
    // |sum of n elements| ≤ max |element| × n, so both products
    // (sum_a · nb and sum_b · na) are at most max |element| × na × nb
    let product = prefix
        .max_abs_element
        .checked_mul(na as u64)
        .and_then(|m| m.checked_mul(nb as u64));
    // window ends (k + 1) and starts (k + 1 − n) for k in start..n
    let ends = &p[start + 1..=n];
    let starts_a = &p[start + 1 - na..=n - na];
    let starts_b = &p[start + 1 - nb..=n - nb];
    if product.is_some_and(|m| m <= EXACT_F64) {
        masks(
            ends, starts_a, nb as f64, starts_b, na as f64, start, &mut out,
        );
    } else {
        let unchecked = product.is_some_and(|m| m <= i64::MAX as u64);
        bar_by_bar(ends, starts_a, nb, starts_b, na, start, unchecked, &mut out);
    }
    out
}

/// The SIMD path: 64 bars per step as two bit masks. Bar `start + j`
/// compares `(ends[j] − starts_a[j]) · wa` with `(ends[j] − starts_b[j]) · wb`.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512dq+avx512vl+avx2+fma+bmi1+bmi2+popcnt+lzcnt",
    "x86_64+avx2+fma+bmi1+bmi2+popcnt+lzcnt",
))]
fn masks(
    ends: &[i64],
    starts_a: &[i64],
    wa: f64,
    starts_b: &[i64],
    wb: f64,
    start: usize,
    out: &mut Vec<(usize, Cross)>,
) {
    let n = ends.len().min(starts_a.len()).min(starts_b.len());
    // the previous bar's "above" and "below" bits, carried between blocks
    let (mut carry_up, mut carry_down) = (0u64, 0u64);
    let mut base = 0;
    while base < n {
        let len = (n - base).min(64);
        let e = &ends[base..base + len];
        let (sa, sb) = (&starts_a[base..base + len], &starts_b[base..base + len]);
        let (mut up, mut down) = (0u64, 0u64);
        // exact: both window sums and their products are integers < 2^53
        #[allow(
            clippy::cast_precision_loss,
            reason = "exact below 2^53, as said above"
        )]
        let mut bits = |j: usize| {
            let x = (e[j] - sa[j]) as f64 * wa;
            let y = (e[j] - sb[j]) as f64 * wb;
            up |= u64::from(x > y) << j;
            down |= u64::from(x < y) << j;
        };
        // a constant trip count lets the compiler unroll this into vector
        // compares and mask moves; the short last block goes bar by bar
        if len == 64 {
            for j in 0..64 {
                bits(j);
            }
        } else {
            for j in 0..len {
                bits(j);
            }
        }
        let above = up & ((down << 1) | carry_down);
        let below = down & ((up << 1) | carry_up);
        let mut any = above | below;
        while any != 0 {
            let j = any.trailing_zeros();
            let cross = if above >> j & 1 == 1 {
                Cross::Above
            } else {
                Cross::Below
            };
            out.push((start + base + j as usize, cross));
            any &= any - 1;
        }
        carry_up = up >> (len - 1) & 1;
        carry_down = down >> (len - 1) & 1;
        base += len;
    }
}

/// The exact integer path, for products too large for the `f64` one.
#[allow(
    clippy::too_many_arguments,
    reason = "the same inputs as the SIMD path it stands in for"
)]
fn bar_by_bar(
    ends: &[i64],
    starts_a: &[i64],
    wa: usize,
    starts_b: &[i64],
    wb: usize,
    start: usize,
    unchecked: bool,
    out: &mut Vec<(usize, Cross)>,
) {
    let (wa64, wb64) = (wa as i64, wb as i64);
    let mut prev = 0i8;
    for (i, ((&e, &sa), &sb)) in ends.iter().zip(starts_a).zip(starts_b).enumerate() {
        let (x, y) = (e - sa, e - sb);
        let ord = if unchecked {
            (x * wa64).cmp(&(y * wb64))
        } else {
            (i128::from(x) * i128::from(wa64)).cmp(&(i128::from(y) * i128::from(wb64)))
        };
        let now = ord as i8;
        if prev * now < 0 {
            out.push((start + i, if now > 0 { Cross::Above } else { Cross::Below }));
        }
        prev = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(x: &[i64]) -> PrefixSums {
        let mut values = vec![0i64];
        for &v in x {
            values.push(values.last().unwrap() + v);
        }
        PrefixSums {
            values: values.into(),
            max_abs_element: x.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0),
        }
    }

    /// Crossovers by the definition, one bar at a time in `i128`.
    fn reference(x: &[i64], na: usize, nb: usize, start: usize) -> Vec<(usize, Cross)> {
        let sum = |k: usize, n: usize| {
            x[k + 1 - n..=k]
                .iter()
                .map(|&v| i128::from(v))
                .sum::<i128>()
        };
        let sign = |k: usize| (sum(k, na) * nb as i128).cmp(&(sum(k, nb) * na as i128)) as i8;
        let mut out = Vec::new();
        for k in start + 1..x.len() {
            match (sign(k - 1), sign(k)) {
                (-1, 1) => out.push((k, Cross::Above)),
                (1, -1) => out.push((k, Cross::Below)),
                _ => {}
            }
        }
        out
    }

    fn walk(n: usize, seed: u64, base: i64) -> Vec<i64> {
        let mut x = seed;
        let mut v = base;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                v += (x % 5) as i64 - 2;
                v
            })
            .collect()
    }

    #[test]
    fn the_simd_path_finds_exactly_the_crossovers_of_the_definition() {
        // small steps: many exact ties; lengths not a multiple of 64; a
        // start inside a block; equal windows never cross
        let x = walk(1_000, 7, 100);
        for (na, nb, start) in [
            (3, 7, 6),
            (7, 3, 6),
            (2, 5, 70),
            (1, 2, 1),
            (4, 4, 3),
            (30, 9, 29),
        ] {
            let want = reference(&x, na, nb, start);
            assert_eq!(
                mean_crossovers(&prefix(&x), na, nb, start),
                want,
                "({na}, {nb})"
            );
            assert!(na == nb || want.len() > 10, "({na}, {nb}) crosses");
        }
        let short = walk(130, 3, 50);
        assert_eq!(
            mean_crossovers(&prefix(&short), 2, 3, 2),
            reference(&short, 2, 3, 2)
        );
        assert!(mean_crossovers(&prefix(&short), 2, 3, 500).is_empty());
    }

    #[test]
    fn values_beyond_exact_floats_take_the_integer_paths() {
        // window sums just above 2^53, odd: f64 would round them into ties
        let big: Vec<i64> = walk(500, 5, 0).iter().map(|v| (1 << 52) + v).collect();
        let want = reference(&big, 1, 2, 1);
        assert!(want.len() > 10);
        assert_eq!(mean_crossovers(&prefix(&big), 1, 2, 1), want);
        // products beyond i64 (|sum| ≈ 2^61, × 4): the i128 path; the
        // signs alternate so the running totals still fit
        let huge: Vec<i64> = walk(300, 9, 0)
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if i % 2 == 0 {
                    (1 << 61) + v
                } else {
                    3 * v - (1 << 61)
                }
            })
            .collect();
        let want = reference(&huge, 3, 4, 3);
        assert!(want.len() > 10);
        assert_eq!(mean_crossovers(&prefix(&huge), 3, 4, 3), want);
    }
}
