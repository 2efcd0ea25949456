"""The expected-best estimators against hand-computed cases and brute force."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from ssmtune.studies import (
    StudyError,
    dodge_weights,
    expected_best,
    expected_best_at_cost,
    expected_best_curve,
    tang_weights,
    trials_to_within,
)

VALUES = [0.5, 0.9, 0.7, 0.6, 0.8]


def brute_force_max(values, k, pick=max):
    """Mean of the best over every k-subset: Tang et al.'s estimand, by enumeration."""
    subsets = list(itertools.combinations(values, k))
    return sum(pick(s) for s in subsets) / len(subsets)


def test_k1_is_the_mean_and_kN_the_max():
    assert expected_best(VALUES, 1) == pytest.approx(np.mean(VALUES))
    assert expected_best(VALUES, len(VALUES)) == pytest.approx(max(VALUES))


def test_hand_computed_case():
    # sorted 1, 2, 3, 4; k = 2: weights C(i-1, 1) / C(4, 2) = 0, 1/6, 2/6, 3/6
    assert tang_weights(4, 2) == pytest.approx([0, 1 / 6, 2 / 6, 3 / 6])
    assert expected_best([4.0, 1.0, 3.0, 2.0], 2) == pytest.approx((2 + 6 + 12) / 6)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_tang_equals_enumeration_with_ties(k):
    values = [0.5, 0.7, 0.7, 0.9, 0.6]
    assert expected_best(values, k) == pytest.approx(brute_force_max(values, k))


@pytest.mark.parametrize("k", [1, 2, 4, 5])
def test_minimised_metric_uses_minima(k):
    values = [0.08, 0.07, 0.12, 0.065, 0.09]
    got = expected_best(values, k, direction="minimize")
    assert got == pytest.approx(brute_force_max(values, k, pick=min))
    assert expected_best(values, 1, direction="minimize") == pytest.approx(np.mean(values))
    assert expected_best(values, 5, direction="minimize") == pytest.approx(0.065)


def test_dodge_hand_computed():
    # two values, k = 2 with replacement: P(max = low) = 1/4, P(max = high) = 3/4
    assert dodge_weights(2, 2) == pytest.approx([0.25, 0.75])
    assert expected_best([1.0, 3.0], 2, estimator="dodge") == pytest.approx(2.5)
    # k = 1 is the mean for both estimators; k = N is below the max for Dodge (with replacement)
    assert expected_best(VALUES, 1, estimator="dodge") == pytest.approx(np.mean(VALUES))
    assert expected_best(VALUES, 5, estimator="dodge") < max(VALUES)
    # minimised: E[min of 2 of {1, 3}] with replacement = 1 * 3/4 + 3 * 1/4
    got = expected_best([1.0, 3.0], 2, direction="minimize", estimator="dodge")
    assert got == pytest.approx(1.5)


@pytest.mark.parametrize("n,k", [(1, 1), (7, 3), (60, 20), (200, 50), (200, 199)])
def test_tang_weights_match_exact_binomials(n, k):
    exact = [Fraction(math.comb(i - 1, k - 1), math.comb(n, k)) for i in range(1, n + 1)]
    w = tang_weights(n, k)
    assert w == pytest.approx([float(f) for f in exact], rel=1e-9, abs=1e-300)
    assert w.sum() == pytest.approx(1.0)


def test_large_n_is_stable():
    rng = np.random.default_rng(0)
    values = rng.uniform(0.3, 0.9, size=20_000)
    curve = expected_best_curve(values, [1, 10, 1000, 20_000])
    assert curve[1] == pytest.approx(values.mean())
    assert curve[20_000] == pytest.approx(values.max())
    assert curve[1] < curve[10] < curve[1000] <= curve[20_000]
    assert all(math.isfinite(v) for v in curve.values())
    assert dodge_weights(20_000, 50).sum() == pytest.approx(1.0)


def test_curve_leaves_out_k_above_n():
    assert set(expected_best_curve(VALUES, [1, 5, 10, 20, 50])) == {1, 5}


@pytest.mark.parametrize("k", [0, 6, 2.5, -1])
def test_k_out_of_range_is_an_error(k):
    with pytest.raises(StudyError, match=r"allowed k is an integer 1\.\.5"):
        expected_best(VALUES, k)


def test_bad_input_is_an_error():
    with pytest.raises(StudyError, match="no finished trials"):
        expected_best([], 1)
    with pytest.raises(StudyError, match="allowed: tang, dodge"):
        expected_best(VALUES, 1, estimator="bootstrap")
    with pytest.raises(StudyError, match="allowed: maximize, minimize"):
        expected_best(VALUES, 1, direction="max")
    with pytest.raises(StudyError, match="finite"):
        expected_best([0.5, float("nan")], 1)


def test_expected_best_at_cost_interpolates_and_bounds():
    # 3 trials of 2 hours each: 2 h buys 1 trial (the mean), 6 h all three (the max)
    got = expected_best_at_cost([1.0, 2.0, 3.0], 2.0, [1.0, 2.0, 4.0, 5.0, 6.0, 7.0])
    e2 = expected_best([1.0, 2.0, 3.0], 2)
    assert got[1.0] is None and got[7.0] is None
    assert got[2.0] == pytest.approx(2.0)
    assert got[4.0] == pytest.approx(e2)
    assert got[5.0] == pytest.approx((e2 + 3.0) / 2)
    assert got[6.0] == pytest.approx(3.0)
    with pytest.raises(StudyError, match="cost per trial"):
        expected_best_at_cost([1.0], 0.0, [1.0])


def test_trials_to_within():
    # every 3 of these contain a 0.9: exact at k = 3 although N = 4
    assert trials_to_within([0.5, 0.8, 0.9, 0.9], 0.0) == 3
    assert trials_to_within([0.5, 0.8, 0.85, 0.9], 0.0) == 4
    values = [0.5, 0.8, 0.9, 0.9]
    assert trials_to_within(values, 0.05) == 2  # E[max of 2] = 0.8833
    assert trials_to_within(values, 0.2) == 1  # mean 0.775
    # minimised: E[min of 2 of {0.065, 0.07, 0.5}] = (0.065 + 0.065 + 0.07) / 3 = 0.0667
    assert trials_to_within([0.065, 0.07, 0.5], 0.01, direction="minimize") == 2
    assert trials_to_within([0.065, 0.07, 0.5], 0.001, direction="minimize") == 3
    with pytest.raises(StudyError, match="tolerance"):
        trials_to_within(values, -1)
