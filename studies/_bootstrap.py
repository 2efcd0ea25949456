"""Percentile-bootstrap intervals for the figures of a comparison, and the cost to reach a target.

A study's complete trials are treated as N independent draws of (validation value, test value,
device-hours) from its search space. Resampling the N trials with replacement, with each
trial's cost and test value attached, and recomputing a figure on each resample gives the
figure's bootstrap distribution; its 5th and 95th percentiles are the 90 % percentile
interval of Efron (1979, "Bootstrap methods: another look at the jackknife"; Efron &
Tibshirani 1993, "An Introduction to the Bootstrap", ch. 13).

The figures are those of `studies._expected` (the expected best after k trials, Tang et al.
2020; Dodge et al. 2019, "Show Your Work") and the expected cost to reach a target
(`cost_to_reach`). Every function here is vectorised over the resamples: a resample is a row of
an index matrix of shape (R, N), and the figures are computed for all rows at once.

Percentiles are the inverse of the replicates' empirical distribution function
(``numpy.quantile(..., method="inverted_cdf")``), Efron's definition; it is an order statistic,
so a replicate that is infinite (the target not reached) only counts by its rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ssmtune.studies._errors import StudyError
from ssmtune.studies._expected import _sign, check_estimator, expected_best_weights

__all__ = [
    "DEFAULT_RESAMPLES",
    "DEFAULT_SEED",
    "LEVEL",
    "TrialSample",
    "resample_indices",
    "percentile_interval",
    "cost_to_reach",
    "boot_expected_best",
    "boot_expected_best_at_cost",
    "boot_cost_to_reach",
    "boot_test_at_best",
    "ratio_verdict",
]

#: Resamples per study unless told otherwise (``--resamples``).
DEFAULT_RESAMPLES = 2000
#: Seed of `numpy.random.default_rng` unless told otherwise (``--seed``).
DEFAULT_SEED = 0
#: Coverage of the intervals: the 5th to the 95th percentile.
LEVEL = 0.90
#: Share of resamples in which neither study reaches the target above which the cost ratio is
#: not estimated (see `ratio_verdict`).
MAX_UNDEFINED = 0.10


class TrialSample(NamedTuple):
    """A study's complete trials, as arrays of one length N (trial-number order).

    Attributes:
        values: validation values, finite.
        costs: device-hours of each trial, >= 0 (with its share of the pruned and failed
            trials' cost; see `studies._query.trial_sample`).
        tests: test values, NaN where a trial has none.
    """

    values: np.ndarray
    costs: np.ndarray
    tests: np.ndarray

    @classmethod
    def of(
        cls,
        values: Sequence[float],
        costs: Sequence[float],
        tests: Sequence[float | None] | None = None,
    ) -> TrialSample:
        """Arrays from lists; `tests` None (or None entries) means no test value."""
        v = np.asarray(values, dtype=np.float64)
        c = np.asarray(costs, dtype=np.float64)
        t = np.full(v.shape, np.nan) if tests is None else _float_or_nan(tests)
        if not (v.ndim == 1 and v.shape == c.shape == t.shape):
            raise StudyError(
                f"values, costs and tests must be lists of one length, got {v.shape}, "
                f"{c.shape}, {t.shape}"
            )
        if not (np.all(np.isfinite(v)) and np.all(np.isfinite(c)) and np.all(c >= 0)):
            raise StudyError("trial values must be finite and costs finite and >= 0")
        return cls(v, c, t)


def resample_indices(n: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of `resamples` bootstrap resamples of n trials: int array (R, N), with
    replacement, uniform."""
    if n < 1:
        raise StudyError("no complete trials to resample; run the study first")
    if not (isinstance(resamples, int | np.integer) and resamples >= 1):
        raise StudyError(f"resamples must be an integer >= 1, got {resamples!r}")
    return rng.integers(0, n, size=(int(resamples), n))


def percentile_interval(
    replicates: np.ndarray, level: float = LEVEL
) -> tuple[float | None, float | None] | None:
    """Efron's percentile interval of the replicates (NaN replicates left out).

    Args:
        replicates: 1-D array; +inf and -inf are allowed (they sort last and first).
        level: coverage; the bounds are the (1 - level) / 2 and (1 + level) / 2 quantiles.

    Returns:
        (low, high), an infinite bound as None (unbounded), or None if no replicate is a number.

    Example:
        >>> percentile_interval(np.arange(1.0, 101.0))
        (5.0, 95.0)
        >>> percentile_interval(np.array([1.0] * 90 + [np.inf] * 10))
        (1.0, None)
    """
    x = np.asarray(replicates, dtype=np.float64)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return None
    lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2], method="inverted_cdf")
    return _finite_or_none(lo), _finite_or_none(hi)


