"""A study's settings, its creation and continuation, and the bookkeeping of its trials.

A study is an Optuna study whose user attributes record how it was started (the contract's
keys: `task`, `model`, `space`, `space_size`, `sampler`, `pruner`, `protocol`, `seed`,
`ssmtune_version`, `max_retries`, `budget_hours`, plus `n_trials`, `execution` and, for a
task read from the user's data file, `data`). Starting a
study whose name exists continues it; the settings that define what the study measures
(`IDENTITY`) must then be the same, while the run-time limits (`n_trials`, `max_retries`,
`budget_hours`, `execution`) may change and are recorded anew. Its objective is named
``val_accuracy`` or ``val_mse`` for the dashboard (`name_objective`), and a new study's
dashboard note gets its settings (`studies._note`).

Exactly-once bookkeeping, all through Optuna's storage API:

- grid points are enqueued once (`enqueue_points` skips every point some trial already has);
  a runner takes WAITING trials with `pop_waiting`, so two runners never take the same one;
- a trial whose worker died is failed with a `fail_reason` and re-queued with the same
  parameters (`retry_trial`, user attribute `retry_of`), at most `max_retries` times;
- a RUNNING trial whose runner stopped sending heartbeats (`record_heartbeat`) for
  `grace_s` seconds is found by `stale_trials` and re-queued the same way.
"""

from __future__ import annotations

import json
import math
import os
import signal
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from studies import _optuna_internals as optuna_internals
from studies._errors import StudyError
from studies._note import update_note
from studies._query import metric_of
from studies._storage import mask_url

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

__all__ = [
    "SAMPLERS",
    "PRUNERS",
    "IDENTITY",
    "StudySettings",
    "default_study_name",
    "check_continuable",
    "create_or_continue",
    "name_objective",
    "load_study",
    "load_settings",
    "study_names",
    "make_sampler",
    "make_pruner",
    "point_key",
    "enqueue_points",
    "pop_waiting",
    "record_heartbeat",
    "stale_trials",
    "fail_trial",
    "finish_trial",
    "set_trial_attrs",
    "retry_trial",
    "requeue_lost",
    "failed_by_config",
    "fault_point",
    "FAULT_ENV",
    "superseded",
    "retries_of",
]

SAMPLERS = ("grid", "random", "tpe", "gp")
PRUNERS = ("none", "median", "hyperband")
#: Settings that define what a study measures: continuing a study requires the same values.
IDENTITY = ("task", "model", "space", "space_size", "sampler", "pruner", "protocol", "seed", "data")
#: System attribute counting how many times a trial's parameters were re-queued after a crash.
RETRIES_ATTR = "ssmtune:retries"
#: Fault injection for the kill-window tests: a process whose environment names a point of
#: `fault_point` here kills itself with SIGKILL when it reaches that point.
FAULT_ENV = "SSMTUNE_FAULT_POINT"


