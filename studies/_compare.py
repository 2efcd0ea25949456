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

The intervals resample each study's trials as independent draws: valid for random sampling
and grids without a pruner. A study of an adaptive sampler or with a pruner gets its point
figures and one line saying why no interval is given (`studies._adaptive`); the result's
``resampling`` says which case it is.

The figures are computed elsewhere, one concept each: the two sides and their bootstrap
figures (`studies._sides`), the cost to reach and the ratio B/A (`studies._reach`), the exact
figures of complete grids (`studies._grid_exact`) and the verdict's text (`studies._verdict`);
this module checks the call, builds the sides, and puts the figures and the verdict together.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ssmtune.studies._adaptive import observed_reach, point_verdict, resampling_problem
from ssmtune.studies._bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED, LEVEL
from ssmtune.studies._errors import StudyError
from ssmtune.studies._expected import check_estimator
from ssmtune.studies._grid_exact import grid_ratio
from ssmtune.studies._note import Verdict, update_note
from ssmtune.studies._query import load_studies
from ssmtune.studies._reach import reach_and_ratio
from ssmtune.studies._report import study_summary
from ssmtune.studies._sides import (
    curve_targets,
    equal_budget,
    equal_trials,
    make_side,
    side_curves,
    test_at_best_intervals,
)
from ssmtune.studies._verdict import verdict

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
    side_a = make_side("A", sa, ra, rng, resamples, goal, direction)
    side_b = make_side("B", sb, rb, rng, resamples, goal, direction)
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
    reach = reach_and_ratio(side_a, side_b, goal, direction)
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
            **test_at_best_intervals(side_a, side_b, direction),
        },
        "equal_trials": equal_trials(side_a, side_b, direction, checked),
        "equal_device_hours": equal_budget(side_a, side_b, direction, checked),
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
            "ratio": grid_ratio(side_a.grid, side_b.grid),
        },
        "conclusive": not problems,
        "problems": problems,
        "notes": notes,
    }
    reasons = [r for r in (resampling_problem(sa), resampling_problem(sb)) if r is not None]
    if reasons:
        _without_intervals(result, sa, sb, goal, direction == "maximize", reasons)
        if note:
            written = Verdict(a=sa.study_name, b=sb.study_name, text=result["verdict"])
            for study in (sa, sb):
                update_note(study, verdict=written)
        return result
    result["resampling"] = {
        "method": "within-study bootstrap",
        "assumes": "each study's trials are independent draws from its space (random "
        "sampling, or a grid in random order) and no pruner",
    }
    if curves:
        result["curves"] = {
            "a": side_curves(side_a, goal, direction, checked, curve_targets(side_a, side_b, goal)),
            "b": side_curves(side_b, goal, direction, checked, curve_targets(side_a, side_b, goal)),
        }
    result["verdict"] = verdict(result)
    if note:
        written = Verdict(a=sa.study_name, b=sb.study_name, text=result["verdict"])
        for study in (sa, sb):
            update_note(study, verdict=written)
    return result


def _without_intervals(
    result: dict[str, Any],
    sa: optuna.Study,
    sb: optuna.Study,
    goal: float | None,
    maximize: bool,
    reasons: list[str],
) -> None:
    """Turn `result` into the point figures of two single runs (`studies._adaptive`): no
    interval, no resampled expectation, the observed cost to reach, a verdict saying why."""
    tv = result["test_at_best"]
    tv.update(a_interval=None, b_interval=None, diff_interval=None)
    result["equal_trials"] = []
    result["equal_device_hours"] = []
    reach = result["cost_to_reach"]
    for key, study in (("a", sa), ("b", sb)):
        hours = None if goal is None else observed_reach(study, goal, maximize)
        reach[key] = {
            "device_hours": hours,
            "reason": None if hours is not None else "the study did not reach the target",
            "interval": None,
            "reached_fraction": None,
            "observed": "in the study's own trial order",
        }
    ca, cb = reach["a"]["device_hours"], reach["b"]["device_hours"]
    reach["ratio"] = {
        "value": None if not ca or cb is None else cb / ca,
        "interval": None,
        "conclusive": False,
        "says": "no interval: " + "; ".join(reasons),
    }
    result["grid"] = {"a": None, "b": None, "ratio": None}
    result["resampling"] = {"method": None, "reasons": reasons}
    result["conclusive"] = False
    result["problems"] = reasons
    result["verdict"] = point_verdict(result, reasons)


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
