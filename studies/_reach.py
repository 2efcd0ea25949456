"""The device-hours each study of a comparison needs to reach a target, and their ratio B/A.

The cost to reach is the expected device-hours to a first trial at least as good as the target
when the study's complete trials are run in a uniformly random order
(`studies._bootstrap.cost_to_reach`), with its percentile-bootstrap interval. The ratio B/A has
the interval of the paired resamples (`studies._bootstrap.boot_ratio`) and the verdict of
`studies._bootstrap.ratio_verdict`: conclusive when the interval tells "B halves the cost" from
"B saves nothing".

When only one study reaches the target the ratio is 0 or +inf in every resample and the
bootstrap says nothing more; the data then bound it on one side only (`one_sided_ratio`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ssmtune.studies._bootstrap import MAX_UNDEFINED, boot_cost_to_reach, boot_ratio, cost_to_reach
from ssmtune.studies._expected import Direction
from ssmtune.studies._sides import Side, interval

__all__ = ["reach_and_ratio", "one_sided_ratio"]


def reach_and_ratio(
    sa: Side, sb: Side, target: float | None, direction: Direction
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
            entry["interval"] = interval(reps[key])
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
            ratio.update(one_sided_ratio(out, ca, cb, *spent))
    else:
        ratio["undefined_fraction"] = 1.0
        ratio["conclusive"] = False
        ratio["says"] = "a study without complete trials has no cost to reach the target."
    out["ratio"] = ratio
    return out


def one_sided_ratio(
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


def _top(iv: list[float | None] | None, estimate: float | None) -> float:
    """The top of a cost interval (+inf when unbounded; the estimate without an interval)."""
    if not iv:
        return float(estimate or 0.0)
    return math.inf if iv[1] is None else float(iv[1])


def _bounded(text: str, conclusive: bool, says: str) -> dict[str, Any]:
    return {"bound": text, "interval": None, "conclusive": conclusive, "says": says}
