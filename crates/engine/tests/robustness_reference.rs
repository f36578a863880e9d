//! `atf_engine::robustness` against an independent reference:
//! `bench/robustness_ref.py` (numpy and Python's standard library, written
//! from the papers) on the fixed matrices under `tests/fixtures/`
//! (`robustness_ref.py generate` made them, seeded). Every figure — the
//! trials' Sharpe ratios and their variance, the winner's moments, PSR,
//! SR₀, DSR, ρ̄, N̂ and DSR at N̂, PBO by CSCV with its logits, histogram and
//! degradation — must agree to 1e-9.
//!
//! The reference runs in the test venv (`ATF_TEST_VENV`, default
//! `$HOME/.cache/atf-test-venv`, which `scripts/test.sh` installs); without
//! python or numpy the test fails, never skips: a check that cannot run
//! must not pass.

use atf_engine::robustness::blocks::block_end;
use atf_engine::robustness::pbo::pbo;
use atf_engine::robustness::sharpe::{
    deflated_sharpe, effective_trials, expected_max_sharpe, mean_pairwise_correlation,
    probabilistic_sharpe, sample_variance, ReturnMoments,
};
use atf_engine::robustness::Quantiles;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;

const TOLERANCE: f64 = 1e-9;

#[derive(Deserialize)]
struct Fixture {
    blocks: usize,
    returns: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct Moments {
    count: u64,
    mean: f64,
    std: f64,
    skewness: f64,
    kurtosis: f64,
}

#[derive(Deserialize)]
struct RefPbo {
    splits: u64,
    pbo: f64,
    logit_mean: f64,
    logit_quantiles: Vec<f64>,
    histogram: Vec<u64>,
    slope: f64,
    intercept: f64,
    probability_of_loss: f64,
}

#[derive(Deserialize)]
struct Reference {
    sharpes: Vec<f64>,
    variance: f64,
    winner: usize,
    moments: Moments,
    psr: f64,
    expected_max_sharpe: f64,
    dsr: f64,
    mean_correlation: f64,
    effective_trials: f64,
    dsr_effective: f64,
    sharpe_quantiles: Vec<f64>,
    pbo: RefPbo,
    paper_dsr: f64,
}

fn venv_python() -> PathBuf {
    let venv = std::env::var_os("ATF_TEST_VENV").map_or_else(
        || Path::new(&std::env::var_os("HOME").expect("HOME")).join(".cache/atf-test-venv"),
        PathBuf::from,
    );
    venv.join("bin/python")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/robustness_{name}.json"))
}

/// The reference's figures for fixture `name`.
fn reference(name: &str) -> Reference {
    let python = venv_python();
    let ready = Command::new(&python)
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ready,
        "{python:?} cannot import numpy: run `bash scripts/test.sh` (it installs the test \
         venv) or set ATF_TEST_VENV to a venv with numpy"
    );
    let out = Command::new(&python)
        .arg(root().join("bench/robustness_ref.py"))
        .arg("compute")
        .arg(fixture_path(name))
        .output()
        .expect("run bench/robustness_ref.py");
    assert!(
        out.status.success(),
        "robustness_ref.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the reference's JSON")
}

fn close(what: &str, ours: f64, theirs: f64) {
    assert!(
        (ours - theirs).abs() <= TOLERANCE,
        "{what}: ours {ours}, reference {theirs} (differ by {:e})",
        (ours - theirs).abs()
    );
}

fn quantiles(q: &Quantiles) -> [f64; 7] {
    [q.min, q.p5, q.p25, q.median, q.p75, q.p95, q.max]
}

