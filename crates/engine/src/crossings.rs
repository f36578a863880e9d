//! Crossovers of two scaled series, found 64 bars at a time.
//!
//! A crossover strategy over precomputed series (see [`crate::series`])
//! asks, for every bar, how `a[k]·wa` compares with `b[k]·wb`, and acts
//! where that sign flips from −1 to +1 or back. Trial after trial of a grid
//! does this over every bar, so it is the engine's second-hottest loop.
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
use crate::series::{Series, Values};

/// Largest integer magnitude every `f64` product must stay within to be exact.
const EXACT_F64: u64 = 1 << 53;

/// Crossovers of `a·wa` vs `b·wb` at bars `start..`, strict: the sign of
/// `a·wa − b·wb` goes from −1 straight to +1 ([`Cross::Above`]) or from +1
/// to −1 ([`Cross::Below`]); a bar where they are equal breaks the run, so
/// touching is not crossing. Bars before `start` are not read, and `start`
/// itself is never a crossover (it has no previous bar).
#[must_use]
pub fn scaled_crossovers(
    a: &Series,
    wa: usize,
    b: &Series,
    wb: usize,
    start: usize,
) -> Vec<(usize, Cross)> {
    let exact_f64 = |m: u64, w: usize| m.checked_mul(w as u64).is_some_and(|p| p <= EXACT_F64);
    let fits_i64 = |m: u64, w: usize| {
        m.checked_mul(w as u64)
            .is_some_and(|p| p <= i64::MAX as u64)
    };
    let lanes = exact_f64(a.max_abs, wa) && exact_f64(b.max_abs, wb);
    let unchecked = fits_i64(a.max_abs, wa) && fits_i64(b.max_abs, wb);
    let mut out = Vec::new();
    macro_rules! run {
        ($x:expr, $y:expr) => {
            if lanes {
                masks(
                    &$x[start.min($x.len())..],
                    wa as f64,
                    &$y[start.min($y.len())..],
                    wb as f64,
                    start,
                    &mut out,
                )
            } else {
                bar_by_bar($x, wa, $y, wb, start, unchecked, &mut out)
            }
        };
    }
    match (&a.values, &b.values) {
        (Values::I32(x), Values::I32(y)) => run!(x, y),
        (Values::I32(x), Values::I64(y)) => run!(x, y),
        (Values::I64(x), Values::I32(y)) => run!(x, y),
        (Values::I64(x), Values::I64(y)) => run!(x, y),
    }
    out
}

/// An element of a series, widened exactly (callers check `|v| ≤ 2^53`).
trait Lane: Copy {
    fn to_f64(self) -> f64;
    fn to_i64(self) -> i64;
}

impl Lane for i32 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn to_i64(self) -> i64 {
        i64::from(self)
    }
}

impl Lane for i64 {
    #[inline(always)]
    #[allow(clippy::cast_precision_loss)] // exact: callers bound |v| by 2^53
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn to_i64(self) -> i64 {
        self
    }
}

