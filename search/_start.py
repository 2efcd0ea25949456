"""Starting and resuming a study: check the request, then create or continue, then run.

Everything the user can get wrong is checked before anything is written: the numbers, the
storage URL, the task, the space and its model, a sample point's config against the task,
the Ray cluster (SQLite together with a remote cluster is refused), the database connection.
Only then is the study created (or continued), its grid enqueued and the runner started, so
bad input leaves no study behind.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from search._budget import check_new_budget
from search._policy import study_policy
from search._ray import cluster_is_local, is_remote_address, ray_session
from search._runner import Runner, RunOptions, default_workers, heartbeat_seconds
from search._worker import DEFAULT_OBJECTIVE, WorkerSpec
from studies import (
    PRUNERS,
    SAMPLERS,
    StudyError,
    StudySettings,
    check_continuable,
    create_or_continue,
    default_storage_url,
    default_study_name,
    enqueue_points,
    is_sqlite,
    load_settings,
    load_study,
    mask_url,
    name_objective,
    normalize_url,
    open_storage,
    requeue_lost,
    study_cost_s,
    update_note,
)

__all__ = ["StudyRequest", "plan_study", "start_study", "resume_study"]

_SQLITE_REMOTE = (
    "SQLite storage {url!r} cannot be shared with a Ray cluster on other machines (its "
    "workers would each write their own file); use PostgreSQL "
    "(`storage` postgresql+psycopg://USER:PASSWORD@HOST/DB) or run on a local Ray "
    "(leave `ray_address` and RAY_ADDRESS unset)"
)


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


class StudyRequest(dict):
    """The validated request of `plan_study` (name, settings, space, points, protocol)."""


def plan_study(
    *,
    task: str,
    space: str,
    model: str | None = None,
    sampler: str = "grid",
    n_trials: int | None = None,
    pruner: str = "none",
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
    import models
    import spaces
    import tasks

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
        points=points,
    )


def _check_execution(
    workers: int | None,
    cpus_per_trial: float | None,
    gpus_per_trial: float | None,
    batch_trials: int = 1,
) -> None:
    _positive_int("workers", workers)
    _positive_int("batch_trials", batch_trials)
    _positive_float("cpus_per_trial", cpus_per_trial)
    _positive_float("gpus_per_trial", gpus_per_trial, zero=True)


def _run(
    *,
    url: str,
    name: str,
    request_settings: StudySettings | None,
    space: Any,
    points: list[dict[str, Any]] | None,
    ray_address: str | None,
    workers: int | None,
    cpus_per_trial: float | None,
    gpus_per_trial: float | None,
    objective: str | None,
    progress: Callable[[dict[str, Any]], None] | None,
    on_ready: Callable[[dict[str, Any]], None] | None,
    stop: Any,
    batch_trials: int = 1,
    compile_ahead: bool = True,
    budget_hours: float | None = None,
) -> dict[str, Any]:
    """Open the storage, connect to Ray, create/continue the study and run it. `budget_hours`
    (resume only) replaces the study's recorded budget."""
    import os

    address = ray_address or os.environ.get("RAY_ADDRESS") or None
    if is_sqlite(url) and is_remote_address(address):
        raise StudyError(_SQLITE_REMOTE.format(url=mask_url(url)))
    storage = open_storage(url, create=request_settings is not None)
    if request_settings is None:  # resume: the settings are the study's
        study = load_study(storage, name, policy=study_policy)
        settings = load_settings(study)
        name_objective(study)  # a study created before objectives were named
        if budget_hours is not None and budget_hours != settings.budget_hours:
            settings = replace(settings, budget_hours=budget_hours)
            study.set_user_attr("budget_hours", budget_hours)
    else:
        settings = request_settings
        check_continuable(storage, name, settings)  # refuse before starting anything
    recorded = settings.execution or {}
    cpus = cpus_per_trial or recorded.get("cpus_per_trial") or 1.0
    wanted_workers = workers or (recorded.get("workers") if request_settings is None else None)
    local_cpus = max(os.cpu_count() or 1, (wanted_workers or 1) * cpus)
    with ray_session(address, num_cpus=local_cpus) as ray_info:
        if is_sqlite(url) and not ray_info.started and not cluster_is_local():
            raise StudyError(_SQLITE_REMOTE.format(url=mask_url(url)))
        gpus = gpus_per_trial
        if gpus is None:
            gpus = recorded.get("gpus_per_trial")
        if gpus is None:
            gpus = 1.0 if ray_info.gpus >= 1 else 0.0
        if gpus > 0 and ray_info.gpus < gpus:
            raise StudyError(
                f"`gpus_per_trial` {gpus} but the Ray cluster has {ray_info.gpus:g} GPUs; "
                "use `gpus_per_trial` 0 to train on CPUs"
            )
        if cpus > ray_info.cpus:
            raise StudyError(
                f"`cpus_per_trial` {cpus:g} but the Ray cluster has {ray_info.cpus:g} CPUs"
            )
        n_workers = wanted_workers or default_workers(ray_info.cpus, ray_info.gpus, cpus, gpus)
        objective = objective or recorded.get("objective") or DEFAULT_OBJECTIVE
        execution = {"workers": n_workers, "cpus_per_trial": cpus, "gpus_per_trial": gpus}
        if objective != DEFAULT_OBJECTIVE:  # a stand-in for training (benchmarks, tests)
            execution["objective"] = objective
        if request_settings is not None:
            settings = replace(settings, execution=execution)
            study, created = create_or_continue(storage, name, settings, policy=study_policy)
        else:
            created = False
            study.set_user_attr("execution", execution)
        if settings.sampler == "grid":
            if points is None:  # resume: the grid of the recorded space and n_trials
                points = space.grid()
                if settings.n_trials is not None:
                    points = points[: settings.n_trials]
            enqueued = enqueue_points(study, points)
            # points whose trials all failed outside the trial (see `requeue_lost`)
            enqueued += requeue_lost(study, points)
        else:
            enqueued = 0
        spec = WorkerSpec(
            storage_url=url,
            study_name=name,
            task=settings.task,
            seed=settings.seed,
            space=settings.space,
            protocol={k: settings.protocol[k] for k in ("max_steps", "eval_every", "patience")},
            pruner=settings.pruner,
            objective=objective,
            device_share=gpus,
            budgeted=settings.budget_hours is not None,
        )
        options = RunOptions(
            workers=n_workers,
            cpus_per_trial=cpus,
            gpus_per_trial=gpus,
            heartbeat_s=heartbeat_seconds(),
            batch_trials=batch_trials,
            compile_ahead=compile_ahead,
        )
        ready = {
            "name": name,
            "storage": mask_url(url),
            "created": created,
            "enqueued": enqueued,
            "workers": n_workers,
            "ray": {
                "address": ray_info.address,
                "started": ray_info.started,
                "start_s": ray_info.start_s,
                "nodes": ray_info.nodes,
                "cpus": ray_info.cpus,
                "gpus": ray_info.gpus,
            },
        }
        if on_ready is not None:
            on_ready(ready)
        runner = Runner(study, settings, space, spec, options, progress=progress, stop=stop)
        summary = runner.run()
    update_note(study, settings=True, cost=True)  # the dashboard's note; never raises
    summary.update(ready)
    return summary


