"""The run's summary: what a runner counts while it runs, the status it reports on the way and
the summary it returns at the end.

`RunSummary.refresh` reads the study's status (`studies.study_status`), adds this run's
trials and workers, its elapsed time and an estimate of the time left, and hands it to the
runner's ``progress`` callback; `RunSummary.closing` adds this run's `Counters`, why it
stopped, its wall time and the trials it did not start for the budget and that are still
waiting. The runner (`search._runner`) counts; nothing here talks to Ray.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ssmtune.search._budget import Budget
from ssmtune.search._faults import Db
from ssmtune.studies import StudySettings, study_status, trial_id_of

__all__ = ["Counters", "RunSummary"]


@dataclass
class Counters:
    """What one run did (worker start failures are the pool's, `search._pool`)."""

    dispatched: int = 0
    finished: int = 0
    worker_deaths: int = 0
    retries: int = 0
    requeued_stale: int = 0
    interrupted: int = 0
    compiled_ahead: int = 0
    budget_stopped: int = 0
    trial_s: list[float] = field(default_factory=list)


class RunSummary:
    """This run's counters, status and summary (see the module docstring).

    Args:
        study: the study.
        settings: its settings (``budget_hours``).
        db: the runner's database call (`search._faults.Db`).
        progress: called with every status `refresh` reads, or None.
    """

    def __init__(
        self,
        study: Any,
        settings: StudySettings,
        db: Db,
        progress: Callable[[dict[str, Any]], None] | None,
    ) -> None:
        self.study = study
        self.settings = settings
        self._db = db
        self.progress = progress
        self.counters = Counters()
        self.t0 = time.perf_counter()

    def refresh(self, running_here: int, workers_running: int) -> dict[str, Any]:
        """The study's status plus this run's `running_here` trials and `workers_running`,
        ``elapsed_s`` and ``eta_s``; told to ``progress``."""
        status = self._db(lambda: study_status(self.study), "read the study's status")
        elapsed = time.perf_counter() - self.t0
        total, finished = status["total"], status["finished"]
        eta = None
        if total is not None and self.counters.finished and total > finished:
            eta = elapsed / self.counters.finished * (total - finished)
        status.update(
            running_here=running_here,
            workers_running=workers_running,
            elapsed_s=elapsed,
            eta_s=eta,
            budget_hours=self.settings.budget_hours,
        )
        if self.progress is not None:
            self.progress(status)
        return status

    def closing(
        self,
        status: dict[str, Any],
        *,
        workers_running: int,
        start_failures: int,
        stopped_by: str | None,
        budget: Budget | None,
    ) -> dict[str, Any]:
        """The run's summary: its last `status` (`refresh`) with `workers_running` (as the
        run ended), the counters, `stopped_by`, ``wall_s`` and ``budget_skipped``."""
        status["workers_running"] = workers_running
        c = self.counters
        status.update(
            stopped_by=stopped_by,
            wall_s=time.perf_counter() - self.t0,
            trials_run=c.finished,
            worker_deaths=c.worker_deaths,
            retries=c.retries,
            requeued_stale=c.requeued_stale,
            interrupted=c.interrupted,
            compiled_ahead=c.compiled_ahead,
            worker_start_failures=start_failures,
            mean_trial_s=(sum(c.trial_s) / len(c.trial_s)) if c.trial_s else None,
            budget_stopped=c.budget_stopped,
            budget_skipped=self._still_skipped(budget, stopped_by),
        )
        return status

    def _still_skipped(self, budget: Budget | None, stopped_by: str | None) -> int:
        """Trials this run did not start for the budget and that are still WAITING."""
        from optuna.trial import TrialState

        if budget is None or (not budget.skipped and stopped_by != "budget"):
            return 0
        waiting = self._db(
            lambda: self.study.get_trials(deepcopy=False, states=(TrialState.WAITING,)),
            "read the waiting trials",
        )
        if stopped_by == "budget":  # the run ended for the budget: nothing waiting started
            return len(waiting)
        return budget.still_skipped(trial_id_of(t) for t in waiting)
