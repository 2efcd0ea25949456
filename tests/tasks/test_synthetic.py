"""Synthetic tasks: deterministic, the right lengths, and carrying the documented signal."""

from __future__ import annotations

import numpy as np
import pytest

from ssmtune import tasks
from ssmtune.tasks._registry import get
from ssmtune.tasks._synthetic import CASES, ToneFreq

SYNTHETIC = ["tone-freq", "recall", "running-mean", "delay", "digits-noise"]


@pytest.mark.parametrize("name", SYNTHETIC)
def test_deterministic_per_seed(name: str, data_dir) -> None:
    a = tasks.load(f"{name}@128", seed=5)
    b = tasks.load(f"{name}@128", seed=5)
    c = tasks.load(f"{name}@128", seed=6)
    for pa, pb in zip((a.train, a.val, a.test), (b.train, b.val, b.test), strict=True):
        np.testing.assert_array_equal(pa.x, pb.x)
        np.testing.assert_array_equal(pa.y, pb.y)
    assert not np.array_equal(a.test.x, c.test.x)
    assert a.train.x.shape[1] == 128


class _CountingRng:
    """A numpy Generator that counts the draws made from it (one per method call)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng, self.draws = rng, 0

    def __getattr__(self, name: str):
        method = getattr(self.rng, name)

        def draw(*args, **kwargs):
            self.draws += 1
            return method(*args, **kwargs)

        return draw


@pytest.mark.parametrize("name", SYNTHETIC)
def test_generated_in_one_vectorised_pass(name: str) -> None:
    """The draws do not grow with the length or the cases: no loop over steps or cases."""
    draws = []
    for length, n in ((128, 40), (4096, 400)):
        rng = _CountingRng(np.random.default_rng(0))
        split = get(f"{name}@{length}").generate(rng, n)
        assert split.x.shape[1] == length and split.x.dtype == np.float32
        draws.append(rng.draws)
    assert 1 <= draws[0] == draws[1] <= 3, draws


def test_length_50000_is_generated_once_when_loaded(data_dir, monkeypatch) -> None:
    calls = []
    generate = ToneFreq.generate

    def counted(self, rng, n):
        calls.append((self.length, n))
        return generate(self, rng, n)

    monkeypatch.setattr(ToneFreq, "generate", counted)
    assert tasks.info("tone-freq@50000").length == 50_000 and calls == []  # info draws nothing
    data = tasks.load("tone-freq@50000", seed=0)
    assert calls == [(50_000, CASES)]
    assert data.train.x.shape == (280, 50_000, 1) and data.info.length == 50_000
    assert data.train.x.dtype == np.float32  # 4 bytes a value: 56 MB for the train split


def _whole(data):
    return [
        np.concatenate([getattr(p, f) for p in (data.train, data.val, data.test)])
        for f in ("x", "y")
    ]


def test_tone_freq_signal(data_dir) -> None:
    """The class is the number of cycles (2..5): the FFT peak finds it."""
    x, y = _whole(tasks.load("tone-freq@1000", seed=0))
    spectrum = np.abs(np.fft.rfft(x[:, :, 0], axis=1))
    assert ((spectrum[:, 2:6].argmax(axis=1)) == y).mean() > 0.95


def test_recall_signal(data_dir) -> None:
    x, y = _whole(tasks.load("recall@5000", seed=0))
    assert (x[:, :8, 0] == 1).all() and (x[:, 8:, 0] == 0).all()
    np.testing.assert_allclose(x[:, 0, 1], (2 * y - 7) / 7, rtol=1e-6)
    assert abs(x[:, 8:, 1].std() - 1) < 0.01  # then only noise


def test_running_mean_target(data_dir) -> None:
    data = tasks.load("running-mean@300", seed=0)
    x, y = data.train.x[:, :, 0], data.train.y[:, :, 0]
    np.testing.assert_allclose(y, np.cumsum(x, axis=1) / np.arange(1, 301), atol=1e-4)
    assert data.train.target_mask.all()


def test_delay_target_and_mask(data_dir) -> None:
    data = tasks.load("delay@800", seed=0)
    x, y, tm = data.train.x[:, :, 0], data.train.y[:, :, 0], data.train.target_mask
    lag = 100
    assert (~tm[:, :lag]).all() and tm[:, lag:].all()
    np.testing.assert_array_equal(y[:, lag:], x[:, :-lag])


def test_digits(data_dir) -> None:
    from sklearn.datasets import load_digits

    seq = tasks.load("digits-seq", seed=0)
    noisy = tasks.load("digits-noise@500", seed=0)
    assert seq.info.cases == 1797 and seq.train.x.shape[1:] == (64, 1)
    np.testing.assert_array_equal(noisy.train.x[:, :64], seq.train.x)  # same split of the digits
    np.testing.assert_array_equal(noisy.train.y, seq.train.y)
    tail = noisy.train.x[:, 64:, 0]
    assert tail.shape[1] == 436 and 0 <= tail.min() and tail.max() < 1
    digits = load_digits()
    x, y = _whole(seq)
    assert sorted(map(tuple, x[:, :, 0] * 16)) == sorted(map(tuple, digits.data.astype(np.float32)))