def start_study(
    *,
    task: str,
    space: str,
    model: str | None = None,
    sampler: str = "grid",
    n_trials: int | None = None,
    pruner: str = "none",
    workers: int | None = None,
    gpus_per_trial: float | None = None,
    cpus_per_trial: float | None = None,
    max_steps: int | None = None,
    eval_every: int | None = None,
    patience: int | None = None,
    max_retries: int = 2,
    budget_hours: float | None = None,
    storage: str | None = None,
    ray_address: str | None = None,
    name: str | None = None,
    seed: int = 2345,
    objective: str | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    on_ready: Callable[[dict[str, Any]], None] | None = None,
    stop: Any = None,
    batch_trials: int = 1,
    compile_ahead: bool = True,
) -> dict[str, Any]:
    """Start (or continue) a study and run it to the end; return its summary.

    The arguments are those of ``ssmtune study start`` (`batch_trials`: ``--batch-trials``:
    up to that many waiting trials of one shape train together, `search._batching`;
    `compile_ahead`: a worker compiles the next waiting shape while it trains, see
    `search._runner`);
    `objective` (``module:function``, the
    signature of `search._worker.train_objective`) replaces the training (benchmarks of the
    orchestration overhead, tests; it is recorded and reused by `resume`), `progress` receives status updates, `on_ready` the study
    name, storage and Ray figures once the study exists, `stop` (a `threading.Event`) stops
    the run like Ctrl+C.

    Raises:
        StudyError, TaskError, SpaceError, ConfigError: bad input; nothing was written then.
    """
    import os

    _check_execution(workers, cpus_per_trial, gpus_per_trial, batch_trials)
    url = normalize_url(storage or default_storage_url())
    address = ray_address or os.environ.get("RAY_ADDRESS") or None
    request = plan_study(
        task=task,
        space=space,
        model=model,
        sampler=sampler,
        n_trials=n_trials,
        pruner=pruner,
        max_steps=max_steps,
        eval_every=eval_every,
        patience=patience,
        max_retries=max_retries,
        budget_hours=budget_hours,
        seed=seed,
        name=name,
        check_data=not is_remote_address(address),
    )
    return _run(
        url=url,
        name=request["name"],
        request_settings=request["settings"],
        space=request["space"],
        points=request["points"],
        ray_address=ray_address,
        workers=workers,
        cpus_per_trial=cpus_per_trial,
        gpus_per_trial=gpus_per_trial,
        objective=objective,
        progress=progress,
        on_ready=on_ready,
        stop=stop,
        batch_trials=batch_trials,
        compile_ahead=compile_ahead,
    )


