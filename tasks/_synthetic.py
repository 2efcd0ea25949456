"""Synthetic long-range tasks with a length parameter, and sequential digits.

Each synthetic task is named ``NAME@LENGTH`` (a bare name takes the default length), holds
`CASES` cases (400: 280 train / 60 val / 60 test) generated with numpy in one vectorised pass
when loaded (never at import or by `info`), and carries a signal a good model can learn. The
data of a task and length is fixed (generated from a seed derived from the name, like a real
data set); the run's seed then draws the random 70/15/15 split.

| task | kind | channels | out | signal |
|---|---|---|---|---|
| ``tone-freq`` | classification | 1 | 4 | frequency (2, 3, 4 or 5 cycles per sequence) of a unit sine with random phase under N(0, 1) noise |
| ``recall`` | classification | 2 | 8 | a token (one of 8 levels) shown on the first 8 steps, then only noise: recall it at the end |
| ``running-mean`` | regression | 1 | 1 | per step, the mean so far of a noisy level (x_t = mu + N(0, 1), mu ~ U(-1, 1)) |
| ``delay`` | regression | 1 | 1 | per step, the input L/8 steps ago; the input is a random band-limited signal (8 harmonics); targets from step L/8 on |
| ``digits-seq`` | classification | 1 | 10 | scikit-learn's 8x8 digits (1,797) read pixel by pixel (length 64, fixed) |
| ``digits-noise`` | classification | 1 | 10 | the same 64 pixels followed by U(0, 1) noise up to LENGTH (HOPE's padded-noise long-memory test) |

Memory: the arrays take about ``cases x LENGTH x channels x 4`` bytes (400 x 50,000 x 2 x 4 B =
160 MB for ``recall@50000``; digits-noise keeps all 1,797 digits: 360 MB at 50,000).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from ssmtune.tasks._base import CaseTask
from ssmtune.tasks._types import Split, TaskInfo

__all__ = [
    "CASES",
    "MAX_LENGTH",
    "SyntheticTask",
    "ToneFreq",
    "Recall",
    "RunningMean",
    "Delay",
    "DigitsSeq",
    "DigitsNoise",
]

#: Cases of each generated synthetic task (train + val + test).
CASES = 400
#: Longest length accepted through ``NAME@LENGTH``.
MAX_LENGTH = 1_000_000


@dataclass(frozen=True)
class SyntheticTask(CaseTask):
    """Base of the length-parametrised tasks; subclasses set the class variables and `generate`."""

    length: int

    base: ClassVar[str]
    kind: ClassVar[str] = "classification"
    channels: ClassVar[int] = 1
    classes: ClassVar[int]
    default_length: ClassVar[int]
    min_length: ClassVar[int] = 16
    description: ClassVar[str]

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.base}@{self.length}"

    @property
    def n_cases(self) -> int:
        return CASES

    def info(self, data_dir: Path) -> TaskInfo:
        regression = self.kind == "regression"
        return TaskInfo(
            name=self.name,
            kind="regression" if regression else "classification",
            metric="mse" if regression else "accuracy",
            channels=self.channels,
            classes=self.classes,
            length=self.length,
            cases=self.n_cases,
            source="synthetic",
            available="embedded",
            description=self.description,
        )

    def rng(self) -> np.random.Generator:
        """The generator of this task's data: fixed per name and length, independent of the run."""
        return np.random.default_rng([zlib.crc32(self.base.encode()), self.length])

    def generate(self, rng: np.random.Generator, n: int) -> Split:
        raise NotImplementedError

    def cases(self, data_dir: Path) -> Split:
        return self.generate(self.rng(), self.n_cases)


def _full_mask(n: int, length: int) -> np.ndarray:
    return np.ones((n, length), dtype=bool)


@dataclass(frozen=True)
class ToneFreq(SyntheticTask):
    """Classify the frequency of a noisy oscillation.

    ``x_t = sin(2 pi k t / L + phi) + N(0, 1)`` with ``k`` in {2, 3, 4, 5} cycles per sequence
    (the class) and a random phase; the period grows with L, so a long task needs long memory.
    """

    base: ClassVar[str] = "tone-freq"
    classes: ClassVar[int] = 4
    default_length: ClassVar[int] = 1_000
    description: ClassVar[str] = "frequency of a noisy sine (2-5 cycles per sequence)"

    def generate(self, rng: np.random.Generator, n: int) -> Split:
        y = rng.integers(0, self.classes, size=n).astype(np.int32)
        phase = rng.uniform(0.0, 2 * np.pi, size=(n, 1)).astype(np.float32)
        t = np.arange(self.length, dtype=np.float32)[None, :] / np.float32(self.length)
        cycles = (y + 2).astype(np.float32)[:, None]
        x = np.sin(np.float32(2 * np.pi) * cycles * t + phase)
        x += rng.standard_normal((n, self.length), dtype=np.float32)
        return Split(x[:, :, None], y, _full_mask(n, self.length), None)


