"""Fake objectives for the runner's tests: they sleep instead of training.

Workers import them by ``module:function`` (`search._objective.WorkerSpec.objective`); the value
is a deterministic function of the point, so the best trial is known in advance.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from ssmtune.search._objective import TrialContext, TrialOutcome, WorkerSpec
from ssmtune.search._worker import TrialWorker


def value_of(params: dict[str, Any]) -> float:
    """A deterministic value in (0, 1) for a point."""
    text = repr(sorted(params.items()))
    return (sum(ord(c) * (i + 1) for i, c in enumerate(text)) % 997 + 1) / 1000.0


def _run(params: dict[str, Any], ctx: TrialContext, seconds: float) -> TrialOutcome:
    value = value_of(params)
    evals = 3
    for i in range(1, evals + 1):
        time.sleep(seconds / evals)
        if ctx.report(i * 10, value * i / evals):
            return TrialOutcome(val=None, status="pruned", steps=i * 10)
    return TrialOutcome(val=value, test=value / 2, status="ok", steps=evals * 10, compile_s=0.0)


def quick(params: dict[str, Any], ctx: TrialContext) -> TrialOutcome:
    """0.3 s per trial."""
    return _run(params, ctx, 0.3)


def slow(params: dict[str, Any], ctx: TrialContext) -> TrialOutcome:
    """2 s per trial: long enough to kill a worker in the middle."""
    return _run(params, ctx, 2.0)


def noop(params: dict[str, Any], ctx: TrialContext) -> TrialOutcome:
    """Returns at once (orchestration overhead)."""
    return TrialOutcome(val=value_of(params), status="ok", steps=1)


def _first(path: str | os.PathLike[str]) -> bool:
    """True for exactly one caller among all processes: the one that creates `path`."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _markers(spec: WorkerSpec) -> str:
    """Where the once-only markers of a study's fakes go: ``$SSMTUNE_TEST_MARKERS`` (the
    driver's environment reaches the workers of the local Ray it starts), else beside the
    study's SQLite file."""
    folder = os.environ.get("SSMTUNE_TEST_MARKERS")
    if folder:
        return os.path.join(folder, spec.study_name)
    return spec.storage_url.removeprefix("sqlite:///") + f".{spec.study_name}"


def dies_once(params: dict[str, Any], ctx: TrialContext) -> TrialOutcome:
    """Kills its own worker process (SIGKILL, as the OOM killer would) in the first trial of a
    study; every other trial, the retry included, is `quick`."""
    if _first(_markers(ctx.spec) + ".died"):
        os.kill(os.getpid(), signal.SIGKILL)
    return quick(params, ctx)


class DiesWhileStarting(TrialWorker):
    """A worker of which the first two processes of a study die as they start (at their first
    call, the runner's ping)."""

    def ping(self) -> dict[str, Any]:
        marker = _markers(self.spec)
        if _first(marker + ".start-death-0") or _first(marker + ".start-death-1"):
            os.kill(os.getpid(), signal.SIGKILL)
        return super().ping()


def broken(params: dict[str, Any], ctx: TrialContext) -> TrialOutcome:
    """Raises, as a bug in training would."""
    raise RuntimeError("boom")


def broken_per_point(params: dict[str, Any], ctx: TrialContext) -> TrialOutcome:
    """Raises an error that names the point: no two trials fail the same way."""
    raise RuntimeError(f"boom at {sorted(params.items())}")


#: Seconds per unit-step of `priced`: training a point costs `price_of` seconds.
UNIT_S = 5e-8
#: Seconds `priced` spends "compiling" the first time a worker meets a shape.
COMPILE_S = 0.1


def price_of(params: dict[str, Any], spec: WorkerSpec) -> float:
    """The seconds `priced` trains `params` of a LinOSS space for, compilation excluded: the
    point's `point_cost` (blocks 2 and state 16 unless `params` say otherwise) for the task's
    length, times the protocol's ``max_steps``, times `UNIT_S`. (It reads no space file: that
    would load the models, a second of the worker's first trial.)"""
    from ssmtune import tasks
    from ssmtune.spaces._cost import point_cost

    dims = {"blocks": 2, "state": 16, **params}
    cost = point_cost(
        "linoss",
        blocks=dims["blocks"],
        hidden=dims["hidden"],
        state=dims["state"],
        length=tasks.info(spec.task).length,
    )
    return cost * spec.protocol["max_steps"] * UNIT_S


