"""The multi-seed evaluation of a study's best config: what to retrain, and storing the result.

The benchmark re-runs the best config over five seeds, each seed its own random 70/15/15
split and its own initialisation, and reports mean ± population std (ddof=0) of the test
metric (tk-rusch/linoss ``run_experiment.py``; Rusch & Rus, ICLR 2025, Sec. 4). The retraining itself runs
on Ray workers in `search` (studies imports no training code); this module says what to retrain
(`evaluation_plan`) and stores what came back (`store_evaluation`) as the study user attribute
``evaluation`` = ``{"seeds": [...], "tests": [...], "mean": m, "std": s}``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ssmtune.studies._errors import StudyError
from ssmtune.studies._query import (
    complete_trials,
    direction_of,
    load_studies,
    metric_of,
    reading_storage,
    value_of,
)

if TYPE_CHECKING:
    from optuna.storages import BaseStorage

__all__ = [
    "EVALUATION_SEEDS",
    "evaluation_seeds",
    "evaluation_plan",
    "summarize_evaluation",
    "store_evaluation",
]

#: The benchmark's seeds (tk-rusch/linoss ``run_experiment.py``): each is one split and one
#: initialisation.
EVALUATION_SEEDS: tuple[int, ...] = (2345, 3456, 4567, 5678, 6789)


def evaluation_seeds(seeds: int) -> list[int]:
    """The first `seeds` of the benchmark's seeds, 1 <= seeds <= 5.

    Example:
        >>> evaluation_seeds(2)
        [2345, 3456]
    """
    if not (isinstance(seeds, int) and 1 <= seeds <= len(EVALUATION_SEEDS)):
        raise StudyError(
            f"`seeds` must be 1..{len(EVALUATION_SEEDS)} (the benchmark's seeds "
            f"{', '.join(map(str, EVALUATION_SEEDS))}), got {seeds!r}"
        )
    return list(EVALUATION_SEEDS[:seeds])


def evaluation_plan(storage: str | BaseStorage, study: str, *, rank: int = 1) -> dict[str, Any]:
    """What `ssmtune evaluate` retrains: the study's best complete trial (`rank` 2: the best of
    another point, and so on; a point run twice counts once, with its better trial) and its
    context.

    Returns:
        ``study``, ``task``, ``model``, ``space``, ``metric``, ``direction``, ``protocol`` (the
        study's training protocol attribute), ``execution`` (its workers' resources, if
        recorded), ``best_trial``, ``best_value``, ``params``.

    Raises:
        StudyError: unknown study, or a study without a complete trial.
    """
    (s,) = load_studies(storage, study=study)
    done = complete_trials(s)
    if not done:
        raise StudyError(
            f"study {study!r} has no complete trial to evaluate; run or resume it first"
        )
    sign = -1.0 if direction_of(s) == "maximize" else 1.0
    ordered, seen = [], set()
    for t in sorted(done, key=lambda t: (sign * value_of(t), t.number)):
        key = tuple(sorted((k, repr(v)) for k, v in t.params.items()))
        if key not in seen:
            seen.add(key)
            ordered.append(t)
    if not (isinstance(rank, int) and 1 <= rank <= len(ordered)):
        raise StudyError(
            f"`top` must be 1..{len(ordered)} (the points of study {study!r} with a complete "
            f"trial), got {rank!r}"
        )
    best = ordered[rank - 1]
    ua = s.user_attrs
    return {
        "study": s.study_name,
        "task": ua.get("task"),
        "model": ua.get("model"),
        "space": ua.get("space"),
        "metric": metric_of(s),
        "direction": direction_of(s),
        "protocol": ua.get("protocol"),
        "execution": ua.get("execution"),
        "best_trial": best.number,
        "best_value": best.value,
        "params": dict(best.params),
    }


def summarize_evaluation(seeds: Sequence[int], tests: Sequence[float]) -> dict[str, Any]:
    """``{"seeds", "tests", "mean", "std"}`` with the population std (ddof=0).

    Example:
        >>> summarize_evaluation([1, 2], [0.5, 0.7])["std"]
        0.09999999999999998
    """
    if len(seeds) != len(tests) or not tests:
        raise StudyError(
            f"an evaluation needs one test value per seed, got {len(seeds)} seeds and "
            f"{len(tests)} values"
        )
    vals = [float(t) for t in tests]
    if not all(math.isfinite(v) for v in vals):
        raise StudyError(f"evaluation test values must be finite, got {vals}")
    mean = sum(vals) / len(vals)
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / len(vals))
    return {"seeds": [int(s) for s in seeds], "tests": vals, "mean": mean, "std": std}


def store_evaluation(
    storage: str | BaseStorage, study: str, seeds: Sequence[int], tests: Sequence[float]
) -> dict[str, Any]:
    """Store the evaluation as the study's ``evaluation`` user attribute and return it."""
    import optuna

    evaluation = summarize_evaluation(seeds, tests)
    st = reading_storage(storage)
    load_studies(st, study=study)  # an unknown name raises StudyError
    optuna.load_study(study_name=study, storage=st).set_user_attr("evaluation", evaluation)
    return evaluation


def store_evaluations(
    storage: str | BaseStorage, study: str, evaluations: Sequence[dict[str, Any]]
) -> None:
    """Store the evaluations of the study's top points (`ssmtune evaluate --top K`), each
    ``{"rank", "trial", "params", "value", "seeds", "tests", "mean", "std"}``, as its
    ``evaluations`` user attribute."""
    import optuna

    st = reading_storage(storage)
    load_studies(st, study=study)
    optuna.load_study(study_name=study, storage=st).set_user_attr("evaluations", list(evaluations))
