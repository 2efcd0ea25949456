"""The budget of a study (``--budget-hours B``): what a runner may start and when its trials
must stop, so that a study ends within a few per cent of B.

The runner (`search._runner`) holds one `Budget` and asks it; the budget itself reads trials
but writes nothing, starts nothing and kills nothing: the runner does that with its answers.

- cost: one definition, `studies._cost.trial_cost_s` (devices x wall time, running trials
  included); the study's spent total is its sum over all the study's trials, other runners'
  included. The remaining budget is B minus that total, read at every turn of the loop
  (`Budget.look`). Seconds here are device-seconds, except where a name says wall.
- prediction: before a trial starts, its wall seconds are predicted with `spaces.point_cost`
  calibrated by this study's finished trials (`spaces.predict_seconds`: seconds per unit-step
  of its shape or the nearest measured one, plus that shape's compile time unless the worker
  has compiled it); times this runner's devices per trial, that is its predicted cost. A trial
  starts only if its predicted cost fits in what is free (`Budget.fits`): the remaining budget
  less what the running trials of this runner are still predicted to need and less the
  trials being taken for the same worker. Before any trial of the study has finished there is
  nothing to predict with: trials start while anything is free (one per worker), and their
  deadlines alone bound them.
- not started: a WAITING trial (a grid point, a retry, a parked suggestion) that does not fit
  is never taken (`Budget.affordable`), so it stays WAITING, unvisited, and a `resume` with a
  larger budget runs it. A sampler's suggestion exists only once asked: one that does not fit
  is put back to WAITING with its parameters (`Budget.parked`; Optuna's storage allows
  RUNNING -> WAITING), neither failed nor left RUNNING. The run asks the sampler again (a
  cheaper suggestion may fit what is left) while the space's cheapest point still fits (for a
  finite space; `Budget.may_ask`) and fewer than `PARK_LIMIT` suggestions in a row were
  parked (a start or an end of a trial changes what is free, and begins a new row), so that
  ``--n-trials`` is not used up on parked points. The run ends for the budget once nothing
  runs here and nothing waiting fits (`Budget.blocked`).
- deadlines: every running trial of this runner gets a wall-clock deadline
  (`search._worker.STOP_AT_ATTR`): the remaining budget shared by `fair_shares` among them
  (each its predicted need, if they all fit, plus an equal part of the rest), recomputed at
  every turn and rewritten when it moves by more than `DEADLINE_TOLERANCE` of the budget
  (`Budget.deadlines`), so trials that end early free budget for the others. The worker stops
  a trial past its deadline at its next evaluation and stores it PRUNED with its best value
  so far and ``stopped_reason = "budget"``; a trial still running `BUDGET_GRACE` of the budget
  (shared among the running trials, at least one second; `kill_grace_s`) past its deadline
  (evaluations too far apart) is stopped by the runner (`Budget.overdue`): its worker is
  killed and the trial stored as `stopped_at_budget` says.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from ssmtune.spaces import Measured, predict_seconds
from ssmtune.studies import StudyError, study_cost_s, trial_cost_s, trial_id_of, trial_wall_s

__all__ = [
    "Budget",
    "Deadline",
    "fair_shares",
    "kill_grace_s",
    "PointUnits",
    "measurement",
    "stopped_at_budget",
    "check_new_budget",
    "BUDGET_GRACE",
    "PARK_LIMIT",
    "DEADLINE_TOLERANCE",
]

#: Share of the budget (split among the running trials) a trial may run past its deadline
#: before the runner kills its worker instead of waiting for its next evaluation.
BUDGET_GRACE = 0.02
#: Suggestions in a row a run puts back for the budget before it stops asking the sampler.
#: Three (in all) stopped the demo's LinOSS study at 76 % of its budget while cheaper points
#: of its grid still fitted.
PARK_LIMIT = 10
#: A deadline is rewritten when it moved by more than this share of the budget (or 0.05 s).
DEADLINE_TOLERANCE = 0.002


def fair_shares(remaining: float, needs: Sequence[float]) -> list[float]:
    """Share `remaining` seconds of budget among running trials that each still need
    `needs[i]` (`math.inf`: unknown, no prediction or already past it).

    Max-min fair (water-filling): from the smallest need up, each trial gets its need or an
    equal part of what is left, whichever is smaller; once every need is met, what is left is
    split equally. So a trial predicted to fit always gets its prediction while the others
    fit, and trials without a prediction share the rest. A budget already overspent gives
    each an equal part of the deficit: a negative share, whose deadline (now + share) has
    passed and stays put as time goes on, as every deadline does between two events.

    Example:
        >>> fair_shares(10.0, [2.0, 3.0])
        [4.5, 5.5]
        >>> fair_shares(10.0, [2.0, math.inf, math.inf])
        [2.0, 4.0, 4.0]
        >>> fair_shares(4.0, [3.0, 3.0])
        [2.0, 2.0]
        >>> fair_shares(-1.0, [1.0, math.inf])
        [-0.5, -0.5]
        >>> fair_shares(-1.0, [])
        []
    """
    if remaining < 0 and needs:
        return [remaining / len(needs)] * len(needs)
    shares = [0.0] * len(needs)
    left = remaining
    for k, i in enumerate(sorted(range(len(needs)), key=lambda i: needs[i])):
        shares[i] = min(needs[i], left / (len(needs) - k))
        left -= shares[i]
    return [share + left / len(needs) for share in shares] if needs else []


def kill_grace_s(budget_s: float, running: int, devices: float = 1.0) -> float:
    """Wall seconds a trial may run past its deadline before the runner stops it: the time
    its `devices` take to spend `BUDGET_GRACE` of the budget shared among the `running`
    trials, at least one second.

    Example:
        >>> kill_grace_s(3600.0, 2), kill_grace_s(10.0, 1), kill_grace_s(3600.0, 2, 0.5)
        (36.0, 1.0, 72.0)
    """
    return max(1.0, BUDGET_GRACE * budget_s / max(1, running) / devices)


class PointUnits:
    """A point's `spaces.point_cost` for a task's length, computed once per point; 1 when it
    cannot be computed (every point then counts the same).

    Args:
        space: the study's `spaces.Space`.
        task: the task's name (its length is read once).
    """

    def __init__(self, space: Any, task: str) -> None:
        self.space = space
        self.task = task
        self._length: int | None = None
        self._units: dict[str, float] = {}

    def __call__(self, params: dict[str, Any]) -> float:
        from ssmtune.studies import point_key

        key = point_key(params)
        if key not in self._units:
            from ssmtune import tasks

            try:
                if self._length is None:
                    self._length = tasks.info(self.task).length
                self._units[key] = float(self.space.point_cost(params, self._length))
            except Exception:  # noqa: BLE001 - a point without a cost counts as one unit
                self._units[key] = 1.0
        return self._units[key]


def measurement(trial: Any, shape: Hashable, units: float) -> Measured | None:
    """What a finished trial measured (`spaces.Measured`), from its ``wall_s``,
    ``compile_s`` and ``steps`` user attributes; None when it has no wall time or no steps.

    Example:
        >>> from types import SimpleNamespace
        >>> done = SimpleNamespace(user_attrs={"wall_s": 3.0, "compile_s": 0.5, "steps": 20})
        >>> measurement(done, "h16", 100.0)
        Measured(shape='h16', units=100.0, steps=20, run_s=2.5, compile_s=0.5)
    """
    a = trial.user_attrs
    wall, compile_s, steps = a.get("wall_s"), a.get("compile_s") or 0.0, a.get("steps")
    if not isinstance(wall, int | float) or not isinstance(steps, int) or steps <= 0:
        return None
    run_s = max(0.0, float(wall) - float(compile_s))
    return Measured(shape, units, steps, run_s, float(compile_s))


def stopped_at_budget(
    trial: Any, *, minimize: bool, now: datetime | None = None
) -> tuple[float | None, dict[str, Any]]:
    """The value and user attributes of a running trial the runner stops at the budget:
    the best validation it reported (None if none), its wall time and cost so far, the
    steps it reported up to, no test metric and ``stopped_reason = "budget"``. A trial
    resumed from a checkpoint is charged its killed runs' seconds to it as well
    (`RESUMED_SPENT_ATTR`), as its worker would have charged them (`CARRIED_ATTR`)."""
    from ssmtune.search._worker import BUDGET_REASON, RESUMED_SPENT_ATTR
    from ssmtune.studies import CARRIED_ATTR, DEVICES_ATTR

    reported = {s: v for s, v in trial.intermediate_values.items() if math.isfinite(v)}
    better = min if minimize else max
    best = better(reported.values()) if reported else None
    carried, devices = (trial.user_attrs.get(k) for k in (RESUMED_SPENT_ATTR, DEVICES_ATTR))
    carried = float(carried) if _positive(carried) else 0.0
    devices = float(devices) if _positive(devices) or devices == 0 else 1.0  # as studies
    attrs: dict[str, Any] = {
        "wall_s": trial_wall_s(trial, now) + carried,
        "device_s": trial_cost_s(trial, now) + devices * carried,
        "compile_s": 0.0,
        "steps": max(reported, default=0),
        "status": "pruned",
        "test": None,
        "stopped_reason": BUDGET_REASON,
    }
    if carried > 0:
        attrs[CARRIED_ATTR] = devices * carried
    return best, attrs


def _positive(value: Any) -> bool:
    """A finite number > 0 (a user attribute read back from the study)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and math.isfinite(value) and value > 0


