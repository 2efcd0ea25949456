"""Costs to reach a target over replicate searches, some of which never reached it.

A replicate that stops (its budget spent, its grid exhausted) before reaching the target gives
a cost that is only known to exceed what it spent: right-censored. Dropping those replicates
would understate the cost; counting their spend as the cost would too. The Kaplan–Meier
estimator (Kaplan & Meier 1958) uses both: with the distinct costs ``t_1 < t_2 < ...`` at which
replicates reached the target, ``d_j`` of them at ``t_j`` and ``n_j`` replicates still at risk
there (neither reached nor censored before ``t_j``),

.. math::

    \\hat S(t) = \\prod_{t_j \\le t} \\left(1 - \\frac{d_j}{n_j}\\right),

the estimated probability of not having reached the target by cost ``t``. The q-quantile of the
cost to reach is the least ``t_j`` with ``1 - S(t_j) >= q``; when the estimated reached share
never gets to ``q`` (too many replicates censored) that quantile is not estimable and is None.
The estimator assumes the censoring tells nothing about the cost (replicates stop for their
budget, not because they were about to reach the target), which holds for budgets fixed in
advance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["km_quantiles", "km_reached"]


def km_reached(costs: Sequence[float | None], spent: Sequence[float]) -> list[tuple[float, float]]:
    """The Kaplan–Meier curve of the share that reached the target, ``(t_j, 1 - S(t_j))``.

    Args:
        costs: per replicate, its cost to reach the target, or None when it did not.
        spent: per replicate, what it spent in all (its censoring cost when `costs` is None).

    Example:
        >>> curve = km_reached([1.0, None, 3.0], [5.0, 2.0, 4.0])  # the second censored at 2
        >>> [(t, round(share, 3)) for t, share in curve]
        [(1.0, 0.333), (3.0, 1.0)]
    """
    if len(costs) != len(spent):
        raise ValueError("costs and spent differ in length")
    times = np.array([c if c is not None else s for c, s in zip(costs, spent, strict=True)])
    reached = np.array([c is not None for c in costs])
    survival, curve = 1.0, []
    for t in np.unique(times[reached]):
        at_risk = int(np.sum(times >= t))
        events = int(np.sum((times == t) & reached))
        survival *= 1.0 - events / at_risk
        curve.append((float(t), 1.0 - survival))
    return curve


def km_quantiles(
    costs: Sequence[float | None], spent: Sequence[float], qs: Sequence[float]
) -> list[float | None]:
    """The `qs` quantiles of the cost to reach the target (module docstring); None where the
    estimated reached share stays below the quantile.

    Example:
        >>> km_quantiles([1.0, None, 3.0], [5.0, 2.0, 4.0], [0.1, 0.5, 0.9])
        [1.0, 3.0, 3.0]
        >>> km_quantiles([1.0, None, None], [5.0, 2.0, 4.0], [0.5])
        [None]
    """
    curve = km_reached(costs, spent)
    out: list[float | None] = []
    for q in qs:
        hit = [t for t, share in curve if share >= q - 1e-12]
        out.append(hit[0] if hit else None)
    return out
