//! Quantile summaries: the spread of the fitness over every trial of an
//! optimization (a winner far above a tight crowd stands out; one at the
//! top of a wide, smooth spread less so), and of PBO's logits.

use serde::{Deserialize, Serialize};

/// Quantiles of a sample, linear interpolation between order statistics
/// (Hyndman & Fan type 7, numpy's default).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quantiles {
    /// Smallest value.
    pub min: f64,
    /// 5th percentile.
    pub p5: f64,
    /// First quartile.
    pub p25: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub p75: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Largest value.
    pub max: f64,
}

impl Quantiles {
    /// The quantiles of `values` (NaNs left out); `None` if none is left.
    #[must_use]
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_unstable_by(f64::total_cmp);
        let q = |p: f64| quantile_sorted(&sorted, p);
        Some(Self {
            min: sorted[0],
            p5: q(0.05),
            p25: q(0.25),
            median: q(0.5),
            p75: q(0.75),
            p95: q(0.95),
            max: sorted[sorted.len() - 1],
        })
    }
}

/// The `p` quantile of ascending `sorted` (type 7: `h = (n − 1)·p`).
fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// How the fitness is spread over every trial that has one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FitnessSpread {
    /// Trials with a defined fitness.
    pub trials: u64,
    /// Their mean fitness.
    pub mean: f64,
    /// Sample standard deviation (0 for one trial).
    pub std: f64,
    /// Quantiles.
    pub quantiles: Quantiles,
}

impl FitnessSpread {
    /// The spread of `fitness` (in trial-index order, NaNs left out).
    #[must_use]
    pub fn of(fitness: &[f64]) -> Option<Self> {
        let quantiles = Quantiles::of(fitness)?;
        let values: Vec<f64> = fitness.iter().copied().filter(|x| !x.is_nan()).collect();
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = super::sharpe::sample_variance(&values).map_or(0.0, f64::sqrt);
        Some(Self {
            trials: values.len() as u64,
            mean,
            std,
            quantiles,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        // np.quantile([1, 2, 3, 4, 10], [0, .05, .25, .5, .75, .95, 1])
        let q = Quantiles::of(&[10.0, 2.0, f64::NAN, 4.0, 1.0, 3.0]).unwrap();
        let got = [q.min, q.p5, q.p25, q.median, q.p75, q.p95, q.max];
        let want = [1.0, 1.2, 2.0, 3.0, 4.0, 8.8, 10.0];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
        assert_eq!(Quantiles::of(&[f64::NAN]), None);
    }

    #[test]
    fn spread_of_fitness() {
        let s = FitnessSpread::of(&[1.0, 3.0, f64::NAN]).unwrap();
        assert_eq!(s.trials, 2);
        assert_eq!(s.mean, 2.0);
        assert!((s.std - 2f64.sqrt()).abs() < 1e-15);
    }
}
