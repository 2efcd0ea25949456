"""Finding studies in a storage by name, task and model, and reading their trials' figures.

Every answer (`best`, `report`, `compare`) starts here, so a study run anywhere — on this
machine, a cluster, another user's PostgreSQL — is read the same way: only through Optuna's
storage and the user attributes of the contract (`task`, `model`, `space`, ... on the study;
`wall_s`, `device_s`, `test`, `status`, ... on trials).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from ssmtune.studies._bootstrap import TrialSample
from ssmtune.studies._cost import study_cost_s, trial_cost_s
from ssmtune.studies._errors import StudyError
from ssmtune.studies._expected import Direction

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

__all__ = [
    "reading_storage",
    "load_studies",
    "metric_of",
    "complete_trials",
    "trial_device_s",
    "study_counts",
    "study_device_s",
    "study_wall_s",
    "trial_sample",
    "value_of",
]


def reading_storage(storage: str | BaseStorage) -> BaseStorage:
    """An Optuna storage to read studies from: `storage` itself, or the URL opened.

    URLs go through the study worker's `studies._storage.open_storage` (URL checks, SQLite WAL,
    PostgreSQL options); reading a SQLite file that does not exist is an error, not a silent
    new empty database.
    """
    from optuna.storages import BaseStorage

    from ssmtune.studies._storage import open_storage

    if isinstance(storage, BaseStorage):
        return storage
    return open_storage(storage, create=False)


def load_studies(
    storage: str | BaseStorage,
    *,
    task: str | Iterable[str] | None = None,
    model: str | Iterable[str] | None = None,
    study: str | Iterable[str] | None = None,
) -> list[optuna.Study]:
    """The studies in `storage` matching every filter given, sorted by (task, name).

    Tasks and models match case-insensitively. An unknown study name, a task or model with no
    studies, or an empty storage raises `StudyError` naming what exists.
    """
    import optuna

    st = reading_storage(storage)
    summaries = st.get_all_studies()
    if not summaries:
        raise StudyError("the storage holds no studies; run `ssmtune study start` first")
    by_name = {s.study_name: s for s in summaries}
    names = list(by_name)
    if study is not None:
        wanted = [study] if isinstance(study, str) else list(study)
        unknown = [n for n in wanted if n not in by_name]
        if unknown:
            raise StudyError(
                f"unknown study {unknown[0]!r}; studies in this storage: {', '.join(sorted(names))}"
            )
        names = wanted
    selected = [by_name[n] for n in names]
    for attr, want in (("task", task), ("model", model)):
        if want is None:
            continue
        asked = {w.lower() for w in ([want] if isinstance(want, str) else want)}
        have = sorted({str(s.user_attrs.get(attr)) for s in selected if s.user_attrs.get(attr)})
        missing = sorted(w for w in asked if w not in {h.lower() for h in have})
        if missing:
            raise StudyError(
                f"no studies for {attr} {missing[0]!r}; {attr}s with studies: "
                f"{', '.join(have) or 'none'}"
            )
        selected = [s for s in selected if str(s.user_attrs.get(attr, "")).lower() in asked]
    loaded = [optuna.load_study(study_name=s.study_name, storage=st) for s in selected]
    for s in loaded:
        if len(s.directions) != 1:
            raise StudyError(
                f"study {s.study_name!r} has {len(s.directions)} objectives; "
                "ssmtune reports single-objective studies only"
            )
    return sorted(loaded, key=lambda s: (str(s.user_attrs.get("task", "")), s.study_name))


def metric_of(study: optuna.Study) -> str:
    """ "accuracy" for a maximised study, "mse" for a minimised one (the contract's rule)."""
    from optuna.study import StudyDirection

    return "accuracy" if study.direction == StudyDirection.MAXIMIZE else "mse"


def direction_of(study: optuna.Study) -> Direction:
    """ "maximize" or "minimize"."""
    return "maximize" if metric_of(study) == "accuracy" else "minimize"


def complete_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The COMPLETE trials with a finite value, in trial-number order."""
    import math

    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return [t for t in trials if t.value is not None and math.isfinite(t.value)]


def value_of(trial: FrozenTrial) -> float:
    """The value of a trial of `complete_trials` (each has a finite one)."""
    if trial.value is None:
        raise ValueError(f"trial {trial.number} has no value: not one of complete_trials")
    return trial.value


def trial_device_s(trial: FrozenTrial) -> float:
    """Device-seconds of a trial, as `ssmtune study status` counts them (`studies._cost`):
    its `device_s` attribute, else its duration; a running trial, the time since it started."""
    return trial_cost_s(trial)


def study_counts(study: optuna.Study) -> dict[str, int]:
    """Trials per state: complete, pruned, fail, running (running + waiting)."""
    from optuna.trial import TrialState

    counts = {"complete": 0, "pruned": 0, "fail": 0, "running": 0}
    for t in study.get_trials(deepcopy=False):
        if t.state == TrialState.COMPLETE:
            counts["complete"] += 1
        elif t.state == TrialState.PRUNED:
            counts["pruned"] += 1
        elif t.state == TrialState.FAIL:
            counts["fail"] += 1
        else:
            counts["running"] += 1
    return counts


def study_device_s(study: optuna.Study) -> float:
    """Device-seconds spent by every trial of the study (complete, pruned and failed alike)."""
    return study_cost_s(study.get_trials(deepcopy=False))


def study_wall_s(study: optuna.Study) -> float:
    """Wall-clock seconds during which at least one trial was running.

    The union of the trials' [start, end] intervals: parallel trials count once, and idle gaps
    between a study's sessions (a resume days later) count not at all.
    """
    spans: list[tuple[datetime, datetime]] = []
    for t in study.get_trials(deepcopy=False):
        if t.datetime_start is not None and t.datetime_complete is not None:
            spans.append((t.datetime_start, t.datetime_complete))
    total = 0.0
    end: datetime | None = None
    for a, b in sorted(spans):
        if end is None or a > end:
            total += (b - a).total_seconds()
            end = b
        elif b > end:
            total += (b - end).total_seconds()
            end = b
    return total


def user_attr(study: optuna.Study, key: str, default: Any = None) -> Any:
    """A study user attribute, or `default`."""
    return study.user_attrs.get(key, default)


def trial_sample(study: optuna.Study, device_hours: float) -> TrialSample | None:
    """The complete trials of `study` with their validation and test values and their cost,
    in trial-number order, or None when there is none.

    A trial's cost is its device-hours plus an equal share of those of the study's trials that
    did not complete (pruned, failed, running), so the costs add up to `device_hours` (the
    study's, `studies.study_summary`) and their mean is the cost per finished trial.
    """
    done = complete_trials(study)
    if not done:
        return None
    own = np.array([trial_device_s(t) / 3600 for t in done])
    share = max(0.0, device_hours - own.sum()) / len(done)
    values = [value_of(t) for t in done]
    return TrialSample.of(values, own + share, [t.user_attrs.get("test") for t in done])
