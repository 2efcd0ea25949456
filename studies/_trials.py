"""The exactly-once bookkeeping of a study's trials: each grid point runs once, whatever dies.

- grid points are enqueued once (`enqueue_points` skips every point some trial already has;
  `trial_point` reads the point of any trial, WAITING ones included);
- a runner takes WAITING trials with `pop_waiting`, a compare-and-set of the trial's state, so
  two runners never take the same one;
- a worker finishes its trial with `finish_trial`, its state, value and attributes in one
  transaction and only while the trial is RUNNING, so a late result never overwrites a trial
  the runner gave up;
- a trial whose worker died is failed with a `fail_reason` and re-queued with the same
  parameters (`fail_trial` with `requeue`, one transaction; user attribute `retry_of`), at
  most `max_retries` times;
- a RUNNING trial whose runner stopped sending heartbeats (`record_heartbeat`) for
  `grace_s` seconds is found by `stale_trials` and re-queued the same way;
- `resume` queues a retry for a point left with failed trials and nothing else
  (`requeue_lost`).

The transactions and the compare-and-set use Optuna internals, all behind
`studies._optuna_internals`. `fault_point` lets the tests kill a runner at each step.
"""

from __future__ import annotations

import json
import math
import os
import signal
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from ssmtune.studies import _optuna_internals as optuna_internals

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

__all__ = [
    "ask_new",
    "point_key",
    "trial_point",
    "enqueue_points",
    "pop_waiting",
    "count_originals",
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


def point_key(params: dict[str, Any]) -> str:
    """A canonical text of a point, to compare points across trials."""
    return json.dumps(params, sort_keys=True, default=str)


def trial_point(trial: FrozenTrial) -> dict[str, Any]:
    """The point a trial runs: its parameters, or, for a WAITING trial (an enqueued grid point
    or a retry), the ones it will run, kept in its system attribute ``fixed_params``.

    Example:
        >>> from types import SimpleNamespace as T
        >>> trial_point(T(params={}, system_attrs={"fixed_params": {"lr": 0.1}}))
        {'lr': 0.1}
    """
    return dict(trial.params) or dict(trial.system_attrs.get("fixed_params") or {})


def enqueue_points(study: optuna.Study, points: list[dict[str, Any]]) -> int:
    """Enqueue every point of `points` that no trial of the study has yet; return how many.

    A point counts as present whatever its trial's state, so a finished, failed or waiting
    point is never enqueued twice.
    """
    present = {point_key(trial_point(t)) for t in study.get_trials(deepcopy=False)}
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


def ask_new(study: optuna.Study) -> optuna.Trial:
    """A new trial from the study's sampler, leaving the WAITING trials waiting (Optuna's
    `Study.ask` would take the oldest of them instead; `optuna_internals.new_trial`)."""
    return optuna_internals.new_trial(study)


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
    study: optuna.Study, grace_s: float, *, exclude: Collection[int] = frozenset()
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
    point = trial_point(trial)
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
        by_point.setdefault(point_key(trial_point(t)), []).append(t)
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
