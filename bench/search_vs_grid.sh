#!/usr/bin/env bash
# Issue 17's benchmark (DESIGN §8 "adaptive search"): a 1,048,576-combination
# 4-parameter grid of donchian-breakout (entry, exit, stop_loss_pct,
# take_profit_pct) on SPY daily bars 1998-2021, maximizing Sharpe: the full
# grid once, then `random` and `genetic` with a 2 % budget for five seeds —
# best fitness, its rank in the full grid, evaluations to reach it and to
# reach any of the grid's top 10, wall time — then Optuna's TPE on the same
# objective (a lookup in the full grid's table): evaluations to a top 10.
#
# Usage: bash bench/search_vs_grid.sh [THREADS] [SEEDS] [OPTUNA_CAP]
# Needs ../shared/data beside the checkout and python3 (Optuna goes into a
# venv under target/). Results go to stdout as markdown tables.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
seeds=${2:-5}
cap=${3:-5000}
data=../shared/data/spy_1d_lean_1998_2021.csv.gz
out=target/search-bench
mkdir -p "$out"
cargo build --release -p atf-engine --example search_bench >&2
echo "machine: $(nproc) cores, $(uname -m), $(date -u +%F)"
target/release/examples/search_bench "$data" "$out/fitness.txt" "$threads" "$seeds"
venv=target/search-bench/venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q optuna >&2
fi
"$venv/bin/python" bench/optuna_tpe.py "$out/fitness.txt" "$cap" "$seeds"
