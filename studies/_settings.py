"""A study's settings and identity: what it records, what may continue it, how it is named.

A study is an Optuna study whose user attributes record how it was started (the contract's
keys: `task`, `model`, `space`, `space_size`, `sampler`, `pruner`, `protocol`, `seed`,
`ssmtune_version`, `max_retries`, `budget_hours`, plus `n_trials`, `execution` and, for a
task read from the user's data file, `data`). Starting a
study whose name exists continues it; the settings that define what the study measures
(`IDENTITY`) must then be the same, while the run-time limits (`n_trials`, `max_retries`,
`budget_hours`, `execution`) may change and are recorded anew. Its objective is named
``val_accuracy`` or ``val_mse`` for the dashboard (`name_objective`), and a new study's
dashboard note gets its settings (`studies._note`). The bookkeeping of its trials is
`studies._trials`.

A study records the names of its sampler and pruner; the objects are search policy: the search
passes a `Policy` (`search.study_policy`) to `create_or_continue` and `load_study` to get a
study ready to run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from ssmtune.studies._errors import StudyError
from ssmtune.studies._note import update_note
from ssmtune.studies._query import metric_of
from ssmtune.studies._storage import mask_url

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage

#: The sampler and pruner of a study with the given settings (`search.study_policy`).
Policy = Callable[
    ["StudySettings"], tuple["optuna.samplers.BaseSampler", "optuna.pruners.BasePruner"]
]

__all__ = [
    "Sampler",
    "Pruner",
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
    "Policy",
]

#: The sampler and pruner names a study may record; the search builds them (`search._policy`).
Sampler = Literal["grid", "random", "tpe", "gp"]
Pruner = Literal["none", "median", "hyperband"]
SAMPLERS: tuple[Sampler, ...] = get_args(Sampler)
PRUNERS: tuple[Pruner, ...] = get_args(Pruner)
#: Settings that define what a study measures: continuing a study requires the same values.
IDENTITY = ("task", "model", "space", "space_size", "sampler", "pruner", "protocol", "seed", "data")


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
        checkpoint_dir: the folder of the trials' checkpoints (``--checkpoint-dir``, an
            absolute path; `search._checkpoints`); None for studies created before it was
            recorded (they use the default).
    """

    task: str
    model: str
    space: str
    space_size: int | None
    sampler: Sampler
    pruner: Pruner
    protocol: dict[str, int]
    seed: int
    direction: Literal["maximize", "minimize"]
    ssmtune_version: str = "0+unknown"
    n_trials: int | None = None
    max_retries: int = 2
    budget_hours: float | None = None
    execution: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] | None = None
    checkpoint_dir: str | None = None

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
            raise StudyError(f"`n_trials` must be a positive integer, got {self.n_trials!r}")
        if (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or self.max_retries < 0
        ):
            raise StudyError(f"`max_retries` must be an integer >= 0, got {self.max_retries!r}")
        if self.budget_hours is not None and not (
            isinstance(self.budget_hours, int | float)
            and math.isfinite(self.budget_hours)
            and self.budget_hours > 0
        ):
            raise StudyError(f"`budget_hours` must be a number > 0, got {self.budget_hours!r}")
        if self.sampler != "grid" and self.n_trials is None:
            raise StudyError(
                f"sampler {self.sampler!r} needs `n_trials` (only `sampler` 'grid' runs a whole grid)"
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
                "`ssmtune study start`; start a new study under another `name`"
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
            f"continue it with `ssmtune study resume {name}` or pick another `name`"
        )
    return True


def create_or_continue(
    storage: BaseStorage, name: str, settings: StudySettings, *, policy: Policy | None = None
) -> tuple[optuna.Study, bool]:
    """Create study `name` with `settings`, or continue the existing one of that name.

    Args:
        storage: the study's storage.
        name: the study's name.
        settings: how it is started.
        policy: builds the study's sampler and pruner from `settings`; None gives Optuna's
            defaults (a study for bookkeeping only, never asked for a point).

    Returns:
        (study, created): the study loaded with the sampler and pruner of `policy`; whether it
        is new.

    Raises:
        StudyError: the study exists with other `IDENTITY` settings (the message lists them),
            or `policy` refuses the settings.
    """
    import optuna

    sampler, pruner = policy(settings) if policy is not None else (None, None)
    if check_continuable(storage, name, settings):
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
        for key in ("n_trials", "max_retries", "budget_hours", "execution", "checkpoint_dir"):
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
        return create_or_continue(storage, name, settings, policy=policy)
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


def load_study(storage: BaseStorage, name: str, *, policy: Policy | None = None) -> optuna.Study:
    """Load study `name`, with the sampler and pruner that `policy` builds from the settings it
    records (None: Optuna's defaults, for a study that is only read or bookkept).

    Raises:
        StudyError: no study of that name (the message lists the studies there), a study not
            started by ssmtune, or `policy` refuses its settings.
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
    if policy is None:
        return plain
    sampler, pruner = policy(settings)
    return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)


def load_settings(study: optuna.Study) -> StudySettings:
    """The settings a study was started with."""
    return StudySettings.from_user_attrs(study.user_attrs)