def fault_point(name: str) -> None:
    """Die at once (SIGKILL, as a crash or the OOM killer would) if ``$SSMTUNE_FAULT_POINT``
    is `name`. The tests use it to kill a runner at an exact step of its bookkeeping; it does
    nothing otherwise."""
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class StudySettings:
    """How a study was started; stored as the study's user attributes.

    Attributes:
        task: task name (`tasks.names()`).
        model: model name, or "auto" for a space searching over models.
        space: space name, or the absolute path of a TOML space.
        space_size: the number of grid points (None for a continuous space).
        sampler: one of `SAMPLERS`.
        pruner: one of `PRUNERS`.
        protocol: the training protocol: max_steps, eval_every, patience, batch_size.
        seed: seeds the data split, the initialisation and the sampler.
        direction: "maximize" (accuracy) or "minimize" (MSE), from the task's metric.
        ssmtune_version: the version that created the study.
        n_trials: the number of trials to run (None: the whole grid).
        max_retries: re-runs of a trial whose worker died.
        budget_hours: device-hours after which no new trial starts (None: no budget).
        execution: workers, cpus_per_trial and gpus_per_trial of the last run.
        data: for a task read from the user's data file (`tasks.data_identity`): its
            ``path``, the ``sha256`` of each file and the ``shape`` [cases, length, channels];
            None for the registered tasks (and studies created before it was recorded).
    """

    task: str
    model: str
    space: str
    space_size: int | None
    sampler: str
    pruner: str
    protocol: dict[str, int]
    seed: int
    direction: str
    ssmtune_version: str = "0+unknown"
    n_trials: int | None = None
    max_retries: int = 2
    budget_hours: float | None = None
    execution: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise StudyError(f"unknown sampler {self.sampler!r}; samplers: {', '.join(SAMPLERS)}")
        if self.pruner not in PRUNERS:
            raise StudyError(f"unknown pruner {self.pruner!r}; pruners: {', '.join(PRUNERS)}")
        if self.direction not in ("maximize", "minimize"):
            raise StudyError(f"direction must be maximize or minimize, got {self.direction!r}")
        if self.n_trials is not None and (
            isinstance(self.n_trials, bool)
            or not isinstance(self.n_trials, int)
            or self.n_trials < 1
        ):
            raise StudyError(f"--n-trials must be a positive integer, got {self.n_trials!r}")
        if (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or self.max_retries < 0
        ):
            raise StudyError(f"--max-retries must be an integer >= 0, got {self.max_retries!r}")
        if self.budget_hours is not None and not (
            isinstance(self.budget_hours, int | float)
            and math.isfinite(self.budget_hours)
            and self.budget_hours > 0
        ):
            raise StudyError(f"--budget-hours must be a number > 0, got {self.budget_hours!r}")
        if self.sampler != "grid" and self.n_trials is None:
            raise StudyError(
                f"sampler {self.sampler!r} needs --n-trials (only --sampler grid runs a whole grid)"
            )

    def user_attrs(self) -> dict[str, Any]:
        """The study user attributes that record these settings."""
        return asdict(self)

    @classmethod
    def from_user_attrs(cls, attrs: dict[str, Any]) -> StudySettings:
        """Settings read back from a study's user attributes (unknown keys are ignored)."""
        known = {f for f in cls.__dataclass_fields__}
        missing = [k for k in ("task", "model", "space", "sampler", "direction") if k not in attrs]
        if missing:
            raise StudyError(
                f"the study lacks the attribute {missing[0]!r}: it was not created by "
                "`ssmtune study start`; start a new study with --name"
            )
        values = {k: v for k, v in attrs.items() if k in known}
        values.setdefault("space_size", None)
        values.setdefault("pruner", "none")
        values.setdefault("protocol", {})
        values.setdefault("seed", 0)
        return cls(**values)

    def differences(self, other: StudySettings) -> list[str]:
        """`IDENTITY` settings that differ, as "key: mine (recorded: theirs)"."""
        mine, theirs = self.user_attrs(), other.user_attrs()
        return [
            _data_change(mine[k], theirs[k])
            if k == "data" and mine[k] and theirs[k]
            else f"{k} {_show(mine[k])} (recorded: {_show(theirs[k])})"
            for k in IDENTITY
            if mine[k] != theirs[k]
        ]


def _data_change(now: dict[str, Any], recorded: dict[str, Any]) -> str:
    """A changed data file, in a few words: its path, its hashes and shape, shortened."""

    def short(data: dict[str, Any]) -> str:
        hashes = ",".join(f"{n}:{h[:12]}" for n, h in data["sha256"].items())
        return f"sha256 {hashes} shape {'x'.join(map(str, data['shape']))}"

    return f"data {now['path']} {short(now)} (recorded: {short(recorded)})"


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def default_study_name(task: str, space: str, sampler: str) -> str:
    """The deterministic study name of a (task, space, sampler): ``task-space-sampler``.

    A TOML space contributes its file stem.

    Example:
        >>> default_study_name("BasicMotions", "d-linoss-reduced", "grid")
        'basicmotions-d-linoss-reduced-grid'
    """
    from pathlib import PurePath

    stem = PurePath(space).stem if str(space).endswith(".toml") else str(space)
    return f"{task}-{stem}-{sampler}".lower().replace(" ", "_")


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """The Optuna sampler of a study.

    A grid study never asks its sampler for a point (its points are enqueued), so "grid" gets
    a seeded random sampler as a placeholder: Optuna's GridSampler repeats points when
    several workers ask at once (measured with Optuna 5.0).
    """
    import optuna

    if name in ("grid", "random"):
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        # constant_liar: running trials count as bad guesses, so parallel workers spread out.
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    if name == "gp":
        try:
            import scipy  # noqa: F401
            import torch  # noqa: F401
        except ImportError as exc:
            raise StudyError(
                f"sampler 'gp' needs {exc.name}, which is not installed; "
                f"install it (pip install {exc.name}) or use --sampler tpe"
            ) from None
        return optuna.samplers.GPSampler(seed=seed)
    raise StudyError(f"unknown sampler {name!r}; samplers: {', '.join(SAMPLERS)}")


