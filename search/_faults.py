"""Trial faults: what a runner does with a trial that its worker or its runner could not finish.

- The worker's machinery failed (`run` raised) or its process or node died
  (`Faults.retry_or_fail`): the trial is failed with the reason and, while it has retries left
  (``max_retries``), re-queued with the same parameters in the same transaction
  (`studies.fail_trial` with `requeue`), so no kill of the runner at any instant loses the
  grid point. With no retry left it stays failed and loses its checkpoint folder.
- The trial did nothing wrong (`Faults.requeue`): its run was interrupted (Ctrl+C, SIGTERM),
  lost its Ray, or its runner died. It is failed and re-queued without using up a retry.
- Another runner's RUNNING trial whose heartbeat is older than the grace period
  (`Faults.reap_stale`: that runner died, a `start` killed with SIGKILL) is re-queued so.

Every database call goes through the runner's `db` (retried through an outage,
`studies.retrying`). No Ray here: the runner kills and replaces the workers and counts what
these calls return.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from functools import partial
from typing import Any

from ssmtune.studies import fail_trial, retries_of, stale_trials, storage_of

__all__ = ["Db", "Faults"]

#: The runner's database call: ``db(call, what)`` runs `call()`, retried through an outage
#: (`what` names it in the messages).
Db = Callable[[Callable[[], Any], str], Any]


class Faults:
    """Fails and re-queues the trials of one study (see the module docstring).

    Args:
        study: the study.
        max_retries: retries a trial has (its settings' ``max_retries``).
        grace_s: the age of the last heartbeat past which another runner's trial is stale.
        db: the runner's database call (`Db`).
        drop_checkpoint: deletes the checkpoint folder of a trial failed for good.
    """

    def __init__(
        self,
        study: Any,
        *,
        max_retries: int,
        grace_s: float,
        db: Db,
        drop_checkpoint: Callable[[Any], None],
    ) -> None:
        self.study = study
        self.storage = storage_of(study)
        self.max_retries = max_retries
        self.grace_s = grace_s
        self._db = db
        self._drop_checkpoint = drop_checkpoint

    def retry_or_fail(self, trial_id: int, reason: str) -> bool:
        """Fail a trial whose worker could not finish it; re-queue it (one transaction) while
        it has retries left. Returns whether it was re-queued."""
        return self._db(partial(self._retry_or_fail, trial_id, reason), "re-queue a trial")

    def worker_died(self, trial_ids: Sequence[int], reason: str) -> int:
        """`retry_or_fail` the trials of a worker that died of `reason`; returns how many were
        re-queued."""
        why = f"worker died ({reason})"
        return sum(1 for trial_id in trial_ids if self.retry_or_fail(trial_id, why))

    def requeue(self, trial_id: int, why: str) -> bool:
        """Fail a trial that did nothing wrong and re-queue it without using up a retry."""
        return self._db(
            lambda: fail_trial(self.study, trial_id, why, requeue=True, count=False),
            f"re-queue trial id {trial_id}",
        )

    def reap_stale(self, own: Collection[int]) -> int:
        """`requeue` the RUNNING trials, other than `own`, whose heartbeat is older than
        `grace_s`; returns how many were re-queued."""
        stale = self._db(
            lambda: stale_trials(self.study, self.grace_s, exclude=own), "look for stale trials"
        )
        why = f"runner lost (no heartbeat for over {self.grace_s} s)"
        return sum(1 for trial_id in stale if self.requeue(trial_id, why))

    def _retry_or_fail(self, trial_id: int, reason: str) -> bool:
        trial = self.storage.get_trial(trial_id)
        if trial.state.is_finished():
            return False
        left = self.max_retries - retries_of(trial)
        if left > 0:
            why = f"{reason}; re-queued, {left - 1} retries left after this one"
            return fail_trial(self.study, trial_id, why, requeue=True, count=True)
        why = f"{reason}; no retry left (`max_retries` = {self.max_retries})"
        if fail_trial(self.study, trial_id, why):
            self._drop_checkpoint(trial)
        return False
