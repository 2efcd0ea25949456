"""How fast a replay is: replicates of TPE + Hyperband against a 162-point table, no training.

    python -m ssmtune.benchmarks.replay [--table FILE] [--replicates 50] [--workers 2] [--quick]

`search._replay` runs Optuna's real sampler and pruner on an in-memory study for every
replicate, so its speed is Optuna's ask/tell/should_prune plus the event queue. The target
(issue 24): 50 replicates of TPE + Hyperband on a 162-point table with 2 simulated workers in
under 60 s on this 2-core CPU. The table is the committed ``d-linoss-reduced`` grid of
JapaneseVowels when it is there (``benchmarks/tables/``), else a synthetic table of the same
162 points (values and costs drawn once, seed 0: the speed does not depend on them). Each
replicate's budget is the grid's own device-hours. Rows: the table, the strategy, the
replicates' median trials, the wall seconds of the whole run and per replicate.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path
from typing import Any

from ssmtune.benchmarks._tables import write_table

__all__ = ["TARGET_S", "synthetic_table", "run"]

TARGET_S = 60.0
TABLES = Path(__file__).resolve().parent / "tables"
DEFAULT_TABLE = TABLES / "japanesevowels-d-linoss-reduced-grid.jsonl"
COLUMNS = ("table", "points", "strategy", "workers", "replicates", "median_trials", "wall_s",
           "per_replicate_s", "target_s", "met")  # fmt: skip


def synthetic_table(seed: int = 0) -> Any:
    """A table over the d-linoss-reduced grid's 162 points (lr x blocks x hidden x state x
    include_time), three evaluations each, values and costs drawn with `seed`."""
    import numpy as np

    from ssmtune.studies import Table, TablePoint

    rng = np.random.default_rng(seed)
    points = []
    grid = itertools.product([1e-5, 1e-4, 1e-3], [2, 4, 6], [16, 64, 128], [16, 64, 256],
                             [True, False])  # fmt: skip
    for number, (lr, blocks, hidden, state, time_) in enumerate(grid):
        value, cost = float(rng.uniform(0.3, 0.95)), float(rng.uniform(5.0, 60.0))
        evals = tuple((50 * k, value * (0.7 + 0.1 * k), None, cost * k / 3.0) for k in (1, 2, 3))
        points.append(
            TablePoint(
                params={
                    "lr": lr,
                    "blocks": blocks,
                    "hidden": hidden,
                    "state": state,
                    "include_time": time_,
                },  # fmt: skip
                value=evals[-1][1],
                test=value,
                device_s=cost,
                state="complete",
                steps=150,
                trial=number,
                seed=2345,
                evals=evals,
            )  # fmt: skip
        )
    header = {"format": "ssmtune-table", "version": 1, "study": "synthetic-162", "task": "-",
              "space": "d-linoss-reduced", "direction": "maximize", "metric": "accuracy",
              "protocol": {"max_steps": 150, "eval_every": 50, "patience": 2, "batch_size": 32},
              "space_size": len(points)}  # fmt: skip
    return Table(header, tuple(points))


def run(
    *,
    quick: bool = False,
    out: Path | None = None,
    table: Path | None = None,
    replicates: int = 50,
    workers: int = 2,
) -> None:
    """Time the replicates and write the table (``--quick``: 5 replicates)."""
    import statistics

    from ssmtune.search import replay_once
    from ssmtune.studies import read_table

    if quick:
        replicates = 5
    path = table if table is not None else DEFAULT_TABLE
    loaded = read_table(path) if path.is_file() else synthetic_table()
    name = str(path.name) if path.is_file() else "synthetic 162 points (no table committed)"
    budget = loaded.total_device_s()
    t0 = time.perf_counter()
    trials = []
    for r in range(replicates):
        replicate = replay_once(loaded, sampler="tpe", pruner="hyperband", workers=workers,
                                budget_s=budget, seed=r, study_name=f"replay-{r}")  # fmt: skip
        trials.append(len(replicate.trials))
    wall = time.perf_counter() - t0
    target = TARGET_S * replicates / 50
    row = {
        "table": name,
        "points": len(loaded.points),
        "strategy": "tpe + hyperband",
        "workers": workers,
        "replicates": replicates,
        "median_trials": statistics.median(trials),
        "wall_s": wall,
        "per_replicate_s": wall / replicates,
        "target_s": target,
        "met": wall < target,
    }
    notes = [
        "One run, one process; each replicate's budget is the grid's own device-hours "
        f"({budget / 3600:.3f}); the target scales with the replicates (60 s for 50).",
    ]
    written = write_table(
        "replay", title="Replay speed: TPE + Hyperband against a grid table",
        columns=COLUMNS, rows=[row], notes=notes, summary={"target met": row["met"]},
        out=out, quick=quick,
    )  # fmt: skip
    print(f"{replicates} replicates in {wall:.1f} s ({row['median_trials']} trials each, median)")
    print(f"wrote {written[1]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ssmtune.benchmarks.replay", description=__doc__
    )
    parser.add_argument("--table", type=Path, default=None)
    parser.add_argument("--replicates", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    run(quick=args.quick, out=args.out, table=args.table, replicates=args.replicates,
        workers=args.workers)  # fmt: skip


if __name__ == "__main__":
    main()
