"""What a trial costs: one definition for every trial, devices x wall time, read by the study's
status, the runner's budget, the reports and the dashboard note.

The devices (`device_factor`) are
the trial's share of a GPU when it has a fraction of one (``--gpus-per-trial 0.5``), else the
devices it runs on; its worker records them (user attribute `DEVICES_ATTR`) when it takes the
trial, and again with the devices the objective reports when it ends. A finished trial costs
its `device_s` user attribute (that factor x its wall time); a trial without one (its worker
died, or it is running) costs its recorded devices x the time since it started (to its end,
if it has one). So a running trial costs, at each moment, what it will be charged.

A trial that continued from the checkpoint of a killed one (`models.Checkpoint`) is charged
the killed runs' time to that checkpoint too (its `CARRIED_ATTR`, in its `device_s`): what the
result cost. The killed trials are charged their own time as well, so the study counts the
carried seconds once (`study_cost_s`).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

__all__ = [
    "trial_cost_s",
    "study_cost_s",
    "trial_wall_s",
    "device_factor",
    "DEVICES_ATTR",
    "CARRIED_ATTR",
    "carried_s",
]

#: User attribute of a trial: the devices it is charged for per second of wall time
#: (`device_factor`), written by its worker when it takes the trial and when it ends.
DEVICES_ATTR = "devices"
#: User attribute of a trial resumed from a checkpoint: the device-seconds its killed
#: predecessors spent up to that checkpoint, included in its `device_s`.
CARRIED_ATTR = "carried_s"


def device_factor(gpus_per_trial: float, device_count: int = 1) -> float:
    """The devices a trial is charged for per second of wall time.

    Args:
        gpus_per_trial: the GPUs its worker holds (0 on CPU).
        device_count: the devices its training runs on (`models.TrainResult.device_count`;
            one for every run of `models.train`).

    Returns:
        `gpus_per_trial` when it is a fraction of a GPU, else `device_count`.

    Example:
        >>> device_factor(0.5), device_factor(0.0), device_factor(1.0, 2)
        (0.5, 1.0, 2.0)
    """
    return float(gpus_per_trial) if 0 < gpus_per_trial < 1 else float(device_count)


def _devices(trial: FrozenTrial) -> float:
    """The trial's recorded `DEVICES_ATTR` (1 for a trial taken before it was recorded)."""
    value = trial.user_attrs.get(DEVICES_ATTR)
    if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
        return float(value)
    return 1.0


def trial_cost_s(trial: FrozenTrial, now: datetime | None = None) -> float:
    """Device-seconds of one trial: its `device_s`, else its recorded devices x
    `trial_wall_s` (see the module docstring)."""
    value = trial.user_attrs.get("device_s")
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return _devices(trial) * trial_wall_s(trial, now)


def trial_wall_s(trial: FrozenTrial, now: datetime | None = None) -> float:
    """Seconds from a trial's start to its end, or to `now` (default: the clock) while it
    runs; 0 for a trial never started or neither running nor ended."""
    from optuna.trial import TrialState

    start = trial.datetime_start
    if start is None:
        return 0.0
    end = trial.datetime_complete
    if end is None:
        if trial.state != TrialState.RUNNING:
            return 0.0
        end = now or datetime.now()
    return max(0.0, (end - start).total_seconds())


def carried_s(trial: FrozenTrial) -> float:
    """The device-seconds a resumed trial carried over from its killed predecessors (0.0 for
    any other trial): included in its `device_s` and counted by them too."""
    value = trial.user_attrs.get(CARRIED_ATTR)
    if isinstance(value, int | float) and math.isfinite(value) and value > 0:
        return float(value)
    return 0.0


def study_cost_s(trials: list[FrozenTrial]) -> float:
    """Device-seconds of every trial, running ones up to now; the time a resumed trial
    carried over from its killed predecessors is counted once (they count it)."""
    now = datetime.now()
    return sum(trial_cost_s(t, now) - carried_s(t) for t in trials)
