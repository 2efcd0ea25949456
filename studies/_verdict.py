"""The verdict of a comparison in words: one paragraph from the dict `studies.compare` computed.

It opens with INCONCLUSIVE and the reasons when the comparison is not conclusive, then gives
the ratio B/A of the device-hours to reach the target (with its interval, or its one-sided
bound when only one study reaches it), each study's cost to reach, the points and device-hours
of the two searches, the best validation and test values, the expected best at equal trials and
at equal device-hours, the exact figures of complete grids, and the notes on unfinished studies.
Nothing here computes a figure: every number is read from the dict.
"""

from __future__ import annotations

import math
from typing import Any

from ssmtune.studies._expected import Direction
from ssmtune.studies._format import fmt_interval, fmt_value

__all__ = ["verdict"]


def verdict(c: dict[str, Any]) -> str:
    """The verdict paragraph of comparison `c` (the dict of `studies.compare`, without
    ``verdict``)."""
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

    def pair(e: dict[str, Any]) -> str:  # A and B with their intervals, and B - A
        return (
            f"A {val(e['a'])} {fmt_interval(e['a_interval'], val)}, "
            f"B {val(e['b'])} {fmt_interval(e['b_interval'], val)} "
            f"({_diff_text(e['diff'], metric, direction)}, "
            f"{fmt_interval(e['diff_interval'], pts_)})"
        )

    lines.append(
        f"Best validation {metric}: A {val(bv['a'])}, B {val(bv['b'])}"
        f" ({_diff_text(bv['diff'], metric, direction)}); test at best: "
        f"{pair(tv)}."
    )
    if c["equal_trials"]:
        e = c["equal_trials"][-1]
        lines.append(f"Expected best after {e['k']} trials each: {pair(e)}.")
    if c["equal_device_hours"]:
        e = c["equal_device_hours"][-1]
        lines.append(f"Expected best at {e['device_hours']:.3g} device-hours each: {pair(e)}.")
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


def _points(diff: float, metric: str) -> str:
    return f"{100 * diff:+.2f}" if metric == "accuracy" else f"{diff:+.4g}"
