"""The data types every task returns: `TaskInfo`, `Split` and `Dataset`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

__all__ = ["TaskInfo", "Split", "Dataset"]


#: Where a task's data comes from (`TaskInfo.source`).
Source = Literal["embedded", "uea", "synthetic", "ppg", "user"]
#: Whether a task's data is there (`TaskInfo.available`).
Available = Literal["embedded", "downloaded", "missing"]


@dataclass(frozen=True)
class TaskInfo:
    """What a task is, without loading its data.

    Attributes:
        name: canonical task name (lower case; synthetic tasks carry their length,
            e.g. ``"tone-freq@50000"``).
        kind: ``"classification"`` or ``"regression"``.
        metric: ``"accuracy"`` (a fraction in [0, 1], maximised) or ``"mse"`` (minimised).
        channels: input channels, without the optional time channel.
        classes: number of classes (classification) or outputs per step (regression).
        length: sequence length after padding (the longest case).
        cases: number of cases over train + val + test (after duplicate removal).
        source: ``"embedded"`` (offline, shipped in sktime/scikit-learn), ``"uea"``,
            ``"synthetic"``, ``"ppg"`` or ``"user"`` (a file given as ``--task PATH``).
        available: ``"embedded"`` (always there), ``"downloaded"`` (found under the data dir)
            or ``"missing"``.
        description: one line for ``ssmtune tasks list``.
    """

    name: str
    kind: Literal["classification", "regression"]
    metric: Literal["accuracy", "mse"]
    channels: int
    classes: int
    length: int
    cases: int
    source: Source
    available: Available
    description: str = ""

    @property
    def outputs(self) -> int:
        """Model output size: classes for classification, outputs per step for regression."""
        return self.classes

    @property
    def direction(self) -> Literal["maximize", "minimize"]:
        """Optimisation direction of the metric."""
        return "maximize" if self.metric == "accuracy" else "minimize"

    def to_dict(self) -> dict:
        """Plain dict (JSON-ready)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "metric": self.metric,
            "channels": self.channels,
            "classes": self.classes,
            "length": self.length,
            "cases": self.cases,
            "source": self.source,
            "available": self.available,
            "description": self.description,
        }


class Split(NamedTuple):
    """One part (train, val or test) of a task.

    Attributes:
        x: float32 ``(n, length, channels)``; padded steps are zero.
        y: classification: int32 ``(n,)`` class indices in ``[0, classes)``;
           regression: float32 ``(n, length, outputs)`` (zero where no target is defined).
        mask: bool ``(n, length)``, True on real steps, False on padding.
        target_mask: regression: bool ``(n, length)``, True where a target is defined;
           classification: None.
    """

    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    target_mask: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of cases."""
        return int(self.x.shape[0])

    def take(self, idx: np.ndarray) -> Split:
        """The cases at `idx` (an integer index array)."""
        return Split(
            self.x[idx],
            self.y[idx],
            self.mask[idx],
            None if self.target_mask is None else self.target_mask[idx],
        )


@dataclass(frozen=True)
class Dataset:
    """A task's data under one seed: its info and the train/val/test splits."""

    info: TaskInfo
    train: Split
    val: Split
    test: Split

    def sha256(self) -> str:
        """The SHA-256 of the arrays the splits hold (each array's dtype, shape and bytes, in
        the order train, val, test and x, y, mask, target mask): equal digests, equal data."""
        import hashlib

        digest = hashlib.sha256()
        for split in (self.train, self.val, self.test):
            for array in (split.x, split.y, split.mask, split.target_mask):
                if array is None:
                    digest.update(b"none")
                    continue
                array = np.ascontiguousarray(array)
                digest.update(f"{array.dtype.str}{array.shape}".encode())
                digest.update(array.tobytes())
        return digest.hexdigest()
