#!/usr/bin/env python3
"""An independent reference for atf's robustness statistics (numpy and the
standard library only; written from the papers, no code copied):

- PSR and DSR: Bailey & López de Prado, "The Deflated Sharpe Ratio:
  Correcting for Selection Bias, Backtest Overfitting and Non-Normality",
  Journal of Portfolio Management 40(5), 2014 (eqs. 2 and 3);
- the effective number of trials N̂ = ρ̄ + (1 − ρ̄)·N (same paper);
- PBO by CSCV: Bailey, Borwein, López de Prado & Zhu, "The Probability of
  Backtest Overfitting", Journal of Computational Finance 20(4), 2017.

Usage:
  robustness_ref.py generate DIR   write the fixed matrices (seeded) to DIR
  robustness_ref.py compute FILE   print the statistics of FILE as JSON

The Rust test crates/engine/tests/robustness_reference.rs runs `compute`
on the committed fixtures and compares with atf_engine::robustness to 1e-9.
Conventions shared with atf (they are choices, not code): per-period
Sharpe ratio = mean / sample std (ddof 1); skewness and kurtosis are
population moments, kurtosis raw (3 for a normal); V[SR] has ddof 1; the
winner is the first trial with the highest Sharpe ratio; in CSCV a set of
blocks performs as the Sharpe ratio of its pooled returns (0 without
variance), the IS winner is the first best, OOS ties share their average
rank, ω = rank / (N + 1), PBO = share of splits with logit ≤ 0, the logit
histogram has 20 equal bins over [−ln N, ln N].
"""
import itertools
import json
import math
import sys
from statistics import NormalDist

import numpy as np

EULER_GAMMA = 0.5772156649015329
NORMAL = NormalDist()


