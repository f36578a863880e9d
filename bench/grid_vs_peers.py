#!/usr/bin/env python3
"""The grid workload of ../shared/peers/compare.py, run side by side in one process.

compare.py's `grid` mode cannot start backtesting.py here (it passes REPS twice), so this
driver does the same thing with its helpers: each peer's own benchmark script (median wall
of its runs, data loading excluded), then our command as a whole process (median of --reps
after one warm-up, start-up and data loading included), and prints the ratios.

usage: python grid_vs_peers.py --cmd 'atf ... optimize ...' [--reps 5] [--skip-backtesting]
"""
import argparse
import json
import os
import subprocess
import sys

PEERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "peers")
sys.path.insert(0, PEERS)
from compare import mine  # noqa: E402
from common import GRID_BARS  # noqa: E402


def peer(script, extra_args, reps):
    env = dict(os.environ, TQDM_DISABLE="1", REPS=str(reps))
    r = subprocess.run([sys.executable, os.path.join(PEERS, script), "grid", *extra_args],
                       capture_output=True, text=True, env=env)
    recs = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    if r.returncode != 0 or not recs:
        sys.exit(f"{script} failed:\n{r.stderr[-2000:]}")
    return recs[-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cmd", required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--skip-backtesting", action="store_true")
    a = ap.parse_args()
    rows = []
    v = peer("bench_vectorbt.py", ["numba"], 3)
    rows.append((f"vectorbt {v['version']} (numba)", v["wall_med"], v["loadavg_1m"]))
    if not a.skip_backtesting:
        b = peer("bench_backtesting.py", [], 1)
        rows.append((f"backtesting.py {b['version']}", b["wall_med"], b["loadavg_1m"]))
    t, load, out = mine(a.cmd, a.reps)
    work = 190 * GRID_BARS
    print(f"workload: grid, 190 combinations x {GRID_BARS:,} bars ({work:,} bar-steps)\n")
    print("| engine | median wall s | bar-steps/s | atf is faster by | load avg |")
    print("|---|---|---|---|---|")
    for name, w, la in rows:
        print(f"| {name} | {w:.4f} | {work / w:,.0f} | {w / t:,.1f}x | {la:.2f} |")
    print(f"| atf (whole process) | {t:.4f} | {work / t:,.0f} | 1.0x | {load:.2f} |")
    print("\nlast output of atf:")
    print(out.strip()[-1200:])


if __name__ == "__main__":
    main()
