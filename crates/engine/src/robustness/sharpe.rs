//! The probabilistic and the deflated Sharpe ratio (Bailey & López de
//! Prado, "The Sharpe Ratio Efficient Frontier", 2012, and "The Deflated
//! Sharpe Ratio: Correcting for Selection Bias, Backtest Overfitting and
//! Non-Normality", Journal of Portfolio Management 40(5), 2014), and the
//! effective number of independent trials.
//!
//! Every Sharpe ratio here is **per period** (per bar: mean ÷ standard
//! deviation of the per-bar returns), not annualised: the formulas count
//! the returns `T`, and the variance of the trials' Sharpe ratios must be
//! in the same unit as the winner's.

use super::normal;

/// The Euler–Mascheroni constant γ.
pub const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// The sample moments of a series of returns that the PSR needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReturnMoments {
    /// Number of returns `T`.
    pub count: u64,
    /// Mean return.
    pub mean: f64,
    /// Sample standard deviation (divisor `T − 1`).
    pub std: f64,
    /// Skewness γ₃ = m₃ ÷ m₂^1.5 (population moments, divisor `T`).
    pub skewness: f64,
    /// Kurtosis γ₄ = m₄ ÷ m₂² — raw, not excess (3 for a normal), as in the papers.
    pub kurtosis: f64,
}

impl ReturnMoments {
    /// The moments of `returns` (two passes: the mean, then the centred
    /// sums, in order); `None` with fewer than 2 returns or no variance.
    #[must_use]
    pub fn of(returns: &[f64]) -> Option<Self> {
        let n = returns.len();
        if n < 2 {
            return None;
        }
        let nf = n as f64;
        let mean = returns.iter().sum::<f64>() / nf;
        let (mut s2, mut s3, mut s4) = (0.0, 0.0, 0.0);
        for &r in returns {
            let d = r - mean;
            let d2 = d * d;
            s2 += d2;
            s3 += d2 * d;
            s4 += d2 * d2;
        }
        if s2 <= 0.0 {
            return None;
        }
        let m2 = s2 / nf;
        Some(Self {
            count: n as u64,
            mean,
            std: (s2 / (nf - 1.0)).sqrt(),
            skewness: (s3 / nf) / m2.powf(1.5),
            kurtosis: (s4 / nf) / (m2 * m2),
        })
    }

    /// The per-period Sharpe ratio, mean ÷ std (risk-free 0).
    #[must_use]
    pub fn sharpe(&self) -> f64 {
        self.mean / self.std
    }
}

/// The probabilistic Sharpe ratio PSR(SR*) (Bailey & López de Prado 2012,
/// eq. in §3; 2014 eq. 2): the probability that the true Sharpe ratio
/// exceeds `benchmark`, given the observed per-period `sharpe` over `t`
/// returns with `skewness` γ₃ and raw `kurtosis` γ₄:
///
/// `Φ( (SR − SR*)·√(T − 1) ÷ √(1 − γ₃·SR + (γ₄ − 1)/4·SR²) )`.
///
/// `None` when `t < 2` or the variance term is not positive (moments no
/// distribution has).
#[must_use]
pub fn probabilistic_sharpe(
    sharpe: f64,
    benchmark: f64,
    t: u64,
    skewness: f64,
    kurtosis: f64,
) -> Option<f64> {
    if t < 2 {
        return None;
    }
    let var = 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe * sharpe;
    if var.is_nan() || var <= 0.0 {
        return None;
    }
    let z = (sharpe - benchmark) * ((t - 1) as f64).sqrt() / var.sqrt();
    Some(normal::cdf(z))
}

