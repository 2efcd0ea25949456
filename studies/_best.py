"""The best trials of the selected studies, as plain records (for the CLI and notebooks)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ssmtune.studies._errors import StudyError
from ssmtune.studies._query import (
    complete_trials,
    direction_of,
    load_studies,
    metric_of,
    study_counts,
    trial_device_s,
    value_of,
)

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

__all__ = ["best_trials", "trial_record"]


def best_trials(
    storage: str | BaseStorage,
    *,
    task: str | Iterable[str] | None = None,
    model: str | Iterable[str] | None = None,
    study: str | Iterable[str] | None = None,
    top: int = 1,
) -> list[dict[str, Any]]:
    """The `top` best complete trials per task over the selected studies, best first.

    Trials are ranked by their value (the best validation metric: highest accuracy, lowest
    MSE), ties by trial number then study name, separately for each task since a task fixes the
    metric. Records are grouped by task (in task order).

    Args:
        storage: a storage URL (``sqlite:///ssmtune.db``) or an Optuna storage.
        task, model, study: filters (one name or several); None keeps every study.
        top: how many trials per task, >= 1.

    Returns:
        One dict per trial: ``study``, ``trial`` (Optuna trial number), ``params``, ``value``,
        ``test`` (test metric at the best validation), ``device_s``, ``wall_s``, ``status``,
        ``task``, ``model``, ``space``, ``metric``, ``direction``, ``rank``.

    Raises:
        StudyError: unknown study, a task/model without studies, `top` < 1, or no complete
            trial among the selected studies.

    Example:
        >>> best_trials("sqlite:///ssmtune.db", task="BasicMotions", top=3)  # doctest: +SKIP
        [{'study': 'basicmotions-linoss', 'trial': 17, 'value': 0.95, 'test': 0.9, ...}, ...]
    """
    if not isinstance(top, int) or top < 1:
        raise StudyError(f"top must be an integer >= 1, got {top!r}")
    studies = load_studies(storage, task=task, model=model, study=study)
    groups: dict[tuple[str, str], list[tuple[optuna.Study, FrozenTrial]]] = {}
    for s in studies:
        key = (str(s.user_attrs.get("task", "")), direction_of(s))
        groups.setdefault(key, []).extend((s, t) for t in complete_trials(s))
    if all(not pairs for pairs in groups.values()):
        raise StudyError(_no_complete_message(studies))
    records: list[dict[str, Any]] = []
    for (_, direction), pairs in sorted(groups.items()):
        sign = -1.0 if direction == "maximize" else 1.0
        pairs.sort(key=lambda p: (sign * value_of(p[1]), p[1].number, p[0].study_name))
        for rank, (s, t) in enumerate(pairs[:top], start=1):
            records.append({**trial_record(s, t), "rank": rank})
    return records


def trial_record(study: optuna.Study, trial: FrozenTrial) -> dict[str, Any]:
    """A trial as a JSON-ready dict with the study's context."""
    ua = trial.user_attrs
    return {
        "study": study.study_name,
        "trial": trial.number,
        "task": study.user_attrs.get("task"),
        "model": study.user_attrs.get("model"),
        "space": study.user_attrs.get("space"),
        "metric": metric_of(study),
        "direction": direction_of(study),
        "value": trial.value,
        "test": ua.get("test"),
        "params": dict(trial.params),
        "device_s": trial_device_s(trial),
        "wall_s": ua.get("wall_s"),
        "status": ua.get("status"),
        "steps": ua.get("steps"),
        "device": ua.get("device"),
    }


def _no_complete_message(studies: list[optuna.Study]) -> str:
    parts = []
    for s in studies:
        c = study_counts(s)
        parts.append(
            f"{s.study_name}: {c['pruned']} pruned, {c['fail']} failed, {c['running']} running"
        )
    return "no complete trials yet in the selected studies (" + "; ".join(parts) + ")"
