//! The standard normal distribution: its CDF Φ and its inverse Φ⁻¹.
//!
//! Φ is `½·erfc(−x/√2)` with musl's `erfc` (the `libm` crate: < 1 ulp,
//! accurate in the lower tail where `1 − erf` would cancel). Φ⁻¹ starts
//! from P. J. Acklam's rational approximation (relative error 1.15·10⁻⁹)
//! and takes two Halley steps against that Φ, which brings it to the
//! precision of the CDF itself (about 10⁻¹⁵ relative).

use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// Φ(x) = P(Z ≤ x) for a standard normal Z.
#[must_use]
pub fn cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
}

/// Φ⁻¹(p): the x with Φ(x) = p; −∞ at 0, +∞ at 1, NaN outside [0, 1].
#[must_use]
pub fn inv_cdf(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    if p > 0.5 {
        // the lower tail is where Φ is relatively accurate
        return -inv_cdf(1.0 - p);
    }
    let mut x = acklam(p);
    for _ in 0..2 {
        let e = cdf(x) - p;
        let u = e * (2.0 * PI).sqrt() * (0.5 * x * x).exp();
        x -= u / (1.0 + 0.5 * x * u);
    }
    x
}

/// Acklam's approximation of Φ⁻¹(p), `0 < p ≤ 0.5`.
fn acklam(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.024_25;
    if p < LOW {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_matches_known_values() {
        // values from tables of the normal distribution (to 15 digits)
        assert_eq!(cdf(0.0), 0.5);
        assert!((cdf(1.0) - 0.841_344_746_068_542_9).abs() < 1e-15);
        assert!((cdf(-1.959_963_984_540_054) - 0.025).abs() < 1e-15);
        assert!((cdf(-5.0) - 2.866_515_718_791_939e-7).abs() < 1e-20);
        assert!((cdf(-10.0) / 7.619_853_024_160_527e-24 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn inverse_inverts_to_full_precision() {
        assert_eq!(inv_cdf(0.5), 0.0);
        assert!((inv_cdf(0.975) - 1.959_963_984_540_054).abs() < 1e-14);
        assert!((inv_cdf(0.01) + 2.326_347_874_040_841).abs() < 1e-14);
        assert!((inv_cdf(1e-10) + 6.361_340_902_404_056).abs() < 1e-12);
        for i in 1..1000 {
            let p = f64::from(i) / 1000.0;
            let x = inv_cdf(p);
            assert!((cdf(x) - p).abs() < 2e-16 * p.max(1e-3) * 10.0, "p {p}");
        }
        assert_eq!(inv_cdf(0.0), f64::NEG_INFINITY);
        assert_eq!(inv_cdf(1.0), f64::INFINITY);
        assert!(inv_cdf(1.5).is_nan());
    }
}
