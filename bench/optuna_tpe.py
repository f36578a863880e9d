"""Optuna's TPE on the objective of bench/search_vs_grid.sh: the Sharpe of
donchian-breakout on SPY daily over the same 4-axis grid, read from the
full grid's fitness table (index fitness rank) that search_bench wrote, so
each Optuna trial costs a lookup and Optuna is timed for its own work only.

For each seed: the evaluations TPE needs to reach one of the grid's top 10
(or none within the cap). Axes are suggested as integer positions on each
axis (32 values each), so TPE sees the grid's order, as the genetic search
does. Undefined fitness (no trades) scores as the worst.

usage: optuna_tpe.py FITNESS_TABLE CAP SEEDS
"""

import sys
import time

import optuna

SHAPE = (32, 32, 32, 32)  # entry, exit, stop_loss_pct, take_profit_pct


def main() -> None:
    path, cap, seeds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    fitness, rank = [], []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            _, fit, r = line.split()
            fitness.append(float(fit))
            rank.append(int(r))
    n = len(fitness)
    assert n == SHAPE[0] * SHAPE[1] * SHAPE[2] * SHAPE[3], n
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"\n| optuna {optuna.__version__} TPE | seed | cap | evaluations to a top-10 | best rank found | wall s |")
    print("|---|---|---|---|---|---|")
    hits = 0
    for seed in range(1, seeds + 1):
        found = {"at": None, "best": None}

        def objective(trial: optuna.Trial) -> float:
            digits = [trial.suggest_int(f"a{k}", 0, SHAPE[k] - 1) for k in range(4)]
            index = 0
            for d, length in zip(digits, SHAPE):
                index = index * length + d
            r = rank[index]
            if found["best"] is None or r < found["best"]:
                found["best"] = r
            if r <= 10 and found["at"] is None:
                found["at"] = trial.number + 1
                trial.study.stop()
            f = fitness[index]
            return f if f == f else -1e9  # NaN: undefined, the worst

        study = optuna.create_study(
            direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed)
        )
        t0 = time.time()
        study.optimize(objective, n_trials=cap)
        hits += found["at"] is not None
        at = found["at"] if found["at"] is not None else f"none in {cap}"
        print(f"| tpe | {seed} | {cap} | {at} | {found['best']} | {time.time() - t0:.1f} |")
    print(f"| tpe | top-10 found in {hits}/{seeds} seeds | | | | |")


if __name__ == "__main__":
    main()