def make_pruner(name: str, protocol: dict[str, int]) -> optuna.pruners.BasePruner:
    """The Optuna pruner of a study; the resource is the training step.

    median: prune a trial whose validation at an evaluation is worse than the median of the
    earlier trials at that step, once 4 trials have finished, never at the first evaluation.
    hyperband: successive halving brackets between one evaluation and `max_steps`, factor 3.
    """
    import optuna

    eval_every = int(protocol.get("eval_every", 1000))
    max_steps = int(protocol.get("max_steps", 100_000))
    if name == "none":
        return optuna.pruners.NopPruner()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=eval_every)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=eval_every, max_resource=max(max_steps, eval_every), reduction_factor=3
        )
    raise StudyError(f"unknown pruner {name!r}; pruners: {', '.join(PRUNERS)}")


def study_names(storage: BaseStorage) -> list[str]:
    """The names of the studies in `storage`, sorted."""
    return sorted(s.study_name for s in storage.get_all_studies())


def _exists(storage: BaseStorage, name: str) -> bool:
    import optuna

    try:
        storage.get_study_id_from_name(name)
    except KeyError:
        return False
    except optuna.exceptions.StorageInternalError as exc:
        raise StudyError(f"cannot read the storage: {exc}") from None
    return True


def check_continuable(storage: BaseStorage, name: str, settings: StudySettings) -> bool:
    """Whether study `name` exists; if it does, check that `settings` may continue it.

    Raises:
        StudyError: the study exists with other `IDENTITY` settings (the message lists them).
    """
    if not _exists(storage, name):
        return False
    summary = next(s for s in storage.get_all_studies() if s.study_name == name)
    recorded = StudySettings.from_user_attrs(summary.user_attrs)
    diffs = settings.differences(recorded)
    if settings.direction != recorded.direction:
        diffs.append(f"direction {settings.direction} (recorded: {recorded.direction})")
    if diffs:
        raise StudyError(
            f"study {name!r} exists with other settings: {'; '.join(diffs)}; "
            f"continue it with `ssmtune study resume {name}` or pick another --name"
        )
    return True


def create_or_continue(
    storage: BaseStorage, name: str, settings: StudySettings
) -> tuple[optuna.Study, bool]:
    """Create study `name` with `settings`, or continue the existing one of that name.

    Returns:
        (study, created): the study loaded with its sampler and pruner; whether it is new.

    Raises:
        StudyError: the study exists with other `IDENTITY` settings (the message lists them).
    """
    import optuna

    sampler = make_sampler(settings.sampler, settings.seed)
    pruner = make_pruner(settings.pruner, settings.protocol)
    if check_continuable(storage, name, settings):
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
        for key in ("n_trials", "max_retries", "budget_hours", "execution"):
            value = getattr(settings, key)
            if study.user_attrs.get(key) != value:
                study.set_user_attr(key, value)
        name_objective(study)
        return study, False
    try:
        study = optuna.create_study(
            study_name=name,
            storage=storage,
            sampler=sampler,
            pruner=pruner,
            direction=settings.direction,
        )
    except optuna.exceptions.DuplicatedStudyError:  # another runner created it just now
        return create_or_continue(storage, name, settings)
    for key, value in settings.user_attrs().items():
        study.set_user_attr(key, value)
    name_objective(study)
    update_note(study, settings=True)
    return study, True


def name_objective(study: optuna.Study) -> None:
    """Name the study's objective ``val_accuracy`` (maximised) or ``val_mse`` (minimised) with
    Optuna's metric names, which optuna-dashboard shows instead of "Objective 0".

    Idempotent: nothing is written when the study has that name already, so continuing a study
    created before names were given names it once.
    """
    import warnings

    import optuna

    name = f"val_{metric_of(study)}"
    if study.metric_names != [name]:
        with warnings.catch_warnings():  # "experimental" since Optuna 3.2, unchanged since
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([name])


