"""Fake objectives for the runner's tests: they sleep instead of training.

Workers import them by ``module:function`` (`search._worker.WorkerSpec.objective`); the value
is a deterministic function of the point, so the best trial is known in advance.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from search._worker import TrialContext, TrialOutcome, TrialWorker, WorkerSpec


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
