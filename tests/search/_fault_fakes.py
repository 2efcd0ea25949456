"""Fakes for the fault tests (`tests/search/test_runner_faults.py`): objectives and a worker
that die on purpose, once, the way a killed process dies (SIGKILL).

"Once" is kept in marker files created with O_EXCL, so of all the processes of a study exactly
one dies each time; the folder of the markers is ``$SSMTUNE_TEST_MARKERS`` (objectives: the
driver's environment reaches the workers of the local Ray it starts) or the folder of the
SQLite file (the worker, on the tests' shared Ray).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from search._worker import TrialContext, TrialOutcome, TrialWorker
from tests.search._fakes import _run


def _first(folder: Path, name: str) -> bool:
    """True for exactly one caller of all processes: the one that creates `folder/name`."""
    try:
        os.close(os.open(folder / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def dies_once(params: dict[str, Any], ctx: TrialContext) -> TrialOutcome:
    """The first trial of the study kills its worker process; every other one takes 1 s."""
    if _first(Path(os.environ["SSMTUNE_TEST_MARKERS"]), "worker-killed"):
        os.kill(os.getpid(), signal.SIGKILL)
    return _run(params, ctx, 1.0)


class DiesWhileStarting(TrialWorker):
    """A worker of which the first two processes die as they start (at their first call)."""

    def ping(self) -> dict[str, Any]:
        folder = Path(self.spec.storage_url.removeprefix("sqlite:///")).parent
        if _first(folder, "start-death-0") or _first(folder, "start-death-1"):
            os.kill(os.getpid(), signal.SIGKILL)
        return super().ping()
