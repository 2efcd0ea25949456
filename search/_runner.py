"""The runner: hands a study's trials to Ray workers until the study's plan is done.

One runner (the driver, `ssmtune study start` / `resume`) per command; any number of runners
may work on one study at once (several machines, or a resume while another run goes on).

The loop, in the driver:

1. take a trial: the oldest WAITING one (an enqueued grid point or a retry; `pop_waiting` is
   atomic, so no two runners take the same trial), else, for a sampler study with fewer than
   `n_trials` trials, a new one from the sampler (`study.ask`); `Space.suggest` records its
   parameters and distributions in the storage;
2. send it to an idle worker (a Ray actor, `search._worker.TrialWorker`), which trains it,
   reports every evaluation, asks the pruner and tells the result to the storage itself;
3. keep a heartbeat for every trial in flight (Optuna's heartbeat table), every
   `heartbeat_s` seconds, on behalf of its worker;
4. when Ray reports a worker dead (process killed, node lost), fail its trial with the reason
   and queue a retry with the same parameters while the trial has retries left
   (`--max-retries`); start a new worker in its place;
5. fail and re-queue RUNNING trials of other runners whose heartbeat is older than the grace
   period (their runner died: a `start` killed with SIGKILL); such a re-queue and a Ctrl+C
   re-queue do not use up a retry, since the trial itself did nothing wrong;
6. stop when nothing is waiting or running and the plan is done, when the study's
   device-hours reach `--budget-hours` (running trials finish), or on Ctrl+C / SIGTERM (the
   running trials are stopped, failed with reason "interrupted" and re-queued, so none is left
   RUNNING and `resume` runs them again).
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from search._ray import worker_env
from search._worker import TrialWorker, WorkerSpec
from studies._errors import StudyError
from studies._status import study_cost_s, study_status
from studies._study import (
    StudySettings,
    fail_trial,
    pop_waiting,
    record_heartbeat,
    retries_of,
    retry_trial,
    stale_trials,
)

__all__ = ["RunOptions", "Runner", "heartbeat_seconds"]

#: Default seconds between two heartbeats of a trial in flight; a trial is stale after
#: `GRACE_BEATS` missed beats. ``$SSMTUNE_HEARTBEAT_S`` overrides it (tests use 1).
HEARTBEAT_S = 5
GRACE_BEATS = 6


def heartbeat_seconds() -> int:
    """Seconds between heartbeats (``$SSMTUNE_HEARTBEAT_S`` or `HEARTBEAT_S`)."""
    try:
        return max(1, int(os.environ.get("SSMTUNE_HEARTBEAT_S", HEARTBEAT_S)))
    except ValueError:
        return HEARTBEAT_S


@dataclass(frozen=True)
class RunOptions:
    """How one command runs a study (not part of the study's identity).

    Attributes:
        workers: worker processes (Ray actors), one trial each at a time.
        cpus_per_trial, gpus_per_trial: Ray resources of a worker.
        heartbeat_s: seconds between heartbeats; grace: `GRACE_BEATS` of them.
        poll_s: the longest the loop waits for a result before looking around again.
    """

    workers: int
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    heartbeat_s: int = HEARTBEAT_S
    poll_s: float = 0.5


@dataclass
class _Slot:
    actor: Any
    trial_id: int
    number: int
    started: float


@dataclass
class _Counters:
    dispatched: int = 0
    finished: int = 0
    worker_deaths: int = 0
    retries: int = 0
    requeued_stale: int = 0
    interrupted: int = 0
    trial_s: list[float] = field(default_factory=list)


class Runner:
    """Runs one study on the connected Ray until its plan is done (see the module docstring).

    Args:
        study: the study, loaded with its sampler and pruner.
        settings: its settings (sampler, n_trials, max_retries, budget_hours).
        space: its `spaces.Space` (the driver suggests parameters through it).
        spec: what the workers need (`WorkerSpec`).
        options: workers and their resources.
        progress: called with a status dict (`studies.study_status` plus `running_here`,
            `elapsed_s`, `eta_s`) whenever something changed, at most about once a second.
        stop: set it to stop the run as Ctrl+C does (tests; the CLI uses signals).
    """

    def __init__(
        self,
        study: Any,
        settings: StudySettings,
        space: Any,
        spec: WorkerSpec,
        options: RunOptions,
        *,
        progress: Callable[[dict[str, Any]], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.study = study
        self.storage = study._storage
        self.settings = settings
        self.space = space
        self.spec = spec
        self.options = options
        self.progress = progress
        self.stop = stop or threading.Event()
        self.grace_s = options.heartbeat_s * GRACE_BEATS
        self.counters = _Counters()
        self.inflight: dict[Any, _Slot] = {}
        self.starting: dict[Any, Any] = {}
        self.start_errors: list[str] = []
        self.idle: list[Any] = []
        self.actors: list[Any] = []
        self.stopped_by: str | None = None
        self._status: dict[str, Any] = {}
        self._cost_h = 0.0
        self._t0 = time.perf_counter()

    # ------------------------------------------------------------------ workers
    def _new_actor(self) -> Any:
        import ray

        o = self.options
        kwargs: dict[str, Any] = dict(
            num_cpus=o.cpus_per_trial, num_gpus=o.gpus_per_trial, max_restarts=0
        )
        if o.gpus_per_trial > 0:
            kwargs["runtime_env"] = {"env_vars": worker_env(o.gpus_per_trial)}
        actor = ray.remote(TrialWorker).options(**kwargs).remote(self.spec)
        self.actors.append(actor)
        # a worker takes trials once it answers: an actor Ray cannot place yet (no room left on
        # the cluster) holds no trial hostage
        self.starting[actor.ping.remote()] = actor
        return actor

    def _kill(self, actor: Any) -> None:
        import ray

        try:
            ray.kill(actor, no_restart=True)
        except Exception:  # already dead
            pass

    # ------------------------------------------------------------------ trials
    def _originals(self) -> int:
        trials = self.study.get_trials(deepcopy=False)
        return sum(1 for t in trials if "retry_of" not in t.user_attrs)

    def _next_trial(self) -> Any | None:
        trial = pop_waiting(self.study)
        if trial is None:
            if self.settings.sampler == "grid":
                return None
            if self._originals() >= (self.settings.n_trials or 0):
                return None
            trial = self.study.ask()
        return trial

    def _dispatch(self, actor: Any) -> bool:
        trial = self._next_trial()
        if trial is None:
            return False
        record_heartbeat(self.storage, trial._trial_id)
        try:
            params = self.space.suggest(trial)
        except Exception as exc:
            fail_trial(self.study, trial._trial_id, f"cannot suggest parameters: {exc}")
            self.idle.append(actor)
            return True
        ref = actor.run.remote(trial._trial_id, params)
        self.inflight[ref] = _Slot(actor, trial._trial_id, trial.number, time.perf_counter())
        self.counters.dispatched += 1
        return True

    def _worker_died(self, slot: _Slot, reason: str) -> None:
        self.counters.worker_deaths += 1
        trial = self.storage.get_trial(slot.trial_id)
        if trial.state.is_finished():
            return
        left = self.settings.max_retries - retries_of(trial)
        if left > 0:
            why = f"worker died ({reason}); re-queued, {left - 1} retries left after this one"
            if fail_trial(self.study, slot.trial_id, why):
                retry_trial(self.study, trial, count=True)
                self.counters.retries += 1
        else:
            why = (
                f"worker died ({reason}); no retry left (--max-retries {self.settings.max_retries})"
            )
            fail_trial(self.study, slot.trial_id, why)

    def _requeue(self, trial_id: int, why: str) -> bool:
        trial = self.storage.get_trial(trial_id)
        if fail_trial(self.study, trial_id, why):
            retry_trial(self.study, trial, count=False)
            return True
        return False

    def _reap_stale(self) -> None:
        own = {s.trial_id for s in self.inflight.values()}
        for trial_id in stale_trials(self.study, self.grace_s, exclude=own):
            why = f"runner lost (no heartbeat for over {self.grace_s} s); re-queued"
            if self._requeue(trial_id, why):
                self.counters.requeued_stale += 1

    def _beat(self) -> None:
        for slot in self.inflight.values():
            record_heartbeat(self.storage, slot.trial_id)

    # ------------------------------------------------------------------ state
    def _refresh(self) -> dict[str, Any]:
        status = study_status(self.study)
        self._cost_h = status["device_hours"]
        elapsed = time.perf_counter() - self._t0
        total, finished = status["total"], status["finished"]
        eta = None
        if total is not None and self.counters.finished and total > finished:
            eta = elapsed / self.counters.finished * (total - finished)
        status.update(running_here=len(self.inflight), elapsed_s=elapsed, eta_s=eta)
        self._status = status
        if self.progress is not None:
            self.progress(status)
        return status

    def _budget_reached(self) -> bool:
        budget = self.settings.budget_hours
        if budget is None:
            return False
        trials = self.study.get_trials(deepcopy=False)
        self._cost_h = study_cost_s(trials) / 3600.0
        return self._cost_h >= budget

    def _work_left(self) -> bool:
        from optuna.trial import TrialState

        trials = self.study.get_trials(deepcopy=False)
        if any(t.state in (TrialState.WAITING, TrialState.RUNNING) for t in trials):
            return True
        if self.settings.sampler == "grid":
            return False
        originals = sum(1 for t in trials if "retry_of" not in t.user_attrs)
        return originals < (self.settings.n_trials or 0)

    # ------------------------------------------------------------------ loop
    def run(self) -> dict[str, Any]:
        """Run until done, out of budget or stopped; return the summary (`study_status` plus
        this run's counters, `stopped_by` and `wall_s`)."""
        restore = self._install_signals()
        try:
            self._loop()
        finally:
            for actor in self.actors:
                self._kill(actor)
            restore()
        status = self._refresh()
        c = self.counters
        status.update(
            stopped_by=self.stopped_by,
            wall_s=time.perf_counter() - self._t0,
            trials_run=c.finished,
            worker_deaths=c.worker_deaths,
            retries=c.retries,
            requeued_stale=c.requeued_stale,
            interrupted=c.interrupted,
            mean_trial_s=(sum(c.trial_s) / len(c.trial_s)) if c.trial_s else None,
        )
        return status

    def _loop(self) -> None:
        import ray

        for _ in range(self.options.workers):
            self._new_actor()
        hb = self.options.heartbeat_s
        next_beat = next_reap = next_refresh = 0.0
        budget_hit = False
        while True:
            now = time.perf_counter()
            if self.stop.is_set():
                self._interrupt()
                return
            if now >= next_beat:
                self._beat()
                next_beat = now + hb
            if now >= next_reap:
                self._reap_stale()
                next_reap = now + hb
            if not budget_hit and self._budget_reached():
                budget_hit = True
                self.stopped_by = "budget"
            changed = False
            while self.idle and not budget_hit and not self.stop.is_set():
                actor = self.idle.pop()
                if not self._dispatch(actor):
                    self.idle.append(actor)  # nothing to take now
                    break
                changed = True
            if changed or now >= next_refresh:
                self._refresh()
                next_refresh = now + 1.0
            if not self.inflight:
                if budget_hit or not self._work_left():
                    return
                if not self.idle and not self.starting:
                    raise StudyError(
                        "no worker could start: "
                        + (self.start_errors[-1] if self.start_errors else "?")
                    )
                if not self.starting:
                    # others' trials are running (or going stale): wait for them
                    self.stop.wait(self.options.poll_s)
                    continue
            waiting = [*self.inflight, *self.starting]
            ready, _ = ray.wait(waiting, num_returns=1, timeout=self.options.poll_s)
            for ref in ready:
                if ref in self.starting:
                    self._started(ref)
                else:
                    self._collect(ref)
            if ready:
                self._refresh()
                next_refresh = time.perf_counter() + 1.0

    def _started(self, ref: Any) -> None:
        import ray

        actor = self.starting.pop(ref)
        try:
            ray.get(ref)
        except ray.exceptions.RayError as exc:
            self.start_errors.append(" ".join(str(exc).split())[:300])
            self._kill(actor)
        else:
            self.idle.append(actor)

    def _collect(self, ref: Any) -> None:
        import ray

        slot = self.inflight.pop(ref)
        try:
            ray.get(ref)
        except ray.exceptions.RayTaskError as exc:  # run() itself raised: not a dead worker
            fail_trial(self.study, slot.trial_id, f"worker error: {str(exc).splitlines()[-1]}")
            self.idle.append(slot.actor)
        except ray.exceptions.RayError as exc:  # the worker process or its node is gone
            self._kill(slot.actor)
            self._worker_died(slot, type(exc).__name__)
            self._new_actor()
        else:
            self.idle.append(slot.actor)
        self.counters.finished += 1
        self.counters.trial_s.append(time.perf_counter() - slot.started)

    def _interrupt(self) -> None:
        import ray

        self.stopped_by = "interrupted"
        for slot in list(self.inflight.values()):
            self._kill(slot.actor)
        # let the kills land, so that no worker tells a result after its trial was re-queued
        ray.wait(list(self.inflight), num_returns=len(self.inflight), timeout=10)
        for slot in list(self.inflight.values()):
            if self._requeue(slot.trial_id, "interrupted by the user; re-queued"):
                self.counters.interrupted += 1
        self.inflight.clear()

    def _install_signals(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

        def handler(signum: int, _frame: Any) -> None:
            if self.stop.is_set():  # a second Ctrl+C: stop at once
                raise KeyboardInterrupt
            self.stop.set()

        for s in previous:
            signal.signal(s, handler)

        def restore() -> None:
            for s, h in previous.items():
                signal.signal(s, h)

        return restore


def default_workers(cpus: float, gpus: float, cpus_per_trial: float, gpus_per_trial: float) -> int:
    """Workers that fit the cluster: one per GPU share when trials use GPUs, else per CPU share."""
    if gpus_per_trial > 0:
        return max(1, math.floor(gpus / gpus_per_trial + 1e-9))
    return max(1, math.floor(cpus / cpus_per_trial + 1e-9))