def load_study(storage: BaseStorage, name: str) -> optuna.Study:
    """Load study `name` with the sampler and pruner its settings record.

    Raises:
        StudyError: no study of that name (the message lists the studies there).
    """
    import optuna

    if not _exists(storage, name):
        names = study_names(storage)
        where = mask_url(getattr(storage, "url", "") or "the storage")
        raise StudyError(
            f"no study {name!r} in {where}; studies there: {', '.join(names) or 'none'}"
        )
    plain = optuna.load_study(study_name=name, storage=storage)
    settings = StudySettings.from_user_attrs(plain.user_attrs)
    return optuna.load_study(
        study_name=name,
        storage=storage,
        sampler=make_sampler(settings.sampler, settings.seed),
        pruner=make_pruner(settings.pruner, settings.protocol),
    )


def load_settings(study: optuna.Study) -> StudySettings:
    """The settings a study was started with."""
    return StudySettings.from_user_attrs(study.user_attrs)


# ------------------------------------------------------------------------- exactly once


def point_key(params: dict[str, Any]) -> str:
    """A canonical text of a point, to compare points across trials."""
    return json.dumps(params, sort_keys=True, default=str)


def _trial_point(trial: FrozenTrial) -> dict[str, Any]:
    """The point a trial runs: its parameters, or the fixed ones of a WAITING trial."""
    return dict(trial.params) or dict(trial.system_attrs.get("fixed_params") or {})


def enqueue_points(study: optuna.Study, points: list[dict[str, Any]]) -> int:
    """Enqueue every point of `points` that no trial of the study has yet; return how many.

    A point counts as present whatever its trial's state, so a finished, failed or waiting
    point is never enqueued twice.
    """
    present = {point_key(_trial_point(t)) for t in study.get_trials(deepcopy=False)}
    added = 0
    for point in points:
        key = point_key(point)
        if key in present:
            continue
        study.enqueue_trial(point)
        present.add(key)
        added += 1
    return added


def pop_waiting(
    study: optuna.Study, order: Callable[[list[Any]], list[Any]] | None = None
) -> optuna.Trial | None:
    """Take the oldest WAITING trial (set it RUNNING) or return None when there is none.

    The state change is one conditional UPDATE, atomic on SQLite and PostgreSQL alike: of
    several runners popping at once exactly one wins each trial. (Optuna's own pop reads the
    state first and then writes it, which on SQLite lets two processes take the same trial.)
    `order`, given the WAITING trials oldest first, returns those to try in the order to try
    them (the runner's compile-aware preference, `search._batching`).
    """
    import optuna
    from optuna.trial import TrialState

    storage = optuna_internals.storage_of(study)
    if not optuna_internals.has_waiting(storage, optuna_internals.study_id_of(study)):
        return None  # one cheap query before loading any trial
    waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    for t in waiting if order is None else order(waiting):
        trial_id = optuna_internals.trial_id_of(t)
        if optuna_internals.transition(
            storage, trial_id, TrialState.RUNNING, (TrialState.WAITING,)
        ):
            return optuna.Trial(study, trial_id)
    return None


def count_originals(study: optuna.Study) -> int:
    """The study's trials that are not retries (no user attribute ``retry_of``), counted by one
    SQL query instead of loading every trial."""
    return optuna_internals.count_originals(
        optuna_internals.storage_of(study), optuna_internals.study_id_of(study)
    )


def record_heartbeat(storage: BaseStorage, trial_id: int) -> None:
    """Mark trial `trial_id` as alive now (Optuna's heartbeat table, RDB storage)."""
    optuna_internals.rdb(storage).record_heartbeat(trial_id)


def stale_trials(
    study: optuna.Study, grace_s: float, *, exclude: set[int] = frozenset()
) -> list[int]:
    """Trial ids of RUNNING trials whose heartbeat is older than `grace_s` seconds.

    A RUNNING trial that never had a heartbeat is stale once it started more than `grace_s`
    ago (its runner died between taking it and the first heartbeat). Trials in `exclude`
    (those the caller runs itself) are never stale.
    """
    from datetime import datetime, timedelta

    from optuna.trial import TrialState

    storage = optuna_internals.storage_of(study)
    trial_id = optuna_internals.trial_id_of
    stale = optuna_internals.heartbeat_stale_ids(
        storage, optuna_internals.study_id_of(study), grace_s
    )
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    with_beat = set(optuna_internals.heartbeat_trial_ids(storage, [trial_id(t) for t in running]))
    limit = datetime.now() - timedelta(seconds=grace_s)
    for t in running:
        if (
            trial_id(t) not in with_beat
            and t.datetime_start is not None
            and t.datetime_start < limit
        ):
            stale.add(trial_id(t))
    return sorted(stale - set(exclude))


