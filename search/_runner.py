"""The runner: hands a study's trials to Ray workers until the study's plan is done.

One runner (the driver, `ssmtune study start` / `resume`) per command; any number of runners
may work on one study at once (several machines, or a resume while another run goes on).

The loop, in the driver:

1. take trials (`search._taking`): the oldest WAITING ones (a grid point or a retry) in the
   compile-aware scheduler's order (`search._scheduler`), else a new suggestion of the
   sampler; `Space.suggest` records its parameters and distributions in the storage;
2. send them to an idle worker (a Ray actor, `search._worker.TrialWorker`, of the pool,
   `search._pool`), which trains, reports every evaluation, asks the pruner and tells the
   result to the storage itself;
3. keep a heartbeat for every trial in flight (Optuna's heartbeat table), every
   `heartbeat_s` seconds, on behalf of its worker;
4. when Ray reports a worker dead (process killed, node lost), fail its trial and re-queue a
   retry while it has retries left (`max_retries`), in one transaction (`search._faults`), so
   no kill of the runner at any instant loses the grid point; start a new worker in its place
   (a worker that dies while starting is replaced too, at most `START_ATTEMPTS` times per
   worker asked for);
5. fail and re-queue RUNNING trials of other runners whose heartbeat is older than the grace
   period (their runner died: a `start` killed with SIGKILL); such a re-queue and a Ctrl+C
   re-queue do not use up a retry, since the trial itself did nothing wrong;
6. stop when nothing is waiting or running and the plan is done, when the budget
   (`budget_hours`) is spent or can pay for no waiting trial, or on Ctrl+C / SIGTERM
   (`search._signals`: the running trials are stopped, failed with reason "interrupted" and
   re-queued, so none is left RUNNING and `resume` runs them again); report the status on the
   way and a summary at the end (`search._run_summary`).

Budgets, so that a study ends within a few per cent of ``budget_hours``: the runner asks its
`search._budget.Budget`, at every turn of the loop, what the study has spent and which trials
fit or are far past their deadlines (the rules are in its docstring); it writes the deadlines,
parks the suggestions and stops the overdue trials (`search._budget_actions`) and kills their
workers.

Faults the loop rides through or ends on:

- the database unreachable (a PostgreSQL restart): every database call is retried with backoff
  for up to `studies._storage.OUTAGE_S` seconds while the workers keep training (they keep
  their results until the database is back); past that the run stops with one line saying to
  `resume`;
- trial checkpoints (`search._checkpoints`): a trial failed with no retry left or stopped at
  the budget loses its checkpoint folder (a re-queued one keeps it for its retry), and a run
  that ends with its plan done removes what is left of the study's checkpoints;
- Ray lost (`search._ray_health`): a dead local Ray ends the run at once, a cluster that
  cannot be reached ends it after `RAY_LOSS_S` seconds; the trials in flight are failed and
  re-queued first (when the database allows), and the message says to `resume`;
- every trial failing the same way (`search._fail_fast`): when the first trials of the run
  all raise one error and none has a result, the run stops with that error in one line; the
  failed trials are queued again (no retry used up) and the trials in flight re-queued, so
  `resume` runs them once the cause is fixed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from ssmtune.search._batching import ShapeKeys
from ssmtune.search._budget import Budget
from ssmtune.search._budget_actions import BudgetActions, runner_budget
from ssmtune.search._checkpoints import drop_trial_checkpoint
from ssmtune.search._fail_fast import FailFast
from ssmtune.search._faults import Faults
from ssmtune.search._objective import WorkerSpec
from ssmtune.search._pool import WorkerPool
from ssmtune.search._ray_health import RayWatch
from ssmtune.search._run_options import GRACE_BEATS, RunOptions
from ssmtune.search._run_summary import RunSummary
from ssmtune.search._scheduler import Scheduler
from ssmtune.search._signals import install_stop_signals
from ssmtune.search._taking import TrialTaker
from ssmtune.search._worker import BUDGET_REASON, TrialWorker
from ssmtune.studies import (
    StudyError,
    StudySettings,
    fail_trial,
    record_heartbeat,
    retry_trial,
    retrying,
    storage_of,
    trial_id_of,
)

__all__ = ["Runner"]

_log = logging.getLogger(__name__)


@dataclass
class _Slot:
    actor: Any
    trial_ids: tuple[int, ...]
    number: int
    started: float


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
        self.storage = storage_of(study)
        self.settings = settings
        self.space = space
        self.spec = spec
        self.options = options
        self.progress = progress
        self.stop = stop or threading.Event()
        self.grace_s = options.heartbeat_s * GRACE_BEATS
        self.inflight: dict[Any, _Slot] = {}
        # the workers (search._pool); TrialWorker is read here: tests patch it on this module
        self.pool = WorkerPool(TrialWorker, spec, options)
        self.stopped_by: str | None = None
        # the counters, the status and the summary (search._run_summary)
        self.summary = RunSummary(study, settings, self._db, progress)
        self.counters = self.summary.counters
        self.ray_watch = RayWatch(spec.study_name)  # Ray's health (search._ray_health)
        drop = partial(drop_trial_checkpoint, spec.checkpoint_dir, spec.study_name)
        self.faults = Faults(  # failing and re-queuing trials (search._faults)
            study,
            max_retries=settings.max_retries,
            grace_s=self.grace_s,
            db=self._db,
            drop_checkpoint=drop,
        )
        # compile-aware scheduling: the shapes each worker has been given (search._scheduler)
        self.shape_of = ShapeKeys(space, spec.task, spec.protocol)
        self.scheduler = Scheduler(
            self.shape_of,
            ShapeKeys(space, spec.task, spec.protocol, batch=True),
            batch_trials=options.batch_trials,
            compile_ahead=options.compile_ahead,
        )
        # the budget (see the module docstring) and its actions; None without one
        self.budget: Budget | None = runner_budget(settings, space, spec, self.shape_of)
        self.budget_actions: BudgetActions | None = None
        if self.budget is not None:
            self.budget_actions = BudgetActions(
                self.budget, study, db=self._db, drop_checkpoint=drop
            )
        # which trials an idle worker takes (search._taking)
        self.taker = TrialTaker(study, settings, self.scheduler, self.budget, self._own_trials)
        # a run whose first trials all raise the same error stops (search._fail_fast)
        self.fail_fast = FailFast()

    # ------------------------------------------------------------------ workers
    def _running_workers(self) -> int:
        """Workers that are up: idle or training (not those still starting)."""
        return self.pool.running(slot.actor for slot in self.inflight.values())

    # ------------------------------------------------------------------ database
    def _db(self, call: Callable[[], Any], what: str) -> Any:
        """`call()`, retried through a database outage (`studies._storage.retrying`); past
        `OUTAGE_S` it raises a one-line StudyError that says to resume."""
        return retrying(
            call,
            what=what,
            url=self.spec.storage_url,
            study=self.spec.study_name,
            on_wait=lambda msg: _log.warning("study %s: %s", self.spec.study_name, msg),
        )

    def _own_trials(self) -> list[int]:
        return [t for slot in self.inflight.values() for t in slot.trial_ids]

    # ------------------------------------------------------------------ budget
    def _budget_tick(self) -> bool:
        """Read the study's cost into the budget, write the deadlines of this runner's trials
        that moved and stop those far past theirs (`BudgetActions.look`); return whether the
        budget is spent. Does nothing without a budget."""
        if self.budget_actions is None:
            return False
        slots = {ref: slot.trial_ids for ref, slot in self.inflight.items()}
        spent, overdue = self.budget_actions.look(self._own_trials(), slots)
        for ref in overdue:
            self._stop_slot(ref)
        return spent

    def _stop_slot(self, ref: Any) -> None:
        """Kill a worker whose trials are far past their deadlines and stop its trials at the
        budget (`BudgetActions.stop`); start a new worker while budget remains."""
        import ray

        assert self.budget is not None and self.budget_actions is not None
        slot = self.inflight.pop(ref)
        self.pool.kill(slot.actor)
        ray.wait([ref], timeout=10)  # let the kill land: no result after ours
        self.scheduler.forget(slot.actor)
        self.counters.budget_stopped += self.budget_actions.stop(slot.trial_ids)
        self.counters.finished += len(slot.trial_ids)
        self.budget.ended(slot.trial_ids)
        if self.budget.remaining_s > 0:
            self.pool.new()

    # ------------------------------------------------------------------ trials
    def _dispatch(self, actor: Any) -> bool:
        taker = self.taker
        taker.seen = []
        trials = self._db(lambda: taker.take(actor), "take the next trial")
        if not trials:
            return False
        ids, params_list = [], []
        asked = taker.asked  # a new suggestion, not a waiting trial
        for trial in trials:
            self._db(
                partial(record_heartbeat, self.storage, trial_id_of(trial)),
                f"record a heartbeat of trial {trial.number}",
            )
            try:
                params = self._db(
                    partial(self.space.suggest, trial),
                    f"record the parameters of trial {trial.number}",
                )
            except StudyError:
                raise
            except Exception as exc:
                self._db(
                    partial(
                        fail_trial,
                        self.study,
                        trial_id_of(trial),
                        f"cannot suggest parameters: {exc}",
                    ),
                    f"fail trial {trial.number}",
                )
                continue
            if self.budget is not None and self.budget_actions is not None:
                own, compiled = self._own_trials(), self.scheduler.compiled_by(actor)
                if asked and not self.budget.fits(params, own, compiled):
                    self.budget_actions.park(trial)
                    continue
                self.budget.started(trial_id_of(trial), params, compiled)
            ids.append(trial_id_of(trial))
            params_list.append(params)
            self.scheduler.given(actor, params)
        if not ids:
            self.pool.idle.append(actor)
            return True
        if len(ids) == 1:
            ahead = self.scheduler.ahead(actor, [w for w in taker.seen if w.trial_id not in ids])
            self.counters.compiled_ahead += ahead is not None
            ref = actor.run.remote(ids[0], params_list[0], ahead)
        else:
            ref = actor.run_batch.remote(ids, params_list)
        self.inflight[ref] = _Slot(actor, tuple(ids), trials[0].number, time.perf_counter())
        self.counters.dispatched += len(ids)
        return True

    def _beat(self) -> None:
        for trial_id in self._own_trials():
            self._db(partial(record_heartbeat, self.storage, trial_id), "record a heartbeat")

    # ------------------------------------------------------------------ state
    def _refresh(self) -> dict[str, Any]:
        return self.summary.refresh(len(self.inflight), self._running_workers())

    def _work_left(self) -> bool:
        from optuna.trial import TrialState

        trials = self._db(lambda: self.study.get_trials(deepcopy=False), "read the trials")
        if any(t.state in (TrialState.WAITING, TrialState.RUNNING) for t in trials):
            return True
        if self.settings.sampler == "grid":
            return False
        originals = sum(1 for t in trials if "retry_of" not in t.user_attrs)
        return originals < (self.settings.n_trials or 0)

    # ------------------------------------------------------------------ loop
    def run(self) -> dict[str, Any]:
        """Run until done, out of budget or stopped; return the summary (`study_status` plus
        this run's counters, `stopped_by` and `wall_s`; `budget_hours`, `budget_stopped`: this
        run's trials stopped at the budget, `budget_skipped`: trials it did not start for the
        budget, still waiting)."""
        restore = install_stop_signals(self.stop)
        try:
            self._loop()
        finally:
            workers_running = self._running_workers()
            self.pool.kill_all()
            restore()
        if self.stopped_by is None and self.spec.checkpoint_dir is not None:
            from ssmtune.search._checkpoints import remove_study_folder

            # the plan is done: no trial of the study is waiting or running
            remove_study_folder(self.spec.checkpoint_dir, self.spec.study_name)
        return self.summary.closing(
            self._refresh(),
            workers_running=workers_running,
            start_failures=self.pool.start_failures,
            stopped_by=self.stopped_by,
            budget=self.budget,
        )

    def _loop(self) -> None:
        import ray

        pool = self.pool
        for _ in range(self.options.workers):
            pool.new()
        hb = self.options.heartbeat_s
        next_beat = next_reap = next_refresh = 0.0
        budget_hit = False
        while True:
            now = time.perf_counter()
            if self.stop.is_set():
                self._interrupt()
                return
            if now >= next_beat:
                self._check_ray()
                self._beat()
                next_beat = now + hb
            if now >= next_reap:
                own = {t for s in self.inflight.values() for t in s.trial_ids}
                self.counters.requeued_stale += self.faults.reap_stale(own)
                next_reap = now + hb
            if self._budget_tick() and not budget_hit:
                budget_hit = True
                self.stopped_by = "budget"
            if self.budget is not None:
                self.budget.blocked = False
            while pool.idle and not budget_hit and not self.stop.is_set():
                actor = pool.idle.pop()
                if not self._dispatch(actor):
                    pool.idle.append(actor)  # nothing to take now
                    break
            if now >= next_refresh:  # the status reads every trial: at most once a second
                self._refresh()
                next_refresh = now + 1.0
            if not self.inflight:
                blocked = self.budget is not None and self.budget.blocked
                if budget_hit or blocked:  # nothing waiting fits in the budget
                    self.stopped_by = "budget"
                    return
                if not self._work_left():
                    return
                if not pool.idle and not pool.starting:
                    raise StudyError(
                        "no worker could start: "
                        + (pool.start_errors[-1] if pool.start_errors else "?")
                    )
                if not pool.starting:
                    # others' trials are running (or going stale): wait for them
                    self.stop.wait(self.options.poll_s)
                    continue
            waiting = [*self.inflight, *pool.starting]
            ready, _ = ray.wait(waiting, num_returns=1, timeout=self.options.poll_s)
            for ref in ready:
                if ref in pool.starting:
                    pool.started(ref)
                else:
                    self._collect(ref)
            if ready and time.perf_counter() >= next_refresh:
                self._refresh()
                next_refresh = time.perf_counter() + 1.0

    def _collect(self, ref: Any) -> None:
        import ray

        slot = self.inflight.pop(ref)
        summaries: list[dict[str, Any]] = []
        try:
            result = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            # run() raised: the trial's own errors are stored by the worker, so this is the
            # worker's machinery (its database past the outage limit, a bug in ssmtune): the
            # trial did nothing wrong, so it is re-queued while it has retries left
            error = " ".join(str(exc).split("\n")[-1].split())[:300]
            for trial_id in slot.trial_ids:
                self.faults.retry_or_fail(trial_id, f"worker error: {error}")
            self.pool.idle.append(slot.actor)
        except ray.exceptions.RayError as exc:  # the worker process or its node is gone
            self.pool.kill(slot.actor)
            self.counters.worker_deaths += 1
            self.scheduler.forget(slot.actor)
            self.counters.retries += self.faults.worker_died(slot.trial_ids, type(exc).__name__)
            self.pool.new()
        else:
            self.pool.idle.append(slot.actor)
            summaries = result if isinstance(result, list) else [result]
            self.counters.budget_stopped += sum(
                1 for r in summaries if r.get("stopped_reason") == BUDGET_REASON
            )
        self.counters.finished += len(slot.trial_ids)
        if self.budget is not None:
            self.budget.ended(slot.trial_ids)
        per_trial = (time.perf_counter() - slot.started) / len(slot.trial_ids)
        self.counters.trial_s.extend([per_trial] * len(slot.trial_ids))
        if summaries:  # the worker returned (not when it died or its machinery failed)
            self._fail_fast(summaries)

    def _fail_fast(self, summaries: list[dict[str, Any]]) -> None:
        """Feed the run's fail-fast rule (`search._fail_fast`) what the workers returned; when
        it trips, stop the run: the trials in flight are re-queued (as on Ctrl+C), the failed
        ones queued again without using up a retry, and one line names the error."""
        tripped = False
        for r in summaries:
            if r.get("state") == "ALREADY_FINISHED":
                continue
            if r.get("raised"):
                tripped |= self.fail_fast.failed(r["trial_id"], str(r.get("fail_reason")))
            else:
                self.fail_fast.succeeded()
        if not tripped:
            return
        self._requeue_inflight("stopped: the run's trials all failed the same way")
        failed = [
            self._db(partial(self.storage.get_trial, t), "read a trial")
            for t in self.fail_fast.trials
        ]
        for trial in failed:
            self._db(partial(retry_trial, self.study, trial, count=False), "queue a trial again")
        name = self.spec.study_name
        raise StudyError(
            f"the first {len(failed)} trials of this run all failed with the same error, "
            f"so it stopped (trial {failed[0].number}: {self.fail_fast.reason}); they are "
            f"queued again: fix the cause, then `ssmtune study resume {name}` runs them"
        )

    def _interrupt(self) -> None:
        self.stopped_by = "interrupted"
        self.counters.interrupted += self._requeue_inflight("interrupted by the user")

    def _requeue_inflight(self, why: str) -> int:
        """Kill the workers of the trials in flight and re-queue those trials (without using
        up a retry: they did nothing wrong); returns how many were re-queued."""
        import ray

        for slot in list(self.inflight.values()):
            self.pool.kill(slot.actor)
        # let the kills land, so that no worker tells a result after its trial was re-queued
        ray.wait(list(self.inflight), num_returns=len(self.inflight), timeout=10)
        requeued = 0
        for slot in list(self.inflight.values()):
            for trial_id in slot.trial_ids:
                requeued += self.faults.requeue(trial_id, why)
        self.inflight.clear()
        return requeued

    # ------------------------------------------------------------------ Ray's health
    def _check_ray(self) -> None:
        """End the run when its Ray is gone (`search._ray_health.RayWatch`): the trials in
        flight are re-queued first."""
        lost = self.ray_watch.lost()
        if lost is None:
            return
        for slot in list(self.inflight.values()):
            for trial_id in slot.trial_ids:
                self.faults.requeue(trial_id, f"Ray lost: {lost}")
        self.inflight.clear()
        self.pool.idle.clear()
        self.pool.starting.clear()
        raise StudyError(
            f"{lost}; the trials in flight were re-queued; continue with "
            f"`ssmtune study resume {self.spec.study_name}`"
        )
