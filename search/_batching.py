"""Compile-aware scheduling and the shapes of vectorized trials: the runner's two ways of
paying less compilation and fewer launches per trial.

A trial's *shape* is `models.compile_key` of its config and options: everything that is
compiled into the training step (the model config, batch size, evaluation interval), but not
the values that are traced (learning rates, weight decays, schedule, step budget, seed) nor the
time channel (a run without it trains with an empty one). Two trials of one shape share one
executable in a worker's in-process cache. Trials that train together in one vmapped program
must also agree on the time channel: their *batch shape* is `models.batch_key`.

- Compile-aware scheduling (`preference_order`): an idle worker takes, among the waiting
  trials, first one whose shape it has already compiled, then the shape it is compiling ahead,
  then one whose shape no other worker has (so that the workers split the shapes between them
  instead of each compiling all of them), then the oldest. JAX's persistent compilation cache
  (``$SSMTUNE_CACHE``, one folder per machine, see `models.compilation_cache_dir`) lets a
  worker load what another worker of the same machine compiled.
- Compiling ahead (``--compile-ahead``, on by default; `first_new_shape`): with each trial the
  runner hands the worker the parameters of a waiting trial of a shape nobody has; the worker
  compiles it in a background thread while it trains (`models.precompile`).
- Vectorized trials (``--batch-trials K``): up to K waiting trials of one batch shape go to
  one worker together and train in one vmapped program (`models.train_batch`); each stays its
  own Optuna trial with its own reports, pruning and share of the cost (the objective's batch
  form, `search._worker.train_objective_batch`).

This module is pure scheduling: it imports nothing of the worker, which imports nothing of it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from studies import trial_point

__all__ = ["ShapeKeys", "first_new_shape", "preference_order"]


class ShapeKeys:
    """The shape of a trial's parameters, computed once per distinct point.

    Args:
        space: the study's `spaces.Space`.
        task: the task's name (its info is read once).
        protocol: the study's max_steps / eval_every / patience overrides.
        batch: the batch shape (`models.batch_key`) instead of the compile shape
            (`models.compile_key`).
    """

    def __init__(
        self, space: Any, task: str, protocol: dict[str, int], *, batch: bool = False
    ) -> None:
        self.space = space
        self.task = task
        self.protocol = dict(protocol)
        self.batch = batch
        self._info: Any = None
        self._cache: dict[Hashable, Hashable | None] = {}

    def __call__(self, params: dict[str, Any]) -> Hashable | None:
        """The shape key of `params`; None when the point does not build (it fails on its
        own in the worker)."""
        point = tuple(sorted((k, repr(v)) for k, v in params.items()))
        if point not in self._cache:
            self._cache[point] = self._key(params)
        return self._cache[point]

    def _key(self, params: dict[str, Any]) -> Hashable | None:
        import models
        import tasks

        try:
            if self._info is None:
                self._info = tasks.info(self.task)
            config, options = self.space.to_config(params, task_info=self._info)
            options = options.replace(**self.protocol)
            config = models.fit_config(config, self._info, options.include_time)
            return (models.batch_key if self.batch else models.compile_key)(config, options)
        except Exception:  # a point that does not build: no shape, no preference
            return None


def preference_order(
    waiting: Iterable[Any],
    shape_of: Callable[[dict[str, Any]], Hashable | None],
    mine: set[Hashable],
    others: set[Hashable],
    coming: frozenset[Hashable] | set[Hashable] = frozenset(),
) -> list[Any]:
    """Waiting trials in the order an idle worker should try to take them.

    Args:
        waiting: WAITING `FrozenTrial`s, oldest first.
        shape_of: the shape key of a point's parameters (`ShapeKeys`).
        mine: the shapes this worker has compiled.
        others: the shapes the other workers have compiled or are compiling.
        coming: the shapes this worker is compiling ahead (``--compile-ahead``).

    Returns:
        The trials: shapes in `mine` first, then those in `coming`, then shapes nobody has,
        then the rest; oldest first within each group (a stable sort). A shape compiling
        ahead comes after the ready ones, so its compilation overlaps their training.

    Example:
        >>> from types import SimpleNamespace as T
        >>> ts = [T(number=i, params={"h": h}, system_attrs={}) for i, h in enumerate([1, 2, 3, 4])]
        >>> [t.number for t in preference_order(ts, lambda p: p["h"], {3}, {1}, {4})]
        [2, 3, 1, 0]
    """

    def rank(trial: Any) -> int:
        shape = shape_of(trial_point(trial))
        if shape is not None and shape in mine:
            return 0
        if shape is not None and shape in coming:
            return 1
        if shape is None or shape not in others:
            return 2
        return 3

    return sorted(waiting, key=rank)


def first_new_shape(
    waiting: Iterable[Any],
    shape_of: Callable[[dict[str, Any]], Hashable | None],
    known: set[Hashable],
) -> tuple[Hashable, dict[str, Any]] | None:
    """The shape and parameters of the oldest waiting trial whose shape is not in `known` (the
    shapes some worker has compiled or is compiling), None when every shape is known: what a
    worker should compile ahead (`search._runner`, ``--compile-ahead``).

    Example:
        >>> from types import SimpleNamespace as T
        >>> ts = [T(number=i, params={"h": h}, system_attrs={}) for i, h in enumerate([1, 2, 3])]
        >>> first_new_shape(ts, lambda p: p["h"], {1})
        (2, {'h': 2})
    """
    for trial in waiting:
        params = trial_point(trial)
        shape = shape_of(params)
        if shape is not None and shape not in known:
            return shape, params
    return None
