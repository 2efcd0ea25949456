"""A study's request, checked before anything is written (`plan_study`), and how a command
runs it (`Execution`).

Everything the user can get wrong in a request is checked here: the numbers, the task (its
data is read where it is local), the space and its model, and one sample point's config
against the task and its training options. `search._start` then opens the storage, connects
to Ray, creates or continues the study and runs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssmtune.studies import (
    PRUNERS,
    SAMPLERS,
    Pruner,
    Sampler,
    StudyError,
    StudySettings,
    default_study_name,
)

__all__ = ["StudyRequest", "Execution", "plan_study"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ssmtune")
    except PackageNotFoundError:
        return "0+unknown"


def _positive_int(name: str, value: Any, *, zero: bool = False) -> None:
    low = 0 if zero else 1
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise StudyError(f"`{name}` must be an integer >= {low}, got {value!r}")


def _positive_float(name: str, value: Any, *, zero: bool = False) -> None:
    if value is None:
        return
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not zero):
        raise StudyError(f"`{name}` must be a number {'>=' if zero else '>'} 0, got {value!r}")


def _check_eval_every(eval_every: int, max_steps: int, *, given: bool) -> None:
    """Refuse an `eval_every` longer than the run: it would evaluate once, at its end.

    `given`: whether `max_steps` was given (else it is the protocol's). Without `eval_every`,
    a run shorter than the protocol's period evaluates at its end, as asked.
    """
    if eval_every > max_steps:
        steps = f"`max_steps` {max_steps}" if given else f"the protocol's {max_steps} steps"
        raise StudyError(
            f"`eval_every` {eval_every} is larger than {steps}: the run would evaluate only "
            f"once, at its end; use `eval_every` <= {max_steps}"
        )


def _sample_point(space: Any, seed: int) -> dict[str, Any]:
    """A point of `space`: the first grid point, or a random one of a continuous space."""
    if space.finite:
        return space.grid()[0]
    import optuna

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    return space.suggest(study.ask())


@dataclass(frozen=True)
class StudyRequest:
    """A checked request to start a study (`plan_study`): nothing is written yet.

    Attributes:
        name: the study's name.
        settings: what it records (`studies.StudySettings`).
        space: its `spaces.Space`.
        points: the grid points to enqueue (a grid sampler), else empty.
    """

    name: str
    settings: StudySettings
    space: Any
    points: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Execution:
    """How one command runs a study: not part of the study's identity (`start_study`,
    `resume_study`). None: the study's recorded value, else what the cluster fits.

    Attributes:
        workers: worker processes (Ray actors), one trial (or batch) each at a time.
        cpus_per_trial, gpus_per_trial: Ray resources of a worker.
        batch_trials: up to this many waiting trials of one shape train together in one
            vmapped program (`search._batching`).
        compile_ahead: a worker compiles the next waiting shape while it trains.
        objective: ``module:function`` replacing the training (`search._objective`).
        ray_address: the Ray cluster (None: ``$RAY_ADDRESS``, else a private local Ray).

    Raises:
        StudyError: a number out of range (one line naming the argument).
    """

    workers: int | None = None
    cpus_per_trial: float | None = None
    gpus_per_trial: float | None = None
    batch_trials: int = 1
    compile_ahead: bool = True
    objective: str | None = None
    ray_address: str | None = None

    def __post_init__(self) -> None:
        _positive_int("workers", self.workers)
        _positive_int("batch_trials", self.batch_trials)
        _positive_float("cpus_per_trial", self.cpus_per_trial)
        _positive_float("gpus_per_trial", self.gpus_per_trial, zero=True)

    @property
    def address(self) -> str | None:
        """The Ray cluster's address: `ray_address`, else ``$RAY_ADDRESS``, else None."""
        import os

        return self.ray_address or os.environ.get("RAY_ADDRESS") or None


