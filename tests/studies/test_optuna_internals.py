"""The Optuna internals `studies._optuna_internals` relies on: each private name still exists
with the signature, attributes and columns the exactly-once bookkeeping uses. An Optuna upgrade
that changes one fails here, by name, before a study loses a trial."""

from __future__ import annotations

import inspect

import optuna
import pytest
from optuna.storages import RDBStorage
from optuna.storages._rdb import models as rdb_models
from optuna.storages._rdb import storage as rdb_storage
from optuna.trial import TrialState

from ssmtune.studies import _optuna_internals as internals
from ssmtune.studies._storage import open_storage

WRITTEN_FOR = f"(studies._optuna_internals was written against Optuna {internals.OPTUNA_VERSION}, "
WRITTEN_FOR += f"this is {optuna.__version__})"


def params(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)


@pytest.mark.parametrize(
    ("owner", "name", "expected"),
    [
        (rdb_storage, "_create_scoped_session", ["scoped_session", "ignore_integrity_error"]),
        (RDBStorage, "_get_prepared_new_trial", ["self", "study_id", "template_trial", "session"]),
        (RDBStorage, "_set_trial_attr_without_commit",
         ["self", "session", "model_cls", "trial_id", "key", "value"]),
        (RDBStorage, "_get_stale_trial_ids", ["self", "study_id"]),
        (RDBStorage, "record_heartbeat", ["self", "trial_id"]),
        (rdb_models.StudyModel, "find_or_raise_by_id", ["study_id", "session", "for_update"]),
        (rdb_models.TrialValueModel, "value_to_stored_repr", ["value"]),
        (optuna.trial.FrozenTrial, "_validate", ["self"]),
    ],
)  # fmt: skip
def test_private_functions_keep_their_signatures(owner, name, expected) -> None:
    assert hasattr(owner, name), f"{owner.__name__}.{name} is gone {WRITTEN_FOR}"
    assert params(getattr(owner, name)) == expected, f"{name} changed {WRITTEN_FOR}"


def test_the_attribute_models_exist() -> None:
    for name in ("TrialUserAttributeModel", "TrialSystemAttributeModel", "TrialValueModel"):
        assert hasattr(rdb_models, name), f"optuna.storages._rdb.models.{name} {WRITTEN_FOR}"
    columns = {c.name for c in rdb_models.TrialValueModel.__table__.columns}
    assert {"trial_id", "objective", "value", "value_type"} <= columns, WRITTEN_FOR


def test_the_schema_has_the_tables_and_columns_our_sql_names() -> None:
    tables = rdb_models.BaseModel.metadata.tables
    for table, columns in internals.SCHEMA.items():
        assert table in tables, f"table {table} {WRITTEN_FOR}"
        missing = set(columns) - {c.name for c in tables[table].columns}
        assert not missing, f"{table} lacks {sorted(missing)} {WRITTEN_FOR}"
    # the SQL compares a trial's state with its TrialState name
    assert set(tables["trials"].c.state.type.enums) == {s.name for s in TrialState}, WRITTEN_FOR


def test_private_attributes_of_a_loaded_study(sqlite_url: str) -> None:
    rdb = open_storage(sqlite_url)
    for name in ("heartbeat_interval", "grace_period", "engine", "scoped_session"):
        assert hasattr(rdb, name), f"RDBStorage.{name} {WRITTEN_FOR}"
    optuna.create_study(study_name="s", storage=rdb)
    study = optuna.load_study(study_name="s", storage=rdb)
    assert internals.rdb(internals.storage_of(study)) is rdb, (
        f"_CachedStorage._backend {WRITTEN_FOR}"
    )
    assert internals.rdb(rdb) is rdb
    assert internals.study_id_of(study) == rdb.get_study_id_from_name("s")
    trial = study.ask()
    (frozen,) = study.get_trials(deepcopy=False)
    assert internals.trial_id_of(trial) == internals.trial_id_of(frozen)
    assert rdb.get_trial_number_from_id(internals.trial_id_of(trial)) == trial.number == 0


