"""The budget's actions: what a runner writes to its study when its budget decides.

The budget (`search._budget.Budget`) decides and knows no database; `BudgetActions` reads the
study for it and carries out what it decides, at every turn of the runner's loop
(`search._runner`):

- `BudgetActions.look`: read the study's trials into the budget (what the study has spent),
  write the deadlines of the runner's trials that moved (`STOP_AT_ATTR`; with the first, the
  trial's prediction ``predicted_s``) and name the runner's workers whose trials are far past
  theirs;
- `BudgetActions.stop`: the trials of such a worker (the runner kills it) are finished PRUNED
  with what they reported (`stopped_at_budget`, ``stopped_reason = "budget"``) and lose their
  checkpoint folder;
- `BudgetActions.park`: a new suggestion the budget cannot pay for goes back to WAITING with
  its parameters (not failed, not left RUNNING; `resume` with a larger budget runs it).

`runner_budget` builds a run's budget from the study's settings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from ssmtune.search._batching import ShapeKeys
from ssmtune.search._budget import Budget, Deadline, PointUnits, stopped_at_budget
from ssmtune.search._faults import Db
from ssmtune.search._objective import WorkerSpec
from ssmtune.search._worker import STOP_AT_ATTR
from ssmtune.studies import (
    StudySettings,
    device_factor,
    finish_trial,
    set_trial_attrs,
    storage_of,
    trial_id_of,
)

__all__ = ["CHEAPEST_SCAN", "BudgetActions", "runner_budget"]

#: Largest finite space whose points are all costed to find its cheapest one (budgets).
CHEAPEST_SCAN = 100_000


def runner_budget(
    settings: StudySettings, space: Any, spec: WorkerSpec, shape_of: ShapeKeys
) -> Budget | None:
    """The budget of a run of a study with `settings` (``budget_hours``; None without one), its
    `space` and its workers' `spec`; `shape_of` gives a point's compile shape."""
    if settings.budget_hours is None:
        return None
    units = PointUnits(space, spec.task)
    return Budget(
        float(settings.budget_hours) * 3600.0,
        steps=int(spec.protocol.get("max_steps", 1)),
        units=units,
        shape_of=shape_of,
        devices=device_factor(spec.device_share),
        cheapest=_cheapest_point(space, units),
    )


def _cheapest_point(space: Any, units: Callable[[dict[str, Any]], float]) -> dict[str, Any] | None:
    """The point of a finite space with the fewest `units` (compute); None for a continuous
    space or one of over `CHEAPEST_SCAN` points."""
    if not space.finite or (space.size or 0) > CHEAPEST_SCAN:
        return None
    return min(space.grid(), key=units, default=None)


class BudgetActions:
    """Carries out a budget's decisions on a study (see the module docstring).

    Args:
        budget: the run's budget.
        study: the study.
        db: the runner's database call (`search._faults.Db`).
        drop_checkpoint: deletes the checkpoint folder of a trial stopped at the budget.
    """

    def __init__(
        self, budget: Budget, study: Any, *, db: Db, drop_checkpoint: Callable[[Any], None]
    ) -> None:
        self.budget = budget
        self.study = study
        self.storage = storage_of(study)
        self._db = db
        self._drop_checkpoint = drop_checkpoint

    def look(
        self, own: Sequence[int], slots: Mapping[Any, Sequence[int]]
    ) -> tuple[bool, list[Any]]:
        """Read the study's cost into the budget and write the deadlines of the runner's trials
        (`own`) that moved; return whether the budget is spent, and the keys of `slots` (a
        worker's trial ids each) with a trial far past its deadline, to stop."""
        budget = self.budget
        trials = self._db(lambda: self.study.get_trials(deepcopy=False), "read the trials")
        spent = budget.look(trials, set(own))
        for deadline in budget.deadlines(list(own), time.time()):
            self.write_deadline(deadline)
        return spent, budget.overdue(slots, time.time())

    def write_deadline(self, deadline: Deadline) -> None:
        """Write a trial's deadline (`STOP_AT_ATTR`) and, with its first, its prediction."""
        trial_id = deadline.trial_id
        attrs: dict[str, Any] = {}
        if deadline.predicted_s is not None:
            attrs["predicted_s"] = deadline.predicted_s
        try:
            self._db(
                lambda: set_trial_attrs(
                    self.storage, trial_id, attrs, {STOP_AT_ATTR: deadline.stop_at}
                ),
                f"write the deadline of trial id {trial_id}",
            )
        except Exception as exc:  # the trial has just finished: nothing to move
            import optuna

            if not isinstance(exc, optuna.exceptions.UpdateFinishedTrialError):
                raise

    def stop(self, trial_ids: Sequence[int]) -> int:
        """Finish the running trials `trial_ids` (their worker is killed) as stopped at the
        budget; returns how many this call finished (a trial may have finished meanwhile)."""
        from optuna.trial import TrialState

        minimize = self.study.direction.name == "MINIMIZE"
        stopped = 0
        for trial_id in trial_ids:
            trial = self._db(partial(self.storage.get_trial, trial_id), "read a trial")
            best, attrs = stopped_at_budget(trial, minimize=minimize)
            if self._db(
                partial(finish_trial, self.storage, trial_id, TrialState.PRUNED, best, attrs),
                f"stop trial id {trial_id} at the budget",
            ):
                stopped += 1
                self._drop_checkpoint(trial)
        return stopped

    def park(self, trial: Any) -> None:
        """Put a suggestion the budget cannot pay for back to WAITING, with its parameters:
        not failed, not left RUNNING; `resume` with a larger budget runs it."""
        from optuna.trial import TrialState

        self._db(
            lambda: self.storage.set_trial_state_values(trial_id_of(trial), TrialState.WAITING),
            f"put trial {trial.number} back",
        )
        self.budget.parked(trial_id_of(trial))
