"""The shapes of trials: what the runner's two ways of paying less compilation and fewer
launches per trial group them by.

A trial's *shape* is `models.compile_key` of its config and options: everything that is
compiled into the training step (the model config, batch size, evaluation interval), but not
the values that are traced (learning rates, weight decays, schedule, step budget, seed) nor the
time channel (a run without it trains with an empty one). Two trials of one shape share one
executable in a worker's in-process cache. Trials that train together in one vmapped program
must also agree on the time channel: their *batch shape* is `models.batch_key`.

- Compile-aware scheduling (`search._scheduler`): an idle worker takes first a waiting trial
  of a shape it has already compiled, and compiles ahead, while it trains, a shape no worker
  has. JAX's persistent compilation cache (``$SSMTUNE_CACHE``, one folder per machine, see
  `models.compilation_cache_dir`) lets a worker load what another worker of the same machine
  compiled.
- Vectorized trials (`batch_trials` K): up to K waiting trials of one batch shape go to one
  worker together and train in one vmapped program (`models.train_batch`); each stays its
  own Optuna trial with its own reports, pruning and share of the cost (the objective's batch
  form, `search._objective.train_objective_batch`).

This module imports nothing of the scheduler or the worker.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

__all__ = ["ShapeKeys"]


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

    def __call__(self, params: Mapping[str, Any]) -> Hashable | None:
        """The shape key of `params`; None when the point does not build (it fails on its
        own in the worker)."""
        point = tuple(sorted((k, repr(v)) for k, v in params.items()))
        if point not in self._cache:
            self._cache[point] = self._key(params)
        return self._cache[point]

    def _key(self, params: Mapping[str, Any]) -> Hashable | None:
        from ssmtune import models, tasks

        try:
            if self._info is None:
                self._info = tasks.info(self.task)
            config, options = self.space.to_config(params, task_info=self._info)
            options = options.replace(**self.protocol)
            config = models.fit_config(config, self._info, options.include_time)
            return (models.batch_key if self.batch else models.compile_key)(config, options)
        except Exception:  # a point that does not build: no shape, no preference
            return None
