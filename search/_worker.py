"""The worker: a long-lived process (a Ray actor) that trains one trial after another.

A worker keeps what trials share: its connection to the study's storage, the task's data
(loaded once, on the first trial) and, inside `models.train`, the compiled step functions, so
a worker pays data loading once and compilation once per model shape, not once per trial.

The worker talks to the study itself: it reports the validation metric at every evaluation
(`trial.report(val, step)`, step = training step), asks the pruner (`trial.should_prune()`),
writes the trial's cost attributes and its final state, in one transaction and only while the
trial is still RUNNING (`studies.finish_trial`). A finished trial is therefore in the
database the moment training ends, whatever happens to the runner afterwards. The
runner only hands out trials, keeps their heartbeats and handles workers that die.

Budgets (``--budget-hours``): the runner writes each running trial's deadline, a wall-clock
time (`time.time`, so the driver's and the workers' clocks are taken to agree, as NTP keeps
them), into the trial's system attribute `STOP_AT_ATTR` and moves it as trials start and end.
At every evaluation the worker reads it, and once it has passed, the objective is told to stop
as a pruner would tell it; the trial is then stored PRUNED with its best validation so far, the
test metric at that evaluation and the user attribute ``stopped_reason = "budget"``.

Checkpoints (``--checkpoint-dir``, `search._checkpoints`): the worker gives each trial the
folder of its retry chain (`TrialContext.checkpoint`); the default objective trains with it,
so a trial writes its state at every evaluation and a retry of a killed trial continues from the
latest one. What the trial found there is written on it at once (user attributes
``resumed_from_step``, or ``checkpoint_refused`` with the reason a checkpoint was not used). A
resumed trial's ``wall_s`` and ``device_s`` include the time its killed runs spent to reach
the checkpoint (``carried_s`` device-seconds, which the killed trials count too:
`studies.study_cost_s` counts them once). The folder is deleted once the worker has stored the
trial's result; a trial the runner gave up meanwhile keeps it for its retry. Vectorized trials
(``--batch-trials``) write no checkpoints: a retry of one starts from step 0.

What a worker trains is the study's objective (`search._objective`: ``module:function``,
by default `search._objective.train_objective` over `models.train`).
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ssmtune.search._objective import (
    TrialContext,
    TrialOutcome,
    WorkerSpec,
    load_objective,
    objective_form,
)

__all__ = ["TrialWorker", "STOP_AT_ATTR", "BUDGET_REASON", "EVALS_ATTR", "SEED_ATTR"]

_log = logging.getLogger(__name__)

#: System attribute of a running trial: the wall-clock time (`time.time`) at which it must stop
#: for the study's budget (written by the runner, read by the worker at every evaluation).
STOP_AT_ATTR = "ssmtune:stop_at"
#: The `stopped_reason` user attribute of a trial stopped at the study's budget.
BUDGET_REASON = "budget"
#: User attribute of a resumed trial, written when it starts: the wall seconds its killed
#: runs spent up to the checkpoint (what a runner stopping it at the budget charges it too).
RESUMED_SPENT_ATTR = "resumed_spent_s"
#: User attributes of a finished trial that a replay needs (issue 24): its evaluations, each
#: ``[step, val, test, device_s]`` (test where it was read: at each new best validation, else
#: null; device-seconds since the trial started, compilation included), and its seed.
EVALS_ATTR = "evals"
SEED_ATTR = "seed"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:400]


class TrialWorker:
    """Runs trials of one study; wrapped as a Ray actor by the runner (`search._runner`)."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.cache: dict[str, Any] = {}
        self._study: Any = None
        self.node = socket.gethostname()
        self._unreported: dict[int, Callable[[], None]] = {}
        self._best: dict[int, float] = {}  # best validation reported, per trial
        self._over_budget: set[int] = set()  # trials told to stop at the budget
        self._carried: dict[int, float] = {}  # wall seconds a resumed trial's killed runs spent
        self._folders: dict[int, Path] = {}  # each trial's checkpoint folder
        # each trial's evaluations as reported: (step, val, seconds since its objective
        # started, the origin of its wall time too)
        self._reported: dict[int, list[tuple[int, float, float]]] = {}
        self._origin: dict[int, float] = {}

    def ping(self) -> dict[str, Any]:
        """The worker's process id and node, answered once the worker is up and has opened
        the study (so that its first trial does not pay for that: a trial's cost counts from
        the moment the runner takes it)."""
        self._db(self.study, "open the study")
        return {"pid": os.getpid(), "node": self.node}

    def study(self) -> Any:
        if self._study is None:
            import optuna

            from ssmtune.search._policy import make_pruner
            from ssmtune.studies import open_storage

            storage = open_storage(self.spec.storage_url)
            self._study = optuna.load_study(
                study_name=self.spec.study_name,
                storage=storage,
                sampler=optuna.samplers.RandomSampler(),
                pruner=make_pruner(self.spec.pruner, self.spec.protocol),
            )
        return self._study

    def run(
        self, trial_id: int, params: dict[str, Any], ahead: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Train trial `trial_id` with `params`, store its result; return a summary.

        The summary (state, value, status, wall_s) is for the runner's progress only: the
        storage already holds the trial's result when this returns. `ahead`: the parameters
        of a trial of another shape this worker will get later; its model is compiled in a
        background thread meanwhile (the objective's ``_precompile`` form, if it has one).
        """

        ctx = self._claim(trial_id)
        if ahead is not None:
            self._compile_ahead(ahead, ctx)
        start = self._origin[trial_id] = time.perf_counter()
        try:
            outcome = load_objective(self.spec.objective)(params, ctx)
        except Exception as exc:  # the trial failed, the worker lives on
            wall = time.perf_counter() - start
            return self._raised(trial_id, wall, exc)
        wall = time.perf_counter() - start
        return self._record(trial_id, outcome, wall if outcome.wall_s is None else outcome.wall_s)

    def run_batch(
        self, trial_ids: list[int], params_list: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Train trials of one shape together (``--batch-trials``) with the objective's batch
        form; one summary per trial, each trial stored on its own with its share of the cost.
        An objective without a batch form runs the trials one after the other."""

        batch = objective_form(self.spec.objective, "batch")
        if batch is None or len(trial_ids) == 1:
            return [self.run(t, p) for t, p in zip(trial_ids, params_list, strict=True)]
        ctxs = [self._claim(t) for t in trial_ids]
        start = time.perf_counter()
        self._origin.update(dict.fromkeys(trial_ids, start))
        try:
            outcomes = batch(params_list, ctxs)
        except Exception as exc:
            wall = (time.perf_counter() - start) / len(trial_ids)
            return [self._raised(t, wall, exc) for t in trial_ids]
        wall = (time.perf_counter() - start) / len(trial_ids)
        return [
            self._record(t, o, o.wall_s if o.wall_s is not None else wall)
            for t, o in zip(trial_ids, outcomes, strict=True)
        ]

    def _compile_ahead(self, params: dict[str, Any], ctx: TrialContext) -> None:
        """Start compiling the model of `params` in a background thread. A failure there is
        only logged: the trial itself will fail (or compile) when it runs."""
        precompile = objective_form(self.spec.objective, "precompile")
        if precompile is None:
            return

        def work() -> None:
            try:
                precompile(params, ctx)
            except Exception as exc:  # noqa: BLE001 - the trial reports it when it runs
                _log.warning("compiling ahead for %s failed: %s", params, _one_line(exc))

        threading.Thread(target=work, name="ssmtune-compile-ahead", daemon=True).start()

    def _claim(self, trial_id: int) -> TrialContext:
        """Mark the trial as this worker's (pid, node) and make its context.

        The context's `report` rides through a database outage: an evaluation it cannot write
        is kept and written with the next one (or with the result), the pruner is not asked
        meanwhile, and training goes on.
        """
        import optuna

        from ssmtune.studies import (
            DEVICES_ATTR,
            device_factor,
            is_outage,
            set_trial_attrs,
            storage_of,
        )

        study = self._db(self.study, "open the study")
        trial = self._db(lambda: optuna.Trial(study, trial_id), f"load trial {trial_id}")
        # the devices it is charged for while it runs: one device, or the GPU share
        devices = device_factor(self.spec.device_share)
        self._db(
            lambda: set_trial_attrs(
                storage_of(study),
                trial_id,
                {"node": self.node, DEVICES_ATTR: devices},
                {"ssmtune:pid": os.getpid()},
            ),
            f"claim trial {trial_id}",
        )
        pending: list[tuple[int, float]] = []
        better = min if study.direction.name == "MINIMIZE" else max
        self._origin[trial_id] = time.perf_counter()  # reset when the objective starts
        reported = self._reported[trial_id] = []
        origin = self._origin

        def flush() -> None:
            while pending:
                step, val = pending[0]
                trial.report(val, step)
                pending.pop(0)

        def report(step: int, val: float) -> bool:
            pending.append((int(step), float(val)))
            reported.append((int(step), float(val), time.perf_counter() - origin[trial_id]))
            if math.isfinite(val):
                best = self._best.get(trial_id)
                self._best[trial_id] = float(val) if best is None else better(best, float(val))
            try:
                flush()
                if trial.should_prune():
                    return True
                if self.spec.budgeted and self._past_deadline(study, trial_id):
                    self._over_budget.add(trial_id)
                    return True
                return False
            except Exception as exc:
                if not is_outage(exc):
                    raise
                _log.warning("trial %d: cannot report step %d yet: %s", trial_id, step, exc)
                return False

        self._unreported[trial_id] = flush
        folder = None
        if self.spec.checkpoint_dir is not None:
            from ssmtune.search._checkpoints import trial_folder

            frozen = self._db(lambda: storage_of(study).get_trial(trial_id), "read a trial")
            folder = trial_folder(self.spec.checkpoint_dir, self.spec.study_name, frozen)
            self._folders[trial_id] = folder

        def on_resume(found: Any) -> None:
            attrs: dict[str, Any] = {}
            if found.step is not None:
                self._carried[trial_id] = float(found.spent_s)
                attrs["resumed_from_step"] = int(found.step)
                attrs[RESUMED_SPENT_ATTR] = float(found.spent_s)
            if found.reason is not None:
                attrs["checkpoint_refused"] = found.reason
            if attrs:
                self._db(
                    lambda: set_trial_attrs(storage_of(study), trial_id, attrs),
                    f"record the checkpoint of trial {trial_id}",
                )

        return TrialContext(self.spec, report, self.cache, folder, on_resume)

    @staticmethod
    def _past_deadline(study: Any, trial_id: int) -> bool:
        """Whether the runner's deadline of the trial (`STOP_AT_ATTR`) has passed."""
        from ssmtune.studies import storage_of

        stop_at = storage_of(study).get_trial(trial_id).system_attrs.get(STOP_AT_ATTR)
        return stop_at is not None and time.time() >= float(stop_at)

    def _db(self, call: Callable[[], Any], what: str) -> Any:
        """`call()` retried through a database outage (`studies._storage.retrying`)."""
        from ssmtune.studies import retrying

        return retrying(
            call,
            what=what,
            url=self.spec.storage_url,
            study=self.spec.study_name,
            on_wait=lambda msg: _log.warning("%s: %s", what, msg),
        )

    def _record(self, trial_id: int, outcome: TrialOutcome, wall: float) -> dict[str, Any]:
        """Store a trial's outcome: its cost attributes and its final state. A trial stopped
        at the budget is PRUNED with its best validation so far (the objective's, else the
        best it reported) and ``stopped_reason = "budget"``."""
        from optuna.trial import TrialState

        from ssmtune.studies import CARRIED_ATTR, DEVICES_ATTR, device_factor

        devices = device_factor(self.spec.device_share, outcome.device_count)
        carried = self._carried.pop(trial_id, 0.0)  # the killed runs' time to the checkpoint
        wall += carried
        attrs = {
            "wall_s": wall,
            "device_s": devices * wall,
            DEVICES_ATTR: devices,
            "compile_s": outcome.compile_s,
            "steps": outcome.steps,
            "status": outcome.status,
            "test": outcome.test,
            "device": outcome.device,
            "peak_mem": outcome.peak_mem,
        }
        if carried > 0:
            attrs[CARRIED_ATTR] = devices * carried
        attrs[SEED_ATTR] = self.spec.seed
        attrs[EVALS_ATTR] = self._evaluations(trial_id, outcome, devices, carried, wall)
        val = outcome.val
        best = self._best.pop(trial_id, None)
        over_budget = trial_id in self._over_budget
        self._over_budget.discard(trial_id)
        if outcome.status == "pruned" and over_budget:
            value = val if val is not None and math.isfinite(val) else best
            attrs["stopped_reason"] = BUDGET_REASON
            return self._finish(trial_id, TrialState.PRUNED, value, attrs)
        if outcome.status == "pruned":
            return self._finish(trial_id, TrialState.PRUNED, None, attrs)
        if val is None or not math.isfinite(val):
            reason = (
                f"diverged at step {outcome.diverged_step}"
                if outcome.status == "diverged"
                else "no validation metric (the run stopped before its first evaluation)"
            )
            return self._finish(trial_id, TrialState.FAIL, None, attrs, reason)
        return self._finish(trial_id, TrialState.COMPLETE, float(val), attrs)

    def _evaluations(
        self, trial_id: int, outcome: TrialOutcome, devices: float, carried: float, wall: float
    ) -> list[list[float | int | None]]:
        """The trial's `EVALS_ATTR`: ``[step, val, test, device_s]`` per evaluation, from the
        objective's evaluations (`TrialOutcome.evaluations`, seconds since its run started),
        else from what it reported (seconds since its objective started; test unknown). No
        evaluation is charged more than the whole trial (`wall`, the killed runs' included)."""
        if outcome.evaluations:
            return [[int(s), v, t, devices * min(e, wall)] for s, v, t, e in outcome.evaluations]
        return [
            [s, v, None, devices * min(carried + e, wall)]
            for s, v, e in self._reported.get(trial_id, ())
        ]

    def _raised(self, trial_id: int, wall: float, exc: Exception) -> dict[str, Any]:
        """Store a trial whose objective raised `exc` as FAIL with the error as its reason;
        the summary says ``raised`` (the runner's fail-fast rule, `search._fail_fast`)."""
        from optuna.trial import TrialState

        summary = self._finish(trial_id, TrialState.FAIL, None, {"wall_s": wall}, _one_line(exc))
        summary["raised"] = True
        return summary

    def _finish(
        self,
        trial_id: int,
        state: Any,
        value: float | None,
        attrs: dict[str, Any],
        reason: str | None = None,
    ) -> dict[str, Any]:
        from ssmtune.studies import finish_trial, storage_of

        self._best.pop(trial_id, None)
        self._over_budget.discard(trial_id)
        self._carried.pop(trial_id, None)
        self._reported.pop(trial_id, None)
        self._origin.pop(trial_id, None)
        folder = self._folders.pop(trial_id, None)
        summary = {"trial_id": trial_id, "state": state.name, "value": value, **attrs}
        if reason is not None:
            attrs = {**attrs, "fail_reason": reason}
            summary["fail_reason"] = reason
        storage = storage_of(self.study())
        flush = self._unreported.pop(trial_id, None)
        if flush is not None:
            self._db(lambda: _ignore_finished(flush), f"report the evaluations of trial {trial_id}")
        done = self._db(
            lambda: finish_trial(storage, trial_id, state, value, attrs),
            f"record the result of trial {trial_id}",
        )
        if not done:
            summary["state"] = "ALREADY_FINISHED"  # the runner gave the trial up meanwhile
        elif folder is not None:  # finished: its retries (if any) need no checkpoint
            from ssmtune.search._checkpoints import remove_folder

            remove_folder(folder)
        return summary


def _ignore_finished(call: Callable[[], None]) -> None:
    """`call()`, except that a trial someone else already finished is not an error."""
    import optuna

    try:
        call()
    except optuna.exceptions.UpdateFinishedTrialError:
        pass
