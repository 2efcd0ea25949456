"""Two searches of one task side by side: the measured form of "a smaller space does as well".

The D-LinOSS paper's claim is a 50% smaller search space (162 points against LinOSS's 324;
Boyer, Rusch & Rus 2025, with the grid of Rusch & Rus, ICLR 2025, App. B.1) with the same or
better accuracy. `compare` puts the figures of that claim next to each other — points,
device-hours, best validation and test, expected best at equal numbers of trials and at equal
device-hours, and the device-hours each space needs to reach a target — each with a 90 %
percentile-bootstrap interval (`studies._bootstrap`), and states the ratio of the costs to
reach the target, B/A, with its interval. It says INCONCLUSIVE when that interval is too wide
to tell "B halves the cost" from "B saves nothing" (`studies._bootstrap.ratio_verdict`) or when
a study has too few complete trials for a bootstrap; an unfinished study is named in a note,
its figures being those of the trials so far.

Each complete trial is resampled with its cost: its own device-hours plus an equal share of the
device-hours of the study's pruned, failed and still running trials, so that the trials' costs
add up to the study's device-hours and their mean is the cost per finished trial of
`studies.expected_best_at_cost`.

A grid study that covered its whole grid is also given exactly: its best value, and the
expected cost to reach the target when its points are run in a uniformly random order
(`studies._bootstrap.cost_to_reach`, no resampling). A point run more than once counts once,
with its first complete trial.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from studies._bootstrap import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    LEVEL,
    MAX_UNDEFINED,
    TrialSample,
    boot_cost_to_reach,
    boot_expected_best,
    boot_expected_best_at_cost,
    boot_ratio,
    boot_test_at_best,
    cost_to_reach,
    percentile_interval,
    resample_indices,
)
from studies._errors import StudyError
from studies._expected import (
    REPORT_KS,
    Direction,
    Estimator,
    check_estimator,
    expected_best_at_cost,
    expected_best_curve,
)
from studies._format import fmt_interval, fmt_value
from studies._note import Verdict, update_note
from studies._query import complete_trials, load_studies, trial_device_s, trial_sample
from studies._report import study_summary

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage

__all__ = [
    "MAX_RESAMPLES",
    "MIN_COMPLETE",
    "TARGET_MARGIN",
    "compare",
    "default_target",
    "resolve_study",
]

#: Fewer complete trials than this and a study is "too small to conclude": a bootstrap of so
#: few trials cannot show its own spread (3 trials have only 10 distinct resamples).
MIN_COMPLETE = 5
#: Most resamples `compare` accepts (each is an (N,) row of indices in memory).
MAX_RESAMPLES = 100_000
#: The default target's distance from the better study's best: 1 point of accuracy below it,
#: or 1 % of MSE above it.
TARGET_MARGIN = {"accuracy": 0.01, "mse": 0.01}


def resolve_study(studies: list[optuna.Study], name: str, task: str) -> optuna.Study:
    """The study of `task` called `name`, or the one study of `task` searching space `name`."""
    for s in studies:
        if s.study_name == name:
            return s
    matches = [s for s in studies if str(s.user_attrs.get("space", "")).lower() == name.lower()]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise StudyError(
            f"several studies of task {task!r} search space {name!r}: "
            f"{', '.join(s.study_name for s in matches)}; pass one of these study names instead"
        )
    spaces = sorted({str(s.user_attrs.get("space")) for s in studies})
    raise StudyError(
        f"no study of task {task!r} with name or space {name!r}; spaces: {', '.join(spaces)}; "
        f"studies: {', '.join(s.study_name for s in studies)}"
    )


class _Side(NamedTuple):
    """One study of the comparison: its summary, its trials and their resamples."""

    label: str
    row: dict[str, Any]
    sample: TrialSample | None  # None: no complete trial
    idx: np.ndarray  # (R, N) resample indices; (0, 0) without a sample
    grid: dict[str, Any] | None  # exact figures of a complete grid


def default_target(best_a: float | None, best_b: float | None, metric: str) -> float | None:
    """The default target: the better best minus 1 point of accuracy, or plus 1 % of MSE.

    Example:
        >>> default_target(0.875, 0.90, "accuracy")
        0.89
        >>> default_target(0.070, None, "mse")
        0.0707
    """
    bests = [x for x in (best_a, best_b) if x is not None]
    if not bests:
        return None
    if metric == "accuracy":
        return round(max(bests) - TARGET_MARGIN["accuracy"], 12)
    return round(min(bests) * (1 + TARGET_MARGIN["mse"]), 15)


def compare(
    storage: str | BaseStorage,
    task: str,
    a: str,
    b: str,
    *,
    estimator: str = "tang",
    target: float | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    curves: bool = False,
    note: bool = False,
) -> dict[str, Any]:
    """Compare the search of space (or study) `a` with that of `b` on `task`.

    Args:
        a, b: a space name (the study's `space` attribute; one study of the task must search
            it) or a study name.
        estimator: "tang" (unbiased) or "dodge", for the expected best after k trials.
        target: the validation value to reach, in the metric's units (accuracy as a fraction
            in [0, 1], MSE >= 0); default `default_target`.
        resamples: bootstrap resamples of each study (>= 1).
        seed: seed of `numpy.random.default_rng` (>= 0); A's resamples are drawn first, then
            B's, from one generator.
        curves: also return ``curves``: the expected best against trials and device-hours and
            the cost to reach against the target, each with its interval (for plots).
        note: also write the verdict, its date and the other study's name into both studies'
            dashboard notes (`studies.update_note`; a failure is logged, never raised). It is
            the only write; `ssmtune compare` does it unless given ``--no-note``.

    Returns:
        A JSON-ready dict (no NaN or infinity; an unbounded interval bound is None):
        ``task``, ``metric``, ``direction``, ``estimator``, ``a`` and ``b`` (each study's
        summary with ``finished``), ``points`` / ``device_hours`` / ``best_value``
        (``a``, ``b`` and the ``reduction`` 1 - b/a or the ``diff`` b - a); ``test_at_best``
        (the same, with ``a_interval``, ``b_interval`` and ``diff_interval``);
        ``equal_trials`` (expected best of each at k = 1, 5, 10, 20, 50 and the largest k both
        reach) and ``equal_device_hours`` (at equal budgets where both studies have the data),
        each row with the three intervals; ``target`` (``value``, ``source``: "given" or the
        default's rule); ``bootstrap``
        (``resamples``, ``seed``, ``level``); ``cost_to_reach`` (per study ``device_hours``
        or None with a ``reason``, ``interval``, ``reached_fraction``, ``hits``, ``trials``;
        ``ratio`` B/A with ``value``, ``interval``, ``undefined_fraction``, ``conclusive``,
        ``says``); ``grid`` (per study the exact figures of a complete grid, else None;
        ``ratio``); ``conclusive`` (bool), ``problems`` (why not), ``notes`` (unfinished
        studies) and ``verdict`` (one paragraph).

    Raises:
        StudyError: no studies for the task, an unknown or ambiguous name, a == b, a target
            outside the metric's range, resamples < 1 or seed < 0.
    """
    if not (isinstance(resamples, int) and 1 <= resamples <= MAX_RESAMPLES):
        raise StudyError(f"resamples must be an integer 1..{MAX_RESAMPLES}, got {resamples!r}")
    if not (isinstance(seed, int) and seed >= 0):
        raise StudyError(f"seed must be an integer >= 0, got {seed!r}")
    studies = load_studies(storage, task=task)
    sa, sb = resolve_study(studies, a, task), resolve_study(studies, b, task)
    if sa.study_name == sb.study_name:
        raise StudyError(f"{a!r} and {b!r} are the same study {sa.study_name!r}; pick two studies")
    checked = check_estimator(estimator)
    ra = study_summary(sa, estimator=checked)
    rb = study_summary(sb, estimator=checked)
    direction, metric = ra["direction"], ra["metric"]
    if target is not None:
        _check_target(target, metric)
    goal = default_target(ra["best_value"], rb["best_value"], metric) if target is None else target
    rng = np.random.default_rng(seed)
    side_a = _side("A", sa, ra, rng, resamples, goal, direction)
    side_b = _side("B", sb, rb, rng, resamples, goal, direction)
    problems: list[str] = []
    notes: list[str] = []
    for side in (side_a, side_b):
        r = side.row
        if not r["finished"]:
            notes.append(
                f"{side.label} ({r['study']}) is unfinished: {_progress(r)}; its figures are "
                "those of the trials so far"
            )
        if r["n_complete"] < MIN_COMPLETE:
            problems.append(
                f"{side.label} ({r['study']}) is too small: {r['n_complete']} complete trial(s), "
                f"at least {MIN_COMPLETE} needed"
            )
    reach = _cost_to_reach(side_a, side_b, goal, direction)
    if not reach["ratio"]["conclusive"]:
        problems.append(reach["ratio"]["says"].rstrip("."))
    result: dict[str, Any] = {
        "task": ra["task"],
        "metric": metric,
        "direction": direction,
        "estimator": estimator,
        "a": ra,
        "b": rb,
        "points": _pair(ra["space_size"], rb["space_size"], "reduction"),
        "device_hours": _pair(ra["device_hours"], rb["device_hours"], "reduction"),
        "best_value": _pair(ra["best_value"], rb["best_value"], "diff"),
        "test_at_best": {
            **_pair(ra["test_at_best"], rb["test_at_best"], "diff"),
            **_test_intervals(side_a, side_b, direction),
        },
        "equal_trials": _equal_trials(side_a, side_b, direction, checked),
        "equal_device_hours": _equal_budget(side_a, side_b, direction, checked),
        "target": {
            "value": goal,
            "source": "given" if target is not None else _default_rule(metric),
        },
        "bootstrap": {
            "resamples": resamples,
            "seed": seed,
            "level": LEVEL,
            "interval": "Efron's percentile interval, 5th to 95th percentile",
            "trial_cost": "own device-hours plus an equal share of the pruned, failed and "
            "running trials' device-hours",
        },
        "cost_to_reach": reach,
        "grid": {
            "a": side_a.grid,
            "b": side_b.grid,
            "ratio": _grid_ratio(side_a.grid, side_b.grid),
        },
        "conclusive": not problems,
        "problems": problems,
        "notes": notes,
    }
    if curves:
        result["curves"] = {
            "a": _curves(side_a, goal, direction, checked, _targets(side_a, side_b, goal)),
            "b": _curves(side_b, goal, direction, checked, _targets(side_a, side_b, goal)),
        }
    result["verdict"] = _verdict(result)
    if note:
        verdict = Verdict(a=sa.study_name, b=sb.study_name, text=result["verdict"])
        for study in (sa, sb):
            update_note(study, verdict=verdict)
    return result


def _check_target(target: float, metric: str) -> None:
    if not (isinstance(target, int | float) and math.isfinite(target)):
        raise StudyError(f"`target` must be a finite number, got {target!r}")
    if metric == "accuracy" and not 0 <= target <= 1:
        hint = f"; {target:g} looks like a percentage: use {target / 100:g}" if target > 1 else ""
        raise StudyError(
            f"`target` {target:g} is outside [0, 1]: an accuracy target is a fraction "
            f"(0.85 = 85 %){hint}"
        )
    if metric == "mse" and target < 0:
        raise StudyError(f"`target` {target:g} is negative: an MSE target is >= 0")


def _default_rule(metric: str) -> str:
    if metric == "accuracy":
        return "default: the better study's best validation accuracy minus 1 point"
    return "default: the better study's best validation MSE plus 1 %"


def _side(
    label: str,
    study: optuna.Study,
    row: dict[str, Any],
    rng: np.random.Generator,
    resamples: int,
    target: float | None,
    direction: Direction,
) -> _Side:
    row["finished"] = _finished(row)
    sample = trial_sample(study, row["device_hours"])
    if sample is None:
        # draw nothing: B's resamples do not depend on whether A has trials
        return _Side(label, row, None, np.empty((0, 0), dtype=np.intp), None)
    done = complete_trials(study)
    idx = resample_indices(len(done), resamples, rng)
    grid = None
    if row["sampler"] == "grid" and isinstance(row["space_size"], int) and row["finished"]:
        grid = _grid_exact(done, row["device_hours"], target, direction)
    return _Side(label, row, sample, idx, grid)


def _grid_exact(
    done: list[Any], device_hours: float, target: float | None, direction: Direction
) -> dict[str, Any]:
    """Exact figures of a complete grid: its best and its cost to reach in random order."""
    first: dict[tuple, Any] = {}
    for t in done:
        first.setdefault(tuple(sorted((k, repr(v)) for k, v in t.params.items())), t)
    kept = list(first.values())
    own = np.array([trial_device_s(t) / 3600 for t in kept])
    costs = own + max(0.0, device_hours - own.sum()) / len(kept)
    values = [t.value for t in kept]
    best = max(values) if direction == "maximize" else min(values)
    reach: dict[str, Any] = {"device_hours": None, "reason": "no target (no complete trials)"}
    if target is not None:
        cost = cost_to_reach(values, costs, target, direction=direction)
        reach = {
            "device_hours": cost,
            "reason": None if cost is not None else "no grid point reaches the target",
        }
    return {
        "points": len(kept),
        "repeats_left_out": len(done) - len(kept),
        "best_value": best,
        "cost_to_reach": reach,
    }


def _grid_ratio(ga: dict | None, gb: dict | None) -> float | None:
    if ga is None or gb is None:
        return None
    ca, cb = ga["cost_to_reach"]["device_hours"], gb["cost_to_reach"]["device_hours"]
    return None if ca is None or cb is None or ca == 0 else cb / ca


def _interval(replicates: np.ndarray) -> list[float | None] | None:
    iv = percentile_interval(replicates)
    return None if iv is None else list(iv)


def _test_intervals(sa: _Side, sb: _Side, direction: Direction) -> dict[str, Any]:
    out: dict[str, Any] = {"a_interval": None, "b_interval": None, "diff_interval": None}
    reps = {}
    for key, side in (("a", sa), ("b", sb)):
        if side.sample is not None:
            reps[key] = boot_test_at_best(side.sample, side.idx, direction=direction)
            out[f"{key}_interval"] = _interval(reps[key])
    if len(reps) == 2:
        out["diff_interval"] = _interval(reps["b"] - reps["a"])
    return out


def _equal_trials(sa: _Side, sb: _Side, direction: Direction, estimator: Estimator) -> list[dict]:
    if sa.sample is None or sb.sample is None:
        return []
    va, vb = sa.sample.values, sb.sample.values
    n = min(len(va), len(vb))
    ks = sorted({k for k in REPORT_KS if k <= n} | {n})
    ea = expected_best_curve(va, ks, direction=direction, estimator=estimator)
    eb = expected_best_curve(vb, ks, direction=direction, estimator=estimator)
    reps_a = boot_expected_best(va, ks, sa.idx, direction=direction, estimator=estimator)
    reps_b = boot_expected_best(vb, ks, sb.idx, direction=direction, estimator=estimator)
    return [
        {
            "k": k,
            "a": ea[k],
            "b": eb[k],
            "diff": eb[k] - ea[k],
            "a_interval": _interval(reps_a[:, j]),
            "b_interval": _interval(reps_b[:, j]),
            "diff_interval": _interval(reps_b[:, j] - reps_a[:, j]),
        }
        for j, k in enumerate(ks)
    ]


def _equal_budget(sa: _Side, sb: _Side, direction: Direction, estimator: Estimator) -> list[dict]:
    ca, cb = sa.row["device_hours_per_trial"], sb.row["device_hours_per_trial"]
    if sa.sample is None or sb.sample is None or not ca or not cb:
        return []
    va, vb = sa.sample.values, sb.sample.values
    lo, hi = max(ca, cb), min(len(va) * ca, len(vb) * cb)
    if lo > hi * (1 + 1e-9):
        return []
    budgets = [float(x) for x in np.unique(np.geomspace(lo, hi, num=5 if hi > lo else 1))]
    ea = expected_best_at_cost(va, ca, budgets, direction=direction, estimator=estimator)
    eb = expected_best_at_cost(vb, cb, budgets, direction=direction, estimator=estimator)
    reps_a = boot_expected_best_at_cost(
        sa.sample, budgets, sa.idx, direction=direction, estimator=estimator
    )
    reps_b = boot_expected_best_at_cost(
        sb.sample, budgets, sb.idx, direction=direction, estimator=estimator
    )
    rows = []
    for j, x in enumerate(budgets):
        a, b = ea[x], eb[x]
        if a is not None and b is not None:
            rows.append(
                {
                    "device_hours": x,
                    "a": a,
                    "b": b,
                    "diff": b - a,
                    "a_interval": _interval(reps_a[:, j]),
                    "b_interval": _interval(reps_b[:, j]),
                    "diff_interval": _interval(reps_b[:, j] - reps_a[:, j]),
                }
            )
    return rows


def _cost_to_reach(
    sa: _Side, sb: _Side, target: float | None, direction: Direction
) -> dict[str, Any]:
    """Expected device-hours to reach `target` of each study, and the ratio B/A."""
    out: dict[str, Any] = {}
    reps: dict[str, np.ndarray] = {}
    for key, side in (("a", sa), ("b", sb)):
        entry: dict[str, Any] = {
            "device_hours": None,
            "reason": None,
            "interval": None,
            "reached_fraction": None,
            "hits": 0,
            "trials": side.row["n_complete"],
        }
        if side.sample is None or target is None:
            entry["reason"] = "no complete trials"
        else:
            s = side.sample
            sign = 1.0 if direction == "maximize" else -1.0
            entry["hits"] = int(np.sum(sign * s.values >= sign * target))
            entry["device_hours"] = cost_to_reach(s.values, s.costs, target, direction=direction)
            if entry["device_hours"] is None:
                entry["reason"] = "not reached: no complete trial reaches the target"
            reps[key] = boot_cost_to_reach(s, target, side.idx, direction=direction)
            entry["interval"] = _interval(reps[key])
            entry["reached_fraction"] = float(np.mean(np.isfinite(reps[key])))
        out[key] = entry
    ratio: dict[str, Any] = {"value": None, "reason": None, "interval": None}
    ca, cb = out["a"]["device_hours"], out["b"]["device_hours"]
    if ca is not None and cb is not None and ca > 0:
        ratio["value"] = cb / ca
    else:
        missing = [k.upper() for k in ("a", "b") if out[k]["device_hours"] is None]
        ratio["reason"] = f"{' and '.join(missing) or 'A'} does not reach the target"
    if len(reps) == 2:
        ratio.update(boot_ratio(reps["a"], reps["b"]))
        if (ca is None) != (cb is None) and ratio["undefined_fraction"] <= MAX_UNDEFINED:
            spent = [float(side.row["device_hours"] or 0.0) for side in (sa, sb)]
            ratio.update(_one_sided_ratio(out, ca, cb, *spent))
    else:
        ratio["undefined_fraction"] = 1.0
        ratio["conclusive"] = False
        ratio["says"] = "a study without complete trials has no cost to reach the target."
    out["ratio"] = ratio
    return out


# ----------------------------------------------------------------------------- curves


def _targets(sa: _Side, sb: _Side, goal: float | None) -> list[float]:
    """Targets for the cost-to-reach curve: from the median trial to the best, with `goal`."""
    values = [s.sample.values for s in (sa, sb) if s.sample is not None]
    if not values:
        return []
    v = np.concatenate(values)
    lo, hi = float(np.median(v)), float(v.max() if sa.row["direction"] == "maximize" else v.min())
    points = set(np.linspace(lo, hi, 25).tolist())
    if goal is not None:
        points.add(float(goal))
    return sorted(points)


def _curves(
    side: _Side,
    goal: float | None,
    direction: Direction,
    estimator: Estimator,
    targets: list[float],
) -> dict[str, Any] | None:
    """Points of the plots, with their 90 % intervals: expected best against trials and
    device-hours, and expected cost to reach against the target."""
    if side.sample is None:
        return None
    s, n = side.sample, side.sample.values.size
    # every k up to 60 trials, then 60 points evenly spaced on the plots' log axis
    ks = sorted({int(k) for k in np.geomspace(1, n, num=60).round()} if n > 60 else range(1, n + 1))
    exp = expected_best_curve(s.values, ks, direction=direction, estimator=estimator)
    reps = boot_expected_best(s.values, ks, side.idx, direction=direction, estimator=estimator)
    per_trial = float(s.costs.mean())
    budgets = [k * per_trial for k in ks]
    reps_h = boot_expected_best_at_cost(
        s, budgets, side.idx, direction=direction, estimator=estimator
    )
    reach = []
    for t in targets:
        r = boot_cost_to_reach(s, t, side.idx, direction=direction)
        reach.append(
            {
                "target": t,
                "device_hours": cost_to_reach(s.values, s.costs, t, direction=direction),
                "interval": _interval(r),
                "reached_fraction": float(np.mean(np.isfinite(r))),
            }
        )
    return {
        "label": _label(side.row),
        "trials": [
            {"k": k, "value": exp[k], "interval": _interval(reps[:, j])} for j, k in enumerate(ks)
        ],
        "device_hours": [
            {"device_hours": x, "value": exp[k], "interval": _interval(reps_h[:, j])}
            for j, (k, x) in enumerate(zip(ks, budgets, strict=True))
        ],
        "cost_to_reach": reach,
        "target": goal,
    }


def _label(row: dict[str, Any]) -> str:
    return f"{row['space']} ({row['study']})" if row.get("space") else str(row["study"])


def _finished(r: dict[str, Any]) -> bool:
    if r["n_running"]:
        return False
    size = r["space_size"]
    return not isinstance(size, int) or r["grid_done"] >= size


def _progress(r: dict[str, Any]) -> str:
    parts = []
    if isinstance(r["space_size"], int):
        parts.append(f"{r['grid_done']} of {r['space_size']} grid points done")
    if r["n_running"]:
        parts.append(f"{r['n_running']} trial(s) still running or waiting")
    return ", ".join(parts)


def _pair(a: float | None, b: float | None, kind: str) -> dict[str, float | None]:
    out: dict[str, float | None] = {"a": a, "b": b, kind: None}
    if a is not None and b is not None:
        if kind == "diff":
            out[kind] = b - a
        elif a:
            out[kind] = 1 - b / a
    return out


def _diff_text(diff: float | None, metric: str, direction: Direction) -> str:
    if diff is None or math.isnan(diff):
        return "n/a"
    if metric == "accuracy":
        text = f"{100 * diff:+.2f} points"
    else:
        text = f"{diff:+.4g}"
    better = diff > 0 if direction == "maximize" else diff < 0
    if abs(diff) < 1e-12:
        return text + ", equal"
    return text + (", B better" if better else ", A better")


def _hours(x: float | None) -> str:
    return "not reached" if x is None else f"{x:.3g}"


def _one_sided_ratio(
    reach: dict[str, Any], ca: float | None, cb: float | None, spent_a: float, spent_b: float
) -> dict[str, Any]:
    """The ratio B/A when only one study reached the target. The other's cost to reach is
    unknown but larger than all it spent, so the data bound the ratio on one side only: B/A <
    (B's cost, the top of its interval) / (A's device-hours) when only B reached it, B/A >
    (B's device-hours) / (A's cost, the top of its interval) when only A did. The bootstrap
    ratio is 0 or +inf in every resample there and says nothing more, so no interval is given.
    Conclusive when the bound places the ratio on one side of 0.5 and 1 as `ratio_verdict`
    would (below 0.5 or below 1; above 1)."""
    if cb is not None:  # only B reached the target
        hi = _top(reach["b"]["interval"], cb)
        bound = hi / spent_a if spent_a > 0 else math.inf
        text = f"< {bound:.3g}"
        why = f"A did not reach the target in its {spent_a:.3g} device-hours"
        if bound < 0.5:
            return _bounded(text, True, f"{why}; B reaches it for less than half of them.")
        if bound < 1.0:
            return _bounded(text, True, f"{why}; B reaches it with fewer device-hours.")
        return _bounded(text, False, f"{why}, too few to bound the ratio below 1.")
    hi = _top(reach["a"]["interval"], ca)
    bound = spent_b / hi if hi > 0 else math.inf
    text = f"> {bound:.3g}"
    why = f"B did not reach the target in its {spent_b:.3g} device-hours"
    if bound > 1.0:
        return _bounded(text, True, f"{why}, more than A needs to reach it (ratio above 1).")
    return _bounded(text, False, f"{why}, too few to bound the ratio above 1.")


def _top(interval: list[float | None] | None, estimate: float | None) -> float:
    """The top of a cost interval (+inf when unbounded; the estimate without an interval)."""
    if not interval:
        return float(estimate or 0.0)
    return math.inf if interval[1] is None else float(interval[1])


def _bounded(text: str, conclusive: bool, says: str) -> dict[str, Any]:
    return {"bound": text, "interval": None, "conclusive": conclusive, "says": says}


def _points(diff: float, metric: str) -> str:
    return f"{100 * diff:+.2f}" if metric == "accuracy" else f"{diff:+.4g}"


def _verdict(c: dict[str, Any]) -> str:
    ra, rb, metric, direction = c["a"], c["b"], c["metric"], c["direction"]
    boot = c["bootstrap"]
    reach, ratio = c["cost_to_reach"], c["cost_to_reach"]["ratio"]
    goal = c["target"]["value"]
    lines = []
    if not c["conclusive"]:
        lines.append("INCONCLUSIVE: " + "; ".join(c["problems"]) + ".")
    r_text = "—" if ratio["value"] is None else f"{ratio['value']:.3g}"
    if ratio.get("bound"):
        how = f"B/A {ratio['bound']} ({ratio['says'].rstrip('.')})"
    else:
        if ratio["value"] is None and ratio["reason"]:
            r_text += f" ({ratio['reason']})"
        how = (
            f"B/A = {r_text}, 90% interval {fmt_interval(ratio['interval'], lambda x: f'{x:.3g}')}"
            f" ({boot['resamples']} bootstrap resamples, seed {boot['seed']})"
            + (f": {ratio['says'].rstrip('.')}" if c["conclusive"] else "")
        )
    lines.append(
        f"Device-hours to reach validation {metric} {fmt_value(goal, metric)} "
        f"({c['target']['source']}), expected over random trial orders: {how}."
    )
    per, unbounded = [], False
    for key, label in (("a", "A"), ("b", "B")):
        e = reach[key]
        text = f"{label} {_hours(e['device_hours'])}"
        if e["interval"] is not None and e["reached_fraction"]:
            text += (
                f" {fmt_interval(e['interval'], lambda x: f'{x:.3g}')}, reached in "
                f"{100 * e['reached_fraction']:.0f}% of resamples"
            )
            unbounded |= e["interval"][1] is None
        per.append(text)
    lines.append(
        "Expected device-hours to reach it, with 90% intervals: "
        + "; ".join(per)
        + (" (an upper bound ∞: not reached in more than 5% of resamples)." if unbounded else ".")
    )
    pts = c["points"]
    if pts["reduction"] is not None:
        red = pts["reduction"]
        how = (
            "as many as"
            if abs(red) < 1e-12
            else f"{100 * abs(red):.0f}% {'fewer' if red > 0 else 'more'} than"
        )
        lines.append(
            f"B ({rb['space']}) has {pts['b']} points, {how} A ({ra['space']}, {pts['a']} points)."
        )
    dh = c["device_hours"]
    if dh["reduction"] is not None:
        lines.append(
            f"Device-hours spent: A {dh['a']:.3g}, B {dh['b']:.3g} "
            f"({100 * abs(dh['reduction']):.0f}% {'less' if dh['reduction'] >= 0 else 'more'} "
            "for B)."
        )
    bv, tv = c["best_value"], c["test_at_best"]

    def val(x: float) -> str:
        return fmt_value(x, metric)

    def pts_(x: float) -> str:
        return _points(x, metric)

    lines.append(
        f"Best validation {metric}: A {val(bv['a'])}, B {val(bv['b'])}"
        f" ({_diff_text(bv['diff'], metric, direction)}); test at best: "
        f"A {val(tv['a'])} {fmt_interval(tv['a_interval'], val)}, "
        f"B {val(tv['b'])} {fmt_interval(tv['b_interval'], val)}"
        f" ({_diff_text(tv['diff'], metric, direction)}, "
        f"{fmt_interval(tv['diff_interval'], pts_)})."
    )
    if c["equal_trials"]:
        e = c["equal_trials"][-1]
        lines.append(
            f"Expected best after {e['k']} trials each: A {val(e['a'])} "
            f"{fmt_interval(e['a_interval'], val)}, B {val(e['b'])} "
            f"{fmt_interval(e['b_interval'], val)} ({_diff_text(e['diff'], metric, direction)}, "
            f"{fmt_interval(e['diff_interval'], pts_)})."
        )
    if c["equal_device_hours"]:
        e = c["equal_device_hours"][-1]
        lines.append(
            f"Expected best at {e['device_hours']:.3g} device-hours each: "
            f"A {val(e['a'])} {fmt_interval(e['a_interval'], val)}, "
            f"B {val(e['b'])} {fmt_interval(e['b_interval'], val)} "
            f"({_diff_text(e['diff'], metric, direction)}, "
            f"{fmt_interval(e['diff_interval'], pts_)})."
        )
    for key, label in (("a", "A"), ("b", "B")):
        g = c["grid"][key]
        if g is not None:
            lines.append(
                f"{label}'s grid is complete: exact best {val(g['best_value'])} over its "
                f"{g['points']} complete points; expected device-hours to reach the target in random "
                f"order {_hours(g['cost_to_reach']['device_hours'])} (exact)."
            )
    if c["grid"]["ratio"] is not None:
        lines.append(f"Exact B/A of the two complete grids: {c['grid']['ratio']:.3g}.")
    lines += [f"Note: {n}." for n in c["notes"]]
    return " ".join(lines)
