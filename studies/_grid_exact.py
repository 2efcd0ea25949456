"""The exact figures of a grid study that covered its whole grid, for `studies.compare`.

A complete grid needs no bootstrap: its best value is known, and so is the expected cost to
reach a target when its points are run in a uniformly random order
(`studies._bootstrap.cost_to_reach`, no resampling). A point run more than once counts once,
with its first complete trial. Each point costs its own device-hours plus an equal share of the
device-hours of the study's other trials (repeats, pruned, failed), so that the points' costs
add up to the study's device-hours.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ssmtune.studies._bootstrap import cost_to_reach
from ssmtune.studies._expected import Direction
from ssmtune.studies._query import trial_device_s

__all__ = ["grid_exact", "grid_ratio"]


def grid_exact(
    done: list[Any], device_hours: float, target: float | None, direction: Direction
) -> dict[str, Any]:
    """Exact figures of a complete grid: its best and its cost to reach in random order.

    Args:
        done: the study's complete trials, in the order they were run.
        device_hours: the study's device-hours, all trials together.
        target: the validation value to reach; None when there is none.
        direction: "maximize" or "minimize".

    Returns:
        ``points`` (distinct points kept), ``repeats_left_out``, ``best_value`` and
        ``cost_to_reach`` (``device_hours`` or None with a ``reason``).
    """
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


def grid_ratio(ga: dict | None, gb: dict | None) -> float | None:
    """The exact ratio B/A of two complete grids' costs to reach; None unless both reach it.

    Example:
        >>> grid_ratio({"cost_to_reach": {"device_hours": 2.0}},
        ...            {"cost_to_reach": {"device_hours": 1.0}})
        0.5
    """
    if ga is None or gb is None:
        return None
    ca, cb = ga["cost_to_reach"]["device_hours"], gb["cost_to_reach"]["device_hours"]
    return None if ca is None or cb is None or ca == 0 else cb / ca