@dataclass(frozen=True)
class Recall(SyntheticTask):
    """Recall a token shown at the start after a long stretch of noise.

    Channel 0 is a cue (1 on the first ``min(8, L // 4)`` steps, else 0); channel 1 holds the
    token's level ``(2k - 7) / 7`` (k in 0..7, the class) during the cue and N(0, 1) noise after.
    """

    base: ClassVar[str] = "recall"
    channels: ClassVar[int] = 2
    classes: ClassVar[int] = 8
    default_length: ClassVar[int] = 1_000
    description: ClassVar[str] = "token shown on the first steps, then noise"

    def generate(self, rng: np.random.Generator, n: int) -> Split:
        y = rng.integers(0, self.classes, size=n).astype(np.int32)
        cue = min(8, self.length // 4)
        x = np.empty((n, self.length, 2), dtype=np.float32)
        x[:, :, 0] = 0.0
        x[:, :cue, 0] = 1.0
        x[:, :, 1] = rng.standard_normal((n, self.length), dtype=np.float32)
        x[:, :cue, 1] = ((2 * y - (self.classes - 1)) / (self.classes - 1))[:, None]
        return Split(x, y, _full_mask(n, self.length), None)


@dataclass(frozen=True)
class RunningMean(SyntheticTask):
    """Regression: per step, the mean so far of a noisy constant level.

    ``x_t = mu + N(0, 1)`` with ``mu ~ U(-1, 1)`` per case; target ``y_t = mean(x_0..x_t)`` at
    every step (so it converges to ``mu``). Predicting 0 gives MSE ~ 1/3 + log(L)/L.
    """

    base: ClassVar[str] = "running-mean"
    kind: ClassVar[str] = "regression"
    classes: ClassVar[int] = 1
    default_length: ClassVar[int] = 1_000
    description: ClassVar[str] = "per-step running mean of a noisy level (MSE)"

    def generate(self, rng: np.random.Generator, n: int) -> Split:
        mu = rng.uniform(-1.0, 1.0, size=(n, 1)).astype(np.float32)
        x = mu + rng.standard_normal((n, self.length), dtype=np.float32)
        y = np.cumsum(x, axis=1, dtype=np.float64) / np.arange(1, self.length + 1)
        mask = _full_mask(n, self.length)
        return Split(x[:, :, None], y.astype(np.float32)[:, :, None], mask, mask.copy())


@dataclass(frozen=True)
class Delay(SyntheticTask):
    """Regression: reproduce the input delayed by ``L // 8`` steps.

    The input is ``sum_k a_k sin(2 pi k t / L + phi_k) / 2`` over the harmonics k = 1..8 with
    ``a_k ~ N(0, 1)`` (band-limited, so an oscillator bank can carry it over the delay);
    the target ``y_t = x_{t - L//8}`` is defined (target_mask True) from step ``L // 8`` on.
    """

    base: ClassVar[str] = "delay"
    kind: ClassVar[str] = "regression"
    classes: ClassVar[int] = 1
    default_length: ClassVar[int] = 1_000
    description: ClassVar[str] = "band-limited input delayed by L/8 steps (MSE)"

    def generate(self, rng: np.random.Generator, n: int) -> Split:
        harmonics = 8
        amp = rng.standard_normal((n, harmonics, 1)).astype(np.float32) / 2
        phase = rng.uniform(0.0, 2 * np.pi, size=(n, harmonics, 1)).astype(np.float32)
        t = np.arange(self.length, dtype=np.float32)[None, None, :] / np.float32(self.length)
        k = np.arange(1, harmonics + 1, dtype=np.float32)[None, :, None]
        x = np.zeros((n, self.length), dtype=np.float32)
        for h in range(harmonics):  # one harmonic at a time keeps memory at n x L
            x += amp[:, h] * np.sin(np.float32(2 * np.pi) * k[:, h] * t[:, 0] + phase[:, h])
        lag = max(1, self.length // 8)
        y = np.zeros_like(x)
        y[:, lag:] = x[:, :-lag]
        target_mask = np.zeros((n, self.length), dtype=bool)
        target_mask[:, lag:] = True
        return Split(x[:, :, None], y[:, :, None], _full_mask(n, self.length), target_mask)


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.data / 16.0).astype(np.float32), data.target.astype(np.int32)


@dataclass(frozen=True)
class DigitsNoise(SyntheticTask):
    """scikit-learn's 8x8 digits read pixel by pixel (scaled to [0, 1]), then U(0, 1) noise.

    The digit's 64 pixels come first and noise fills the sequence up to LENGTH, so the class
    must be remembered through ``LENGTH - 64`` steps of noise (the padded-noise long-memory test
    of the HOPE paper, Yu et al. 2024, on digits instead of CIFAR images).
    """

    base: ClassVar[str] = "digits-noise"
    classes: ClassVar[int] = 10
    default_length: ClassVar[int] = 1_024
    min_length: ClassVar[int] = 65
    description: ClassVar[str] = "8x8 digits pixel by pixel, then noise to the length"

    @property
    def n_cases(self) -> int:
        return 1_797

    def generate(self, rng: np.random.Generator, n: int) -> Split:
        pixels, y = _digits()
        x = np.empty((len(y), self.length, 1), dtype=np.float32)
        x[:, :64, 0] = pixels
        x[:, 64:, 0] = rng.random((len(y), self.length - 64), dtype=np.float32)
        return Split(x, y, _full_mask(len(y), self.length), None)


@dataclass(frozen=True)
class DigitsSeq(CaseTask):
    """scikit-learn's 8x8 digits (1,797 images, 10 classes) read pixel by pixel: length 64."""

    name: str = "digits-seq"

    def info(self, data_dir: Path) -> TaskInfo:
        return TaskInfo(
            self.name,
            "classification",
            "accuracy",
            1,
            10,
            64,
            1_797,
            "embedded",
            "embedded",
            "8x8 digits read pixel by pixel (scikit-learn, offline)",
        )

    def cases(self, data_dir: Path) -> Split:
        pixels, y = _digits()
        return Split(pixels[:, :, None], y, _full_mask(len(y), 64), None)
