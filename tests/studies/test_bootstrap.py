"""The bootstrap of `studies._bootstrap` against closed forms, brute force and the scalar
estimators it is built on."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from ssmtune.studies import (
    StudyError,
    TrialSample,
    boot_cost_to_reach,
    boot_expected_best,
    boot_expected_best_at_cost,
    boot_test_at_best,
    cost_to_reach,
    expected_best,
    expected_best_at_cost,
    percentile_interval,
    ratio_verdict,
    resample_indices,
)


def brute_force_cost(values, costs, target, direction="maximize"):
    """Mean over every order of the trials of the cost paid up to the first that reaches
    `target`; None when none does."""
    hit = [v >= target if direction == "maximize" else v <= target for v in values]
    if not any(hit):
        return None
    total, count = 0.0, 0
    for order in itertools.permutations(range(len(values))):
        for i in order:
            total += costs[i]
            if hit[i]:
                break
        count += 1
    return total / count


def _quantile_of_discrete(support, probs, q):
    """The q-quantile (inverse of the CDF) of a discrete distribution, and the distance of
    its CDF steps from q (how robust a Monte-Carlo estimate of it is)."""
    order = np.argsort(support)
    cdf = np.cumsum(np.asarray(probs)[order])
    j = int(np.searchsorted(cdf, q))
    return np.asarray(support)[order][j], float(np.min(np.abs(cdf - q)))


# ----------------------------------------------------------------------------- cost to reach


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cost_to_reach_equals_permutation_enumeration(n, seed):
    rng = np.random.default_rng(seed)
    values = rng.choice([0.5, 0.6, 0.7, 0.8, 0.9], size=n).tolist()  # ties on purpose
    costs = rng.uniform(0.1, 3.0, size=n).tolist()
    for target in (0.55, 0.75, 0.9, 0.95):
        want = brute_force_cost(values, costs, target)
        got = cost_to_reach(values, costs, target)
        if want is None:
            assert got is None
        else:
            assert got == pytest.approx(want, rel=1e-12)
    # a minimised metric reaches a target from below
    want = brute_force_cost(values, costs, 0.65, direction="minimize")
    got = cost_to_reach(values, costs, 0.65, direction="minimize")
    assert (got is None and want is None) or got == pytest.approx(want, rel=1e-12)


def test_cost_to_reach_with_equal_costs_is_the_first_success_position():
    # N = 9, M = 2: E[position of the first hit] = (N + 1) / (M + 1)
    values = [0.9, 0.1, 0.2, 0.3, 0.9, 0.4, 0.5, 0.6, 0.7]
    assert cost_to_reach(values, [2.0] * 9, 0.8) == pytest.approx(2.0 * 10 / 3)
    assert cost_to_reach(values, [2.0] * 9, 0.95) is None
    assert cost_to_reach(values, [2.0] * 9, 0.0) == pytest.approx(2.0)  # every trial hits


def test_boot_cost_to_reach_rows_are_the_closed_form_of_each_resample():
    rng = np.random.default_rng(5)
    s = TrialSample.of(rng.uniform(0.5, 0.9, 30), rng.uniform(0.2, 2.0, 30))
    idx = resample_indices(30, 50, np.random.default_rng(1))
    reps = boot_cost_to_reach(s, 0.85, idx)
    for r in range(50):
        want = cost_to_reach(s.values[idx[r]], s.costs[idx[r]], 0.85)
        assert (want is None and reps[r] == np.inf) or reps[r] == pytest.approx(want)


def test_reached_fraction_and_interval_of_cost_match_the_binomial_closed_form():
    # equal costs c: a resample with M* hits costs c (N + 1) / (M* + 1), M* ~ Binomial(N, M / N)
    n, m, c, resamples = 12, 2, 0.5, 40_000
    values = [0.9] * m + [0.5] * (n - m)
    s = TrialSample.of(values, [c] * n)
    reps = boot_cost_to_reach(s, 0.8, resample_indices(n, resamples, np.random.default_rng(0)))
    p = m / n
    pmf = [math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(n + 1)]
    reached = 1 - pmf[0]
    se = math.sqrt(reached * (1 - reached) / resamples)
    assert np.mean(np.isfinite(reps)) == pytest.approx(reached, abs=4 * se)
    support = [np.inf] + [c * (n + 1) / (j + 1) for j in range(1, n + 1)]
    lo, hi = percentile_interval(reps)
    want_lo, margin_lo = _quantile_of_discrete(support, pmf, 0.05)
    want_hi, margin_hi = _quantile_of_discrete(support, pmf, 0.95)
    assert min(margin_lo, margin_hi) > 0.01  # far from a step: the Monte-Carlo error is ~0.002
    assert lo == pytest.approx(want_lo)
    assert (hi is None and want_hi == np.inf) or hi == pytest.approx(want_hi)
    assert want_hi == np.inf and hi is None  # P(M* = 0) = 0.112 > 5 %: unbounded above


# ----------------------------------------------------------------------------- expected best


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
@pytest.mark.parametrize("estimator", ["tang", "dodge"])
def test_boot_expected_best_rows_are_the_estimator_of_each_resample(direction, estimator):
    rng = np.random.default_rng(2)
    values = rng.uniform(0.05, 0.9, 25)
    ks = [1, 3, 10, 25]
    idx = resample_indices(25, 20, np.random.default_rng(3))
    reps = boot_expected_best(values, ks, idx, direction=direction, estimator=estimator)
    for r in range(20):
        for j, k in enumerate(ks):
            want = expected_best(values[idx[r]], k, direction=direction, estimator=estimator)
            assert reps[r, j] == pytest.approx(want, rel=1e-12)


def test_k_equal_n_follows_the_order_statistics_of_the_resample_maximum():
    # Tang's estimate at k = N is the resample's maximum, and P(max of N draws <= v_(i)) =
    # (i/N)^N: the replicates' distribution, mean and percentiles are known exactly
    values = np.array([0.61, 0.52, 0.9, 0.77, 0.7, 0.83, 0.58, 0.66])
    n, resamples = values.size, 40_000
    reps = boot_expected_best(
        values, [n], resample_indices(n, resamples, np.random.default_rng(0))
    )[:, 0]
    v = np.sort(values)
    i = np.arange(1, n + 1)
    probs = (i / n) ** n - ((i - 1) / n) ** n
    for vi, pi in zip(v, probs, strict=True):
        se = math.sqrt(pi * (1 - pi) / resamples)
        assert np.mean(reps == vi) == pytest.approx(pi, abs=4 * se)
    # the mean of the bootstrap maxima is Dodge et al.'s estimator at k = N
    assert reps.mean() == pytest.approx(expected_best(values, n, estimator="dodge"), abs=0.002)
    want_lo, margin_lo = _quantile_of_discrete(v, probs, 0.05)
    want_hi, margin_hi = _quantile_of_discrete(v, probs, 0.95)
    assert min(margin_lo, margin_hi) > 0.01
    assert percentile_interval(reps) == pytest.approx((want_lo, want_hi))


def test_k1_replicates_are_resample_means_with_the_bootstrap_variance():
    rng = np.random.default_rng(4)
    values = rng.uniform(0.4, 0.9, 40)
    idx = resample_indices(40, 20_000, np.random.default_rng(1))
    reps = boot_expected_best(values, [1], idx)[:, 0]
    assert reps == pytest.approx(values[idx].mean(axis=1))
    # Var*(mean of N draws with replacement) = (population variance, divisor N) / N
    assert reps.std() == pytest.approx(values.std() / math.sqrt(40), rel=0.03)
    assert reps.mean() == pytest.approx(values.mean(), abs=3 * values.std() / math.sqrt(40 * 2e4))


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_at_cost_rows_are_the_scalar_estimator_at_the_resample_mean_cost(direction):
    rng = np.random.default_rng(6)
    s = TrialSample.of(rng.uniform(0.05, 0.9, 20), rng.uniform(0.5, 1.5, 20))
    budgets = [1.0, 2.5, 7.0, 15.0]
    idx = resample_indices(20, 30, np.random.default_rng(2))
    reps = boot_expected_best_at_cost(s, budgets, idx, direction=direction)
    checked = 0
    for r in range(30):
        c = s.costs[idx[r]].mean()
        want = expected_best_at_cost(s.values[idx[r]], c, budgets, direction=direction)
        for j, b in enumerate(budgets):
            if want[b] is not None:  # outside 1..N trials the bootstrap clamps
                assert reps[r, j] == pytest.approx(want[b], rel=1e-12)
                checked += 1
            else:
                k = 1 if b / c < 1 else 20
                clamped = expected_best(s.values[idx[r]], k, direction=direction)
                assert reps[r, j] == pytest.approx(clamped, rel=1e-12)
    assert checked > 60


# ----------------------------------------------------------------------------- test at best


def test_test_at_best_follows_the_resample_maximum():
    values = [0.61, 0.52, 0.9, 0.77, 0.7]
    tests = [0.6, 0.5, 0.85, 0.75, None]
    s = TrialSample.of(values, [1.0] * 5, tests)
    resamples = 40_000
    reps = boot_test_at_best(s, resample_indices(5, resamples, np.random.default_rng(0)))
    # the resample's best is v_(i) with probability (i/N)^N - ((i-1)/N)^N
    order = np.argsort(values)
    i = np.arange(1, 6)
    probs = (i / 5) ** 5 - ((i - 1) / 5) ** 5
    t = s.tests[order]
    assert np.mean(np.isnan(reps)) == pytest.approx(probs[np.isnan(t)].sum(), abs=0.01)
    has = ~np.isnan(t)
    assert np.nanmean(reps) == pytest.approx(
        np.dot(t[has], probs[has]) / probs[has].sum(), abs=0.003
    )


def test_test_at_best_ties_go_to_the_first_trial():
    s = TrialSample.of([0.8, 0.9, 0.9, 0.1], [1.0] * 4, [0.1, 0.2, 0.3, 0.4])
    idx = np.array([[2, 1, 3, 3], [2, 2, 0, 3], [3, 3, 3, 3], [0, 3, 0, 0]])
    assert boot_test_at_best(s, idx).tolist() == [0.2, 0.3, 0.4, 0.1]
    s_min = TrialSample.of([0.3, 0.1, 0.1], [1.0] * 3, [1.0, 2.0, 3.0])
    got = boot_test_at_best(s_min, np.array([[2, 1, 0]]), direction="minimize")
    assert got.tolist() == [2.0]


# ----------------------------------------------------------------------------- intervals, rule


def test_resamples_are_seeded():
    a = resample_indices(10, 100, np.random.default_rng(7))
    b = resample_indices(10, 100, np.random.default_rng(7))
    c = resample_indices(10, 100, np.random.default_rng(8))
    assert a.shape == (100, 10) and (a == b).all() and not (a == c).all()
    assert a.min() >= 0 and a.max() <= 9
    with pytest.raises(StudyError, match="resamples must be an integer >= 1"):
        resample_indices(10, 0, np.random.default_rng(0))
    with pytest.raises(StudyError, match="no complete trials"):
        resample_indices(0, 10, np.random.default_rng(0))


def test_percentile_interval_is_the_inverse_empirical_cdf():
    assert percentile_interval(np.arange(1.0, 101.0)) == (5.0, 95.0)
    assert percentile_interval(np.arange(1.0, 21.0)) == (1.0, 19.0)
    # NaN (undefined) replicates are left out; an infinite bound is None (unbounded)
    x = np.array([np.nan] * 50 + list(range(1, 91)) + [np.inf] * 10, dtype=float)
    assert percentile_interval(x) == (5.0, None)
    assert percentile_interval(np.array([np.nan, np.nan])) is None


@pytest.mark.parametrize(
    "interval, undefined, conclusive, says",
    [
        ((0.3, 0.8), 0.0, True, "fewer device-hours than A"),
        ((0.1, 0.45), 0.05, True, "less than half"),
        ((0.0, 0.0), 0.10, True, "less than half"),  # A never reaches it, B does
        ((0.6, 1.4), 0.0, True, "does not halve"),
        ((1.2, None), 0.0, True, "more device-hours than A"),
        ((0.5, 1.0), 0.0, False, "contains both 0.5"),
        ((0.3, 1.3), 0.0, False, "contains both 0.5"),
        ((0.0, None), 0.0, False, "contains both 0.5"),
        ((0.3, 0.8), 0.11, False, "neither study reaches the target in 11%"),
        (None, 1.0, False, "neither study reaches the target in 100%"),
    ],
)
def test_ratio_verdict_rule(interval, undefined, conclusive, says):
    got, text = ratio_verdict(interval, undefined)
    assert got is conclusive
    assert says in text


def test_trial_sample_checks_its_input():
    s = TrialSample.of([0.5, 0.6], [1.0, 2.0], [None, 0.4])
    assert np.isnan(s.tests[0]) and s.tests[1] == 0.4
    with pytest.raises(StudyError, match="one length"):
        TrialSample.of([0.5, 0.6], [1.0])
    with pytest.raises(StudyError, match="finite"):
        TrialSample.of([0.5, float("nan")], [1.0, 1.0])
    with pytest.raises(StudyError, match="costs finite and >= 0"):
        TrialSample.of([0.5, 0.6], [1.0, -1.0])


def test_boot_ratio_is_zero_where_only_a_fails_and_undefined_where_both_do() -> None:
    """r = B / A per paired resample: 0 where only A misses the target (B is cheaper than an
    A that never gets there), +inf where only B misses, undefined where both do. (The SCP1
    benchmark's pooled ratio once counted 'only A misses' as +inf.)"""
    import numpy as np

    from ssmtune.studies import boot_ratio

    inf = np.inf
    only_a_fails = boot_ratio(np.full(100, inf), np.linspace(0.1, 0.2, 100))
    assert only_a_fails["interval"] == [0.0, 0.0] and only_a_fails["undefined_fraction"] == 0
    only_b_fails = boot_ratio(np.linspace(0.1, 0.2, 100), np.full(100, inf))
    assert only_b_fails["interval"][0] is None or only_b_fails["interval"][0] == inf
    a = np.array([1.0] * 80 + [inf] * 20)
    b = np.array([0.5] * 80 + [inf] * 10 + [0.3] * 10)
    mixed = boot_ratio(a, b)
    assert mixed["undefined_fraction"] == pytest.approx(0.10)
    assert mixed["interval"] == [0.0, 0.5] and mixed["conclusive"] is True  # below 1