def fail_trial(
    study: optuna.Study,
    trial_id: int,
    reason: str,
    *,
    requeue: bool = False,
    count: bool = True,
) -> bool:
    """Set a RUNNING or WAITING trial to FAIL with user attribute `fail_reason`, in one
    transaction (see `finish_trial`); with `requeue`, queue its retry in that same transaction.

    Failing a trial and queueing its retry used to be two commits, and a runner killed between
    them left the grid point with a failed trial and nothing waiting: the point was lost, and
    the status called the grid finished. Now both are written together or not at all, whatever
    instant the process dies.

    Args:
        study: the trial's study.
        trial_id: the trial.
        reason: why it failed (stored as `fail_reason`, one line, at most 500 characters).
        requeue: also queue a new WAITING trial with the same parameters (`retry_trial`).
        count: whether that retry uses up one of the trial's retries (`retry_trial`).

    Returns:
        False, with nothing written, when the trial had already finished (someone else
        finished or failed it).
    """
    from optuna.trial import TrialState

    reason = " ".join(str(reason).split())[:500]
    storage = optuna_internals.storage_of(study)
    retry = None
    if requeue:
        template = _retry_template(storage.get_trial(trial_id), count)
        retry = (optuna_internals.study_id_of(study), template)
    return _end(
        storage,
        trial_id,
        TrialState.FAIL,
        (TrialState.RUNNING, TrialState.WAITING),
        None,
        {"fail_reason": reason},
        retry=retry,
    )


def set_trial_attrs(
    storage: BaseStorage,
    trial_id: int,
    attrs: dict[str, Any],
    system: dict[str, Any] | None = None,
) -> None:
    """Write several user (and system) attributes of a trial in one transaction (one commit
    instead of one per attribute).

    Raises:
        optuna.exceptions.UpdateFinishedTrialError: the trial has finished.
    """
    with optuna_internals.transaction(storage) as session:
        optuna_internals.write_attrs(storage, session, trial_id, attrs, system or {})


def finish_trial(
    storage: BaseStorage,
    trial_id: int,
    state: Any,
    value: float | None = None,
    attrs: dict[str, Any] | None = None,
) -> bool:
    """Give a RUNNING trial its final `state`, its `value` and user `attrs` in one transaction.

    The state is a compare-and-set from RUNNING, as in `fail_trial`, so whoever finishes a
    trial first wins and the other's writes are rolled back. Optuna's `Study.tell` checks the
    state and writes it in two statements, and on SQLite nothing locks the row in between: a
    runner that failed and re-queued a lost trial there was overwritten by the trial's late
    result, and its grid point ended up finished twice. A PRUNED trial without a `value` gets
    the intermediate value of its last step if that is finite, as `Study.tell` gives it.

    Returns:
        False, with nothing written, when the trial was no longer RUNNING.
    """
    from optuna.trial import TrialState

    if state == TrialState.PRUNED and value is None:
        steps = optuna_internals.rdb(storage).get_trial(trial_id).intermediate_values
        last = steps[max(steps)] if steps else None
        value = last if last is not None and math.isfinite(last) else None
    return _end(storage, trial_id, state, (TrialState.RUNNING,), value, attrs or {})


def _end(
    storage: BaseStorage,
    trial_id: int,
    state: Any,
    from_states: tuple[Any, ...],
    value: float | None,
    attrs: dict[str, Any],
    *,
    retry: tuple[int, FrozenTrial] | None = None,
) -> bool:
    """Write `attrs`, move the trial from one of `from_states` to final `state` and store
    `value`, and create the trial `retry` = (study id, template) if given, all in one
    transaction; roll it all back and return False when the trial was in no state of
    `from_states`."""
    import optuna

    try:
        with optuna_internals.transaction(storage, ignore_integrity_error=False) as session:
            if retry is not None:
                # the lock Optuna takes to number a new trial, taken first (PostgreSQL; on
                # SQLite the first write below locks the whole database until the commit)
                optuna_internals.lock_study(session, retry[0])
            optuna_internals.write_attrs(storage, session, trial_id, attrs, {})
            if not optuna_internals.set_state(session, trial_id, state, from_states):
                raise optuna.exceptions.UpdateFinishedTrialError(f"trial {trial_id} finished")
            if value is not None:
                optuna_internals.add_value(session, trial_id, value)
            if retry is not None:
                optuna_internals.add_trial(storage, session, retry[0], retry[1])
                session.flush()
                fault_point("requeue-before-commit")
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    if retry is not None:
        fault_point("requeue-after-commit")
    return True


