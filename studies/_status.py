"""Where a study stands: trials per state, progress through its plan, best value, cost so far.

`study_status` is the one place these figures are computed; `ssmtune study status` and
`study list` print it, and the runner's progress bar and budget read it.

Cost, one definition for every trial: devices x wall time. The devices (`device_factor`) are
the trial's share of a GPU when it has a fraction of one (``--gpus-per-trial 0.5``), else the
devices it runs on; its worker records them (user attribute `DEVICES_ATTR`) when it takes the
trial, and again with the devices the objective reports when it ends. A finished trial costs
its `device_s` user attribute (that factor x its wall time); a trial without one (its worker
died, or it is running) costs its recorded devices x the time since it started (to its end,
if it has one). So a running trial costs, at each moment, what it will be charged.

A trial that continued from the checkpoint of a killed one (`models.Checkpoint`) is charged
the killed runs' time to that checkpoint too (its `CARRIED_ATTR`, in its `device_s`): what the
result cost. The killed trials are charged their own time as well, so the study counts the
carried seconds once (`study_cost_s`).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from studies._settings import StudySettings
from studies._trials import failed_by_config, superseded

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

__all__ = [
    "study_status",
    "list_studies",
    "trial_cost_s",
    "study_cost_s",
    "trial_wall_s",
    "device_factor",
    "DEVICES_ATTR",
    "CARRIED_ATTR",
    "carried_s",
]

#: User attribute of a trial: the devices it is charged for per second of wall time
#: (`device_factor`), written by its worker when it takes the trial and when it ends.
DEVICES_ATTR = "devices"
#: User attribute of a trial resumed from a checkpoint: the device-seconds its killed
#: predecessors spent up to that checkpoint, included in its `device_s`.
CARRIED_ATTR = "carried_s"


def device_factor(gpus_per_trial: float, device_count: int = 1) -> float:
    """The devices a trial is charged for per second of wall time.

    Args:
        gpus_per_trial: the GPUs its worker holds (0 on CPU).
        device_count: the devices its training runs on (`models.TrainResult.device_count`;
            one for every run of `models.train`).

    Returns:
        `gpus_per_trial` when it is a fraction of a GPU, else `device_count`.

    Example:
        >>> device_factor(0.5), device_factor(0.0), device_factor(1.0, 2)
        (0.5, 1.0, 2.0)
    """
    return float(gpus_per_trial) if 0 < gpus_per_trial < 1 else float(device_count)


def _devices(trial: FrozenTrial) -> float:
    """The trial's recorded `DEVICES_ATTR` (1 for a trial taken before it was recorded)."""
    value = trial.user_attrs.get(DEVICES_ATTR)
    ok = isinstance(value, int | float) and math.isfinite(value) and value >= 0
    return float(value) if ok else 1.0


def trial_cost_s(trial: FrozenTrial, now: datetime | None = None) -> float:
    """Device-seconds of one trial: its `device_s`, else its recorded devices x
    `trial_wall_s` (see the module docstring)."""
    value = trial.user_attrs.get("device_s")
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return _devices(trial) * trial_wall_s(trial, now)


def trial_wall_s(trial: FrozenTrial, now: datetime | None = None) -> float:
    """Seconds from a trial's start to its end, or to `now` (default: the clock) while it
    runs; 0 for a trial never started or neither running nor ended."""
    from optuna.trial import TrialState

    start = trial.datetime_start
    if start is None:
        return 0.0
    end = trial.datetime_complete
    if end is None:
        if trial.state != TrialState.RUNNING:
            return 0.0
        end = now or datetime.now()
    return max(0.0, (end - start).total_seconds())


def carried_s(trial: FrozenTrial) -> float:
    """The device-seconds a resumed trial carried over from its killed predecessors (0.0 for
    any other trial): included in its `device_s` and counted by them too."""
    value = trial.user_attrs.get(CARRIED_ATTR)
    ok = isinstance(value, int | float) and math.isfinite(value) and value > 0
    return float(value) if ok else 0.0


def study_cost_s(trials: list[FrozenTrial]) -> float:
    """Device-seconds of every trial, running ones up to now; the time a resumed trial
    carried over from its killed predecessors is counted once (they count it)."""
    now = datetime.now()
    return sum(trial_cost_s(t, now) - carried_s(t) for t in trials)


def _planned(settings: StudySettings | None) -> int | None:
    if settings is None:
        return None
    if settings.sampler == "grid":
        size = settings.space_size
        if settings.n_trials is not None:
            return min(settings.n_trials, size) if size is not None else settings.n_trials
        return size
    return settings.n_trials


def study_status(study: optuna.Study) -> dict[str, Any]:
    """The figures of one study.

    Returns:
        A dict: name, task, model, space, sampler, pruner, direction, total (trials planned),
        finished (planned trials with a result: complete, pruned, or failed because their
        configuration diverged; a trial that failed for any other reason with no retry queued
        is not finished, and `resume` runs it again), n_lost (those trials), n_complete, n_pruned, n_fail, n_running, n_waiting (trials per state; n_fail
        counts every failed run, n_retried those re-queued), best_value, best_trial,
        best_params, device_hours, started, last_finished.
    """
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    attrs = study.user_attrs
    try:
        settings = StudySettings.from_user_attrs(attrs)
    except ValueError:
        settings = None
    counts = dict.fromkeys(TrialState, 0)
    for t in trials:
        counts[t.state] += 1
    retried = superseded(trials)
    final_fail = [t for t in trials if t.state == TrialState.FAIL and t.number not in retried]
    measured = sum(1 for t in final_fail if failed_by_config(t))
    finished = counts[TrialState.COMPLETE] + counts[TrialState.PRUNED] + measured
    complete = [
        t
        for t in trials
        if t.state == TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)
    ]
    best = None
    if complete:
        pick = max if study.direction.name == "MAXIMIZE" else min
        best = pick(complete, key=lambda t: t.value)
    starts = [t.datetime_start for t in trials if t.datetime_start is not None]
    ends = [t.datetime_complete for t in trials if t.datetime_complete is not None]
    return {
        "name": study.study_name,
        "task": attrs.get("task"),
        "model": attrs.get("model"),
        "space": attrs.get("space"),
        "sampler": attrs.get("sampler"),
        "pruner": attrs.get("pruner"),
        "direction": study.direction.name.lower(),
        "total": _planned(settings),
        "finished": finished,
        "n_lost": len(final_fail) - measured,
        "n_trials": len(trials),
        "n_complete": counts[TrialState.COMPLETE],
        "n_pruned": counts[TrialState.PRUNED],
        "n_fail": counts[TrialState.FAIL],
        "n_retried": len(retried),
        "n_running": counts[TrialState.RUNNING],
        "n_waiting": counts[TrialState.WAITING],
        "best_value": None if best is None else best.value,
        "best_trial": None if best is None else best.number,
        "best_params": None if best is None else dict(best.params),
        "device_hours": study_cost_s(trials) / 3600.0,
        "started": min(starts).isoformat(timespec="seconds") if starts else None,
        "last_finished": max(ends).isoformat(timespec="seconds") if ends else None,
    }


def list_studies(storage: BaseStorage) -> list[dict[str, Any]]:
    """`study_status` of every study in `storage`, sorted by name."""
    import optuna

    out = []
    for summary in sorted(storage.get_all_studies(), key=lambda s: s.study_name):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        out.append(study_status(study))
    return out