def test_the_internals_round_trip(sqlite_url: str) -> None:
    """Each function on a real storage: a compare-and-set, attributes, a value and a new trial
    in one transaction, a rolled-back transaction writes nothing, the heartbeat queries."""
    study = optuna.create_study(study_name="s", storage=open_storage(sqlite_url))
    storage, study_id = internals.storage_of(study), internals.study_id_of(study)
    study.enqueue_trial({"x": 1.0})
    assert internals.has_waiting(storage, study_id)
    (waiting,) = study.get_trials(deepcopy=False)
    tid = internals.trial_id_of(waiting)
    running, waiting_ = (TrialState.RUNNING,), (TrialState.WAITING,)
    assert internals.transition(storage, tid, TrialState.RUNNING, waiting_)
    assert not internals.transition(storage, tid, TrialState.RUNNING, waiting_)
    assert not internals.has_waiting(storage, study_id)

    template = optuna.trial.create_trial(state=TrialState.WAITING, user_attrs={"retry_of": 0})
    internals.validate(template)
    with pytest.raises(RuntimeError):
        with internals.transaction(storage, ignore_integrity_error=False) as session:
            internals.write_attrs(storage, session, tid, {"a": 1}, {"b": 2})
            raise RuntimeError("roll back")
    assert storage.get_trial(tid).user_attrs == {}
    with internals.transaction(storage, ignore_integrity_error=False) as session:
        internals.lock_study(session, study_id)
        internals.lock_for_write(session, study_id)
        assert not internals.has_retry(session, study_id, 0)
        internals.write_attrs(storage, session, tid, {"a": 1}, {"b": 2})
        assert internals.set_state(session, tid, TrialState.COMPLETE, running)
        internals.add_value(session, tid, 0.25)
        internals.add_trial(storage, session, study_id, template)
    done, retry = internals.rdb(storage).get_all_trials(study_id)
    assert (done.state, done.value, done.user_attrs["a"], done.system_attrs["b"]) == (
        TrialState.COMPLETE, 0.25, 1, 2)  # fmt: skip
    assert (retry.number, retry.state, retry.user_attrs) == (1, TrialState.WAITING, {"retry_of": 0})
    assert internals.count_originals(storage, study_id) == 1
    with internals.transaction(storage) as session:
        assert internals.has_retry(session, study_id, 0)

    assert internals.transition(storage, internals.trial_id_of(retry), TrialState.RUNNING, waiting_)
    assert internals.heartbeat_trial_ids(storage, [internals.trial_id_of(retry)]) == []
    internals.rdb(storage).record_heartbeat(internals.trial_id_of(retry))
    assert internals.heartbeat_trial_ids(storage, [internals.trial_id_of(retry), tid]) == [
        internals.trial_id_of(retry)
    ]
    assert internals.heartbeat_stale_ids(storage, study_id, 60.0) == set()
    assert internals.rdb(storage).heartbeat_interval is None  # put back as it was


def test_new_trial_leaves_a_waiting_trial_waiting(sqlite_url: str) -> None:
    """Study.ask pops a WAITING trial before it creates one (so a runner that parked a
    suggestion for the budget and asked again got the same one back, and stopped); new_trial
    creates a fresh one and leaves the waiting one alone."""
    study = optuna.create_study(study_name="ask", storage=open_storage(sqlite_url))
    study.enqueue_trial({"x": 1.0})
    (waiting,) = study.get_trials(states=(TrialState.WAITING,))
    assert hasattr(study._thread_local, "cached_all_trials")
    fresh = internals.new_trial(study)
    assert internals.trial_id_of(fresh) != waiting._trial_id
    assert study.get_trials(states=(TrialState.WAITING,))[0].number == waiting.number
    x = fresh.suggest_float("x", 0.0, 10.0)
    study.tell(fresh, x)
    popped = study.ask()  # Optuna's own ask does take the waiting trial: why new_trial exists
    assert popped.number == waiting.number