def check_new_budget(budget_hours: Any, spent_hours: float, *, name: str) -> None:
    """Refuse a budget for resuming study `name` that is not a finite number larger than the
    `spent_hours` it has spent already (it would stop the run before it starts a trial).

    Raises:
        StudyError: one line naming the argument and what the study spent.

    Example:
        >>> check_new_budget(2.0, 1.5, name="s")
        >>> check_new_budget(1.0, 1.5, name="s")
        Traceback (most recent call last):
        ...
        ssmtune.studies._errors.StudyError: `budget_hours` 1 is not larger than the 1.5 device-hours \
study s has spent already; give a larger budget
    """
    number = isinstance(budget_hours, int | float) and not isinstance(budget_hours, bool)
    if not number or not math.isfinite(budget_hours) or budget_hours <= 0:
        raise StudyError(f"`budget_hours` must be a finite number > 0, got {budget_hours!r}")
    if budget_hours <= spent_hours:
        raise StudyError(
            f"`budget_hours` {budget_hours:g} is not larger than the {spent_hours:.4g} "
            f"device-hours study {name} has spent already; give a larger budget"
        )


class Deadline(NamedTuple):
    """A deadline to write on a running trial.

    Attributes:
        trial_id: the trial.
        stop_at: the wall-clock time (`time.time`) at which it must stop.
        predicted_s: its predicted wall seconds, to record with its first deadline (else
            None: nothing to record).
    """

    trial_id: int
    stop_at: float
    predicted_s: float | None