def cost_to_reach(
    values: Sequence[float] | np.ndarray,
    costs: Sequence[float] | np.ndarray,
    target: float,
    *,
    direction: str = "maximize",
) -> float | None:
    r"""Expected cost of running the trials in a uniformly random order until one reaches `target`.

    With N trials of which M reach the target (value >= target when maximising, <= when
    minimising), the cost paid is the sum of the costs of the trials run up to and including
    the first that reaches it. By linearity of expectation, each trial contributes its cost
    times the probability that it is run:

    - a trial that reaches the target is run iff it is the first of the M to come, with
      probability 1/M;
    - a trial that does not is run iff it comes before all M, i.e. it is the first of those
      M + 1 trials in a random order: probability 1/(M + 1).

    .. math::

        E[\text{cost}] = \bar c_{\text{hit}} + \frac{N - M}{M + 1}\, \bar c_{\text{miss}}

    with :math:`\bar c_{\text{hit}}`, :math:`\bar c_{\text{miss}}` the mean costs of the trials
    that do and do not reach the target (the second term is 0 when M = N). With equal costs c
    this is c (N + 1)/(M + 1), the expected position of the first success when drawing without
    replacement.

    Args:
        values: the trials' values.
        costs: the trials' costs (e.g. device-hours), same length.
        target: the value to reach.
        direction: "maximize" or "minimize".

    Returns:
        The expected cost, or None when no trial reaches the target (M = 0: not reached; its
        cost within these trials is unbounded).

    Example:
        >>> cost_to_reach([0.5, 0.9, 0.7], [1.0, 2.0, 3.0], 0.8)  # 2 + (2 / 2) * 2
        4.0
        >>> cost_to_reach([0.5, 0.7], [1.0, 1.0], 0.8) is None
        True
    """
    v = np.asarray(values, dtype=np.float64)[None, :]
    c = np.asarray(costs, dtype=np.float64)[None, :]
    out = _cost_to_reach_rows(_hits(v, target, direction), c)[0]
    return None if np.isinf(out) else float(out)


def boot_expected_best(
    values: np.ndarray,
    ks: Sequence[int],
    idx: np.ndarray,
    *,
    direction: str = "maximize",
    estimator: str = "tang",
) -> np.ndarray:
    """Expected best after each k in `ks`, on every resample: float array (R, len(ks)).

    Each row is `studies.expected_best` of ``values[idx[r]]`` (same estimator).
    """
    signed = np.sort(_sign(direction) * values[idx], axis=1)
    w = _weight_columns(values.size, ks, estimator)
    return _sign(direction) * (signed @ w)


def boot_expected_best_at_cost(
    sample: TrialSample,
    budgets: Sequence[float],
    idx: np.ndarray,
    *,
    direction: str = "maximize",
    estimator: str = "tang",
) -> np.ndarray:
    """Expected best at each budget, on every resample: float array (R, len(budgets)).

    As `studies.expected_best_at_cost` with the resample's mean cost per trial c*: a budget B
    buys k = B / c* trials, interpolated linearly between floor(k) and ceil(k). A resample
    whose mean cost puts k outside 1..N is clamped to the nearest end (the mean, or the best
    value of the resample), so every resample gives a number.
    """
    n = sample.values.size
    per_trial = sample.costs[idx].mean(axis=1)  # (R,)
    if np.any(per_trial <= 0):
        raise StudyError("a resample's trials cost nothing; costs must be > 0 on average")
    k = np.clip(np.asarray(budgets, dtype=np.float64)[None, :] / per_trial[:, None], 1.0, n)
    lo = np.floor(k).astype(np.int64)
    hi = np.minimum(lo + 1, n)
    frac = k - lo
    needed = np.unique(np.concatenate([lo.ravel(), hi.ravel()]))
    curve = boot_expected_best(
        sample.values, needed.tolist(), idx, direction=direction, estimator=estimator
    )  # (R, U)
    col_lo, col_hi = np.searchsorted(needed, lo), np.searchsorted(needed, hi)
    rows = np.arange(idx.shape[0])[:, None]
    return (1 - frac) * curve[rows, col_lo] + frac * curve[rows, col_hi]


def boot_cost_to_reach(
    sample: TrialSample, target: float, idx: np.ndarray, *, direction: str = "maximize"
) -> np.ndarray:
    """`cost_to_reach` of every resample: float array (R,), +inf where no trial of the
    resample reaches the target."""
    hits = _hits(sample.values[idx], target, direction)
    return _cost_to_reach_rows(hits, sample.costs[idx])


def boot_test_at_best(
    sample: TrialSample, idx: np.ndarray, *, direction: str = "maximize"
) -> np.ndarray:
    """Test value of the best validation trial of every resample: float array (R,).

    Ties go to the lowest trial number, as `studies.study_summary` picks the best trial; NaN
    where that trial has no test value.
    """
    # rank 0 = the best trial (ties: first in trial-number order, the order of `sample`)
    order = np.lexsort((np.arange(sample.values.size), -_sign(direction) * sample.values))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    best = order[rank[idx].min(axis=1)]
    return sample.tests[best]