def retries_of(trial: FrozenTrial) -> int:
    """How many crash re-runs preceded `trial` (0 for an original trial)."""
    return int(trial.system_attrs.get(RETRIES_ATTR, 0))


def _retry_template(trial: FrozenTrial, count: bool) -> FrozenTrial:
    """The WAITING trial that re-runs the failed `trial` (see `retry_trial`)."""
    import optuna
    from optuna.trial import TrialState

    history = [*trial.system_attrs.get("retry_history", []), trial.number]
    point = _trial_point(trial)
    system_attrs = {
        "failed_trial": history[0],
        "retry_history": history,
        RETRIES_ATTR: retries_of(trial) + int(count),
        "fixed_params": point,
    }
    params = dict(trial.params)
    new = optuna.trial.create_trial(
        state=TrialState.WAITING,
        params=params or None,
        distributions=dict(trial.distributions) if params else None,
        user_attrs={"retry_of": trial.number},
        system_attrs=system_attrs,
    )
    optuna_internals.validate(new)
    return new


def retry_trial(study: optuna.Study, trial: FrozenTrial, *, count: bool = True) -> int:
    """Queue a new WAITING trial with the parameters of the failed `trial`; return its number.

    The new trial has user attribute `retry_of` (the failed trial's number) and Optuna's
    retry system attributes (`failed_trial`, `retry_history`, as
    `optuna.storages.RetryHeartbeatStaleTrialCallback` writes them). `count=False` (a run
    interrupted by the user, a lost runner) does not use up one of the trial's retries.
    The runner fails a trial and queues its retry in one transaction (`fail_trial` with
    `requeue`); this is for a trial that has already failed (`requeue_lost`).
    """
    storage = optuna_internals.storage_of(study)
    trial_id = storage.create_new_trial(
        optuna_internals.study_id_of(study), template_trial=_retry_template(trial, count)
    )
    return storage.get_trial_number_from_id(trial_id)


def superseded(trials: list[FrozenTrial]) -> set[int]:
    """Numbers of trials that a later trial re-runs (their `retry_of` successors exist)."""
    return {int(t.user_attrs["retry_of"]) for t in trials if "retry_of" in t.user_attrs}


def failed_by_config(trial: FrozenTrial) -> bool:
    """Whether a failed trial failed because of its configuration (training diverged): a
    result of that grid point, which running it again would only repeat. Any other failure
    (a worker or runner that died, a database outage, an error in the code) is not."""
    return trial.user_attrs.get("status") == "diverged"


def requeue_lost(study: optuna.Study, points: list[dict[str, Any]]) -> int:
    """Queue a retry for every point of `points` that has failed trials but no result and
    nothing queued: no COMPLETE, PRUNED, WAITING or RUNNING trial and no failure of its own
    (`failed_by_config`). Returns how many were queued.

    `resume` calls it, so a point whose last trial failed for a reason outside the trial (no
    retry left after worker deaths, a worker error, a database written by an older ssmtune
    that could lose a retry) is run again. The retry does not use up one of the trial's
    retries. The check and the new trials are one transaction with the study locked, so two
    runners resuming at once queue each point once.
    """
    from optuna.trial import TrialState

    settled = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.WAITING, TrialState.RUNNING)
    by_point: dict[str, list[FrozenTrial]] = {}
    for t in study.get_trials(deepcopy=False):
        by_point.setdefault(point_key(_trial_point(t)), []).append(t)
    lost = []
    for point in points:
        trials = by_point.get(point_key(point), [])
        if not trials or any(t.state in settled or failed_by_config(t) for t in trials):
            continue
        lost.append(max(trials, key=lambda t: t.number))
    if not lost:
        return 0
    storage = optuna_internals.storage_of(study)
    study_id = optuna_internals.study_id_of(study)
    queued = 0
    with optuna_internals.transaction(storage, ignore_integrity_error=False) as session:
        optuna_internals.lock_study(session, study_id)
        # a write first: on SQLite it takes the database's write lock for the transaction,
        # so no other runner queues the same retry between the check and the insert
        optuna_internals.lock_for_write(session, study_id)
        for trial in lost:
            if not optuna_internals.has_retry(session, study_id, trial.number):
                optuna_internals.add_trial(
                    storage, session, study_id, _retry_template(trial, False)
                )
                queued += 1
    return queued
