"""Expected best validation value after k trials: pure estimators over a study's trial values.

A study of N finished trials is treated as N independent draws of "the validation value of a
random configuration". The expected best after k trials answers "what would a smaller search
have found?", and the same curve against device-hours answers "what would it have cost?".

Two estimators:

- `tang`: the unbiased estimator of Tang et al. 2020 ("Showing Your Work Doesn't Always Work"),
  the expected maximum of k values drawn *without* replacement from the N observed ones.
- `dodge`: the estimator of Dodge et al. 2019 ("Show Your Work: Improved Reporting of
  Experimental Results"), the expected maximum of k draws *with* replacement from the
  empirical distribution; biased for k close to N.

A minimised metric (MSE) uses minima: E[min of k] = -E[max of k of the negated values].
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Literal, cast

import numpy as np

from ssmtune.studies._errors import StudyError

__all__ = [
    "ESTIMATORS",
    "REPORT_KS",
    "expected_best",
    "expected_best_curve",
    "expected_best_at_cost",
    "tang_weights",
    "dodge_weights",
    "expected_best_weights",
    "trials_to_within",
    "check_estimator",
]

Direction = Literal["maximize", "minimize"]
Estimator = Literal["tang", "dodge"]

#: The estimators `expected_best` accepts.
ESTIMATORS: tuple[str, ...] = ("tang", "dodge")
#: The numbers of trials a report shows (those <= N).
REPORT_KS: tuple[int, ...] = (1, 5, 10, 20, 50)


def tang_weights(n: int, k: int) -> np.ndarray:
    r"""Weights of the sorted values in Tang et al. 2020's unbiased estimator.

    .. math::

        \hat E[\max_k] = \sum_{i=k}^{N} v_{(i)} \frac{\binom{i-1}{k-1}}{\binom{N}{k}},
        \qquad v_{(1)} \le \dots \le v_{(N)}

    the probability that the i-th smallest value is the largest of a k-subset drawn uniformly
    without replacement. Computed in log space by the ratio
    :math:`w_N = k/N`, :math:`w_{i-1} = w_i (i-k)/(i-1)`, so it stays exact for large N
    (no binomial coefficient is formed).

    Args:
        n: number of values N >= 1.
        k: subset size, 1 <= k <= N.

    Returns:
        float64 array of length N (index i-1 for v_(i)), zero below i = k, summing to 1.

    Example:
        >>> tang_weights(3, 2).round(4).tolist()
        [0.0, 0.3333, 0.6667]
    """
    _check_k(n, k)
    w = np.zeros(n)
    i = np.arange(k, n + 1, dtype=np.float64)  # i = k..N
    # log w_i = log(k/N) + sum_{j=i+1..N} log((j-k)/(j-1))
    steps = np.log((i[1:] - k) / (i[1:] - 1)) if k < n else np.zeros(0)
    tail = np.concatenate([np.cumsum(steps[::-1])[::-1], [0.0]])
    w[k - 1 :] = np.exp(math.log(k / n) + tail)
    return w


def dodge_weights(n: int, k: int) -> np.ndarray:
    r"""Weights of the sorted values in Dodge et al. 2019's expected-maximum estimator.

    .. math::

        \hat E[\max_k] = \sum_{i=1}^{N} v_{(i)}
            \left[\left(\tfrac{i}{N}\right)^k - \left(\tfrac{i-1}{N}\right)^k\right]

    the probability that the largest of k draws with replacement from the empirical
    distribution is the i-th smallest value.

    Example:
        >>> dodge_weights(2, 2).tolist()
        [0.25, 0.75]
    """
    _check_k(n, k)
    i = np.arange(1, n + 1, dtype=np.float64)
    return (i / n) ** k - ((i - 1) / n) ** k


def expected_best_weights(n: int, k: int, estimator: Estimator = "tang") -> np.ndarray:
    """Weights of the ascending sorted values in `estimator`'s expected best of k among n.

    `tang_weights` or `dodge_weights`; the expected best of a maximised metric is the dot
    product with the values sorted in ascending order (of a minimised one, with the negated
    values, negated back).

    Example:
        >>> expected_best_weights(3, 2, "dodge").round(4).tolist()
        [0.1111, 0.3333, 0.5556]
    """
    return _weights(n, k, estimator)


def expected_best(
    values: Iterable[float],
    k: int,
    *,
    direction: Direction = "maximize",
    estimator: Estimator = "tang",
) -> float:
    """Expected best value among k trials drawn from the observed `values`.

    Args:
        values: the finished trials' values (N >= 1, finite).
        k: number of trials, 1 <= k <= N.
        direction: "maximize" (accuracy: the best is the max) or "minimize" (MSE: the min).
        estimator: "tang" (unbiased, without replacement) or "dodge" (with replacement).

    Returns:
        The expected best; k = 1 gives the mean, k = N the best value (for "tang").

    Raises:
        StudyError: no values, k out of range, unknown direction or estimator.

    Example:
        >>> expected_best([0.5, 0.7, 0.9], 1)
        0.7
        >>> expected_best([0.5, 0.7, 0.9], 3)
        0.9
        >>> expected_best([3.0, 1.0, 2.0], 2, direction="minimize")
        1.3333333333333333
    """
    v = _sorted_signed(values, direction)
    w = _weights(len(v), k, estimator)
    return _sign(direction) * float(np.dot(w, v))


def expected_best_curve(
    values: Iterable[float],
    ks: Iterable[int] | None = None,
    *,
    direction: Direction = "maximize",
    estimator: Estimator = "tang",
) -> dict[int, float]:
    """Expected best after each k in `ks` (default: every k = 1..N); k > N are left out.

    Example:
        >>> expected_best_curve([1.0, 2.0, 3.0], [1, 2, 5])
        {1: 2.0, 2: 2.6666666666666665}
    """
    v = _sorted_signed(values, direction)
    n = len(v)
    ks = range(1, n + 1) if ks is None else ks
    return {
        int(k): _sign(direction) * float(np.dot(_weights(n, int(k), estimator), v))
        for k in ks
        if 1 <= k <= n
    }


def expected_best_at_cost(
    values: Iterable[float],
    cost_per_trial: float,
    budgets: Iterable[float],
    *,
    direction: Direction = "maximize",
    estimator: Estimator = "tang",
) -> dict[float, float | None]:
    """Expected best as a function of spent cost (e.g. device-hours).

    A budget B buys k = B / c trials, c the cost of one finished trial (a study's total cost
    divided by its finished trials, so pruned and failed trials are paid for). For a
    fractional k the curve is interpolated linearly between floor(k) and ceil(k). Budgets
    below one trial (k < 1) or beyond the study (k > N) have no estimate: None.

    Args:
        values: the finished trials' values.
        cost_per_trial: c > 0, in the unit of `budgets`.
        budgets: the budgets B.

    Example:
        >>> expected_best_at_cost([1.0, 2.0, 3.0], 2.0, [1.0, 2.0, 3.0, 6.0, 8.0])
        {1.0: None, 2.0: 2.0, 3.0: 2.333333333333333, 6.0: 3.0, 8.0: None}
    """
    if not cost_per_trial > 0:
        raise StudyError(f"cost per trial must be > 0, got {cost_per_trial}")
    curve = expected_best_curve(values, direction=direction, estimator=estimator)
    n = len(curve)
    out: dict[float, float | None] = {}
    for b in budgets:
        k = b / cost_per_trial
        if k < 1 - 1e-9 or k > n + 1e-9:
            out[b] = None
            continue
        k = min(max(k, 1.0), float(n))
        lo, hi = math.floor(k), math.ceil(k)
        frac = k - lo
        out[b] = curve[lo] if hi == lo else (1 - frac) * curve[lo] + frac * curve[hi]
    return out


def trials_to_within(
    values: Sequence[float],
    tolerance: float,
    *,
    direction: Direction = "maximize",
    estimator: Estimator = "tang",
) -> int:
    """Fewest trials k whose expected best is within `tolerance` of the best value seen.

    `tolerance` is in the metric's units (0.01 = one point of accuracy, a fraction in [0, 1]).
    Always <= N, since the expected best after N trials is the best value (for "tang").

    Example:
        >>> trials_to_within([0.5, 0.8, 0.9, 0.9], 0.05)
        2
    """
    if tolerance < 0:
        raise StudyError(f"tolerance must be >= 0 (in the metric's units), got {tolerance}")
    curve = expected_best_curve(values, direction=direction, estimator=estimator)
    best = max(values) if direction == "maximize" else min(values)
    for k, e in curve.items():
        if abs(best - e) <= tolerance + 1e-12:
            return k
    return len(curve)


def check_estimator(name: str) -> Estimator:
    """`name` as an `Estimator`, or StudyError naming the allowed ones.

    Example:
        >>> check_estimator("dodge")
        'dodge'
    """
    if name not in ESTIMATORS:
        raise StudyError(f"unknown estimator {name!r}; allowed: {', '.join(ESTIMATORS)}")
    return cast(Estimator, name)  # one of ESTIMATORS, the values of Estimator


def _check_k(n: int, k: int) -> None:
    if n < 1:
        raise StudyError("no finished trials to estimate from; run the study first")
    if not (isinstance(k, int | np.integer) and 1 <= k <= n):
        raise StudyError(
            f"k={k} is out of range for {n} finished trial(s); allowed k is an integer 1..{n}"
        )


def _weights(n: int, k: int, estimator: str) -> np.ndarray:
    if estimator == "tang":
        return tang_weights(n, k)
    if estimator == "dodge":
        return dodge_weights(n, k)
    raise StudyError(f"unknown estimator {estimator!r}; allowed: {', '.join(ESTIMATORS)}")


def _sign(direction: str) -> float:
    if direction == "maximize":
        return 1.0
    if direction == "minimize":
        return -1.0
    raise StudyError(f"unknown direction {direction!r}; allowed: maximize, minimize")


def _sorted_signed(values: Iterable[float], direction: str) -> np.ndarray:
    v = np.asarray(list(values), dtype=np.float64)
    if v.size == 0:
        raise StudyError("no finished trials to estimate from; run the study first")
    if not np.all(np.isfinite(v)):
        raise StudyError("trial values must be finite (no NaN or inf)")
    return np.sort(_sign(direction) * v)
