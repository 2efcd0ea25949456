"""The answer, from the committed complete grids: how good each space gets per task, what it costs
to find out under each strategy, and the D-LinOSS claim per task and pooled.

    python -m ssmtune.benchmarks.answer [--replicates 20] [--workers 2] [--tables DIR] [--quick]

For every task with both tables in ``benchmarks/tables/`` (``TASK-linoss-full-grid.jsonl`` and
``TASK-d-linoss-reduced-grid.jsonl``), and for each of its grids:

- the grid's exact best validation value, the test there, and the mean ± std test over the
  benchmark's seeds of its top points where ``ssmtune evaluate --top`` was run;
- the device-hours to reach the full space's best minus 0, 1, 3 and 5 points of accuracy
  (the claim is about reaching LinOSS's accuracy) under four strategies: ``random order``
  (the grid in a uniformly random order: exact, `studies.cost_to_reach`), ``grid order`` (the
  table's own order: one number), and ``tpe`` and ``tpe+hyperband`` replayed
  (`search._replay`, `--replicates` each on `--workers` simulated workers, each replicate's
  budget the grid's own device-hours: the mean over the replicates that reached the target,
  with the share that did).

The claim, "the reduced space reaches the full space's accuracy for at most half the
device-hours", is the ratio B/A of the costs to reach (B = d-linoss-reduced, A = linoss-full):
``yes`` when its interval lies at or below 0.5, ``no`` when it lies above 0.5, ``inconclusive``
otherwise. For random order the ratio is exact for these tables (no interval: no resampling
is involved; what it does not capture is the training noise of one seed per grid point). For a
replayed strategy the interval is a 90 % percentile bootstrap over its replicates (independent
searches, so resampling them is valid); when a replicate of either side did not reach the
target, no interval is given and the answer is ``inconclusive`` (censored). Pooled over tasks:
the geometric mean of the per-task ratios, with a stratified bootstrap (replicates resampled
within each task) for the replayed strategies.

Every figure is of the tables' short CPU protocol (see each table's header and
``benchmarks/tables/README.md``), not of the papers' up to 100,000 training steps.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np

from ssmtune.benchmarks._tables import write_table

__all__ = ["FULL", "REDUCED", "run", "answer"]

TABLES = Path(__file__).resolve().parent / "tables"
FULL, REDUCED = "linoss-full", "d-linoss-reduced"
OFFSETS = (0, 1, 3, 5)
STRATEGIES = ("random order", "grid order", "tpe", "tpe+hyperband")
BOOT = 2000
COLUMNS = ("task", "target", "strategy", "full_h", "full_reached", "reduced_h",
           "reduced_reached", "ratio", "interval", "answer")  # fmt: skip


def _pairs(folder: Path) -> dict[str, tuple[Path, Path]]:
    found = {}
    for full in sorted(folder.glob(f"*-{FULL}-grid.jsonl")):
        task = full.name[: -len(f"-{FULL}-grid.jsonl")]
        reduced = folder / f"{task}-{REDUCED}-grid.jsonl"
        if reduced.is_file():
            found[task] = (full, reduced)
    return found


def _grid_order_cost(table: Any, target: float) -> float | None:
    spent = 0.0
    for p in sorted(table.points, key=lambda p: p.trial):
        spent += p.device_s
        if p.value is not None and p.value >= target:
            return spent / 3600
    return None


def _verdict(ratio: float | None, interval: list[float] | None) -> str:
    if ratio is None:
        return "inconclusive"
    lo, hi = (ratio, ratio) if interval is None else interval
    if hi <= 0.5:
        return "yes"
    if lo > 0.5:
        return "no"
    return "inconclusive"


def _replays(table: Any, pruner: str, replicates: int, workers: int) -> list[Any]:
    from ssmtune.search import replay_once

    return [
        replay_once(
            table,
            sampler="tpe",
            pruner=pruner,
            workers=workers,
            budget_s=table.total_device_s(),
            seed=r,
            study_name=f"answer-{r}",
        )  # fmt: skip
        for r in range(replicates)
    ]


def answer(
    folder: Path = TABLES, *, replicates: int = 20, workers: int = 2, seed: int = 0
) -> dict[str, Any]:
    """The figures of the module docstring, as a JSON-ready dict: ``tasks`` (per task: each
    grid's figures and ``rows``, one per target and strategy) and ``pooled``."""
    from ssmtune.studies import cost_to_reach, read_table

    rng = np.random.default_rng(seed)
    tasks: dict[str, Any] = {}
    samples: dict[tuple[str, str], list[np.ndarray]] = {}  # (target label, strategy) -> ratios
    exact: dict[tuple[str, str], list[float]] = {}
    for task, (full_path, reduced_path) in _pairs(folder).items():
        tables = {FULL: read_table(full_path), REDUCED: read_table(reduced_path)}
        best_full = tables[FULL].best()
        assert best_full is not None and best_full.value is not None
        grids = {}
        for name, t in tables.items():
            b = t.best()
            grids[name] = {
                "points": len(t.points),
                "complete": t.complete,
                "device_hours": t.total_device_s() / 3600,
                "best_value": None if b is None else b.value,
                "test_at_best": None if b is None else b.test,
                "evaluations": t.header.get("evaluations") or [],
                "protocol": t.header["protocol"],
            }
        runs = {
            (name, pruner): _replays(t, pruner, replicates, workers)
            for name, t in tables.items()
            for pruner in ("none", "hyperband")
        }
        rows = []
        for k in OFFSETS:
            target = best_full.value - k / 100
            label = f"full best - {k}"
            for strategy in STRATEGIES:
                costs: dict[str, Any] = {}
                for name, t in tables.items():
                    if strategy == "random order":
                        values = [p.value if p.value is not None else -math.inf for p in t.points]
                        c = cost_to_reach(values, [p.device_s / 3600 for p in t.points], target)
                        costs[name] = (c, 1.0 if c is not None else 0.0, None)
                    elif strategy == "grid order":
                        c = _grid_order_cost(t, target)
                        costs[name] = (c, 1.0 if c is not None else 0.0, None)
                    else:
                        pruner = "hyperband" if strategy == "tpe+hyperband" else "none"
                        got = [r.cost_to_reach(target) for r in runs[(name, pruner)]]
                        hit = [g / 3600 for g in got if g is not None]
                        mean = float(np.mean(hit)) if hit else None
                        costs[name] = (mean, len(hit) / len(got), got)
                a, b = costs[FULL], costs[REDUCED]
                ratio = None if not a[0] or b[0] is None else b[0] / a[0]
                interval = None
                if a[2] is not None and ratio is not None and a[1] == 1.0 and b[1] == 1.0:
                    xa, xb = np.array(a[2]) / 3600, np.array(b[2]) / 3600
                    boot = np.array([
                        xb[rng.integers(0, len(xb), len(xb))].mean()
                        / xa[rng.integers(0, len(xa), len(xa))].mean()
                        for _ in range(BOOT)
                    ])  # fmt: skip
                    interval = [float(np.quantile(boot, 0.05)), float(np.quantile(boot, 0.95))]
                    samples.setdefault((label, strategy), []).append(np.log(boot))
                elif a[2] is None and ratio is not None:
                    exact.setdefault((label, strategy), []).append(math.log(ratio))
                replayed_censored = a[2] is not None and (a[1] < 1.0 or b[1] < 1.0)
                rows.append({
                    "task": task, "target": f"{label} ({target:.4f})", "strategy": strategy,
                    "full_h": a[0], "full_reached": a[1], "reduced_h": b[0],
                    "reduced_reached": b[1], "ratio": ratio,
                    "interval": None if interval is None else f"[{interval[0]:.3g}, {interval[1]:.3g}]",
                    "answer": "inconclusive" if replayed_censored else _verdict(ratio, interval),
                })  # fmt: skip
        tasks[task] = {"grids": grids, "rows": rows}
    pooled = []
    n_tasks = len(tasks)
    for (label, strategy), logs in sorted(exact.items()):
        if len(logs) == n_tasks:
            r = math.exp(sum(logs) / n_tasks)
            pooled.append({"target": label, "strategy": strategy, "ratio": r, "interval": None,
                           "answer": _verdict(r, None), "tasks": n_tasks})  # fmt: skip
    for (label, strategy), boots in sorted(samples.items()):
        if len(boots) == n_tasks:  # stratified: each task's replicates resampled on their own
            logs = np.mean(np.stack(boots), axis=0)
            r = float(np.exp(np.median(logs)))
            iv = [float(np.exp(np.quantile(logs, 0.05))), float(np.exp(np.quantile(logs, 0.95)))]
            pooled.append({"target": label, "strategy": strategy, "ratio": r, "interval": iv,
                           "answer": _verdict(r, iv), "tasks": n_tasks})  # fmt: skip
    return {"tasks": tasks, "pooled": pooled, "replicates": replicates, "workers": workers}


def run(
    *,
    quick: bool = False,
    out: Path | None = None,
    tables: Path = TABLES,
    replicates: int = 20,
    workers: int = 2,
) -> dict[str, Any]:
    """Compute `answer` and write ``answer-cpu.{md,json}`` (``--quick``: 3 replicates)."""
    if quick:
        replicates = 3
    found = answer(tables, replicates=replicates, workers=workers)
    if not found["tasks"]:
        raise SystemExit(f"no task has both {FULL} and {REDUCED} tables under {tables}")
    rows = [r for t in found["tasks"].values() for r in t["rows"]]
    notes = [
        f"Tables: {', '.join(found['tasks'])} (benchmarks/tables/; each with its protocol: a "
        "short CPU protocol, not the papers' up to 100,000 steps).",
        "full_h, reduced_h: device-hours to reach the target (random order: exact expectation; "
        "grid order: the table's order; tpe, tpe+hyperband: the mean over the replicates that "
        f"reached it, {replicates} replicates on {workers} simulated workers, budget the grid's "
        "own device-hours); *_reached: the share that reached it.",
        "ratio: reduced over full; answer: yes when it (its 90 % bootstrap interval over "
        "replicates, for a replayed strategy) is at most 0.5, no when above 0.5.",
    ]
    for task, t in found["tasks"].items():
        for name, g in t["grids"].items():
            ev = g["evaluations"]
            seeds = (
                f"; top-{len(ev)} test over seeds: "
                + ", ".join(f"{e['mean']:.3f} ± {e['std']:.3f}" for e in ev)
                if ev
                else "; not yet evaluated over seeds"
            )
            notes.append(
                f"{task} {name}: {g['points']} points, {g['device_hours']:.3f} device-hours, best "
                f"validation {g['best_value']:.4f}, test there {g['test_at_best']:.4f}{seeds}"
            )
    for p in found["pooled"]:
        notes.append(
            f"Pooled over {p['tasks']} tasks, {p['target']}, {p['strategy']}: ratio "
            f"{p['ratio']:.3g}"
            + (f" [{p['interval'][0]:.3g}, {p['interval'][1]:.3g}]" if p["interval"] else "")
            + f": {p['answer']}"  # fmt: skip
        )
    write_table(
        "answer", title="The D-LinOSS claim per task, from complete grids and replay",
        columns=COLUMNS, rows=rows, notes=notes, summary={"tasks": len(found["tasks"])},
        out=out, quick=quick,
    )  # fmt: skip
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ssmtune.benchmarks.answer", description=__doc__
    )
    parser.add_argument("--tables", type=Path, default=TABLES)
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    run(quick=args.quick, out=args.out, tables=args.tables, replicates=args.replicates,
        workers=args.workers)  # fmt: skip


if __name__ == "__main__":
    main()
