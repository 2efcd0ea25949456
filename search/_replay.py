"""Replay: a search strategy run against a complete grid's table, in seconds, with no training.

A table (`studies.Table`) holds, for every grid point, each evaluation's validation value and
the device-seconds the trial had spent by then. A replay runs Optuna's real samplers and
pruners on an in-memory study against it, with `workers` simulated workers on a simulated
clock (an event queue), as a tabular benchmark does (HPOBench, LCBench; Syne Tune's simulator
backend):

1. a free worker asks the sampler for a point, over the table's values of each parameter
   (categorical); the trial then "runs" through the point's recorded evaluations at their
   recorded times from its start (an evaluation at ``device_s = d`` happens ``d`` seconds in);
2. at each evaluation the value is reported and the pruner asked, as the live worker does; a
   pruned trial frees its worker there and is charged the device-seconds to that evaluation;
   one that is not runs to its end and is charged the point's whole cost;
3. events are handled in simulated-time order, so the sampler sees the completions that came
   before it asks while other trials still run (TPE's constant liar counts them), and the
   median pruner compares with running trials' reports, as in a live study;
4. with a budget (device-hours), no trial starts once the workers have spent it, and the
   trials running at that moment stop there, charged to it, with no result.

Samplers: ``grid`` (the table's points in its order: a grid study), ``shuffled`` (the grid in
a uniformly random order, each point once: what `studies._grid_exact` computes exactly),
``random`` (Optuna's RandomSampler, with replacement, as a live ``--sampler random`` study),
``tpe`` and ``gp`` (as `search.make_sampler` builds them for live studies). ``tpe`` and ``gp``
need a table that is a full product of its parameters' values (every point they can propose
was run). Pruners: those of `search.make_pruner`, with the table's protocol.

The cost of a replicate is counted in dispatch order (`ReplayRun.curve`): after the k-th trial
the sampler started, the device-seconds of the first k trials (each as charged) and the best
complete value among them. With one worker that is the live study's own order; with several,
it is the order the strategy chose its points, so a strategy that ignores results (``grid``,
``shuffled``, ``random``) costs the same to reach a target on 1 or on 4 workers, and what
parallel workers cost an adaptive sampler (it proposes with fewer results known) shows. The
simulated wall-clock time of the replicate is kept beside it (``makespan_s``).

A table whose evaluations were not timed (a study from before the record) spreads each
trial's cost over its evaluations in proportion to their steps.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ssmtune.studies import StudyError, point_key

if TYPE_CHECKING:
    from ssmtune.studies import Table, TablePoint

__all__ = ["REPLAY_SAMPLERS", "ReplayTrial", "ReplayRun", "replay_once", "replay", "check_replay"]

#: The samplers a replay runs (module docstring).
REPLAY_SAMPLERS = ("grid", "shuffled", "random", "tpe", "gp")


@dataclass(frozen=True)
class ReplayTrial:
    """One trial of a replicate, in the order the sampler started it.

    Attributes:
        point: the index of its point in the table.
        start_s, end_s: simulated seconds at which it started and ended.
        cost_s: device-seconds it is charged (to its pruning or its end, or to the budget).
        state: ``complete``, ``pruned``, ``budget`` (stopped at the budget, no result) or the
            point's own (``diverged``).
        value: its value when complete, else None.
        test: the point's test at that value, when complete.
    """

    point: int
    start_s: float
    end_s: float
    cost_s: float
    state: str
    value: float | None
    test: float | None


@dataclass(frozen=True)
class ReplayRun:
    """One replicate: its trials in dispatch order and the simulated wall-clock time."""

    trials: tuple[ReplayTrial, ...]
    makespan_s: float
    maximize: bool

    def curve(self) -> list[tuple[float, float | None, float | None]]:
        """(cumulative device-seconds, best value so far, its test) after each trial, in
        dispatch order (module docstring)."""
        out: list[tuple[float, float | None, float | None]] = []
        spent, best, test = 0.0, None, None
        for t in self.trials:
            spent += t.cost_s
            if t.value is not None and (best is None or _better(t.value, best, self.maximize)):
                best, test = t.value, t.test
            out.append((spent, best, test))
        return out

    def cost_to_reach(self, target: float) -> float | None:
        """Device-seconds of the trials up to the first complete one reaching `target`, in
        dispatch order; None when none does (censored at the replicate's total)."""
        spent = 0.0
        for t in self.trials:
            spent += t.cost_s
            if t.value is not None and _reaches(t.value, target, self.maximize):
                return spent
        return None

    def total_s(self) -> float:
        return sum(t.cost_s for t in self.trials)


def _better(a: float, b: float, maximize: bool) -> bool:
    return a > b if maximize else a < b


def _reaches(value: float, target: float, maximize: bool) -> bool:
    return value >= target if maximize else value <= target


def _values(table: Table) -> dict[str, list[Any]]:
    """Each parameter's values over the table, sorted (by repr for mixed types)."""
    values: dict[str, set[Any]] = {}
    for p in table.points:
        for k, v in p.params.items():
            values.setdefault(k, set()).add(v)
    return {k: sorted(vs, key=lambda v: (str(type(v)), v)) for k, vs in sorted(values.items())}


def check_replay(table: Table, sampler: str) -> None:
    """Refuse, in one line, a replay this table cannot answer.

    Raises:
        StudyError: an unknown sampler, a table with no point, or a model-based sampler on a
            table that is not a full product of its values (it could propose a point that was
            never run).
    """
    if sampler not in REPLAY_SAMPLERS:
        raise StudyError(
            f"unknown sampler {sampler!r}; replay samplers: {', '.join(REPLAY_SAMPLERS)}"
        )
    if not table.points:
        raise StudyError("the table has no point")
    if sampler in ("random", "tpe", "gp"):
        values = _values(table)
        size = math.prod(len(v) for v in values.values())
        keys = {point_key(p.params) for p in table.points}
        if size != len(keys) or any(set(p.params) != set(values) for p in table.points):
            raise StudyError(
                f"sampler {sampler!r} proposes any combination of the table's values ({size}), "
                f"but the table holds {len(keys)} distinct points; use `sampler` grid or shuffled"
            )


def _times(point: TablePoint) -> list[tuple[int, float, float]]:
    """(step, val, seconds from the trial's start) of each evaluation of `point`."""
    evals = point.evals
    if not evals:
        return []
    if all(e[3] is not None for e in evals):
        return [(s, v, min(float(d), point.device_s)) for s, v, _, d in evals]  # type: ignore[arg-type]
    last = max(e[0] for e in evals) or 1
    return [(s, v, point.device_s * s / last) for s, v, _, _ in evals]


def replay_once(
    table: Table,
    *,
    sampler: str,
    pruner: str = "none",
    workers: int = 1,
    budget_s: float | None = None,
    seed: int = 0,
    max_trials: int | None = None,
    order: Sequence[int] | None = None,
    study_name: str = "replay",
    make_sampler: Callable[[str, int], Any] | None = None,
    make_pruner: Callable[[str, dict[str, int]], Any] | None = None,
) -> ReplayRun:
    """Replay one replicate of `sampler` (+ `pruner`) on `table` (module docstring).

    Args:
        table: a complete grid's table.
        sampler: one of `REPLAY_SAMPLERS`.
        pruner: one of the pruners of `search.make_pruner`.
        workers: simulated workers, >= 1.
        budget_s: device-seconds after which no trial starts and running ones stop; None: no
            budget (``grid`` and ``shuffled`` then run every point once).
        seed: the sampler's seed (and the shuffle's).
        max_trials: stop starting trials after this many (default: the table's size for
            ``grid``/``shuffled``, else unbounded: give a budget).
        order: for ``grid``, the table's points in this order (indices), e.g. the order a
            live study ran them in; default: the table's.
        study_name: the in-memory study's name (Optuna's Hyperband assigns brackets by it).
        make_sampler, make_pruner: the search's builders (`search.make_sampler`,
            `search.make_pruner`), for tests; default: those.
    """
    import numpy as np
    import optuna

    from ssmtune.search._policy import make_pruner as _pruner
    from ssmtune.search._policy import make_sampler as _sampler

    check_replay(table, sampler)
    if workers < 1:
        raise StudyError(f"`workers` must be >= 1, got {workers}")
    make_sampler = make_sampler or _sampler
    make_pruner = make_pruner or _pruner
    maximize = table.maximize
    points = table.points
    index = {point_key(p.params): i for i, p in enumerate(points)}
    if order is not None and sampler != "grid":
        raise StudyError(f"an explicit order is for `sampler` grid, not {sampler!r}")
    if sampler == "grid":
        order = list(range(len(points))) if order is None else [int(i) for i in order]
    elif sampler == "shuffled":
        order = [int(i) for i in np.random.default_rng(seed).permutation(len(points))]
    if order is not None and max_trials is None:
        max_trials = len(order)
    if budget_s is None and max_trials is None:
        raise StudyError(f"sampler {sampler!r} needs a budget or a number of trials to stop at")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=study_name,
        direction="maximize" if maximize else "minimize",
        sampler=make_sampler("random" if order is not None else sampler, seed),
        pruner=make_pruner(pruner, dict(table.header["protocol"])),
    )
    distributions: dict[str, optuna.distributions.BaseDistribution] = {
        k: optuna.distributions.CategoricalDistribution(v) for k, v in _values(table).items()
    }
    events: list[tuple[float, int, int, int]] = []  # (time, seq, trial's slot id, evaluation)
    seq = itertools.count()
    running: dict[int, dict[str, Any]] = {}  # slot id -> its trial's record
    started: list[dict[str, Any]] = []
    clock = {"now": 0.0, "spent": 0.0}  # device-seconds charged so far, running trials to now

    def start() -> None:
        if max_trials is not None and len(started) >= max_trials:
            return
        if budget_s is not None and clock["spent"] >= budget_s:
            return
        if order is not None:  # a grid point: enqueued, as a live grid study enqueues it
            i = order[len(started)]
            study.enqueue_trial(points[i].params, skip_if_exists=False)
            trial = study.ask(distributions)
        else:
            trial = study.ask(distributions)
            i = index[point_key(trial.params)]
        times = _times(points[i])
        sid = next(seq)
        now = clock["now"]
        record = {"trial": trial, "point": i, "start": now, "times": times, "end": None}
        running[sid] = record
        started.append(record)
        for k, (_, _, at) in enumerate(times):
            heapq.heappush(events, (now + at, next(seq), sid, k))
        heapq.heappush(events, (now + points[i].device_s, next(seq), sid, len(times)))

    def finish(
        sid: int, state: str, cost: float, value: float | None = None, test: float | None = None
    ) -> None:
        record = running.pop(sid)
        record.update(end=clock["now"], state=state, cost=cost, value=value, test=test)
        trial = record["trial"]
        if state == "complete":
            study.tell(trial, value)
        elif state == "pruned":
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)

    for _ in range(workers):
        start()
    while events:
        at, _, sid, k = heapq.heappop(events)
        record = running.get(sid)
        if record is None:  # an event of a trial that was pruned or stopped
            continue
        busy = len(running)
        if budget_s is not None and clock["spent"] + (at - clock["now"]) * busy > budget_s:
            # the budget runs out before this event: the running trials stop there
            clock["now"] += (budget_s - clock["spent"]) / busy
            clock["spent"] = budget_s
            for s, r in list(running.items()):
                finish(s, "budget", clock["now"] - r["start"])
            break
        clock["spent"] += (at - clock["now"]) * busy
        clock["now"] = at
        point = points[record["point"]]
        times = record["times"]
        if k < len(times):
            step, val, _ = times[k]
            trial = record["trial"]
            trial.report(val, step)
            if trial.should_prune():
                finish(sid, "pruned", times[k][2])
                start()
            continue
        if point.state in ("complete", "pruned") and point.value is not None:
            finish(sid, "complete", point.device_s, point.value, point.test)
        else:  # a point whose configuration diverged
            finish(sid, point.state, point.device_s)
        start()
    now = clock["now"]
    trials = tuple(
        ReplayTrial(
            point=r["point"],
            start_s=r["start"],
            end_s=r["end"],
            cost_s=r["cost"],
            state=r["state"],
            value=r["value"],
            test=r["test"],
        )
        for r in started
        if r["end"] is not None
    )
    return ReplayRun(trials, makespan_s=now, maximize=maximize)


def replay(
    table: Table,
    *,
    sampler: str,
    pruner: str = "none",
    workers: int = 1,
    replicates: int = 20,
    budget_s: float | None = None,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> list[ReplayRun]:
    """`replicates` runs of `replay_once`, seeds ``seed, seed + 1, ...``; `progress(r)` after
    each."""
    runs = []
    for r in range(replicates):
        runs.append(
            replay_once(
                table,
                sampler=sampler,
                pruner=pruner,
                workers=workers,
                budget_s=budget_s,
                seed=seed + r,
                study_name=f"replay-{seed + r}",
            )  # fmt: skip
        )
        if progress is not None:
            progress(r + 1)
    return runs
