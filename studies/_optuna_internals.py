"""Every use ssmtune makes of Optuna's private API and of its database schema, in one module.

Written against Optuna 5.0.0.

The exactly-once trial bookkeeping (`studies._trials`) needs what Optuna's public storage API
does not give: several writes in one transaction (Optuna commits each write on its own), a
compare-and-set of a trial's state (Optuna reads the state, then writes it, and on SQLite
nothing locks the row in between), a new trial created inside that same transaction, and the
study and trial ids behind a `Study` and a `Trial`. What it takes from Optuna for that:

- private attributes: ``Study._storage``, ``Study._study_id``, ``Trial._trial_id`` and
  ``FrozenTrial._trial_id``, ``FrozenTrial._validate()``, and ``_CachedStorage._backend`` (the
  `RDBStorage` under the in-process cache that `optuna.load_study` wraps around it);
- private functions and methods: ``optuna.storages._rdb.storage._create_scoped_session``,
  ``RDBStorage._get_prepared_new_trial``, ``RDBStorage._set_trial_attr_without_commit``,
  ``RDBStorage._get_stale_trial_ids`` (with its ``heartbeat_interval`` and ``grace_period``);
- the private module ``optuna.storages._rdb.models``: ``StudyModel.find_or_raise_by_id``
  (``for_update``), ``TrialValueModel.value_to_stored_repr``, the attribute models;
- the schema, in plain SQL: the tables and columns of `SCHEMA`, a trial's state stored as its
  `TrialState` name.

Nothing else in ssmtune touches these (`tests/test_layout.py` checks it), and
`tests/studies/test_optuna_internals.py` checks that each still exists with the signature and
columns relied on, so an Optuna upgrade that changes one fails there first, by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage, RDBStorage
    from optuna.trial import FrozenTrial, TrialState

__all__ = [
    "OPTUNA_VERSION",
    "SCHEMA",
    "storage_of",
    "new_trial",
    "study_id_of",
    "trial_id_of",
    "rdb",
    "transaction",
    "lock_study",
    "write_attrs",
    "add_value",
    "add_trial",
    "validate",
    "set_state",
    "transition",
    "has_waiting",
    "count_originals",
    "heartbeat_stale_ids",
    "heartbeat_trial_ids",
    "lock_for_write",
    "has_retry",
]

#: The Optuna version this module was written against (the test names it when a check fails).
OPTUNA_VERSION = "5.0.0"

#: The tables and columns of Optuna's schema that the SQL here reads or writes.
SCHEMA: dict[str, tuple[str, ...]] = {
    "studies": ("study_id", "study_name"),
    "trials": ("trial_id", "study_id", "state", "datetime_start", "datetime_complete"),
    "trial_user_attributes": ("trial_id", "key", "value_json"),
    "trial_heartbeats": ("trial_id",),
}


# ------------------------------------------------------------------------- ids and storage


def storage_of(study: optuna.Study) -> BaseStorage:
    """The storage a loaded study reads and writes through (Optuna's cache over the RDB)."""
    return study._storage


def study_id_of(study: optuna.Study) -> int:
    """The study's id in its storage."""
    return study._study_id


def new_trial(study: optuna.Study) -> optuna.Trial:
    """A new trial of `study`, never a WAITING one: `Study.ask` (Optuna 5.0.0) pops the oldest
    WAITING trial before it creates one, so asking while a trial waits for the budget would
    hand that same trial back. As `Study.ask` without the pop: the thread's cached trial list
    is dropped (the sampler sees every trial), then the storage creates the trial."""
    import optuna

    study._thread_local.cached_all_trials = None
    trial_id = storage_of(study).create_new_trial(study_id_of(study))
    return optuna.Trial(study, trial_id)


def trial_id_of(trial: optuna.Trial | FrozenTrial) -> int:
    """The trial's id in its storage (unique across studies; `number` counts per study)."""
    return trial._trial_id


def rdb(storage: BaseStorage) -> RDBStorage:
    """The RDB storage under Optuna's in-process cache wrapper (`storage` itself if bare)."""
    return cast("RDBStorage", getattr(storage, "_backend", storage))


# ------------------------------------------------------------------------- one transaction


@contextmanager
def transaction(storage: BaseStorage, *, ignore_integrity_error: bool = True) -> Iterator[Any]:
    """One Optuna session of the RDB under `storage`: committed on success, rolled back on an
    error (an integrity error is swallowed unless `ignore_integrity_error` is False)."""
    from optuna.storages._rdb.storage import _create_scoped_session

    with _create_scoped_session(rdb(storage).scoped_session, ignore_integrity_error) as session:
        yield session


def lock_study(session: Any, study_id: int) -> None:
    """Lock the study's row for the transaction of `session`: the lock Optuna takes to number
    a new trial (PostgreSQL; on SQLite the transaction's first write locks the database)."""
    from optuna.storages._rdb import models

    models.StudyModel.find_or_raise_by_id(study_id, session, for_update=True)


def write_attrs(
    storage: BaseStorage,
    session: Any,
    trial_id: int,
    attrs: dict[str, Any],
    system: dict[str, Any],
) -> None:
    """Write user `attrs` and `system` attributes of a trial in `session`, uncommitted.

    Raises:
        optuna.exceptions.UpdateFinishedTrialError: the trial has finished.
    """
    from optuna.storages._rdb import models

    inner = rdb(storage)
    for model, values in (
        (models.TrialUserAttributeModel, attrs),
        (models.TrialSystemAttributeModel, system),
    ):
        for key, value in values.items():
            inner._set_trial_attr_without_commit(session, model, trial_id, key, value)


def add_value(session: Any, trial_id: int, value: float) -> None:
    """Store `value` as the trial's (single) objective value in `session`, uncommitted."""
    from optuna.storages._rdb import models

    stored, kind = models.TrialValueModel.value_to_stored_repr(float(value))
    session.add(
        models.TrialValueModel(trial_id=trial_id, objective=0, value=stored, value_type=kind)
    )


def add_trial(storage: BaseStorage, session: Any, study_id: int, template: FrozenTrial) -> None:
    """Create a trial of study `study_id` from `template` in `session` (numbered by Optuna),
    uncommitted."""
    rdb(storage)._get_prepared_new_trial(study_id, template, session)


def validate(template: FrozenTrial) -> None:
    """Optuna's own check of a trial made with `optuna.trial.create_trial` for a template.

    Raises:
        ValueError: the trial is inconsistent (its state, values and dates).
    """
    template._validate()


# ------------------------------------------------------------------------- SQL on the schema


def set_state(con: Any, trial_id: int, to: TrialState, from_states: tuple[TrialState, ...]) -> bool:
    """The compare-and-set of a trial's state on connection (or session) `con`: one
    conditional UPDATE, which also stamps the start (RUNNING) or the end (a final state).
    Returns whether the trial was in one of `from_states`."""
    import sqlalchemy

    column = "datetime_start" if to.name == "RUNNING" else "datetime_complete"
    names = ", ".join(f"'{s.name}'" for s in from_states)
    sql = sqlalchemy.text(
        f"UPDATE trials SET state = :to, {column} = :now "
        f"WHERE trial_id = :id AND state IN ({names})"
    )
    return con.execute(sql, {"to": to.name, "now": datetime.now(), "id": trial_id}).rowcount == 1


def transition(
    storage: BaseStorage, trial_id: int, to: TrialState, from_states: tuple[TrialState, ...]
) -> bool:
    """`set_state` in a transaction of its own: atomic."""
    with rdb(storage).engine.begin() as con:
        return set_state(con, trial_id, to, from_states)


def has_waiting(storage: BaseStorage, study_id: int) -> bool:
    """Whether the study has a WAITING trial (one cheap query)."""
    import sqlalchemy

    sql = sqlalchemy.text(
        "SELECT 1 FROM trials WHERE study_id = :sid AND state = 'WAITING' LIMIT 1"
    )
    with rdb(storage).engine.connect() as con:
        return con.execute(sql, {"sid": study_id}).first() is not None


def count_originals(storage: BaseStorage, study_id: int) -> int:
    """The study's trials without the user attribute ``retry_of``, counted by one query."""
    import sqlalchemy

    sql = sqlalchemy.text(
        "SELECT COUNT(*) FROM trials t WHERE t.study_id = :sid AND NOT EXISTS ("
        "SELECT 1 FROM trial_user_attributes a WHERE a.trial_id = t.trial_id "
        "AND a.key = 'retry_of')"
    )
    with rdb(storage).engine.connect() as con:
        return int(con.execute(sql, {"sid": study_id}).scalar_one())


def heartbeat_stale_ids(storage: BaseStorage, study_id: int, grace_s: float) -> set[int]:
    """Ids of the study's RUNNING trials whose last heartbeat is older than `grace_s` seconds:
    Optuna's own staleness query (the heartbeat table is Optuna's), with our grace period
    (trials that never had a heartbeat are not among them)."""
    inner = rdb(storage)
    saved = (inner.heartbeat_interval, inner.grace_period)
    inner.heartbeat_interval, inner.grace_period = max(1, int(grace_s) // 2), int(grace_s)
    try:
        return set(inner._get_stale_trial_ids(study_id))
    finally:
        inner.heartbeat_interval, inner.grace_period = saved


def heartbeat_trial_ids(storage: BaseStorage, trial_ids: list[int]) -> list[int]:
    """Those of `trial_ids` that have a heartbeat."""
    if not trial_ids:
        return []
    import sqlalchemy

    with rdb(storage).engine.connect() as con:
        rows = con.execute(
            sqlalchemy.text(
                "SELECT trial_id FROM trial_heartbeats WHERE trial_id IN :ids"
            ).bindparams(sqlalchemy.bindparam("ids", expanding=True)),
            {"ids": trial_ids},
        )
        return [r[0] for r in rows]


def lock_for_write(session: Any, study_id: int) -> None:
    """A write to the study's row in `session`: on SQLite it takes the database's write lock
    for the rest of the transaction, so nothing else writes between a check and an insert."""
    import sqlalchemy

    session.execute(
        sqlalchemy.text("UPDATE studies SET study_name = study_name WHERE study_id = :sid"),
        {"sid": study_id},
    )


def has_retry(session: Any, study_id: int, number: int) -> bool:
    """Whether a trial of the study has the user attribute ``retry_of`` = `number`."""
    import json

    import sqlalchemy

    found = session.execute(
        sqlalchemy.text(
            "SELECT 1 FROM trial_user_attributes a JOIN trials t "
            "ON t.trial_id = a.trial_id WHERE t.study_id = :sid "
            "AND a.key = 'retry_of' AND a.value_json = :num LIMIT 1"
        ),
        {"sid": study_id, "num": json.dumps(number)},
    ).first()
    return found is not None
