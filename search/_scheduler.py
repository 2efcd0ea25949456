"""Compile-aware scheduling: which waiting trials an idle worker takes, and which shape it
compiles ahead.

A trial's *shape* is what is compiled into its training step (`search._batching.ShapeKeys`):
two trials of one shape share one executable in a worker. The scheduler keeps, per worker, the
shapes it has compiled and the one it is compiling ahead, and decides by these rules:

1. Preference (`preference_order`). An idle worker tries the waiting trials in four groups,
   oldest first within each: the shapes it has compiled; the shape it is compiling ahead;
   shapes no worker has compiled or is compiling (and points that build no shape); shapes other
   workers have. So each worker keeps to its shapes, and the workers split the new shapes
   between them instead of each compiling all of them.
2. Vectorized trials (``batch_trials`` K > 1; `Scheduler.batch_mates`). After its first trial
   a worker takes up to K - 1 more waiting trials of the first one's *batch shape*
   (`models.batch_key`: the compile shape and the time channel), oldest first; they train
   together in one vmapped program. A first trial without a batch shape goes alone.
3. Compiling ahead (``compile_ahead``, single trials only; `first_new_shape`,
   `Scheduler.ahead`). With a trial, a worker is given the point of the oldest waiting trial
   whose shape no worker has compiled or is compiling; it compiles that shape in the
   background while it trains, and rule 1 gives it that shape once its compiled ones run out.
   While a waiting trial of the shape it compiles ahead is left it gets no other one; once none
   is left (other workers took them) the shape is dropped and another one chosen.
4. A worker has compiled a shape once it has been given a trial of it (`Scheduler.given`),
   which also ends its compiling ahead of that shape. A worker that died or was killed takes
   its shapes with it (`Scheduler.forget`).

The scheduler knows no Ray and no database: workers are opaque hashable keys and trials plain
`Waiting` records. The runner (`search._runner`) takes the trials from the study in the order
the scheduler gives (another runner may win one), less those the budget cannot pay for, and
tells the scheduler what each worker was given and which workers are gone.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Waiting", "Scheduler", "preference_order", "first_new_shape"]

#: A point's shape (its parameters -> a key; None: the point does not build).
ShapeOf = Callable[[Mapping[str, Any]], Hashable | None]


@dataclass(frozen=True)
class Waiting:
    """A waiting trial as the scheduler sees it.

    Attributes:
        trial_id: its id in the storage (records are equal when their ids are).
        number: its number in the study (oldest first).
        point: the parameters it will run.
    """

    trial_id: int
    number: int
    point: Mapping[str, Any] = field(compare=False)


def preference_order(
    waiting: Iterable[Waiting],
    shape_of: ShapeOf,
    mine: Collection[Hashable],
    others: Collection[Hashable],
    coming: Collection[Hashable] = frozenset(),
) -> list[Waiting]:
    """Waiting trials in the order an idle worker should try to take them (rule 1).

    Args:
        waiting: the waiting trials, oldest first.
        shape_of: the shape of a point.
        mine: the shapes this worker has compiled.
        others: the shapes the other workers have compiled or are compiling.
        coming: the shapes this worker is compiling ahead.

    Returns:
        The trials: shapes in `mine` first, then those in `coming`, then shapes nobody has
        (and points without a shape), then the rest; oldest first within each group (a stable
        sort). A shape compiling ahead comes after the ready ones, so its compilation overlaps
        their training.

    Example:
        >>> ws = [Waiting(i, i, {"h": h}) for i, h in enumerate([1, 2, 3, 4])]
        >>> [w.number for w in preference_order(ws, lambda p: p["h"], {3}, {1}, {4})]
        [2, 3, 1, 0]
    """

    def rank(trial: Waiting) -> int:
        shape = shape_of(trial.point)
        if shape is not None and shape in mine:
            return 0
        if shape is not None and shape in coming:
            return 1
        if shape is None or shape not in others:
            return 2
        return 3

    return sorted(waiting, key=rank)


def first_new_shape(
    waiting: Iterable[Waiting], shape_of: ShapeOf, known: Collection[Hashable]
) -> tuple[Hashable, dict[str, Any]] | None:
    """The shape and point of the oldest waiting trial whose shape is not in `known` (the
    shapes some worker has compiled or is compiling); None when every shape is known: what a
    worker should compile ahead (rule 3).

    Example:
        >>> ws = [Waiting(i, i, {"h": h}) for i, h in enumerate([1, 2, 3])]
        >>> first_new_shape(ws, lambda p: p["h"], {1})
        (2, {'h': 2})
    """
    for trial in waiting:
        shape = shape_of(trial.point)
        if shape is not None and shape not in known:
            return shape, dict(trial.point)
    return None


class Scheduler:
    """The compile-aware scheduling state of one runner and its decisions (module docstring).

    Args:
        shape_of: a point's compile shape (`search._batching.ShapeKeys`).
        batch_of: a point's batch shape (``ShapeKeys(..., batch=True)``); default `shape_of`.
        batch_trials: K, the most trials a worker takes at once (rule 2).
        compile_ahead: give workers a shape to compile ahead (rule 3; only with K = 1).

    Example:
        >>> s = Scheduler(lambda p: p["h"])
        >>> ws = [Waiting(i, i, {"h": h}) for i, h in enumerate([1, 2, 1])]
        >>> s.given("w1", {"h": 1})
        >>> [w.number for w in s.order("w2", ws)], [w.number for w in s.order("w1", ws)]
        ([1, 0, 2], [0, 2, 1])
        >>> s.ahead("w1", ws[2:]), s.ahead("w2", ws[1:])
        (None, {'h': 2})
    """

    def __init__(
        self,
        shape_of: ShapeOf,
        batch_of: ShapeOf | None = None,
        *,
        batch_trials: int = 1,
        compile_ahead: bool = True,
    ) -> None:
        if isinstance(batch_trials, bool) or not isinstance(batch_trials, int) or batch_trials < 1:
            raise ValueError(f"`batch_trials` must be an integer >= 1, got {batch_trials!r}")
        self.shape_of = shape_of
        self.batch_of = batch_of or shape_of
        self.batch_trials = batch_trials
        self.compile_ahead = compile_ahead and batch_trials == 1
        self.compiled: dict[Hashable, set[Hashable]] = {}  # worker -> shapes it has compiled
        self.coming: dict[Hashable, Hashable] = {}  # worker -> the shape it compiles ahead

    def compiled_by(self, worker: Hashable) -> frozenset[Hashable]:
        """The shapes `worker` has compiled."""
        return frozenset(self.compiled.get(worker, ()))

    def order(self, worker: Hashable, waiting: Iterable[Waiting]) -> list[Waiting]:
        """The waiting trials in the order `worker` should try to take them (rule 1)."""
        coming = {self.coming[worker]} if worker in self.coming else set()
        others: set[Hashable] = set()
        for other, shapes in self.compiled.items():
            if other != worker:
                others |= shapes
        others |= {shape for other, shape in self.coming.items() if other != worker}
        return preference_order(waiting, self.shape_of, self.compiled_by(worker), others, coming)

    def room(self, first: Mapping[str, Any]) -> int:
        """How many more trials may join a trial of `first` (rule 2): K - 1, or 0 when K = 1
        or `first` has no batch shape."""
        if self.batch_trials == 1 or self.batch_of(first) is None:
            return 0
        return self.batch_trials - 1

    def batch_mates(self, first: Mapping[str, Any], waiting: Iterable[Waiting]) -> list[Waiting]:
        """The waiting trials that may train in one program with a trial of `first`, oldest
        first: those of its batch shape, none when it has no room (rule 2). The worker takes
        up to `room` of them."""
        if self.room(first) == 0:
            return []
        shape = self.batch_of(first)
        return [w for w in waiting if self.batch_of(w.point) == shape]

    def given(self, worker: Hashable, point: Mapping[str, Any]) -> None:
        """`worker` was given a trial of `point`: it has compiled that shape (rule 4)."""
        shape = self.shape_of(point)
        if shape is None:
            return
        self.compiled.setdefault(worker, set()).add(shape)
        if self.coming.get(worker) == shape:
            del self.coming[worker]

    def ahead(self, worker: Hashable, waiting: Iterable[Waiting]) -> dict[str, Any] | None:
        """The point `worker` should compile ahead, among `waiting` (the trials still waiting
        once its own were taken): one of a shape no worker has compiled or is compiling, now
        counted as coming to `worker`; None when compiling ahead is off, when a trial of the
        shape it already compiles ahead is still waiting, or when every shape is known (rule 3).
        """
        if not self.compile_ahead:
            return None
        waiting = list(waiting)
        if worker in self.coming:
            if any(self.shape_of(w.point) == self.coming[worker] for w in waiting):
                return None
            del self.coming[worker]  # its trials went elsewhere: look for another shape
        known = set(self.coming.values()).union(*self.compiled.values())
        found = first_new_shape(waiting, self.shape_of, known)
        if found is None:
            return None
        shape, point = found
        self.coming[worker] = shape
        return point

    def forget(self, worker: Hashable) -> None:
        """`worker` is gone (died or killed): its shapes are no longer compiled anywhere."""
        self.compiled.pop(worker, None)
        self.coming.pop(worker, None)
