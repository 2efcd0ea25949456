"""Where a study stands: trials per state, progress through its plan, best value, cost so far.

`study_status` is the one place these figures are computed; `ssmtune study status` and
`study list` print it, and the runner's progress bar and budget read it.

Cost so far: `studies._cost` (devices x wall time, one definition).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ssmtune.studies._cost import study_cost_s
from ssmtune.studies._query import value_of
from ssmtune.studies._settings import StudySettings
from ssmtune.studies._trials import failed_by_config, superseded

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage

__all__ = ["study_status", "list_studies"]


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
        is not finished, and `resume` runs it again), n_lost (those trials), lost_retried (how
        many of them were retries of an earlier failure), lost_reason (the `fail_reason` of the
        last of them), n_complete, n_pruned, n_fail, n_running, n_waiting (trials per state;
        n_fail counts every failed run, n_retried those re-queued), best_value, best_trial,
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
    lost = [t for t in final_fail if not failed_by_config(t)]
    finished = counts[TrialState.COMPLETE] + counts[TrialState.PRUNED] + measured
    complete = [
        t
        for t in trials
        if t.state == TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)
    ]
    best = None
    if complete:
        pick = max if study.direction.name == "MAXIMIZE" else min
        best = pick(complete, key=value_of)
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
        "n_lost": len(lost),
        "lost_retried": sum(1 for t in lost if "retry_of" in t.user_attrs),
        "lost_reason": lost[-1].user_attrs.get("fail_reason") if lost else None,
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