def ratio_verdict(
    interval: tuple[float | None, float | None] | None, undefined: float
) -> tuple[bool, str]:
    """Whether the cost ratio B/A is conclusive, and what its 90 % interval says.

    The ratio r = (B's cost to reach the target) / (A's) is computed on paired resamples (an
    independent resample of A and of B each time); a study that does not reach the target in a
    resample costs +inf there (so r = 0 when only A fails, +inf when only B fails) and r is
    undefined when both fail. The rule:

    - INCONCLUSIVE when r is undefined in more than 10 % of the resamples (the target is out
      of reach of both too often to compare their costs), or
    - INCONCLUSIVE when the 90 % interval contains both 0.5 and 1.0: the data cannot tell
      "B halves the cost" (the claim of a 50 % smaller space) from "B saves nothing";
    - otherwise conclusive, and the interval places r: below 0.5, below 1, above 0.5 or
      above 1.

    Args:
        interval: (low, high) of r from `percentile_interval` (None bound: unbounded above),
            or None when no resample defines r.
        undefined: the share of resamples in which r is undefined.

    Returns:
        (conclusive, one sentence).

    Example:
        >>> ratio_verdict((0.3, 0.8), 0.0)
        (True, 'B reaches the target with fewer device-hours than A (ratio below 1).')
        >>> ratio_verdict((0.4, 1.3), 0.0)[0]
        False
    """
    if interval is None or undefined > MAX_UNDEFINED:
        return False, (
            f"neither study reaches the target in {100 * undefined:.0f}% of the resamples "
            f"(more than {100 * MAX_UNDEFINED:.0f}%), so their costs cannot be compared."
        )
    lo, hi = interval
    lo = 0.0 if lo is None else lo  # a lower bound is never unbounded (r >= 0)
    hi_ = np.inf if hi is None else hi
    if lo <= 0.5 and hi_ >= 1.0:
        return False, "the interval contains both 0.5 (B halves the cost) and 1 (no saving)."
    if hi_ < 0.5:
        return True, "B reaches the target for less than half the device-hours of A."
    if hi_ < 1.0:
        return True, "B reaches the target with fewer device-hours than A (ratio below 1)."
    if lo > 1.0:
        return True, "B needs more device-hours than A to reach the target (ratio above 1)."
    return True, "B does not halve A's device-hours to reach the target (ratio above 0.5)."


def boot_ratio(reps_a: np.ndarray, reps_b: np.ndarray) -> dict[str, Any]:
    """The cost ratio B/A over paired resamples of the costs to reach a target (+inf where a
    resample does not reach it; `boot_cost_to_reach`): r = B / A is 0 where only A fails,
    +inf where only B fails, undefined where both fail.

    Returns:
        ``interval`` (`percentile_interval` of r, or None), ``undefined_fraction``, and the
        verdict of `ratio_verdict`: ``conclusive``, ``says``.

    Example:
        >>> inf = np.inf
        >>> out = boot_ratio(np.array([1.0, 2.0, inf, inf]), np.array([0.5, inf, 1.0, inf]))
        >>> out["undefined_fraction"]
        0.25
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.asarray(reps_b, float) / np.asarray(reps_a, float)  # inf / inf is NaN
    undefined = float(np.mean(np.isnan(r)))
    iv = percentile_interval(r)
    conclusive, says = ratio_verdict(iv, undefined)
    return {
        "interval": None if iv is None else list(iv),
        "undefined_fraction": undefined,
        "conclusive": conclusive,
        "says": says,
    }


# ----------------------------------------------------------------------------- helpers


def _hits(values: np.ndarray, target: float, direction: str) -> np.ndarray:
    s = _sign(direction)
    return s * values >= s * target


def _cost_to_reach_rows(hits: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """The closed form of `cost_to_reach` for each row of (R, N) `hits` and `costs`."""
    n = hits.shape[1]
    m = hits.sum(axis=1)
    hit_cost = np.where(hits, costs, 0.0).sum(axis=1)
    miss_cost = costs.sum(axis=1) - hit_cost
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_hit = hit_cost / m
        mean_miss = np.where(m < n, miss_cost / np.maximum(n - m, 1), 0.0)
        out = mean_hit + (n - m) / (m + 1) * mean_miss
    return np.where(m > 0, out, np.inf)


def _weight_columns(n: int, ks: Sequence[int], estimator: str) -> np.ndarray:
    checked = check_estimator(estimator)
    return np.stack([expected_best_weights(n, int(k), checked) for k in ks], axis=1)


def _float_or_nan(xs: Sequence[float | None]) -> np.ndarray:
    return np.asarray([np.nan if x is None else float(x) for x in xs], dtype=np.float64)


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None
