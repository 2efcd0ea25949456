"""The abstract task: what every entry of the registry implements."""

from __future__ import annotations

import abc
from pathlib import Path

import numpy as np

from ssmtune.tasks._prep import random_split
from ssmtune.tasks._types import Split, TaskInfo

__all__ = ["Task", "CaseTask"]


class Task(abc.ABC):
    """A named task. Implementations are final; the registry (`tasks._registry`) holds them."""

    #: canonical (lower-case) name, including ``@LENGTH`` for length-parametrised tasks
    name: str

    @abc.abstractmethod
    def info(self, data_dir: Path) -> TaskInfo:
        """What the task is, without loading its data (cheap)."""

    @abc.abstractmethod
    def splits(self, *, seed: int, data_dir: Path) -> tuple[Split, Split, Split]:
        """The seed's train, val and test splits (without the time channel)."""


class CaseTask(Task):
    """A task whose data is a pool of cases, split at random 70/15/15 by the seed."""

    @abc.abstractmethod
    def cases(self, data_dir: Path) -> Split:
        """Every case (train + val + test) in a fixed order."""

    def splits(self, *, seed: int, data_dir: Path) -> tuple[Split, Split, Split]:
        every = self.cases(data_dir)
        train, val, test = random_split(every.n, seed=seed)
        return every.take(np.sort(train)), every.take(np.sort(val)), every.take(np.sort(test))
