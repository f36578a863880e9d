#!/usr/bin/env bash
# Grid optimization benchmark of DESIGN §8, side by side with the peers, in one run:
#   SMA crossover, fast 5..50 step 5 × slow 20..200 step 10 (190 combinations),
#   the first 100,000 one-minute bars of the peers' synthetic random walk,
#   long only, all-in whole units, commission 0, cash 10,000.
# Then: final equity per combination cross-checked against backtesting.py's grid,
# combinations/s at 1 and 2 threads, and peak RSS of a 1,000,000-combination run.
# Last, a user's strategy in a grid (issue 13): the scaffold's rsi-dip, written from the
# provided indicators only, 250 combinations on the same bars, against vectorbt.
#
# usage: bash bench/optimize_vs_peers.sh [--skip-backtesting]
# Needs the peers (../shared/peers/setup.sh, run here when missing). Takes ~3 minutes,
# most of it backtesting.py's grid. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
peers="$root/../shared/peers"
home="${PEERS_HOME:-$HOME/.cache/atf-peers}"
py="$home/venv/bin/python"
csv="$home/data/synth_1m_1000000.csv"
out="$root/target/bench"
mkdir -p "$out"

if [[ ! -x "$py" || ! -f "$csv" ]]; then
    echo "== setting up the peers ($peers/setup.sh)"
    bash "$peers/setup.sh"
fi

echo "== building atf and atf-extras (release)"
cargo build --release --locked -p atf-cli -p atf --bins --examples
atf="$root/target/release/atf"
extras="$root/target/release/examples/atf-extras"

data="$out/data"
if ! "$atf" --data-dir "$data" data list --json | grep -q '"synth-100k"'; then
    head -n 100001 "$csv" > "$out/synth-100k.csv"
    "$atf" --data-dir "$data" data import "$out/synth-100k.csv" --name synth-100k
fi

grid=(optimize --dataset synth-100k --axis fast=5..50:5 --axis slow=20..200:10 --maximize net-profit)

echo "== side by side (the grid workload of compare.py)"
"$py" bench/grid_vs_peers.py "$@" --cmd "$atf --data-dir $data ${grid[*]} --csv $out/atf_grid.csv" \
    | tee "$out/compare_grid.txt"

echo
echo "== final equity per combination vs the peers"
"$py" - "$out/atf_grid.csv" "$home/results" "$out/synth-100k.csv" <<'EOF'
import csv, os, sys
import numpy as np
import pandas as pd
ours = {(int(r["fast"]), int(r["slow"])): float(r["final_equity"]) for r in csv.DictReader(open(sys.argv[1]))}
close = pd.read_csv(sys.argv[3])["close"]
exact = np.round(close.values * 10000).astype(np.int64)


def float_disagreements(fast, slow):
    """Bars where the peers' float SMA comparison has another sign than the exact one
    (integer sums in float64 are exact here: far below 2**53)."""
    ok = slice(max(fast, slow) - 1, None)
    fl = np.sign(close.rolling(fast).mean().values[ok] - close.rolling(slow).mean().values[ok])
    s = pd.Series(exact)
    ex = np.sign(s.rolling(fast).sum().values[ok] * slow - s.rolling(slow).sum().values[ok] * fast)
    return int((ex != fl).sum())


for peer in ("backtesting", "vectorbt"):
    path = os.path.join(sys.argv[2], f"grid_{peer}.csv")
    if not os.path.exists(path):
        print(f"{peer}: no grid results at {path}")
        continue
    theirs = {(int(r["fast"]), int(r["slow"])): float(r["final_equity"]) for r in csv.DictReader(open(path))}
    both = sorted(set(ours) & set(theirs))
    # fast == slow never crosses: no trade; backtesting.py reports NaN there
    undefined = [k for k in both if theirs[k] != theirs[k]]
    common = [k for k in both if k not in undefined]
    if undefined:
        print(f"{peer}: {len(undefined)} combinations without a final equity there (NaN), ours "
              f"{sorted({ours[k] for k in undefined})}: {undefined}")
    diffs = [abs(ours[k] - theirs[k]) for k in common]
    same = sum(d < 0.005 for d in diffs)
    worst = max(common, key=lambda k: abs(ours[k] - theirs[k]))
    print(f"{peer}: {len(common)} combinations compared, {same} equal to the cent, "
          f"largest difference {max(diffs):.4f} at fast={worst[0]} slow={worst[1]} "
          f"(ours {ours[worst]:.2f}, theirs {theirs[worst]:.2f})")
    differing = [k for k in common if abs(ours[k] - theirs[k]) >= 0.005]
    explained = [k for k in differing if float_disagreements(*k) > 0]
    print(f"  {len(explained)} of the {len(differing)} differing combinations have bars where the "
          f"averages tie or nearly tie and float rounding gives another sign than exact arithmetic")
EOF

echo
echo "== combinations/s at 1 and 2 threads (engine time, median of 5)"
for t in 1 2; do
    for _ in 1 2 3 4 5; do
        "$atf" --data-dir "$data" "${grid[@]}" --threads "$t" --top 1 | sed -n 2p
    done | sed -E 's/.* in ([0-9.]+) s \(([0-9]+) combinations.*/\2/' | sort -n | sed -n 3p \
        | xargs -I{} echo "threads=$t: {} combinations/s ({} × 100,000 bar-steps/s)"
done

echo
echo "== 1,000,000 combinations: peak memory"
/usr/bin/time -f "peak RSS %M KiB, wall %e s" "$atf" --data-dir "$data" optimize --dataset spy-1d \
    --from 2020-01-01 --axis fast=1..1000:1 --axis slow=1..1000:1 --top 20 --no-progress | sed -n 2p

echo
echo "== a user's strategy in a grid: rsi-dip (indicators only), 250 combinations, vs vectorbt"
"$py" bench/rsi_grid_vs_vectorbt.py --cmd "$extras --data-dir $data optimize --dataset synth-100k --strategy rsi-dip \
    --axis period=5..50:5 --axis oversold=20..40:5 --axis overbought=60..80:5 --maximize net-profit --csv $out/rsi_grid.csv" \
    | tee "$out/compare_rsi_grid.txt"
