"""ssmtune: hyperparameter search and AutoML for state-space sequence models.

The door for Python users: the handful of functions the command line calls, by the same names.
Everything else lives in the subpackages, one per concept (each exports its names through its
``__init__``): `ssmtune.spaces` (what may be tried), `ssmtune.models` (the layers and training
one config), `ssmtune.tasks` (datasets), `ssmtune.search` (running a space's trials on Ray),
`ssmtune.studies` (the study database and what is read from it) and `ssmtune.benchmarks`.

Example:
    >>> import ssmtune
    >>> data = ssmtune.load_task("basicmotions", seed=2345)  # doctest: +SKIP
    >>> summary = ssmtune.start_study(task="basicmotions", space="d-linoss-reduced",
    ...                               sampler="random", n_trials=4, max_steps=20)  # doctest: +SKIP
    >>> ssmtune.best("sqlite:///ssmtune.db", task="basicmotions")  # doctest: +SKIP

The names are bound on first use, so ``import ssmtune`` (and ``import ssmtune.tasks``) stays
light: the search and its Ray, Optuna and JAX load when a function of theirs is asked for.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ssmtune.models import TrainOptions, TrainResult, build, config, fit_config, train
    from ssmtune.search import (
        Execution,
        StudyRequest,
        evaluate_study,
        plan_study,
        resume_study,
        start_study,
    )
    from ssmtune.studies import best_trials as best
    from ssmtune.studies import compare, report
    from ssmtune.tasks import load as load_task

try:
    __version__ = _dist_version("ssmtune")
except PackageNotFoundError:  # a source tree that was not installed
    __version__ = "0+unknown"

#: Public name -> (subpackage, its name there).
_DOOR: dict[str, tuple[str, str]] = {
    "start_study": ("search", "start_study"),
    "resume_study": ("search", "resume_study"),
    "plan_study": ("search", "plan_study"),
    "StudyRequest": ("search", "StudyRequest"),
    "Execution": ("search", "Execution"),
    "evaluate_study": ("search", "evaluate_study"),
    "best": ("studies", "best_trials"),
    "report": ("studies", "report"),
    "compare": ("studies", "compare"),
    "config": ("models", "config"),
    "fit_config": ("models", "fit_config"),
    "build": ("models", "build"),
    "train": ("models", "train"),
    "TrainOptions": ("models", "TrainOptions"),
    "TrainResult": ("models", "TrainResult"),
    "load_task": ("tasks", "load"),
}

#: The subpackages, importable as attributes too (``ssmtune.models``).
_SUBPACKAGES = ("models", "tasks", "spaces", "studies", "search", "benchmarks")

__all__ = [
    "__version__",
    "start_study",
    "resume_study",
    "plan_study",
    "StudyRequest",
    "Execution",
    "evaluate_study",
    "best",
    "report",
    "compare",
    "config",
    "fit_config",
    "build",
    "train",
    "TrainOptions",
    "TrainResult",
    "load_task",
]


def __getattr__(name: str) -> Any:
    if name in _DOOR:
        package, attr = _DOOR[name]
        value = getattr(importlib.import_module(f"{__name__}.{package}"), attr)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBPACKAGES})