def resume_study(
    name: str,
    *,
    storage: str | None = None,
    ray_address: str | None = None,
    workers: int | None = None,
    gpus_per_trial: float | None = None,
    cpus_per_trial: float | None = None,
    objective: str | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    on_ready: Callable[[dict[str, Any]], None] | None = None,
    stop: Any = None,
    batch_trials: int = 1,
    compile_ahead: bool = True,
    budget_hours: float | None = None,
) -> dict[str, Any]:
    """Continue study `name` with its recorded settings; run only what is unfinished.

    Trials left RUNNING by a runner that died are re-queued once their heartbeat is stale;
    grid points never enqueued (a `start` killed while enqueueing) are enqueued. A study of
    the user's data file is refused when the file's SHA-256 or shape changed since the start.
    `budget_hours` gives the study a new budget (recorded; the trials that the old one left
    waiting run first); None keeps the recorded one.
    """
    import spaces
    import tasks

    _check_execution(workers, cpus_per_trial, gpus_per_trial, batch_trials)
    if budget_hours is not None:  # a bad number before opening anything
        check_new_budget(budget_hours, 0.0, name=name)
    url = normalize_url(storage or default_storage_url())
    study = load_study(open_storage(url, create=False), name, policy=study_policy)
    if budget_hours is not None:  # a budget already spent would stop the run at once
        spent_h = study_cost_s(study.get_trials(deepcopy=False)) / 3600.0
        check_new_budget(budget_hours, spent_h, name=name)
    settings = load_settings(study)
    space = spaces.get(settings.space)
    if space.size != settings.space_size:
        raise StudyError(
            f"space {settings.space!r} now has {space.size} points, the study was started "
            f"with {settings.space_size}; start a new study under another name for the changed "
            "space"
        )
    if settings.data is not None:
        now = tasks.data_identity(settings.task)
        if now != settings.data:
            change = replace(settings, data=now).differences(settings)[0]
            raise StudyError(
                f"the data of study {name!r} changed since it started: {change}; restore the "
                "file, or start a new study under another name on the new data"
            )
    return _run(
        url=url,
        name=name,
        request_settings=None,
        space=space,
        points=None,
        ray_address=ray_address,
        workers=workers,
        cpus_per_trial=cpus_per_trial,
        gpus_per_trial=gpus_per_trial,
        objective=objective,
        progress=progress,
        on_ready=on_ready,
        stop=stop,
        batch_trials=batch_trials,
        compile_ahead=compile_ahead,
        budget_hours=budget_hours,
    )
