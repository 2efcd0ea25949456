"""Run options: how one command runs a study (workers, their resources, heartbeats, polling,
batching), and their defaults; none of it is part of the study's identity.

The runner (`search._runner`) runs with a `RunOptions`; `search._start` fills one from the
command's arguments, with `default_workers` and `heartbeat_seconds` for what it leaves out.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

__all__ = ["HEARTBEAT_S", "GRACE_BEATS", "RunOptions", "heartbeat_seconds", "default_workers"]

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
        batch_trials: up to this many waiting trials of one shape go to a worker together
            and train in one vmapped program (`search._scheduler`, rule 2).
        compile_ahead: with each trial, hand the worker the parameters of a waiting trial of a
            shape no worker has compiled; it compiles that shape in the background while it
            trains, and the scheduler gives it that shape next (`search._scheduler`, rule 3).
    """

    workers: int
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    heartbeat_s: int = HEARTBEAT_S
    poll_s: float = 0.5
    batch_trials: int = 1
    compile_ahead: bool = True


def default_workers(cpus: float, gpus: float, cpus_per_trial: float, gpus_per_trial: float) -> int:
    """Workers that fit the cluster: one per GPU share when trials use GPUs, else per CPU share."""
    if gpus_per_trial > 0:
        return max(1, math.floor(gpus / gpus_per_trial + 1e-9))
    return max(1, math.floor(cpus / cpus_per_trial + 1e-9))
