"""Study settings, continuation, exactly-once bookkeeping, heartbeats, retries and status."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import optuna
import pytest
from optuna.trial import TrialState

from ssmtune.studies import (
    StudyError,
    StudySettings,
    create_or_continue,
    default_study_name,
    enqueue_points,
    fail_trial,
    finish_trial,
    load_study,
    pop_waiting,
    record_heartbeat,
    requeue_lost,
    retries_of,
    retry_trial,
    stale_trials,
)
from ssmtune.studies._status import study_status
from ssmtune.studies._storage import open_storage

SETTINGS = StudySettings(
    task="basicmotions",
    model="linoss",
    space="small-linoss",
    space_size=4,
    sampler="grid",
    pruner="none",
    protocol={"max_steps": 10, "eval_every": 5, "patience": 2, "batch_size": 32},
    seed=2345,
    direction="maximize",
)
POINTS = [{"lr": lr, "hidden": h} for lr in (1e-4, 1e-3) for h in (16, 32)]


@pytest.fixture
def study(sqlite_url: str) -> optuna.Study:
    created, new = create_or_continue(open_storage(sqlite_url), "s", SETTINGS)
    assert new
    return created


def test_default_name_is_deterministic() -> None:
    assert (
        default_study_name("BasicMotions", "linoss-full", "tpe") == "basicmotions-linoss-full-tpe"
    )
    assert default_study_name("x", "/a/b/my-space.toml", "grid") == "x-my-space-grid"


def test_settings_are_recorded_as_user_attributes(study: optuna.Study) -> None:
    attrs = study.user_attrs
    for key in ("task", "model", "space", "space_size", "sampler", "pruner", "protocol", "seed",
                "ssmtune_version", "max_retries", "budget_hours"):  # fmt: skip
        assert key in attrs
    assert attrs["protocol"]["batch_size"] == 32
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE


def test_same_name_continues_and_other_settings_are_refused(study: optuna.Study) -> None:
    storage = study._storage
    again, new = create_or_continue(storage, "s", replace(SETTINGS, n_trials=3, budget_hours=1.0))
    assert not new and again.user_attrs["n_trials"] == 3
    with pytest.raises(StudyError, match=r"sampler random \(recorded: grid\)"):
        create_or_continue(storage, "s", replace(SETTINGS, sampler="random", n_trials=2))
    assert len(storage.get_all_studies()) == 1


def test_bad_settings_are_refused() -> None:
    with pytest.raises(StudyError, match="needs `n_trials`"):
        replace(SETTINGS, sampler="tpe")
    with pytest.raises(StudyError, match="positive integer"):
        replace(SETTINGS, n_trials=-1)


def test_unknown_study_names_the_existing_ones(study: optuna.Study) -> None:
    with pytest.raises(StudyError, match="studies there: s"):
        load_study(study._storage, "nope")


def test_enqueue_is_idempotent(study: optuna.Study) -> None:
    assert enqueue_points(study, POINTS) == 4
    assert enqueue_points(study, POINTS) == 0
    assert len(study.trials) == 4


def test_pop_waiting_gives_each_trial_once(study: optuna.Study) -> None:
    enqueue_points(study, POINTS)
    got: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        while (trial := pop_waiting(study)) is not None:
            with lock:
                got.append(trial._trial_id)

    threads = [threading.Thread(target=take) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(t._trial_id for t in study.trials)


def test_retry_keeps_the_parameters_and_counts(study: optuna.Study) -> None:
    enqueue_points(study, POINTS[:1])
    trial = pop_waiting(study)
    trial.suggest_categorical("lr", [1e-4, 1e-3])
    trial.suggest_categorical("hidden", [16, 32])
    assert fail_trial(study, trial._trial_id, "worker died")
    assert not fail_trial(study, trial._trial_id, "again")  # finished trials stay as they are
    frozen = study._storage.get_trial(trial._trial_id)
    assert frozen.user_attrs["fail_reason"] == "worker died"
    number = retry_trial(study, frozen)
    retry = study.trials[number]
    assert retry.state == TrialState.WAITING
    assert retry.user_attrs["retry_of"] == frozen.number
    assert retry.params == POINTS[0] and retries_of(retry) == 1
    assert optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(retry) == 0
    status = study_status(study)
    assert status["n_fail"] == 1 and status["n_retried"] == 1 and status["finished"] == 0


@pytest.fixture(params=["sqlite", "postgres"])
def any_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


def test_finish_writes_state_value_and_attributes(any_url: str) -> None:
    study, _ = create_or_continue(open_storage(any_url), "s", SETTINGS)
    enqueue_points(study, POINTS[:3])
    done, pruned, lost = (pop_waiting(study) for _ in range(3))
    assert finish_trial(study._storage, done._trial_id, TrialState.COMPLETE, 0.75, {"steps": 10})
    pruned.report(0.5, 5)
    pruned.report(0.25, 3)
    assert finish_trial(study._storage, pruned._trial_id, TrialState.PRUNED)
    assert fail_trial(study, lost._trial_id, "runner lost")
    # a late result of a trial the runner gave up changes nothing, attributes included
    assert not finish_trial(study._storage, lost._trial_id, TrialState.COMPLETE, 0.5, {"steps": 9})
    assert not finish_trial(study._storage, done._trial_id, TrialState.FAIL)
    trials = load_study(open_storage(any_url), "s").trials
    assert (trials[0].state, trials[0].value, trials[0].user_attrs["steps"]) == (
        TrialState.COMPLETE, 0.75, 10
    )  # fmt: skip
    assert trials[0].datetime_complete is not None
    assert (trials[1].state, trials[1].value) == (TrialState.PRUNED, 0.5)  # the last step's
    assert (trials[2].state, trials[2].value) == (TrialState.FAIL, None)
    assert "steps" not in trials[2].user_attrs


@pytest.mark.parametrize("attrs", [{}, {"steps": 10}])
def test_a_trial_failed_while_it_finishes_stays_failed(
    study: optuna.Study, attrs: dict[str, int]
) -> None:
    # The race behind a grid point finished twice: a worker reads its trial as RUNNING, the
    # runner (another connection) fails and re-queues the trial, then the worker writes its
    # result. Optuna's `Study.tell` overwrote the FAIL on SQLite; finish_trial must not.
    from sqlalchemy import event

    enqueue_points(study, POINTS[:1])
    trial = pop_waiting(study)
    runner = load_study(open_storage(study._storage._backend.url), "s")
    failed: list[bool] = []

    def lose_before_first_write(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        if not failed and not statement.lstrip().upper().startswith("SELECT"):
            failed.append(fail_trial(runner, trial._trial_id, "runner lost"))

    engine = study._storage._backend.engine
    event.listen(engine, "before_cursor_execute", lose_before_first_write)
    try:
        late = finish_trial(study._storage, trial._trial_id, TrialState.COMPLETE, 0.5, attrs)
    finally:
        event.remove(engine, "before_cursor_execute", lose_before_first_write)
    assert failed == [True] and not late
    frozen = runner._storage.get_trial(trial._trial_id)
    assert (frozen.state, frozen.value) == (TrialState.FAIL, None)
    assert frozen.user_attrs == {"fail_reason": "runner lost"}


def test_stale_trials_are_found_by_heartbeat(study: optuna.Study) -> None:
    enqueue_points(study, POINTS[:2])
    a, b = pop_waiting(study), pop_waiting(study)
    record_heartbeat(study._storage, a._trial_id)
    record_heartbeat(study._storage, b._trial_id)
    time.sleep(3.2)  # SQLite keeps whole seconds
    record_heartbeat(study._storage, b._trial_id)
    assert stale_trials(study, 2) == [a._trial_id]
    assert stale_trials(study, 2, exclude={a._trial_id}) == []
    assert stale_trials(study, 30) == []


def test_status_counts_best_and_cost(study: optuna.Study) -> None:
    enqueue_points(study, POINTS)
    for value in (0.5, 0.9):
        t = pop_waiting(study)
        t.set_user_attr("device_s", 36.0)
        study.tell(t, value)
    t = pop_waiting(study)
    study.tell(t, state=TrialState.PRUNED)
    s = study_status(study)
    assert (s["n_complete"], s["n_pruned"], s["n_waiting"], s["finished"], s["total"]) == (
        2, 1, 1, 3, 4
    )  # fmt: skip
    assert s["best_value"] == 0.9 and s["best_trial"] == 1
    assert s["device_hours"] == pytest.approx(0.02, abs=1e-3)


def _running_with_params(study: optuna.Study, point: dict) -> optuna.Trial:
    enqueue_points(study, [point])
    trial = pop_waiting(study)
    for key in point:
        trial.suggest_categorical(key, sorted({p[key] for p in POINTS}))
    assert trial.params == point
    return trial


def test_fail_and_requeue_is_one_transaction(any_url: str) -> None:
    """A runner dying between failing a trial and queueing its retry lost the grid point; now
    both are one transaction: when the retry cannot be written, the FAIL is rolled back."""
    from sqlalchemy import event

    study, _ = create_or_continue(open_storage(any_url), "s", SETTINGS)
    trial = _running_with_params(study, POINTS[0])
    engine = study._storage._backend.engine

    def die_on_the_retry(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("INSERT INTO TRIALS"):
            raise RuntimeError("killed between the FAIL and the retry")

    event.listen(engine, "before_cursor_execute", die_on_the_retry)
    try:
        with pytest.raises(RuntimeError):
            fail_trial(study, trial._trial_id, "worker died", requeue=True)
    finally:
        event.remove(engine, "before_cursor_execute", die_on_the_retry)
    (only,) = load_study(open_storage(any_url), "s").trials
    assert only.state == TrialState.RUNNING and "fail_reason" not in only.user_attrs
    assert fail_trial(study, trial._trial_id, "worker died", requeue=True, count=False)
    failed, retry = load_study(open_storage(any_url), "s").trials
    assert failed.state == TrialState.FAIL and failed.user_attrs["fail_reason"] == "worker died"
    assert retry.state == TrialState.WAITING and retry.user_attrs["retry_of"] == failed.number
    assert retry.params == POINTS[0] and retries_of(retry) == 0
    # a trial that finished meanwhile is neither failed nor re-queued
    assert not fail_trial(study, trial._trial_id, "again", requeue=True)
    assert len(study.trials) == 2


def test_resume_requeues_points_lost_outside_the_trial_once(any_url: str) -> None:
    """`requeue_lost`: a point whose trials all failed for a reason outside the trial (here: a
    FAIL with no retry, as the old two-step bookkeeping left it) gets one retry, even with two
    runners asking at once; a point that diverged, one that completed and one still waiting
    get none. Until then the status does not count the lost point as finished."""
    study, _ = create_or_continue(open_storage(any_url), "s", SETTINGS)
    lost = _running_with_params(study, POINTS[0])
    assert fail_trial(study, lost._trial_id, "worker died")
    diverged = _running_with_params(study, POINTS[1])
    assert finish_trial(study._storage, diverged._trial_id, TrialState.FAIL, None, {"status": "diverged"})  # fmt: skip
    done = _running_with_params(study, POINTS[2])
    assert finish_trial(study._storage, done._trial_id, TrialState.COMPLETE, 0.5)
    enqueue_points(study, POINTS[3:])
    status = study_status(study)
    assert (status["finished"], status["n_lost"], status["total"]) == (2, 1, 4)
    counts: list[int] = []
    threads = [
        threading.Thread(
            target=lambda: counts.append(
                requeue_lost(load_study(open_storage(any_url), "s"), POINTS)
            )
        )
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(counts) == [0, 1]
    retries = [t for t in study.trials if t.user_attrs.get("retry_of") == lost.number]
    assert len(retries) == 1 and retries[0].state == TrialState.WAITING
    assert retries[0].params == POINTS[0]
    assert requeue_lost(study, POINTS) == 0
    status = study_status(study)
    assert (status["finished"], status["n_lost"], status["n_waiting"]) == (2, 0, 2)
