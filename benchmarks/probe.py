"""What the complete grids of a task would cost here: a probe of its cheapest and dearest points.

    python -m ssmtune.benchmarks.probe [--tasks japanesevowels digits-seq ...]
        [--max-steps 200] [--eval-every 50] [--patience 2] [--seed 2345] [--out DIR]

Before running `linoss-full` (324 points) and `d-linoss-reduced` (162) to completion on a task
(issue 24), this trains two points of each grid once, in this process, under the protocol
given: the point of least and the point of most compute (`spaces.point_cost`: multiply-adds
per sequence, from blocks, hidden, state and the task's length). Each row is one such run:
its wall seconds (set-up, compilation and evaluations included: what a trial is charged on a
CPU, one device), its compile seconds, its best validation and the test there.

The grid's device-hours are then estimated by a line through the two probes: a point of cost
``c`` takes ``a + b * c`` seconds, summed over the grid (``grid_h``). It is an estimate, not a bound:
early stopping shortens trials and a study's workers compile a shape once for the trials that
differ only in learning rate or time channel, but both probes train at the grid's first
learning rate, and evaluations and a loaded machine can cost more (digits-seq's
d-linoss-reduced grid cost 2.3 times its estimate). Both probes of a grid also say whether its extremes are above chance (``chance``:
one over the classes).

The table is what the choice of the replay tasks and their protocols rests on: both grids of
a task should cost at most about 3 device-hours on this 2-core CPU, on a task where
configurations differ.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ssmtune.benchmarks._tables import fmt, write_table

__all__ = ["GRIDS", "probe_task", "run"]

#: The two published grids whose complete runs issue 24 records.
GRIDS = ("linoss-full", "d-linoss-reduced")
DEFAULT_TASKS = ("japanesevowels", "digits-seq", "fingermovements", "eyesopenshut",
                 "handmovementdirection", "blink")  # fmt: skip
COLUMNS = ("task", "length", "cases", "chance", "space", "probe", "point", "units",
           "wall_s", "compile_s", "val", "test", "grid_h")  # fmt: skip


def _cost(model: str, point: dict[str, Any], length: int) -> float:
    from ssmtune import spaces

    return spaces.point_cost(
        model, blocks=point["blocks"], hidden=point["hidden"], state=point["state"], length=length
    )


def probe_task(task: str, protocol: dict[str, int], seed: int) -> list[dict[str, Any]]:
    """Train the cheapest and the dearest point of each grid of `GRIDS` on `task` once; one row
    per run, the grid's estimate (``grid_h``) on its dearest probe's row."""
    from ssmtune import models, spaces, tasks

    data = tasks.load(task, seed=seed)
    info = data.info
    rows: list[dict[str, Any]] = []
    for name in GRIDS:
        space = spaces.get(name)
        model = space.models[0]
        grid = space.grid()
        units = [_cost(model, p, info.length) for p in grid]
        probes = {"cheapest": units.index(min(units)), "dearest": units.index(max(units))}
        seconds: dict[str, float] = {}
        for label, i in probes.items():
            config, options = space.to_config(grid[i], task_info=info)
            options = options.replace(**protocol)
            t0 = time.perf_counter()
            result = models.train(config, data, options, seed=seed)
            seconds[label] = time.perf_counter() - t0
            rows.append(
                {
                    "task": task,
                    "length": info.length,
                    "cases": info.cases,
                    "chance": 1.0 / info.classes if info.kind == "classification" else None,
                    "space": name,
                    "probe": label,
                    "point": " ".join(f"{k}={v}" for k, v in sorted(grid[i].items())),
                    "units": units[i],
                    "wall_s": seconds[label],
                    "compile_s": result.compile_s,
                    "val": result.val,
                    "test": result.test,
                    "grid_h": None,
                }
            )
        lo, hi = min(units), max(units)
        slope = (seconds["dearest"] - seconds["cheapest"]) / (hi - lo) if hi > lo else 0.0
        total = sum(seconds["cheapest"] + slope * (u - lo) for u in units)
        rows[-1]["grid_h"] = total / 3600.0
    return rows


def run(
    *,
    quick: bool = False,
    out: Path | None = None,
    tasks: tuple[str, ...] = DEFAULT_TASKS,
    protocol: dict[str, int] | None = None,
    seed: int = 2345,
) -> None:
    """Probe `tasks` (``--quick``: BasicMotions at 20 steps) and write the table."""
    if protocol is None:
        protocol = {"max_steps": 200, "eval_every": 50, "patience": 2}
    if quick:
        tasks, protocol = ("basicmotions",), {"max_steps": 20, "eval_every": 10, "patience": 2}
    rows: list[dict[str, Any]] = []
    for task in tasks:
        rows += probe_task(task, protocol, seed)
        print(f"{task}: " + ", ".join(f"{r['space']} {fmt(r['grid_h'])} h" for r in rows[-4:]
                                      if r["grid_h"] is not None), flush=True)  # fmt: skip
    both: dict[str, float] = {}
    for r in rows:
        if r["grid_h"] is not None:
            both[r["task"]] = both.get(r["task"], 0.0) + r["grid_h"]
    notes = [
        f"Protocol: {protocol['max_steps']} steps of batch 32, an evaluation every "
        f"{protocol['eval_every']}, patience {protocol['patience']}; seed {seed}; one run per "
        "probe, in one process, one after the other.",
        "grid_h: the grid's device-hours estimated by a line through its two probes in the "
        "compute model: an estimate, not a bound (early stopping and shapes compiled once per "
        "worker make a grid cheaper; both probes train at lr 1e-5, and evaluations, other "
        "learning rates and a loaded machine can make it dearer: digits-seq's d-linoss-reduced "
        "grid cost 2.3 times its estimate).",
        "Both grids, estimated device-hours: " + ", ".join(f"{t} {h:.2f}" for t, h in both.items()),
    ]
    written = write_table(
        "probe",
        title="The complete grids' cost per task, probed at their cheapest and dearest points",
        columns=COLUMNS,
        rows=rows,
        notes=notes,
        summary={f"both_grids_h_{t}": h for t, h in both.items()},
        out=out,
        quick=quick,
    )
    print(f"wrote {written[1]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ssmtune.benchmarks.probe", description=__doc__)
    parser.add_argument("--tasks", nargs="+", default=list(DEFAULT_TASKS))
    parser.add_argument("--max-steps", type=int, default=200)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--patience", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2345)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    protocol = {"max_steps": args.max_steps, "eval_every": args.eval_every,
                "patience": args.patience}  # fmt: skip
    run(quick=args.quick, out=args.out, tasks=tuple(args.tasks), protocol=protocol, seed=args.seed)


if __name__ == "__main__":
    main()
