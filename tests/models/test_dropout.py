"""Dropout's keep mask (models/_backbone.py): two 16-bit draws per random word."""

import jax
import numpy as np
import pytest

from ssmtune.models._backbone import _dropout, _keep_mask


@pytest.mark.parametrize("rate", [0.05, 0.1, 0.3, 0.5])
def test_keep_mask_keeps_one_minus_rate(rate):
    keep = np.asarray(_keep_mask(jax.random.key(0), rate, (64, 101, 33)))  # an odd size
    assert keep.shape == (64, 101, 33) and keep.dtype == bool
    # 213,312 draws: 4 standard deviations are below 0.005
    assert abs(keep.mean() - (1 - rate)) < 0.005


def test_keep_mask_halves_are_not_copies():
    keep = np.asarray(_keep_mask(jax.random.key(1), 0.5, (2, 1000))).reshape(-1)
    first, second = keep[: keep.size // 2], keep[keep.size // 2 :]
    assert 0.4 < (first == second).mean() < 0.6  # independent halves agree half the time


def test_dropout_scales_the_kept_units_and_depends_on_the_key():
    x = jax.numpy.ones((8, 50, 16), np.float32)
    a = np.asarray(_dropout(x, 0.25, jax.random.key(2), inference=False))
    b = np.asarray(_dropout(x, 0.25, jax.random.key(3), inference=False))
    assert set(np.unique(a)) == {0.0, np.float32(1 / 0.75)}
    assert (a != b).any()
    assert (np.asarray(_dropout(x, 0.25, None, inference=True)) == np.asarray(x)).all()
