"""Starting and resuming a study: check the request, then create or continue, then run.

Everything the user can get wrong is checked before anything is written: the request
(`search._request.plan_study`: the numbers, the task, the space and its model, a sample
point's config against the task), how it runs (`Execution`), the storage URL, the Ray
cluster (SQLite together with a remote cluster is refused), the database connection.
Only then is the study created (or continued), its grid enqueued and the runner started, so
bad input leaves no study behind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from ssmtune.search._budget import check_new_budget
from ssmtune.search._checkpoints import check_shared, remote_nodes, resolve_checkpoint_dir
from ssmtune.search._objective import DEFAULT_OBJECTIVE, WorkerSpec, objective_path
from ssmtune.search._policy import study_policy
from ssmtune.search._ray import cluster_is_local, is_remote_address, ray_session
from ssmtune.search._request import Execution, StudyRequest, plan_study
from ssmtune.search._run_options import RunOptions, default_workers, heartbeat_seconds
from ssmtune.search._runner import Runner
from ssmtune.studies import (
    Pruner,
    Sampler,
    StudyError,
    StudySettings,
    check_continuable,
    create_or_continue,
    default_storage_url,
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

__all__ = ["StudyRequest", "Execution", "plan_study", "start_study", "resume_study"]

_SQLITE_REMOTE = (
    "SQLite storage {url!r} cannot be shared with a Ray cluster on other machines (its "
    "workers would each write their own file); use PostgreSQL "
    "(`storage` postgresql+psycopg://USER:PASSWORD@HOST/DB) or run on a local Ray "
    "(leave `ray_address` and RAY_ADDRESS unset)"
)


def _run(
    *,
    url: str,
    name: str,
    request_settings: StudySettings | None,
    space: Any,
    points: Sequence[dict[str, Any]] | None,
    execution: Execution,
    progress: Callable[[dict[str, Any]], None] | None,
    on_ready: Callable[[dict[str, Any]], None] | None,
    stop: Any,
    budget_hours: float | None = None,
) -> dict[str, Any]:
    """Open the storage, connect to Ray, create/continue the study and run it. `budget_hours`
    (resume only) replaces the study's recorded budget."""
    import os

    address = execution.address
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
    cpus = execution.cpus_per_trial or recorded.get("cpus_per_trial") or 1.0
    wanted_workers = execution.workers or (
        recorded.get("workers") if request_settings is None else None
    )
    local_cpus = max(os.cpu_count() or 1, (wanted_workers or 1) * cpus)
    with ray_session(address, num_cpus=local_cpus) as ray_info:
        if is_sqlite(url) and not ray_info.started and not cluster_is_local():
            raise StudyError(_SQLITE_REMOTE.format(url=mask_url(url)))
        # a study created before checkpoints were recorded uses the default folder
        checkpoint_dir = settings.checkpoint_dir or resolve_checkpoint_dir(None, url)
        if not ray_info.started:  # a retry may run on any node: all must reach the folder
            check_shared(checkpoint_dir, remote_nodes())
        gpus = execution.gpus_per_trial
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
        objective = objective_path(
            execution.objective or recorded.get("objective") or DEFAULT_OBJECTIVE
        )
        record = {"workers": n_workers, "cpus_per_trial": cpus, "gpus_per_trial": gpus}
        if objective != DEFAULT_OBJECTIVE:  # a stand-in for training (benchmarks, tests)
            record["objective"] = objective
        if request_settings is not None:
            settings = replace(settings, execution=record)
            study, created = create_or_continue(storage, name, settings, policy=study_policy)
        else:
            created = False
            study.set_user_attr("execution", record)
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
            checkpoint_dir=checkpoint_dir,
        )
        options = RunOptions(
            workers=n_workers,
            cpus_per_trial=cpus,
            gpus_per_trial=gpus,
            heartbeat_s=heartbeat_seconds(),
            batch_trials=execution.batch_trials,
            compile_ahead=execution.compile_ahead,
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
    sampler: Sampler = "grid",
    n_trials: int | None = None,
    pruner: Pruner = "none",
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
    checkpoint_dir: str | None = None,
) -> dict[str, Any]:
    """Start (or continue) a study and run it to the end; return its summary.

    The arguments are those of ``ssmtune study start``: the request's (`plan_study`), the
    run's (`Execution`: workers, resources, `batch_trials`, `compile_ahead`, `objective`,
    `ray_address`; an `objective` is recorded and reused by `resume`) and `storage`;
    `progress` receives status updates, `on_ready` the study
    name, storage and Ray figures once the study exists, `stop` (a `threading.Event`) stops
    the run like Ctrl+C. `checkpoint_dir` (``--checkpoint-dir``): the folder of the trials'
    checkpoints (`search._checkpoints`; default beside a SQLite file, else under the data
    dir), recorded in the study's settings; on a cluster with other machines, a folder they
    all mount.

    Raises:
        StudyError, TaskError, SpaceError, ConfigError: bad input; nothing was written then.
    """
    execution = Execution(
        workers=workers,
        cpus_per_trial=cpus_per_trial,
        gpus_per_trial=gpus_per_trial,
        batch_trials=batch_trials,
        compile_ahead=compile_ahead,
        objective=objective,
        ray_address=ray_address,
    )
    url = normalize_url(storage or default_storage_url())
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
        check_data=not is_remote_address(execution.address),
    )
    return _run(
        url=url,
        name=request.name,
        request_settings=replace(
            request.settings, checkpoint_dir=resolve_checkpoint_dir(checkpoint_dir, url)
        ),
        space=request.space,
        points=request.points,
        execution=execution,
        progress=progress,
        on_ready=on_ready,
        stop=stop,
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
    waiting run first); None keeps the recorded one. The other arguments are the run's
    (`Execution`; None: as recorded) and `storage`, as for `start_study`.
    """
    from ssmtune import spaces, tasks

    execution = Execution(
        workers=workers,
        cpus_per_trial=cpus_per_trial,
        gpus_per_trial=gpus_per_trial,
        batch_trials=batch_trials,
        compile_ahead=compile_ahead,
        objective=objective,
        ray_address=ray_address,
    )
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
        execution=execution,
        progress=progress,
        on_ready=on_ready,
        stop=stop,
        budget_hours=budget_hours,
    )
