"""Fail fast: a run whose first trials all raise the same error stops instead of burning its plan.

A cause no retry can mend (an import error, a missing file, a bug in the model's own code)
makes every trial fail the same way within seconds; a 324-point grid would otherwise fail
point by point. The rule, over the trials this run finishes, in the order they finish:

1. a trial whose objective raised counts with its error (type and message, the trial's
   ``fail_reason``);
2. a trial with a result (complete, pruned, diverged, stopped at the budget) settles the run:
   it never stops for this rule, whatever fails later;
3. a failure outside the trial (a worker that died, a database outage) is not seen here: it
   keeps its retries (`search._faults`);
4. once `limit` trials have been counted, all with the same error and none settled, the run
   stops. Two different errors settle it too: the cause is not one error.

Pure and Ray-free: the runner (`search._runner`) feeds it what its workers return and does the
stopping (the failed trials are queued again, the trials in flight re-queued).

    >>> rule = FailFast(limit=3)  # trial ids and their errors, as they finish
    >>> [rule.failed(n, "ImportError: no module x") for n in (4, 5, 6)]
    [False, False, True]
    >>> rule.trials
    [4, 5, 6]
    >>> rule = FailFast(limit=2)
    >>> rule.succeeded(); rule.failed(1, "E: a"), rule.failed(2, "E: a")
    (False, False)
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FAIL_FAST_TRIALS", "FailFast"]

#: Trials failing the same way, with nothing else finished, after which a run stops.
FAIL_FAST_TRIALS = 3


@dataclass
class FailFast:
    """The rule of the module docstring, for one run.

    Attributes:
        limit: how many trials failing the same way stop the run (>= 1).
        trials: the ids of the trials counted so far, in the order they failed.
        reason: their common error; None before the first.
        settled: whether a result (or a second kind of error) has been seen.
    """

    limit: int = FAIL_FAST_TRIALS
    trials: list[int] = field(default_factory=list)
    reason: str | None = None
    settled: bool = False

    def succeeded(self) -> None:
        """A trial of the run got a result: the rule no longer applies."""
        self.settled = True

    def failed(self, trial_id: int, reason: str) -> bool:
        """Trial `trial_id` raised `reason`; whether the run must stop now."""
        if self.settled:
            return False
        if self.reason is not None and reason != self.reason:
            self.settled = True
            return False
        self.reason = reason
        self.trials.append(trial_id)
        return len(self.trials) >= self.limit