/// The expected maximum of `trials` independent Sharpe ratios whose true
/// value is 0 and whose estimates vary with `variance` (Bailey & López de
/// Prado 2014, eq. 3, from the False Strategy theorem):
///
/// `SR₀ = √V[SR] · ((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e)))`, γ the
/// Euler–Mascheroni constant. `trials` may be fractional (an effective
/// number); with one trial or fewer there is no selection and SR₀ = 0.
#[must_use]
pub fn expected_max_sharpe(trials: f64, variance: f64) -> f64 {
    if trials.is_nan() || trials <= 1.0 || variance.is_nan() || variance <= 0.0 {
        return 0.0;
    }
    // Φ⁻¹(1 − q) = −Φ⁻¹(q): no precision lost forming 1 − 1/N
    let upper = |q: f64| -normal::inv_cdf(q);
    variance.sqrt()
        * ((1.0 - EULER_GAMMA) * upper(1.0 / trials)
            + EULER_GAMMA * upper(1.0 / (trials * std::f64::consts::E)))
}

/// The deflated Sharpe ratio (Bailey & López de Prado 2014, eq. 2 with
/// SR* = SR₀ of [`expected_max_sharpe`]): the probability that the
/// winner's true Sharpe ratio is above what the best of `trials`
/// worthless strategies would show by luck.
#[must_use]
pub fn deflated_sharpe(
    sharpe: f64,
    t: u64,
    skewness: f64,
    kurtosis: f64,
    trials: f64,
    variance: f64,
) -> Option<f64> {
    let sr0 = expected_max_sharpe(trials, variance);
    probabilistic_sharpe(sharpe, sr0, t, skewness, kurtosis)
}

/// The effective number of independent trials among `trials` whose
/// returns have an average pairwise correlation `mean_correlation`:
/// `N̂ = ρ̄ + (1 − ρ̄)·N` = `1 + (N − 1)(1 − ρ̄)`, the interpolation Bailey &
/// López de Prado (2014) give between one trial (ρ̄ = 1, all the same) and
/// `N` independent ones (ρ̄ = 0). ρ̄ is clamped to [0, 1]: negatively
/// correlated trials are not counted as more than independent.
///
/// We chose it over clustering the trials (López de Prado's ONC) because
/// it needs one number, not the trials' correlation matrix: an
/// optimization keeps no trial's returns but its best ones', and ρ̄ can be
/// estimated from a small sample of trials spread over the grid (an
/// optimization re-runs 16, see `CORRELATED_TRIALS`).
#[must_use]
pub fn effective_trials(trials: f64, mean_correlation: f64) -> f64 {
    let rho = mean_correlation.clamp(0.0, 1.0);
    rho + (1.0 - rho) * trials
}

/// The mean Pearson correlation over every pair of `series` (equal
/// lengths; a shorter one is compared on its common prefix); series without
/// variance are left out. `None` with fewer than two usable series.
#[must_use]
pub fn mean_pairwise_correlation(series: &[&[f64]]) -> Option<f64> {
    let n = series.iter().map(|s| s.len()).min()?;
    if n < 2 {
        return None;
    }
    // each series' mean and centred norm, then every pair's centred dot
    // product over the series as they are (no copies: they may be long)
    let usable: Vec<(&[f64], f64, f64)> = series
        .iter()
        .filter_map(|s| {
            let s = &s[..n];
            let mean = s.iter().sum::<f64>() / n as f64;
            let ss: f64 = s.iter().map(|x| (x - mean) * (x - mean)).sum();
            (ss > 0.0).then(|| (s, mean, ss.sqrt()))
        })
        .collect();
    let k = usable.len();
    if k < 2 {
        return None;
    }
    let mut total = 0.0;
    for (i, &(a, ma, na)) in usable.iter().enumerate() {
        for &(b, mb, nb) in &usable[i + 1..] {
            let dot: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
            total += dot / (na * nb);
        }
    }
    Some(total / (k * (k - 1) / 2) as f64)
}