def plan_study(
    *,
    task: str,
    space: str,
    model: str | None = None,
    sampler: Sampler = "grid",
    n_trials: int | None = None,
    pruner: Pruner = "none",
    max_steps: int | None = None,
    eval_every: int | None = None,
    patience: int | None = None,
    max_retries: int = 2,
    budget_hours: float | None = None,
    seed: int = 2345,
    name: str | None = None,
    check_data: bool = True,
) -> StudyRequest:
    """Check a study request without touching any storage; return what `start_study` needs.

    With `check_data`, a task whose data is downloaded or prepared (UEA, PPG-DaLiA) is loaded
    once, so that missing or unreadable files are refused here (with the command that gets
    them) rather than failing every trial; `start_study` turns it off for a Ray cluster on
    other machines, whose workers read their own data dir. A task that is the user's data
    file (`task` a path) is always read here: the settings record its SHA-256 and shape
    (`tasks.data_identity`), so that a changed file cannot continue the study.

    Raises:
        StudyError, TaskError, SpaceError, ConfigError: bad input (one line each).
    """
    from ssmtune import models, spaces, tasks

    if sampler not in SAMPLERS:
        raise StudyError(f"unknown sampler {sampler!r}; samplers: {', '.join(SAMPLERS)}")
    if pruner not in PRUNERS:
        raise StudyError(f"unknown pruner {pruner!r}; pruners: {', '.join(PRUNERS)}")
    _positive_int("n_trials", n_trials)
    _positive_int("max_steps", max_steps)
    _positive_int("eval_every", eval_every)
    _positive_int("patience", patience, zero=True)
    _positive_int("max_retries", max_retries, zero=True)
    _positive_int("seed", seed, zero=True)
    _positive_float("budget_hours", budget_hours)
    if name is not None and not name.strip():
        raise StudyError("`name` must not be empty")

    info = tasks.info(task)
    if check_data and info.source in ("uea", "ppg"):
        tasks.load(task, seed=seed)  # as `ssmtune train`: TaskError names the download command
    data = tasks.data_identity(task)  # None unless `task` is a path to the user's data
    sp = spaces.get(space)
    # a catalog space is recorded by name, a TOML space by its absolute path (for resume)
    is_file = str(space).lower() not in spaces.names() and Path(space).is_file()
    space_id = str(Path(space).resolve()) if is_file else sp.name
    space_model = sp.model or "auto"
    if model is not None:
        if model.lower() not in models.names():
            raise models.ConfigError(
                f"unknown model {model!r}; models: {', '.join(models.names())}"
            )
        if model.lower() != space_model:
            hint = (
                "an auto space searches over models itself: drop `model`"
                if sp.model is None
                else f"drop `model` or pick a space for {model.lower()} (ssmtune spaces list)"
            )
            raise StudyError(
                f"space {sp.name!r} is for model {space_model!r}, not {model!r}; {hint}"
            )
    if sampler == "grid":
        points = sp.grid()
        if n_trials is not None:
            points = points[:n_trials]
    else:
        points = []
        if sampler == "gp" and sp.model is None:
            raise StudyError("sampler 'gp' cannot search the conditional auto space; use tpe")
    # one point through the whole chain: its config must fit the task and its options validate
    overrides = {
        k: v
        for k, v in (("max_steps", max_steps), ("eval_every", eval_every), ("patience", patience))
        if v is not None
    }
    _, options = sp.to_config(_sample_point(sp, seed), task_info=info)
    options = options.replace(**overrides)
    if eval_every is not None:
        _check_eval_every(options.eval_every, options.max_steps, given=max_steps is not None)
    protocol = {
        "max_steps": options.max_steps,
        "eval_every": options.eval_every,
        "patience": options.patience,
        "batch_size": options.batch_size,
    }
    settings = StudySettings(
        task=info.name,
        model=space_model,
        space=space_id,
        space_size=sp.size,
        sampler=sampler,
        pruner=pruner,
        protocol=protocol,
        seed=seed,
        direction="maximize" if info.metric == "accuracy" else "minimize",
        ssmtune_version=_version(),
        n_trials=n_trials,
        max_retries=max_retries,
        budget_hours=budget_hours,
        data=data,
    )
    # a data file's study is named after the file (x.npz -> x, NAME_TRAIN.ts -> name)
    short = Path(data["path"]).stem.removesuffix("_TRAIN") if data else info.name
    return StudyRequest(
        name=name or default_study_name(short, sp.name, sampler),
        settings=settings,
        space=sp,
        points=tuple(points),
    )