class Budget:
    """The budget bookkeeping of one runner (module docstring): the remaining budget, the
    predictions and deadlines of the runner's trials, the trials not started for it.

    Args:
        budget_s: the study's budget in device-seconds.
        steps: the steps a trial may run (the protocol's ``max_steps``).
        units: a point's `spaces.point_cost` (its parameters -> units).
        shape_of: a point's compile shape (its parameters -> a key; None: no shape).
        devices: devices each trial of this runner is charged for per wall second
            (`studies._cost.device_factor`).
        cheapest: the parameters of the space's cheapest point (fewest `units`), for a
            finite space; None where unknown.

    The runner passes, where asked, `own`: the ids of its running trials, and `compiled`:
    the shapes the worker in question has compiled.
    """

    def __init__(
        self,
        budget_s: float,
        *,
        steps: int,
        units: Callable[[dict[str, Any]], float],
        shape_of: Callable[[dict[str, Any]], Hashable],
        devices: float = 1.0,
        cheapest: dict[str, Any] | None = None,
    ) -> None:
        self.budget_s = float(budget_s)
        self.steps = int(steps)
        self.units = units
        self.shape_of = shape_of
        self.devices = float(devices)
        self.cheapest = cheapest
        self.spent_s = 0.0
        self.remaining_s = math.inf  # the budget less the study's cost, at the last look
        self.blocked = False  # a trial was left waiting for the budget (the runner resets it)
        self.skipped: set[int] = set()  # trial ids not started for the budget
        self._measured: list[Measured] = []  # the study's finished trials
        self._predicted: dict[int, float | None] = {}  # trial id -> predicted wall seconds
        self._used: dict[int, float] = {}  # trial id -> its cost at the last look
        self._stop_at: dict[int, float] = {}  # trial id -> the deadline written
        self._taking_s = 0.0  # predicted cost of the trials being taken for one worker
        self._parked = 0  # suggestions put back for the budget since a trial started or ended

    # ------------------------------------------------------------------ reading the study
    def look(self, trials: Iterable[Any], own: Collection[int]) -> bool:
        """Read the study's trials: what it spent, what this runner's trials used, what the
        finished ones measured. Returns whether the budget is spent."""
        from optuna.trial import TrialState

        trials = list(trials)
        now = datetime.now()
        self.spent_s = study_cost_s(trials)
        self.remaining_s = self.budget_s - self.spent_s
        measured = []
        for t in trials:
            if trial_id_of(t) in own:
                self._used[trial_id_of(t)] = trial_cost_s(t, now)
            if t.state in (TrialState.COMPLETE, TrialState.PRUNED):
                params = dict(t.params)
                m = measurement(t, self.shape_of(params), self.units(params))
                if m is not None:
                    measured.append(m)
        self._measured = measured
        return self.remaining_s <= 0

    # ------------------------------------------------------------------ starting trials
    def predict(self, params: dict[str, Any], compiled: Collection[Hashable]) -> float | None:
        """Predicted wall seconds of a trial of `params` on a worker that has compiled
        `compiled`; None before any trial of the study has finished."""
        shape = self.shape_of(params)
        return predict_seconds(
            self.units(params),
            self.steps,
            shape,
            self._measured,
            compiled=shape is not None and shape in compiled,
        )

    def fits(
        self, params: dict[str, Any], own: Collection[int], compiled: Collection[Hashable]
    ) -> bool:
        """Whether the budget can pay for a trial of `params`: its predicted cost fits in
        the remaining budget less what `own` are predicted to need still and less the trials
        being taken; without a prediction, whether anything is free at all."""
        needed = 0.0
        for trial_id in own:
            predicted = self._predicted.get(trial_id)
            if predicted is not None:
                needed += max(0.0, predicted * self.devices - self._used.get(trial_id, 0.0))
        free = self.remaining_s - needed - self._taking_s
        predicted = self.predict(params, compiled)
        return free > 0 if predicted is None else predicted * self.devices <= free

    def affordable(
        self,
        ordered: Sequence[Any],
        own: Collection[int],
        compiled: Collection[Hashable],
        params_of: Callable[[Any], dict[str, Any]],
    ) -> list[Any]:
        """The waiting trials of `ordered` that fit (in that order); those that do not are
        counted as skipped and block the run (`blocked`)."""
        fits = [t for t in ordered if self.fits(params_of(t), own, compiled)]
        skipped = {trial_id_of(t) for t in ordered} - {trial_id_of(t) for t in fits}
        if skipped:
            self.skipped |= skipped
            self.blocked = True
        return fits

    def start_taking(self) -> None:
        """A new take of trials for one worker begins: nothing is being taken."""
        self._taking_s = 0.0

    def taking(self, params: dict[str, Any], compiled: Collection[Hashable]) -> None:
        """A trial of `params` is being taken with others for one worker (a batch): the
        next ones must fit beside it."""
        self._taking_s += (self.predict(params, compiled) or 0.0) * self.devices

    def may_ask(self, own: Collection[int] = (), compiled: Collection[Hashable] = ()) -> bool:
        """Whether the run may ask the sampler again: fewer than `PARK_LIMIT` suggestions in
        a row were put back, and the space's cheapest point (where known) fits beside `own`
        on a worker that has compiled `compiled`: if it does not, no suggestion can."""
        if self._parked >= PARK_LIMIT:
            return False
        return self.cheapest is None or self.fits(self.cheapest, own, compiled)

    def parked(self, trial_id: int) -> None:
        """A suggestion the budget cannot pay for was put back to WAITING."""
        self.skipped.add(trial_id)
        self._parked += 1
        self.blocked = True

    def started(
        self, trial_id: int, params: dict[str, Any], compiled: Collection[Hashable]
    ) -> None:
        """A trial of `params` goes to a worker that has compiled `compiled`."""
        self._predicted[trial_id] = self.predict(params, compiled)
        self.skipped.discard(trial_id)
        self._parked = 0

    def ended(self, trial_ids: Iterable[int]) -> None:
        """Trials of this runner ended (finished, failed or stopped): what they did not use
        of their predictions is free again, so the sampler may be asked anew."""
        for trial_id in trial_ids:
            self._parked = 0
            for known in (self._predicted, self._used, self._stop_at):
                known.pop(trial_id, None)

    def still_skipped(self, waiting: Iterable[int]) -> int:
        """How many of the trials not started for the budget are among `waiting`."""
        return sum(1 for trial_id in waiting if trial_id in self.skipped)

    # ------------------------------------------------------------------ stopping trials
    def deadlines(self, own: Sequence[int], now: float) -> list[Deadline]:
        """The deadlines of `own` that are new or moved by more than `DEADLINE_TOLERANCE` of
        the budget since written, at wall-clock time `now`; they count as written."""
        needs = []
        for trial_id in own:
            predicted, used = self._predicted.get(trial_id), self._used.get(trial_id, 0.0)
            need = math.inf if predicted is None else predicted * self.devices - used
            needs.append(need if need > 0 else math.inf)
        tolerance = max(0.05, DEADLINE_TOLERANCE * self.budget_s)
        moved = []
        for trial_id, share in zip(own, fair_shares(self.remaining_s, needs), strict=True):
            stop_at = now + share / self.devices
            written = self._stop_at.get(trial_id)
            if written is not None and abs(stop_at - written) <= tolerance:
                continue
            predicted = self._predicted.get(trial_id) if written is None else None
            moved.append(Deadline(trial_id, stop_at, predicted))
            self._stop_at[trial_id] = stop_at
        return moved

    def overdue(self, slots: Mapping[Any, Sequence[int]], now: float) -> list[Any]:
        """The keys of `slots` (a worker's trial ids each) with a trial more than
        `kill_grace_s` past its deadline at wall-clock time `now`."""
        running = sum(len(ids) for ids in slots.values())
        grace = kill_grace_s(self.budget_s, running, self.devices)
        return [
            key
            for key, ids in slots.items()
            if ids and max(now - self._stop_at.get(t, math.inf) for t in ids) > grace
        ]