/// The sample variance (divisor `n − 1`) of `values`; `None` with fewer than two.
#[must_use]
pub fn sample_variance(values: &[f64]) -> Option<f64> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    Some(values.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Bailey & López de Prado (2014), as issue 16 states
    /// it: annual SR 2.5 on daily returns, annual V\[SR\] 0.5, N = 100,
    /// T = 1,250, skewness −3, kurtosis 10 (raw: the paper's γ₄).
    #[test]
    #[allow(
        clippy::excessive_precision,
        reason = "the figure as issue 16 writes it"
    )]
    fn dsr_of_the_papers_example() {
        let sr = 2.5 / 250f64.sqrt();
        let dsr = deflated_sharpe(sr, 1250, -3.0, 10.0, 100.0, 0.5 / 250.0).unwrap();
        assert!((dsr - 0.900_396_834_449_390_34).abs() < 1e-12, "{dsr}");
        // the paper's SR₀ is 0.1132 per day (annualised 1.7889 ≈ √250 × 0.1132)
        let sr0 = expected_max_sharpe(100.0, 0.5 / 250.0);
        assert!((sr0 * 250f64.sqrt() - 1.7889).abs() < 1e-3, "{sr0}");
    }

    #[test]
    fn psr_against_zero_grows_with_the_track_record() {
        let short = probabilistic_sharpe(0.05, 0.0, 100, 0.0, 3.0).unwrap();
        let long = probabilistic_sharpe(0.05, 0.0, 2500, 0.0, 3.0).unwrap();
        assert!(short < long);
        // normal returns: z = 0.05·√2499 ÷ √(1 + 0.5·0.0025)
        let z = 0.05 * 2499f64.sqrt() / (1.0 + 0.5 * 0.0025f64).sqrt();
        assert!((long - normal::cdf(z)).abs() < 1e-15);
        // fat left tails make the same Sharpe ratio less convincing
        let skewed = probabilistic_sharpe(0.05, 0.0, 2500, -3.0, 10.0).unwrap();
        assert!(skewed < long);
        assert_eq!(probabilistic_sharpe(0.05, 0.0, 1, 0.0, 3.0), None);
    }

    #[test]
    fn more_trials_raise_the_bar() {
        let v = 0.001;
        let a = expected_max_sharpe(10.0, v);
        let b = expected_max_sharpe(1000.0, v);
        assert!(0.0 < a && a < b);
        assert_eq!(expected_max_sharpe(1.0, v), 0.0);
        assert_eq!(expected_max_sharpe(50.0, 0.0), 0.0);
    }

    #[test]
    fn effective_trials_interpolate_between_one_and_all() {
        assert_eq!(effective_trials(100.0, 0.0), 100.0);
        assert_eq!(effective_trials(100.0, 1.0), 1.0);
        assert!((effective_trials(100.0, 0.5) - 50.5).abs() < 1e-12);
        assert_eq!(effective_trials(100.0, -0.3), 100.0);
    }

    #[test]
    fn moments_of_a_known_series() {
        let m = ReturnMoments::of(&[1.0, 2.0, 3.0, 4.0, 10.0]).unwrap();
        assert_eq!(m.count, 5);
        assert!((m.mean - 4.0).abs() < 1e-15);
        // deviations −3 −2 −1 0 6: Σd² 50, Σd³ 180, Σd⁴ 1394
        assert!((m.std - (50.0f64 / 4.0).sqrt()).abs() < 1e-15);
        assert!((m.skewness - 36.0 / 10f64.powf(1.5)).abs() < 1e-12);
        assert!((m.kurtosis - 278.8 / 100.0).abs() < 1e-12);
        assert_eq!(ReturnMoments::of(&[1.0, 1.0, 1.0]), None);
    }

    #[test]
    fn correlation_of_identical_and_opposite_series() {
        let a = [1.0, 2.0, 0.5, 3.0];
        let b = [2.0, 4.0, 1.0, 6.0];
        let c = [-1.0, -2.0, -0.5, -3.0];
        assert!((mean_pairwise_correlation(&[&a, &b]).unwrap() - 1.0).abs() < 1e-15);
        // pairs: (a,b) 1, (a,c) −1, (b,c) −1
        assert!((mean_pairwise_correlation(&[&a, &b, &c]).unwrap() + 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(mean_pairwise_correlation(&[&a, &[5.0; 4]]), None);
    }
}
