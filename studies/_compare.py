"""Two searches of one task side by side: the measured form of "a smaller space does as well".

The D-LinOSS paper's claim is a 50% smaller search space (162 points against LinOSS's 324;
Boyer, Rusch & Rus 2025, with the grid of Rusch & Rus, ICLR 2025, App. B.1) with the same or better accuracy. `compare` puts the figures of that claim next to
each other — points, device-hours, best validation and test, expected best at equal numbers of
trials and at equal device-hours — and refuses to call a winner when either study is
unfinished or too small.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from studies._errors import StudyError
from studies._expected import REPORT_KS, expected_best_at_cost, expected_best_curve
from studies._query import complete_trials, load_studies
from studies._report import fmt_value, study_summary

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage

__all__ = ["MIN_COMPLETE", "compare", "resolve_study"]

#: Fewer complete trials than this and a study is "too small to conclude".
MIN_COMPLETE = 5


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


def compare(
    storage: str | BaseStorage,
    task: str,
    a: str,
    b: str,
    *,
    estimator: str = "tang",
) -> dict[str, Any]:
    """Compare the search of space (or study) `a` with that of `b` on `task`.

    Args:
        a, b: a space name (the study's `space` attribute; one study of the task must search
            it) or a study name.

    Returns:
        A JSON-ready dict: ``task``, ``metric``, ``a`` and ``b`` (each study's summary with
        ``finished``), ``points`` / ``device_hours`` / ``best_value`` / ``test_at_best``
        (``a``, ``b`` and the ``reduction`` 1 - b/a or the ``diff`` b - a), ``equal_trials``
        (expected best of each at k = 1, 5, 10, 20, 50 and the largest k both reach),
        ``equal_device_hours`` (the same at equal budgets where both studies have the data),
        ``conclusive`` (bool), ``problems`` (why not) and ``verdict`` (one paragraph).

    Raises:
        StudyError: no studies for the task, an unknown or ambiguous name, a == b.
    """
    studies = load_studies(storage, task=task)
    sa, sb = resolve_study(studies, a, task), resolve_study(studies, b, task)
    if sa.study_name == sb.study_name:
        raise StudyError(f"{a!r} and {b!r} are the same study {sa.study_name!r}; pick two studies")
    ra = study_summary(sa, estimator=estimator)
    rb = study_summary(sb, estimator=estimator)
    direction, metric = ra["direction"], ra["metric"]
    problems: list[str] = []
    for label, r in (("A", ra), ("B", rb)):
        r["finished"] = _finished(r)
        if not r["finished"]:
            problems.append(f"{label} ({r['study']}) is unfinished: {_progress(r)}")
        if r["n_complete"] < MIN_COMPLETE:
            problems.append(
                f"{label} ({r['study']}) is too small: {r['n_complete']} complete trial(s), "
                f"at least {MIN_COMPLETE} needed"
            )
    va = [t.value for t in complete_trials(sa)]
    vb = [t.value for t in complete_trials(sb)]
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
        "test_at_best": _pair(ra["test_at_best"], rb["test_at_best"], "diff"),
        "equal_trials": _equal_trials(va, vb, direction, estimator),
        "equal_device_hours": _equal_budget(ra, rb, va, vb, direction, estimator),
        "conclusive": not problems,
        "problems": problems,
    }
    result["verdict"] = _verdict(result)
    return result


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


def _equal_trials(va: list[float], vb: list[float], direction: str, estimator: str) -> list[dict]:
    n = min(len(va), len(vb))
    if n == 0:
        return []
    ks = sorted({k for k in REPORT_KS if k <= n} | {n})
    ea = expected_best_curve(va, ks, direction=direction, estimator=estimator)
    eb = expected_best_curve(vb, ks, direction=direction, estimator=estimator)
    return [{"k": k, "a": ea[k], "b": eb[k], "diff": eb[k] - ea[k]} for k in ks]


def _equal_budget(
    ra: dict, rb: dict, va: list[float], vb: list[float], direction: str, estimator: str
) -> list[dict]:
    ca, cb = ra["device_hours_per_trial"], rb["device_hours_per_trial"]
    if not va or not vb or not ca or not cb:
        return []
    lo, hi = max(ca, cb), min(len(va) * ca, len(vb) * cb)
    if lo > hi * (1 + 1e-9):
        return []
    budgets = [float(x) for x in np.unique(np.geomspace(lo, hi, num=5 if hi > lo else 1))]
    ea = expected_best_at_cost(va, ca, budgets, direction=direction, estimator=estimator)
    eb = expected_best_at_cost(vb, cb, budgets, direction=direction, estimator=estimator)
    rows = []
    for x in budgets:
        if ea[x] is not None and eb[x] is not None:
            rows.append({"device_hours": x, "a": ea[x], "b": eb[x], "diff": eb[x] - ea[x]})
    return rows


def _diff_text(diff: float | None, metric: str, direction: str) -> str:
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


def _verdict(c: dict[str, Any]) -> str:
    ra, rb, metric, direction = c["a"], c["b"], c["metric"], c["direction"]
    lines = []
    if not c["conclusive"]:
        lines.append("INCONCLUSIVE: " + "; ".join(c["problems"]) + ".")
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
    lines.append(
        f"Best validation {metric}: A {fmt_value(bv['a'], metric)}, B {fmt_value(bv['b'], metric)}"
        f" ({_diff_text(bv['diff'], metric, direction)}); test at best: "
        f"A {fmt_value(tv['a'], metric)}, B {fmt_value(tv['b'], metric)}"
        f" ({_diff_text(tv['diff'], metric, direction)})."
    )
    if c["equal_trials"]:
        e = c["equal_trials"][-1]
        lines.append(
            f"Expected best after {e['k']} trials each: A {fmt_value(e['a'], metric)}, "
            f"B {fmt_value(e['b'], metric)} ({_diff_text(e['diff'], metric, direction)})."
        )
    if c["equal_device_hours"]:
        e = c["equal_device_hours"][-1]
        lines.append(
            f"Expected best at {e['device_hours']:.3g} device-hours each: "
            f"A {fmt_value(e['a'], metric)}, B {fmt_value(e['b'], metric)} "
            f"({_diff_text(e['diff'], metric, direction)})."
        )
    return " ".join(lines)
