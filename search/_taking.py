"""Taking trials: which trials of the study an idle worker is given next.

`TrialTaker.take` pops the oldest waiting trial in the compile-aware scheduler's order
(`search._scheduler.Scheduler.order`; `studies.pop_waiting` is atomic, so no two runners take
the same trial) less those the budget cannot pay for (`search._budget.Budget.affordable`: they
stay WAITING and count as skipped). With ``batch_trials`` K > 1 it pops up to K - 1 more
waiting trials of the first one's batch shape (`Scheduler.batch_mates`). With none waiting, a
sampler study with fewer than ``n_trials`` original trials gets a new suggestion
(`studies.ask_new`) while the budget may ask for one (`Budget.may_ask`).

The taker reads and pops through the study and tells nothing to Ray: the runner
(`search._runner`) sends what it takes to the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ssmtune.search._budget import Budget
from ssmtune.search._scheduler import Scheduler, Waiting
from ssmtune.studies import (
    StudySettings,
    ask_new,
    count_originals,
    pop_waiting,
    trial_id_of,
    trial_point,
)

__all__ = ["TrialTaker"]


class TrialTaker:
    """Takes the trials an idle worker is given (see the module docstring).

    Args:
        study: the study.
        settings: its settings (sampler, n_trials).
        scheduler: the run's compile-aware scheduler.
        budget: the run's budget; None without one.
        own_trials: the ids of the runner's trials in flight.

    Attributes:
        seen: the waiting trials (as the scheduler's records) at the last pop, for the
            compile-ahead choice (`Scheduler.ahead`).
        asked: whether the last `take` gave a new suggestion rather than waiting trials.
    """

    def __init__(
        self,
        study: Any,
        settings: StudySettings,
        scheduler: Scheduler,
        budget: Budget | None,
        own_trials: Callable[[], list[int]],
    ) -> None:
        self.study = study
        self.settings = settings
        self.scheduler = scheduler
        self.budget = budget
        self.own_trials = own_trials
        self.seen: list[Waiting] = []
        self.asked = False

    def take(self, actor: Any) -> list[Any]:
        """The trials to give `actor`: a waiting one (in the scheduler's order) and, with
        `batch_trials` K > 1, up to K - 1 more waiting ones of its batch shape; else a new
        trial from the sampler."""
        self.asked = False
        if self.budget is not None:
            self.budget.start_taking()
        scheduler = self.scheduler
        trial = pop_waiting(
            self.study, order=self._order(actor, lambda ws: scheduler.order(actor, ws))
        )
        if trial is None:
            if self.settings.sampler == "grid":
                return []
            if count_originals(self.study) >= (self.settings.n_trials or 0):
                return []
            if self.budget is not None and not self.budget.may_ask(  # (search._budget)
                self.own_trials(), scheduler.compiled_by(actor)
            ):
                self.budget.blocked = True
                return []
            self.asked = True
            return [ask_new(self.study)]  # not Study.ask: it would pop a parked trial
        first = next(w.point for w in self.seen if w.trial_id == trial_id_of(trial))
        seen = {w.trial_id: w for w in self.seen}
        trials = [trial]
        while len(trials) <= scheduler.room(first):
            if self.budget is not None:
                point = dict(seen[trial_id_of(trials[-1])].point)
                self.budget.taking(point, scheduler.compiled_by(actor))
            more = pop_waiting(
                self.study,
                order=self._order(actor, lambda ws: scheduler.batch_mates(first, ws)),
            )
            if more is None:
                break
            trials.append(more)
            seen.update((w.trial_id, w) for w in self.seen)
        return trials

    def _order(
        self, actor: Any, choose: Callable[[list[Waiting]], list[Waiting]]
    ) -> Callable[[list[Any]], list[Any]]:
        """`pop_waiting`'s `order` for `actor`: the waiting trials as the scheduler's records,
        in the order `choose` (a `Scheduler` decision) gives, less those the budget cannot pay
        for. The records seen are kept in `seen`."""

        def order(waiting: list[Any]) -> list[Any]:
            trials = {trial_id_of(t): t for t in waiting}
            records = [Waiting(trial_id_of(t), t.number, trial_point(t)) for t in waiting]
            self.seen = records
            chosen = [trials[w.trial_id] for w in choose(records)]
            return self._affordable(chosen, actor)

        return order

    def _affordable(self, ordered: list[Any], actor: Any) -> list[Any]:
        """`ordered` waiting trials less those the budget cannot pay for (`Budget.affordable`:
        they stay WAITING and are counted as skipped)."""
        if self.budget is None:
            return ordered
        own, compiled = self.own_trials(), self.scheduler.compiled_by(actor)
        return self.budget.affordable(ordered, own, compiled, trial_point)