def _priced(params: dict[str, Any], ctx: TrialContext, slowdown: float) -> TrialOutcome:
    """Sleep `slowdown` x `price_of` seconds in ``max_steps`` steps, evaluating every
    ``eval_every`` steps (validation peaks at a third of the run, so the best value so far is
    not always the last), plus `COMPILE_S` for a shape new to the worker (all but ``lr``).
    Its `compile_s` is all the time before training: that sleep and, on the worker's first
    trial, the imports of `price_of`."""
    start = time.perf_counter()
    steps, every = ctx.spec.protocol["max_steps"], ctx.spec.protocol["eval_every"]
    per_step = slowdown * price_of(params, ctx.spec) / steps
    shapes = ctx.cache.setdefault("fake-shapes", set())
    shape = repr(sorted((k, v) for k, v in params.items() if k != "lr"))
    if shape not in shapes:
        shapes.add(shape)
        time.sleep(COMPILE_S)
    compile_s = time.perf_counter() - start
    value, best = value_of(params), None
    for step in range(every, steps + 1, every):
        time.sleep(per_step * every)
        val = value * (1.0 - abs(step / steps - 1 / 3))
        best = val if best is None else max(best, val)
        if ctx.report(step, val):
            return TrialOutcome(best, best / 2, "pruned", step, compile_s)
    return TrialOutcome(best, best / 2, "ok", steps, compile_s)


def priced(params: dict[str, Any], ctx: TrialContext) -> TrialOutcome:
    """A fake whose cost is known in advance: `price_of` seconds (+ `COMPILE_S`)."""
    return _priced(params, ctx, 1.0)


def slows_down(params: dict[str, Any], ctx: TrialContext) -> TrialOutcome:
    """`priced`, except that every trial after a worker's first runs 10 times slower (a
    device that got slower: the prediction from the first trial is wrong)."""
    done = ctx.cache.get("fake-trials", 0)
    ctx.cache["fake-trials"] = done + 1
    return _priced(params, ctx, 1.0 if done == 0 else 10.0)


def _training(params: dict[str, Any], ctx: TrialContext, after_report: Any) -> TrialOutcome:
    """`search._objective.train_objective` (real training, with the trial's checkpoints), with
    ``after_report(n)`` called after the trial's n-th report of this attempt."""
    from ssmtune.search._objective import train_objective

    inner, count = ctx.report, [0]

    def report(step: int, val: float) -> bool:
        answer = inner(step, val)
        count[0] += 1
        after_report(count[0])
        return answer

    ctx.report = report
    return train_objective(params, ctx)


def _checkpoint_on_disk(ctx: TrialContext, step: int) -> None:
    """Wait (at most 120 s) until the trial's checkpoint of `step` is on disk (it is written
    in the background, `models/_checkpoint.py`)."""
    from ssmtune import models

    deadline = time.time() + 120
    while time.time() < deadline:
        latest = models.latest_checkpoint(ctx.checkpoint_folder) if ctx.checkpoint_folder else None
        if latest is not None and latest.name == f"step-{step:012d}":
            return
        time.sleep(0.05)


def trains_dies_once(params: dict[str, Any], ctx: TrialContext) -> TrialOutcome:
    """Trains for real; the first attempt in a study kills its worker process (SIGKILL) right
    after its second evaluation is reported, once that evaluation's checkpoint is on disk."""
    marker = _markers(ctx.spec) + ".trained-died"

    def die(n: int) -> None:
        if n == 2 and _first(marker):
            _checkpoint_on_disk(ctx, 20)
            os.kill(os.getpid(), signal.SIGKILL)

    return _training(params, ctx, die)


def trains_dies_before_its_write_lands(params: dict[str, Any], ctx: TrialContext) -> TrialOutcome:
    """Trains for real; in the first attempt in a study the background write of the
    checkpoint of step 20 is held, and the worker process is SIGKILLed right after that
    evaluation is reported: the checkpoint of step 10 is the latest on disk."""
    import threading

    from ssmtune.models import _checkpoint

    marker = _markers(ctx.spec) + ".died-before-write"
    first = _first(marker)
    if first:
        real, never = _checkpoint.write_checkpoint, threading.Event()

        def held(folder: Any, tree: Any, identity: Any, state: Any) -> int:
            if state.step == 20:
                never.wait()
            return real(folder, tree, identity, state)

        _checkpoint.write_checkpoint = held  # this process dies in this attempt

    def die(n: int) -> None:
        if n == 2 and first:
            os.kill(os.getpid(), signal.SIGKILL)

    return _training(params, ctx, die)


def trains_slowly(params: dict[str, Any], ctx: TrialContext) -> TrialOutcome:
    """Trains for real, sleeping 1 s after each report: time to kill the driver mid-trial."""
    return _training(params, ctx, lambda n: time.sleep(1.0))


def table_path(spec: WorkerSpec) -> str:
    """Where `from_table` reads its table: beside the study's SQLite file."""
    return _markers(spec) + ".table.jsonl"


def from_table(params: dict[str, Any], ctx: TrialContext) -> TrialOutcome:
    """Reports the evaluations a table recorded for the point (`table_path`), as the trained
    trial did, and returns its result: the live counterpart of a replay."""
    from ssmtune.studies import point_key, read_table

    table = read_table(table_path(ctx.spec))
    (point,) = [p for p in table.points if point_key(p.params) == point_key(params)]
    for step, val, _, _ in point.evals:
        if ctx.report(step, val):
            return TrialOutcome(val=None, status="pruned", steps=step)
    return TrialOutcome(val=point.value, test=point.test, status="ok", steps=point.evals[-1][0])
