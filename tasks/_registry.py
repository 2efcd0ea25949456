"""The one registry of tasks: `names`, `info` and `load`.

Names are case-insensitive. Besides the registered names:

- ``NAME@LENGTH`` gives a synthetic task at that length (``tone-freq@50000``);
- ``uea:NAME`` names any dataset of the UEA archive (``uea:ArticularyWordRecognition``);
  a plain ``NAME`` works too when that dataset is unpacked under the data dir.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

from ssmtune.tasks._base import Task
from ssmtune.tasks._errors import TaskError
from ssmtune.tasks._ppg import PPGTask
from ssmtune.tasks._prep import add_time, resolve_data_dir
from ssmtune.tasks._synthetic import (
    MAX_LENGTH,
    Delay,
    DigitsNoise,
    DigitsSeq,
    Recall,
    RunningMean,
    SyntheticTask,
    ToneFreq,
)
from ssmtune.tasks._types import Dataset, TaskInfo
from ssmtune.tasks._uea import (
    EMBEDDED,
    LONG_RANGE,
    WHEEL_EXTRA,
    EmbeddedTask,
    UEATask,
    archive_datasets,
)
from ssmtune.tasks._user import user_task

__all__ = ["names", "info", "load", "get", "data_identity"]

_SYNTHETIC: dict[str, type[SyntheticTask]] = {
    cls.base: cls for cls in (ToneFreq, Recall, RunningMean, Delay, DigitsNoise)
}

_FIXED: dict[str, Callable[[], Task]] = {
    **{n.lower(): partial(EmbeddedTask, n.lower(), n, EMBEDDED[n]) for n in EMBEDDED},
    **{n.lower(): partial(UEATask, n.lower(), n, LONG_RANGE[n]) for n in LONG_RANGE},
    **{n.lower(): partial(UEATask, n.lower(), n, WHEEL_EXTRA[n]) for n in WHEEL_EXTRA},
    "digits-seq": DigitsSeq,
    "ppg-dalia": PPGTask,
}


def names() -> list[str]:
    """Every registered task name (lower case; synthetic tasks without ``@LENGTH``).

    Example:
        >>> "basicmotions" in names()
        True
    """
    return [*_FIXED, *_SYNTHETIC]


def _unknown(name: str) -> TaskError:
    return TaskError(
        f"unknown task {name!r}; known tasks: {', '.join(names())} "
        "(synthetic ones take NAME@LENGTH; any UEA archive dataset: uea:NAME)"
    )


def get(name: str, data_dir: Path | None = None) -> Task:
    """The task called `name` (case-insensitive), or the user's data file `name` is a path to.

    Raises:
        TaskError: unknown name, a bad ``@LENGTH``, or a path that is not a data file.
    """
    if not isinstance(name, str) or not name.strip():
        raise _unknown(str(name))
    user = user_task(name, reserved=names())  # a path: the user's own data (tasks._user)
    if user is not None:
        return user
    key = name.strip().lower()
    if "@" in key:
        base, _, length_text = key.partition("@")
        if base not in _SYNTHETIC:
            if base in _FIXED:
                raise TaskError(
                    f"task {base!r} has a fixed length; only the synthetic tasks take @LENGTH: "
                    f"{', '.join(_SYNTHETIC)}"
                )
            raise _unknown(name)
        cls = _SYNTHETIC[base]
        if not re.fullmatch(r"[0-9]+", length_text.replace("_", "")):
            raise TaskError(f"bad length in {name!r}: LENGTH must be a whole number of steps")
        length = int(length_text.replace("_", ""))
        if not cls.min_length <= length <= MAX_LENGTH:
            raise TaskError(
                f"bad length in {name!r}: {base} takes {cls.min_length} to {MAX_LENGTH:,} steps"
            )
        return cls(length)
    if key in _SYNTHETIC:
        cls = _SYNTHETIC[key]
        return cls(cls.default_length)
    if key in _FIXED:
        return _FIXED[key]()
    if key.startswith("uea:"):
        dataset = name.strip()[4:]
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", dataset):
            raise TaskError(f"bad UEA dataset name {dataset!r}: letters, digits, '_' and '-' only")
        return UEATask(key, dataset)
    for dataset in archive_datasets(resolve_data_dir(data_dir)):
        if dataset.lower() == key:
            return UEATask(key, dataset)
    raise _unknown(name)


def data_identity(name: str) -> dict | None:
    """`UserTask.identity` of the data file `name` names; None for a registered task.

    Here rather than in `tasks._user`, which would need the registry's `names` for it: the
    registry builds on `tasks._user`, not the other way round.
    """
    task = user_task(name, reserved=names())
    return None if task is None else task.identity()


def info(name: str, *, data_dir: str | os.PathLike | None = None) -> TaskInfo:
    """What task `name` is: kind, metric, channels, classes, length, cases, availability.

    Cheap: nothing is generated; registered UEA tasks report the archive's published figures
    (Bagnall et al. 2018, after duplicate removal) whether or not they are downloaded.

    Args:
        name: task name, case-insensitive (see `names`; ``NAME@LENGTH``; ``uea:NAME``).
        data_dir: the data dir (default ``$SSMTUNE_DATA`` or ``~/.cache/ssmtune/data``).

    Raises:
        TaskError: unknown task (the message lists the known ones).

    Example:
        >>> info("tone-freq@50000").length
        50000
    """
    dd = resolve_data_dir(data_dir)
    return get(name, dd).info(dd)


def load(
    name: str,
    *,
    seed: int,
    include_time: bool = False,
    data_dir: str | os.PathLike | None = None,
) -> Dataset:
    """Load task `name` and split it for `seed`.

    Args:
        name: task name, case-insensitive.
        seed: determines the 70/15/15 split (and nothing else of the data).
        include_time: prepend the channel ``t / L`` (channel 0; zero on padding). `Dataset.info`
            still reports the channels without it.
        data_dir: the data dir (default ``$SSMTUNE_DATA`` or ``~/.cache/ssmtune/data``); the
            UEA archive is looked for under ``<data_dir>/uea/`` and processed arrays are cached
            under ``<data_dir>/cache/``.

    Returns:
        `Dataset` with `info` and the `train`, `val`, `test` `Split`s.

    Raises:
        TaskError: unknown task, data not downloaded (the message gives the download command),
            a corrupt or truncated data file (the message names it).

    Example:
        >>> data = load("basicmotions", seed=2345)
        >>> data.train.x.shape, data.val.x.shape, data.test.x.shape
        ((56, 100, 6), (12, 100, 6), (12, 100, 6))
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TaskError(f"seed must be an integer, got {seed!r}")
    if seed < 0:
        raise TaskError(f"seed must be a non-negative integer, got {seed}")
    dd = resolve_data_dir(data_dir)
    task = get(name, dd)
    task_info = task.info(dd)
    train, val, test = task.splits(seed=seed, data_dir=dd)
    measured = (train.x.shape[1], train.x.shape[2], train.n + val.n + test.n)
    if measured != (task_info.length, task_info.channels, task_info.cases):
        task_info = replace(task_info, length=measured[0], channels=measured[1], cases=measured[2])
    if include_time:
        train, val, test = add_time(train), add_time(val), add_time(test)
    return Dataset(task_info, train, val, test)