def phi(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def psr(sr, benchmark, t, skew, kurt):
    var = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    return phi((sr - benchmark) * math.sqrt(t - 1) / math.sqrt(var))


def expected_max_sharpe(n, variance):
    if n <= 1 or variance <= 0:
        return 0.0
    return math.sqrt(variance) * (
        (1 - EULER_GAMMA) * NORMAL.inv_cdf(1 - 1 / n)
        + EULER_GAMMA * NORMAL.inv_cdf(1 - 1 / (n * math.e))
    )


def moments(r):
    r = np.asarray(r, dtype=float)
    d = r - r.mean()
    m2 = np.mean(d**2)
    return {
        "count": len(r),
        "mean": float(r.mean()),
        "std": float(r.std(ddof=1)),
        "skewness": float(np.mean(d**3) / m2**1.5),
        "kurtosis": float(np.mean(d**4) / m2**2),
    }


def sharpe(r):
    r = np.asarray(r, dtype=float)
    if len(r) < 2:
        return 0.0
    s = r.std(ddof=1)
    return float(r.mean() / s) if s > 0 else 0.0


def sharpes_of(m):
    """Each row's Sharpe ratio (0 without variance)."""
    s = m.std(axis=1, ddof=1)
    mean = m.mean(axis=1)
    return np.where(s > 0, mean / np.where(s > 0, s, 1.0), 0.0)


def quantiles(x):
    return [float(v) for v in np.quantile(np.asarray(x), [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1])]


def cscv(returns, blocks):
    n, t = returns.shape
    parts = np.array_split(np.arange(t), blocks)
    logits, is_best, oos_best = [], [], []
    for chosen in itertools.combinations(range(blocks), blocks // 2):
        is_cols = np.concatenate([parts[b] for b in chosen])
        oos_cols = np.concatenate([parts[b] for b in range(blocks) if b not in chosen])
        is_sr = sharpes_of(returns[:, is_cols])
        oos_sr = sharpes_of(returns[:, oos_cols])
        best = int(np.argmax(is_sr))
        target = oos_sr[best]
        rank = np.sum(oos_sr < target) + (np.sum(oos_sr == target) + 1) / 2
        omega = rank / (n + 1)
        logits.append(math.log(omega / (1 - omega)))
        is_best.append(is_sr[best])
        oos_best.append(target)
    logits = np.array(logits)
    edge = math.log(n)
    bins = np.clip(np.floor((logits + edge) / (2 * edge) * 20), 0, 19).astype(int)
    slope, intercept = np.polyfit(np.array(is_best), np.array(oos_best), 1)
    return {
        "splits": len(logits),
        "pbo": float(np.mean(logits <= 0)),
        "logit_mean": float(logits.mean()),
        "logit_quantiles": quantiles(logits),
        "histogram": [int(c) for c in np.bincount(bins, minlength=20)],
        "slope": float(slope),
        "intercept": float(intercept),
        "probability_of_loss": float(np.mean(np.array(oos_best) < 0)),
    }


def compute(path):
    with open(path) as f:
        fx = json.load(f)
    returns = np.array(fx["returns"], dtype=float)
    n = returns.shape[0]
    sharpes = np.array([sharpe(r) for r in returns])
    variance = float(sharpes.var(ddof=1))
    winner = int(np.argmax(sharpes))
    mo = moments(returns[winner])
    sr = mo["mean"] / mo["std"]
    sr0 = expected_max_sharpe(n, variance)
    corr = np.corrcoef(returns)
    rho = float(corr[np.triu_indices(n, 1)].mean())
    n_eff = max(0.0, min(1.0, rho)) + (1 - max(0.0, min(1.0, rho))) * n
    out = {
        "sharpes": [float(s) for s in sharpes],
        "variance": variance,
        "winner": winner,
        "moments": mo,
        "psr": psr(sr, 0.0, mo["count"], mo["skewness"], mo["kurtosis"]),
        "expected_max_sharpe": sr0,
        "dsr": psr(sr, sr0, mo["count"], mo["skewness"], mo["kurtosis"]),
        "mean_correlation": rho,
        "effective_trials": n_eff,
        "dsr_effective": psr(
            sr, expected_max_sharpe(n_eff, variance), mo["count"], mo["skewness"], mo["kurtosis"]
        ),
        "sharpe_quantiles": quantiles(sharpes),
        "pbo": cscv(returns, fx["blocks"]),
        # the paper's example: annual SR 2.5 on daily returns, annual V[SR] 0.5,
        # N 100, T 1250, skewness -3, kurtosis 10
        "paper_dsr": psr(
            2.5 / math.sqrt(250), expected_max_sharpe(100, 0.5 / 250), 1250, -3.0, 10.0
        ),
    }
    json.dump(out, sys.stdout)


def generate(out_dir):
    """Three fixed matrices. `noise` and `edge`: 16 trials × 320 returns;
    trials share a market factor (ρ ≈ 0.3) and have fat tails (Student t,
    4 degrees of freedom); in `edge`, trial 5 also earns a steady drift.
    `ties`: 24 trials × 333 returns (blocks of 21 and 20 returns), trials
    20–23 copies of trials 0–3, so in-sample winners tie (the first wins)
    and out-of-sample ranks tie (they share their average)."""
    rng = np.random.default_rng(20260516)
    for name, drift in [("noise", 0.0), ("edge", 0.0025)]:
        common = rng.standard_t(4, size=320)
        own = rng.standard_t(4, size=(16, 320))
        r = 0.006 * (0.55 * common + 0.85 * own)
        r[5] += drift
        write(out_dir, name, r)
    common = rng.standard_t(4, size=333)
    own = rng.standard_t(4, size=(24, 333))
    r = 0.006 * (0.55 * common + 0.85 * own)
    r[20:24] = r[0:4]
    write(out_dir, "ties", r)


def write(out_dir, name, r):
    rows = [[float(f"{x:.8e}") for x in row] for row in r]
    with open(f"{out_dir}/robustness_{name}.json", "w") as f:
        json.dump({"name": name, "blocks": 16, "returns": rows}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "generate":
        generate(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "compute":
        compute(sys.argv[2])
    else:
        sys.exit(__doc__)
