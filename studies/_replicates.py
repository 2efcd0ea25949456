"""Two strategies compared across replicate studies: what holds for adaptive searches.

The trials of a TPE or GP study, or of any study with a pruner, depend on each other, so
resampling them says nothing (`studies._adaptive`); whole studies, each an independent run of
its strategy, can be resampled (Bouthillier et al. 2021, "Accounting for variance in machine
learning benchmarks"). `compare_replicates` takes several studies per side
(``ssmtune compare --task T A1,A2,A3 B1,B2,B3``) and gives, per study, its best, what it spent
and the device-hours it took, in its own trial order, to reach the target (None: it stopped
first, censored at what it spent); per side, the mean best, the share that reached the target
and the Kaplan–Meier median cost to reach (`studies.km_quantiles`); and between the sides:

- P(B reaches the target for less than A): over every pair of an A study and a B study, the
  share in which B's cost is the smaller (a study that never reached it costs more than any
  that did; two that never reached it count half);
- the ratio B/A of the mean costs to reach, with a 90 % percentile-bootstrap interval over the
  replicates (each side's studies resampled with replacement), given only when every study of
  both sides reached the target and each side has at least `MIN_REPLICATES` studies; otherwise
  the point figures and one line saying why no interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ssmtune.studies._adaptive import observed_reach
from ssmtune.studies._cost import study_cost_s
from ssmtune.studies._errors import StudyError
from ssmtune.studies._query import complete_trials, direction_of, load_studies
from ssmtune.studies._survival import km_quantiles

if TYPE_CHECKING:
    from optuna.storages import BaseStorage

__all__ = ["MIN_REPLICATES", "compare_replicates", "p_less"]

#: Replicate studies per side below which no interval over replicates is given.
MIN_REPLICATES = 3
LEVEL = 0.90


def p_less(a: list[float | None], b: list[float | None]) -> float:
    """P(a B study's cost < an A study's), over all pairs; None (not reached) is infinite.

    Example:
        >>> p_less([2.0, None], [1.0, 3.0])  # pairs (2,1) yes, (2,3) no, (inf,1) yes, (inf,3) yes
        0.75
    """
    inf = float("inf")
    wins = 0.0
    for x in a:
        for y in b:
            xa, yb = inf if x is None else x, inf if y is None else y
            wins += 1.0 if yb < xa else 0.5 if yb == xa else 0.0
    return wins / (len(a) * len(b))


def _side(by_name: dict[str, Any], names: list[str], target: float | None, maximize: bool) -> dict:
    rows = []
    for name in names:
        s = by_name[name]
        done = complete_trials(s)
        values = [t.value for t in done if t.value is not None]
        best = (max if maximize else min)(values) if values else None
        spent = study_cost_s(s.get_trials(deepcopy=False)) / 3600
        rows.append({
            "study": name, "sampler": s.user_attrs.get("sampler"),
            "pruner": s.user_attrs.get("pruner"), "best_value": best, "device_hours": spent,
            "reach_device_hours": None if target is None else observed_reach(s, target, maximize),
        })  # fmt: skip
    return {"studies": rows}


def compare_replicates(
    storage: str | BaseStorage,
    task: str,
    a: list[str],
    b: list[str],
    *,
    target: float | None = None,
    resamples: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Compare replicate studies `a` with replicate studies `b` on `task` (module docstring).

    Args:
        a, b: study names, one or more per side, none on both sides.
        target: the value to reach; default: the better side's best mean minus 1 point of
            accuracy (plus 1 % of MSE).

    Raises:
        StudyError: an unknown study, a study on both sides, or studies of other directions.
    """
    if set(a) & set(b):
        raise StudyError(f"{sorted(set(a) & set(b))} on both sides; give two groups of studies")
    studies = {s.study_name: s for s in load_studies(storage, task=task)}
    missing = [n for n in [*a, *b] if n not in studies]
    if missing:
        raise StudyError(
            f"no study {missing[0]!r} of task {task!r}; studies: {', '.join(sorted(studies))}"
        )
    directions = {direction_of(studies[n]) for n in [*a, *b]}
    if len(directions) != 1:
        raise StudyError("the studies maximise and minimise: compare studies of one metric")
    maximize = directions.pop() == "maximize"
    metric = "accuracy" if maximize else "mse"
    if target is None:
        first_a, first_b = _side(studies, a, None, maximize), _side(studies, b, None, maximize)
        means = []
        for side in (first_a, first_b):
            bests = [r["best_value"] for r in side["studies"] if r["best_value"] is not None]
            if bests:
                means.append(float(np.mean(bests)))
        if not means:
            raise StudyError("no study of either side has a complete trial")
        better = max(means) if maximize else min(means)
        target = better - 0.01 if maximize else better * 1.01
    side_a = _side(studies, a, target, maximize)
    side_b = _side(studies, b, target, maximize)
    problems: list[str] = []
    for label, side in (("A", side_a), ("B", side_b)):
        rows = side["studies"]
        costs = [r["reach_device_hours"] for r in rows]
        spent = [r["device_hours"] for r in rows]
        bests = [r["best_value"] for r in rows if r["best_value"] is not None]
        side.update(
            replicates=len(rows),
            mean_best=float(np.mean(bests)) if bests else None,
            reached_fraction=sum(c is not None for c in costs) / len(rows),
            mean_reach_device_hours=(
                float(np.mean([c for c in costs if c is not None])) if any(costs) else None
            ),
            km_median_device_hours=km_quantiles(costs, spent, [0.5])[0],
        )
        if len(rows) < MIN_REPLICATES:
            problems.append(
                f"{label} has {len(rows)} replicate studies, at least {MIN_REPLICATES} needed"
            )
        if side["reached_fraction"] < 1.0:
            problems.append(
                f"{label}: {side['reached_fraction']:.0%} of its studies reached the target"
            )
    ca = [r["reach_device_hours"] for r in side_a["studies"]]
    cb = [r["reach_device_hours"] for r in side_b["studies"]]
    ma, mb = side_a["mean_reach_device_hours"], side_b["mean_reach_device_hours"]
    ratio: dict[str, Any] = {"value": None if not ma or mb is None else mb / ma, "interval": None}
    if not problems:
        rng = np.random.default_rng(seed)
        xa, xb = np.array(ca, float), np.array(cb, float)
        boot = xb[rng.integers(0, len(xb), (resamples, len(xb)))].mean(axis=1) / xa[
            rng.integers(0, len(xa), (resamples, len(xa)))
        ].mean(axis=1)
        lo, hi = np.quantile(boot, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
        ratio["interval"] = [float(lo), float(hi)]
    if ratio["interval"] is None:
        says = "no interval: " + "; ".join(problems)
    elif ratio["interval"][1] <= 0.5:
        says = "B reaches the target for at most half of A's device-hours"
    elif ratio["interval"][0] > 0.5:
        says = "B needs more than half of A's device-hours"
    else:
        says = "INCONCLUSIVE: the interval holds 0.5"
    ratio["says"] = says
    return {
        "task": task,
        "metric": metric,
        "target": target,
        "a": side_a,
        "b": side_b,
        "p_b_less": p_less(ca, cb),
        "ratio": ratio,
        "resampling": {
            "method": "bootstrap over replicate studies" if ratio["interval"] else None,
            "resamples": resamples,
            "seed": seed,
            "level": LEVEL,
        },  # fmt: skip
        "conclusive": ratio["interval"] is not None and not says.startswith("INCONCLUSIVE"),
        "problems": problems,
    }
