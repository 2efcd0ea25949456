"""The worker: a long-lived process (a Ray actor) that trains one trial after another.

A worker keeps what trials share: its connection to the study's storage, the task's data
(loaded once, on the first trial) and, inside `models.train`, the compiled step functions, so
a worker pays data loading once and compilation once per model shape, not once per trial.

The worker talks to the study itself: it reports the validation metric at every evaluation
(`trial.report(val, step)`, step = training step), asks the pruner (`trial.should_prune()`),
writes the trial's cost attributes and tells the final state. A finished trial is therefore
in the database the moment training ends, whatever happens to the runner afterwards. The
runner only hands out trials, keeps their heartbeats and handles workers that die.

The objective is pluggable: ``module:function`` with the signature of `train_objective`
(tests swap in a fake that sleeps and returns a number).
"""

from __future__ import annotations

import importlib
import math
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["WorkerSpec", "TrialContext", "TrialOutcome", "TrialWorker", "train_objective"]

#: The objective of real studies.
DEFAULT_OBJECTIVE = "search._worker:train_objective"


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to know; sent once, when the worker starts.

    Attributes:
        storage_url: the study's storage (with its password: workers connect to it).
        study_name: the study.
        task: task name; seed: the study's seed (data split and initialisation).
        space: space name or TOML path.
        protocol: max_steps, eval_every, patience (override the space's training options).
        pruner: the study's pruner name.
        objective: ``module:function`` of the objective.
        device_share: GPUs per trial (0 on CPU), for the `device_s` of fractional GPUs.
    """

    storage_url: str
    study_name: str
    task: str
    seed: int
    space: str
    protocol: dict[str, int]
    pruner: str = "none"
    objective: str = DEFAULT_OBJECTIVE
    device_share: float = 0.0


@dataclass(frozen=True)
class TrialOutcome:
    """What an objective returns for one trial (a subset of `models.TrainResult`)."""

    val: float | None
    test: float | None = None
    status: str = "ok"
    steps: int = 0
    compile_s: float = 0.0
    device: str = "cpu"
    device_count: int = 1
    peak_mem: int | None = None
    diverged_step: int | None = None


@dataclass
class TrialContext:
    """What the objective of one trial gets besides its parameters.

    Attributes:
        spec: the worker's spec.
        report: ``report(step, val) -> bool``: record the validation metric of an evaluation;
            True means the pruner asks to stop.
        cache: the worker's cache, kept across trials (the data lives here).
    """

    spec: WorkerSpec
    report: Callable[[int, float], bool]
    cache: dict[str, Any] = field(default_factory=dict)

    def dataset(self) -> Any:
        """The task's data for the study's seed, loaded once per worker."""
        key = ("data", self.spec.task, self.spec.seed)
        if key not in self.cache:
            import tasks

            self.cache[key] = tasks.load(self.spec.task, seed=self.spec.seed)
        return self.cache[key]

    def space(self) -> Any:
        """The study's search space, loaded once per worker."""
        key = ("space", self.spec.space)
        if key not in self.cache:
            import spaces

            self.cache[key] = spaces.get(self.spec.space)
        return self.cache[key]


def train_objective(params: dict[str, Any], ctx: TrialContext) -> TrialOutcome:
    """Train the config of `params` with `models.train` and return its outcome."""
    import models

    data = ctx.dataset()
    config, options = ctx.space().to_config(params, task_info=data.info)
    options = options.replace(**ctx.spec.protocol)
    result = models.train(config, data, options, seed=ctx.spec.seed, callback=ctx.report)
    return TrialOutcome(
        val=result.val,
        test=result.test,
        status=result.status,
        steps=result.steps,
        compile_s=result.compile_s,
        device=result.device,
        device_count=result.device_count,
        peak_mem=result.peak_mem,
        diverged_step=result.diverged_step,
    )


def _load_objective(path: str) -> Callable[[dict[str, Any], TrialContext], TrialOutcome]:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:400]


class TrialWorker:
    """Runs trials of one study; wrapped as a Ray actor by the runner (`search._runner`)."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.cache: dict[str, Any] = {}
        self._study = None
        self.node = socket.gethostname()

    def ping(self) -> dict[str, Any]:
        """The worker's process id and node (answered once the worker is up)."""
        return {"pid": os.getpid(), "node": self.node}

    def study(self) -> Any:
        if self._study is None:
            import optuna

            from studies._storage import open_storage
            from studies._study import make_pruner

            storage = open_storage(self.spec.storage_url)
            self._study = optuna.load_study(
                study_name=self.spec.study_name,
                storage=storage,
                sampler=optuna.samplers.RandomSampler(),
                pruner=make_pruner(self.spec.pruner, self.spec.protocol),
            )
        return self._study

    def run(self, trial_id: int, params: dict[str, Any]) -> dict[str, Any]:
        """Train trial `trial_id` with `params`, store its result; return a summary.

        The summary (state, value, status, wall_s) is for the runner's progress only: the
        storage already holds the trial's result when this returns.
        """
        import optuna
        from optuna.trial import TrialState

        study = self.study()
        storage = study._storage
        trial = optuna.Trial(study, trial_id)
        storage.set_trial_system_attr(trial_id, "ssmtune:pid", os.getpid())
        storage.set_trial_user_attr(trial_id, "node", self.node)

        def report(step: int, val: float) -> bool:
            trial.report(float(val), int(step))
            return bool(trial.should_prune())

        ctx = TrialContext(self.spec, report, self.cache)
        start = time.perf_counter()
        try:
            outcome = _load_objective(self.spec.objective)(params, ctx)
        except Exception as exc:  # the trial failed, the worker lives on
            wall = time.perf_counter() - start
            return self._finish(trial_id, TrialState.FAIL, None, {"wall_s": wall}, _one_line(exc))
        wall = time.perf_counter() - start
        share = self.spec.device_share if 0 < self.spec.device_share < 1 else outcome.device_count
        attrs = {
            "wall_s": wall,
            "device_s": share * wall,
            "compile_s": outcome.compile_s,
            "steps": outcome.steps,
            "status": outcome.status,
            "test": outcome.test,
            "device": outcome.device,
            "peak_mem": outcome.peak_mem,
        }
        val = outcome.val
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

    def _finish(
        self,
        trial_id: int,
        state: Any,
        value: float | None,
        attrs: dict[str, Any],
        reason: str | None = None,
    ) -> dict[str, Any]:
        import optuna
        from optuna.trial import TrialState

        study = self.study()
        storage = study._storage
        summary = {"trial_id": trial_id, "state": state.name, "value": value, **attrs}
        try:
            for key, v in attrs.items():
                storage.set_trial_user_attr(trial_id, key, v)
            if reason is not None:
                storage.set_trial_user_attr(trial_id, "fail_reason", reason)
                summary["fail_reason"] = reason
            number = storage.get_trial_number_from_id(trial_id)
            if state == TrialState.COMPLETE:
                study.tell(number, value)
            else:
                study.tell(number, state=state)
        except optuna.exceptions.UpdateFinishedTrialError:
            summary["state"] = "ALREADY_FINISHED"  # the runner gave the trial up meanwhile
        return summary
