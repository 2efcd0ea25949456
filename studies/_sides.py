"""A comparison's two sides: each study's trials and their resamples, and the bootstrap figures
drawn from them at equal trials, at equal device-hours and at the best trial (`studies.compare`).

A `Side` is one study of the comparison: its summary row (`studies.study_summary`), its complete
trials as a `studies.TrialSample` and their (R, N) resample indices
(`studies._bootstrap.resample_indices`), and the exact figures of a complete grid
(`studies._grid_exact`). Each complete trial is resampled with its cost: its own device-hours plus
an equal share of the device-hours of the study's pruned, failed and still running trials, so that
the trials' costs add up to the study's device-hours and their mean is the cost per finished trial
of `studies.expected_best_at_cost`.

Every figure comes with its 90 % percentile-bootstrap interval; an unbounded bound is None, so the
figures are JSON-ready.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ssmtune.studies._bootstrap import (
    TrialSample,
    boot_cost_to_reach,
    boot_expected_best,
    boot_expected_best_at_cost,
    boot_test_at_best,
    cost_to_reach,
    percentile_interval,
    resample_indices,
)
from ssmtune.studies._expected import (
    REPORT_KS,
    Direction,
    Estimator,
    expected_best_at_cost,
    expected_best_curve,
)
from ssmtune.studies._grid_exact import grid_exact
from ssmtune.studies._query import complete_trials, trial_sample

if TYPE_CHECKING:
    import optuna

__all__ = [
    "Side",
    "make_side",
    "interval",
    "test_at_best_intervals",
    "equal_trials",
    "equal_budget",
    "curve_targets",
    "side_curves",
]


class Side(NamedTuple):
    """One study of the comparison: its summary, its trials and their resamples."""

    label: str
    row: dict[str, Any]
    sample: TrialSample | None  # None: no complete trial
    idx: np.ndarray  # (R, N) resample indices; (0, 0) without a sample
    grid: dict[str, Any] | None  # exact figures of a complete grid


def make_side(
    label: str,
    study: optuna.Study,
    row: dict[str, Any],
    rng: np.random.Generator,
    resamples: int,
    target: float | None,
    direction: Direction,
) -> Side:
    """The side `label` ("A" or "B") of `study`, whose summary is `row`.

    Sets ``row["finished"]``. Draws `resamples` rows of indices from `rng`, nothing when the
    study has no complete trial (so B's resamples do not depend on whether A has trials).
    """
    row["finished"] = _finished(row)
    sample = trial_sample(study, row["device_hours"])
    if sample is None:
        # draw nothing: B's resamples do not depend on whether A has trials
        return Side(label, row, None, np.empty((0, 0), dtype=np.intp), None)
    done = complete_trials(study)
    idx = resample_indices(len(done), resamples, rng)
    grid = None
    if row["sampler"] == "grid" and isinstance(row["space_size"], int) and row["finished"]:
        grid = grid_exact(done, row["device_hours"], target, direction)
    return Side(label, row, sample, idx, grid)


def _finished(r: dict[str, Any]) -> bool:
    """Whether the study of summary `r` is done: nothing running, and a grid fully covered."""
    if r["n_running"]:
        return False
    size = r["space_size"]
    return not isinstance(size, int) or r["grid_done"] >= size


def interval(replicates: np.ndarray) -> list[float | None] | None:
    """The 90 % percentile interval of `replicates` as a JSON-ready list (None: no interval)."""
    iv = percentile_interval(replicates)
    return None if iv is None else list(iv)


def test_at_best_intervals(sa: Side, sb: Side, direction: Direction) -> dict[str, Any]:
    """Intervals of each study's test value at its best trial, and of the difference B - A."""
    out: dict[str, Any] = {"a_interval": None, "b_interval": None, "diff_interval": None}
    reps = {}
    for key, side in (("a", sa), ("b", sb)):
        if side.sample is not None:
            reps[key] = boot_test_at_best(side.sample, side.idx, direction=direction)
            out[f"{key}_interval"] = interval(reps[key])
    if len(reps) == 2:
        out["diff_interval"] = interval(reps["b"] - reps["a"])
    return out


def equal_trials(sa: Side, sb: Side, direction: Direction, estimator: Estimator) -> list[dict]:
    """Expected best of each study after k trials, for k in `REPORT_KS` up to the smaller study's
    number of trials and at that number, with the intervals of A, B and B - A."""
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
            "a_interval": interval(reps_a[:, j]),
            "b_interval": interval(reps_b[:, j]),
            "diff_interval": interval(reps_b[:, j] - reps_a[:, j]),
        }
        for j, k in enumerate(ks)
    ]


def equal_budget(sa: Side, sb: Side, direction: Direction, estimator: Estimator) -> list[dict]:
    """Expected best of each study at up to 5 equal budgets of device-hours, spaced evenly on a
    log scale over the budgets both studies have the data for, with the intervals of A, B and
    B - A."""
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
                    "a_interval": interval(reps_a[:, j]),
                    "b_interval": interval(reps_b[:, j]),
                    "diff_interval": interval(reps_b[:, j] - reps_a[:, j]),
                }
            )
    return rows


def curve_targets(sa: Side, sb: Side, goal: float | None) -> list[float]:
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


def side_curves(
    side: Side,
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
                "interval": interval(r),
                "reached_fraction": float(np.mean(np.isfinite(r))),
            }
        )
    return {
        "label": _label(side.row),
        "trials": [
            {"k": k, "value": exp[k], "interval": interval(reps[:, j])} for j, k in enumerate(ks)
        ],
        "device_hours": [
            {"device_hours": x, "value": exp[k], "interval": interval(reps_h[:, j])}
            for j, (k, x) in enumerate(zip(ks, budgets, strict=True))
        ],
        "cost_to_reach": reach,
        "target": goal,
    }


def _label(row: dict[str, Any]) -> str:
    return f"{row['space']} ({row['study']})" if row.get("space") else str(row["study"])