fn check(name: &str) {
    let fx: Fixture = serde_json::from_slice(&std::fs::read(fixture_path(name)).unwrap()).unwrap();
    let want = reference(name);
    let n = fx.returns.len();

    // the trials' Sharpe ratios, their variance, the winner (first best)
    let moments: Vec<ReturnMoments> = fx
        .returns
        .iter()
        .map(|r| ReturnMoments::of(r).unwrap())
        .collect();
    let sharpes: Vec<f64> = moments.iter().map(ReturnMoments::sharpe).collect();
    for (i, (&a, &b)) in sharpes.iter().zip(&want.sharpes).enumerate() {
        close(&format!("{name}: Sharpe of trial {i}"), a, b);
    }
    let variance = sample_variance(&sharpes).unwrap();
    close(&format!("{name}: V[SR]"), variance, want.variance);
    let winner = (1..n).fold(0, |b, i| if sharpes[i] > sharpes[b] { i } else { b });
    assert_eq!(winner, want.winner, "{name}: winner");
    let m = moments[winner];
    assert_eq!(m.count, want.moments.count);
    close(&format!("{name}: mean"), m.mean, want.moments.mean);
    close(&format!("{name}: std"), m.std, want.moments.std);
    close(
        &format!("{name}: skewness"),
        m.skewness,
        want.moments.skewness,
    );
    close(
        &format!("{name}: kurtosis"),
        m.kurtosis,
        want.moments.kurtosis,
    );

    // PSR, SR₀, DSR, ρ̄, N̂, DSR at N̂
    let sr = m.sharpe();
    let psr = probabilistic_sharpe(sr, 0.0, m.count, m.skewness, m.kurtosis).unwrap();
    close(&format!("{name}: PSR"), psr, want.psr);
    let sr0 = expected_max_sharpe(n as f64, variance);
    close(&format!("{name}: SR0"), sr0, want.expected_max_sharpe);
    let dsr = deflated_sharpe(sr, m.count, m.skewness, m.kurtosis, n as f64, variance).unwrap();
    close(&format!("{name}: DSR"), dsr, want.dsr);
    let series: Vec<&[f64]> = fx.returns.iter().map(Vec::as_slice).collect();
    let rho = mean_pairwise_correlation(&series).unwrap();
    close(
        &format!("{name}: mean correlation"),
        rho,
        want.mean_correlation,
    );
    let n_eff = effective_trials(n as f64, rho);
    close(
        &format!("{name}: effective N"),
        n_eff,
        want.effective_trials,
    );
    let dsr_eff = deflated_sharpe(sr, m.count, m.skewness, m.kurtosis, n_eff, variance).unwrap();
    close(
        &format!("{name}: DSR at effective N"),
        dsr_eff,
        want.dsr_effective,
    );
    let q = Quantiles::of(&sharpes).unwrap();
    for (a, b) in quantiles(&q).iter().zip(&want.sharpe_quantiles) {
        close(&format!("{name}: Sharpe quantile"), *a, *b);
    }

    // PBO by CSCV over each trial's returns summed per block, the blocks
    // cut as the bar loop cuts them (numpy's array_split on the other side)
    let len = fx.returns[0].len();
    let bounds: Vec<(usize, usize)> = (0..fx.blocks)
        .map(|k| {
            (
                block_end(len, fx.blocks, k),
                block_end(len, fx.blocks, k + 1),
            )
        })
        .collect();
    let counts: Vec<u64> = bounds.iter().map(|(a, b)| (b - a) as u64).collect();
    let rows: Vec<Vec<[f64; 2]>> = fx
        .returns
        .iter()
        .map(|r| {
            bounds
                .iter()
                .map(|&(a, b)| {
                    let block = &r[a..b];
                    [block.iter().sum(), block.iter().map(|x| x * x).sum()]
                })
                .collect()
        })
        .collect();
    let p = pbo(&counts, &rows).unwrap();
    let w = &want.pbo;
    assert_eq!(p.splits, w.splits);
    close(&format!("{name}: PBO"), p.pbo, w.pbo);
    close(&format!("{name}: mean logit"), p.logits.mean, w.logit_mean);
    for (a, b) in quantiles(&p.logits.quantiles)
        .iter()
        .zip(&w.logit_quantiles)
    {
        close(&format!("{name}: logit quantile"), *a, *b);
    }
    assert_eq!(p.logits.histogram, w.histogram, "{name}: logit histogram");
    close(
        &format!("{name}: slope"),
        p.degradation.slope.unwrap(),
        w.slope,
    );
    close(
        &format!("{name}: intercept"),
        p.degradation.intercept.unwrap(),
        w.intercept,
    );
    close(
        &format!("{name}: probability of loss"),
        p.degradation.probability_of_loss,
        w.probability_of_loss,
    );

    // and the paper's example, through the reference's own Φ and Φ⁻¹
    let ours = deflated_sharpe(2.5 / 250f64.sqrt(), 1250, -3.0, 10.0, 100.0, 0.5 / 250.0).unwrap();
    close("paper's DSR", ours, want.paper_dsr);
}

/// Correlated fat-tailed noise: no trial has an edge.
#[test]
fn statistics_of_pure_noise_match_the_numpy_reference() {
    check("noise");
}

/// The same with one trial earning a steady drift.
#[test]
fn statistics_with_a_planted_edge_match_the_numpy_reference() {
    check("edge");
}

/// Blocks of unequal length (333 returns in 16 blocks) and duplicated
/// trials, whose ties in and out of sample share their ranks.
#[test]
fn statistics_with_uneven_blocks_and_tied_trials_match_the_numpy_reference() {
    check("ties");
}
