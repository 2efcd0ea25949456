"""The early-stop rule of the benchmark protocol, as one pure function over a small state
(optax style: `state, decision = early_stop(state, step, val, ...)`).

After each evaluation on validation (every `eval_every` steps):

- a validation metric that is not finite (NaN, +-inf) ends the run as "diverged" and changes
  nothing else;
- an evaluation that does not strictly improve on the best (higher accuracy, lower MSE) adds
  one to a count of such evaluations in a row, a strict improvement resets it to 0, and the run
  stops as "early_stopped" once the count exceeds `patience` (the official
  `no_val_improvement > 10` for patience 10: the 11th evaluation in a row without a strict
  improvement stops the run);
- unless the run stops there, a strict improvement or a tie with the best becomes the new
  best (ties move it forward): the caller reads the test metric at it.

`models.train` and `models.train_batch` (each member) both drive this function
(`models/_loop.py`), so they cannot disagree on the protocol.
"""

import math
from typing import Literal, NamedTuple

__all__ = ["EarlyStopState", "Decision", "early_stop"]


class EarlyStopState(NamedTuple):
    """The bookkeeping of one run between two evaluations.

    Attributes:
        best_val: the best validation metric so far; None before the first evaluation.
        best_step: the step of the (last) best validation; 0 before the first evaluation.
        bad_evals: evaluations in a row without a strict improvement on the best.
    """

    best_val: float | None = None
    best_step: int = 0
    bad_evals: int = 0


class Decision(NamedTuple):
    """What one evaluation means for the run.

    Attributes:
        new_best: this evaluation is the best so far (a tie included): read the test metric.
        stop: None (go on), "early_stopped" or "diverged".
    """

    new_best: bool
    stop: Literal["early_stopped", "diverged"] | None


def early_stop(
    state: EarlyStopState, step: int, val: float, *, maximize: bool, patience: int
) -> tuple[EarlyStopState, Decision]:
    """The state after the evaluation at `step` gave `val`, and what it means for the run.

    Args:
        state: `EarlyStopState()` before the first evaluation, then what this returned.
        step: training steps taken when `val` was measured.
        val: the validation metric.
        maximize: True for accuracy, False for a loss such as the MSE.
        patience: evaluations in a row without strict improvement that are tolerated.

    Returns:
        (new state, decision); after a divergence the state is unchanged.

    Example:
        >>> state = EarlyStopState()
        >>> for step, val in [(10, 0.5), (20, 0.5), (30, 0.4)]:
        ...     state, decision = early_stop(state, step, val, maximize=True, patience=1)
        >>> state, decision
        (EarlyStopState(best_val=0.5, best_step=20, bad_evals=2), Decision(new_best=False, stop='early_stopped'))
    """
    if not math.isfinite(val):
        return state, Decision(new_best=False, stop="diverged")
    best = state.best_val
    improved = best is None or (val > best if maximize else val < best)
    bad_evals = 0 if improved else state.bad_evals + 1
    stop = bad_evals > patience
    new_best = not stop and (improved or val == best)
    if new_best:
        state = EarlyStopState(best_val=val, best_step=step, bad_evals=bad_evals)
    else:
        state = state._replace(bad_evals=bad_evals)
    return state, Decision(new_best=new_best, stop="early_stopped" if stop else None)
