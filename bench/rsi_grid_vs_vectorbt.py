#!/usr/bin/env python3
"""A user's strategy in a grid, side by side with vectorbt (DESIGN §8, issue 13).

The strategy is the scaffold's example, `rsi-dip`, written the way a user writes one (the
RSI line from the provided indicators, no `prepare`, no SIMD): long when RSI(period) <
oversold and flat, flat again when RSI > overbought. The grid is period 5..50 step 5 ×
oversold 20..40 step 5 × overbought 60..80 step 5 = 250 combinations over the first
100,000 bars of the peers' one-minute random walk, all-in whole units, no commission,
10,000 of cash, orders filled at the next bar's open.

vectorbt does the same grid the way its users do: `vbt.RSI.run` over the periods (its RSI
smooths with a rolling mean, not Wilder's average: the same work, other numbers), level
signals for every (oversold, overbought) pair, shifted one bar and filled at the open, one
250-column `Portfolio.from_signals`. Its time is in-process (imports and data loading
excluded), median of REPS after a first call; ours is the whole `atf-extras` process
(start-up, catalog, Parquet load, the grid, the ranked table, a --csv of every trial).

usage: python rsi_grid_vs_vectorbt.py --cmd 'target/release/examples/atf-extras … optimize …'
"""
import argparse
import os
import sys
import time

PEERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "peers")
sys.path.insert(0, PEERS)
import numpy as np  # noqa: E402
import vectorbt as vbt  # noqa: E402
from common import CASH, GRID_BARS, load_synth_pandas, med, timed  # noqa: E402
from compare import mine  # noqa: E402

PERIODS = list(range(5, 51, 5))
OVERSOLD = list(range(20, 41, 5))
OVERBOUGHT = list(range(60, 81, 5))
COMBOS = len(PERIODS) * len(OVERSOLD) * len(OVERBOUGHT)


def grid_run(df):
    close, open_ = df["Close"], df["Open"]
    rsi = vbt.RSI.run(close, window=PERIODS).rsi.values  # (bars, periods)
    n = len(close)
    entries = np.empty((n, COMBOS), dtype=bool)
    exits = np.empty((n, COMBOS), dtype=bool)
    j = 0
    for p in range(len(PERIODS)):
        for lo in OVERSOLD:
            for hi in OVERBOUGHT:
                entries[1:, j] = rsi[:-1, p] < lo  # signal at t, order at t+1's open
                exits[1:, j] = rsi[:-1, p] > hi
                j += 1
    entries[0, :] = False
    exits[0, :] = False
    pf = vbt.Portfolio.from_signals(close, entries, exits, price=open_, size=np.inf,
                                    size_granularity=1, init_cash=CASH, freq="1min")
    return pf.final_value()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cmd", required=True)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    df, _ = load_synth_pandas(GRID_BARS)
    t = time.perf_counter()
    fv = grid_run(df)
    first = time.perf_counter() - t
    walls, _, fv = timed(lambda: grid_run(df), reps=3)
    assert len(fv) == COMBOS, len(fv)
    v = med(walls)
    ours, load, out = mine(a.cmd, a.reps)
    work = COMBOS * GRID_BARS
    print(f"workload: rsi-dip grid, {COMBOS} combinations x {GRID_BARS:,} bars ({work:,} bar-steps)\n")
    print("| engine | median wall s | bar-steps/s | atf is faster by |")
    print("|---|---|---|---|")
    print(f"| vectorbt {vbt.__version__} (first call {first:.2f} s) | {v:.4f} | {work / v:,.0f} | {v / ours:,.1f}x |")
    print(f"| atf-extras (whole process) | {ours:.4f} | {work / ours:,.0f} | 1.0x |")
    print(f"\nload average {load:.2f}; last output of atf:")
    print(out.strip()[-800:])


if __name__ == "__main__":
    main()