/// The SIMD path: 64 bars per step as two bit masks. `a` and `b` start at
/// bar `start`.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512dq+avx512vl+avx2+fma+bmi1+bmi2+popcnt+lzcnt",
    "x86_64+avx2+fma+bmi1+bmi2+popcnt+lzcnt",
))]
fn masks<A: Lane, B: Lane>(
    a: &[A],
    wa: f64,
    b: &[B],
    wb: f64,
    start: usize,
    out: &mut Vec<(usize, Cross)>,
) {
    let n = a.len().min(b.len());
    // the previous bar's "above" and "below" bits, carried between blocks
    let (mut carry_up, mut carry_down) = (0u64, 0u64);
    let mut base = 0;
    while base < n {
        let len = (n - base).min(64);
        let (xa, xb) = (&a[base..base + len], &b[base..base + len]);
        let (mut up, mut down) = (0u64, 0u64);
        // a constant trip count lets the compiler unroll this into vector
        // compares and mask moves; the short last block goes bar by bar
        if len == 64 {
            for j in 0..64 {
                let (x, y) = (xa[j].to_f64() * wa, xb[j].to_f64() * wb);
                up |= u64::from(x > y) << j;
                down |= u64::from(x < y) << j;
            }
        } else {
            for j in 0..len {
                let (x, y) = (xa[j].to_f64() * wa, xb[j].to_f64() * wb);
                up |= u64::from(x > y) << j;
                down |= u64::from(x < y) << j;
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

/// The exact integer path, for values too large for the `f64` one.
fn bar_by_bar<A: Lane, B: Lane>(
    a: &[A],
    wa: usize,
    b: &[B],
    wb: usize,
    start: usize,
    unchecked: bool,
    out: &mut Vec<(usize, Cross)>,
) {
    let (wa64, wb64) = (wa as i64, wb as i64);
    let (a, b) = (&a[start.min(a.len())..], &b[start.min(b.len())..]);
    let mut prev = 0i8;
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let (x, y) = (x.to_i64(), y.to_i64());
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

    fn series(values: Values) -> Series {
        let max_abs = match &values {
            Values::I32(v) => v.iter().map(|x| u64::from(x.unsigned_abs())).max(),
            Values::I64(v) => v.iter().map(|x| x.unsigned_abs()).max(),
        }
        .unwrap_or(0);
        Series { values, max_abs }
    }

    /// Crossovers by the definition, one bar at a time in `i128`.
    fn reference(a: &[i64], wa: i128, b: &[i64], wb: i128, start: usize) -> Vec<(usize, Cross)> {
        let mut out = Vec::new();
        for k in start + 1..a.len() {
            let sign = |i: usize| (i128::from(a[i]) * wa).cmp(&(i128::from(b[i]) * wb)) as i8;
            match (sign(k - 1), sign(k)) {
                (-1, 1) => out.push((k, Cross::Above)),
                (1, -1) => out.push((k, Cross::Below)),
                _ => {}
            }
        }
        out
    }

    fn walk(n: usize, seed: u64, step: i64) -> Vec<i64> {
        let mut x = seed;
        let mut v = 0i64;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                v += (x % 5) as i64 - 2;
                v * step
            })
            .collect()
    }

    #[test]
    fn every_path_finds_exactly_the_crossovers_of_the_definition() {
        // small steps: many exact ties; lengths not a multiple of 64; a
        // start inside a block; weights that make equal products
        for (n, start, wa, wb) in [
            (1000, 0, 3, 7),
            (777, 5, 2, 2),
            (130, 63, 1, 5),
            (64, 1, 4, 6),
        ] {
            let (a, b) = (walk(n, 7, 1), walk(n, 11, 1));
            let want = reference(&a, wa as i128, &b, wb as i128, start);
            assert!(!want.is_empty() || n < 200, "the walk crosses");
            let narrow = |v: &[i64]| Values::I32(v.iter().map(|&x| x as i32).collect());
            let wide = |v: &[i64]| Values::I64(v.to_vec().into());
            for (sa, sb) in [
                (series(narrow(&a)), series(narrow(&b))),
                (series(wide(&a)), series(narrow(&b))),
                (series(narrow(&a)), series(wide(&b))),
                (series(wide(&a)), series(wide(&b))),
            ] {
                assert_eq!(
                    scaled_crossovers(&sa, wa, &sb, wb, start),
                    want,
                    "n={n} start={start}"
                );
            }
        }
    }

    #[test]
    fn values_beyond_exact_floats_take_the_integer_path() {
        // 2^53 + 1 is not a float: the SIMD path would see a tie that is not one
        let big = (1i64 << 53) + 1;
        let a = [big, big - 2, big + 4, big];
        let b = [big - 1, big - 1, big - 1, big + 1];
        let want = reference(&a, 1, &b, 1, 0);
        assert_eq!(
            want,
            [(1, Cross::Below), (2, Cross::Above), (3, Cross::Below)]
        );
        let s = |v: &[i64]| series(Values::I64(v.to_vec().into()));
        assert_eq!(scaled_crossovers(&s(&a), 1, &s(&b), 1, 0), want);
        // products overflowing i64: the i128 path
        let huge = i64::MAX / 2;
        let (a, b) = ([huge, huge - 10, huge], [huge - 5, huge - 5, huge - 5]);
        let want = reference(&a, 3, &b, 3, 0);
        assert_eq!(want, [(1, Cross::Below), (2, Cross::Above)]);
        assert_eq!(scaled_crossovers(&s(&a), 3, &s(&b), 3, 0), want);
    }
}
