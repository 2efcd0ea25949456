"""The worker pool: the Ray actors a runner starts, which of them are starting or idle, and why
a start failed.

A worker (`search._worker.TrialWorker`, or the class the runner is given) takes trials once it
answers its first call (`ping`): an actor Ray cannot place yet (no room left on the cluster)
holds no trial hostage. A worker that dies while starting (OOM, a node going away) is replaced,
at most `START_ATTEMPTS` times per worker asked for, so that a worker that cannot start at all
(a broken environment) is not retried for ever.

The pool does not know trials: the runner (`search._runner`) tells a worker what to run, takes
it from `idle` and puts it back, and kills and replaces the workers that died or overran.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ssmtune.search._objective import WorkerSpec
from ssmtune.search._ray import worker_env
from ssmtune.search._run_options import RunOptions

__all__ = ["START_ATTEMPTS", "WorkerPool"]

#: Times a worker that died while starting is replaced, per worker asked for.
START_ATTEMPTS = 3


class WorkerPool:
    """The runner's Ray workers (see the module docstring).

    Args:
        actor_class: the worker class, made a Ray actor here (`search._worker.TrialWorker`).
        spec: what the workers need (`WorkerSpec`).
        options: workers and their resources.

    Attributes:
        actors: every worker started, alive or not (all are killed at the end of the run).
        starting: the pending first call of each worker not answered yet, to its worker.
        idle: the workers that answered and hold no trial.
        start_errors: why starts failed, one line each.
        start_failures: how many starts failed.
    """

    def __init__(self, actor_class: type, spec: WorkerSpec, options: RunOptions) -> None:
        self.actor_class = actor_class
        self.spec = spec
        self.options = options
        self.actors: list[Any] = []
        self.starting: dict[Any, Any] = {}
        self.idle: list[Any] = []
        self.start_errors: list[str] = []
        self.start_failures = 0

    def new(self) -> Any:
        """Start a worker; it joins `idle` once `started` sees its answer."""
        import ray

        o = self.options
        kwargs: dict[str, Any] = dict(
            num_cpus=o.cpus_per_trial, num_gpus=o.gpus_per_trial, max_restarts=0
        )
        if o.gpus_per_trial > 0:
            kwargs["runtime_env"] = {"env_vars": worker_env(o.gpus_per_trial)}
        actor: Any = ray.remote(self.actor_class).options(**kwargs).remote(self.spec)
        self.actors.append(actor)
        # a worker takes trials once it answers: an actor Ray cannot place yet (no room left on
        # the cluster) holds no trial hostage
        self.starting[actor.ping.remote()] = actor
        return actor

    @staticmethod
    def kill(actor: Any) -> None:
        """Kill a worker (nothing if it is already dead)."""
        import ray

        try:
            ray.kill(actor, no_restart=True)
        except Exception:  # already dead
            pass

    def kill_all(self) -> None:
        """Kill every worker this pool started."""
        for actor in self.actors:
            self.kill(actor)

    def started(self, ref: Any) -> None:
        """The first call `ref` of a starting worker returned: the worker is idle, or, if it
        died, it is killed and replaced while `START_ATTEMPTS` allows."""
        import ray

        actor = self.starting.pop(ref)
        try:
            ray.get(ref)
        except ray.exceptions.RayError as exc:
            self.start_errors.append(" ".join(str(exc).split())[:300])
            self.start_failures += 1
            self.kill(actor)
            # a worker killed while starting (OOM, a node going away) is replaced; a worker
            # that cannot start at all (a broken environment) is not retried for ever
            if self.start_failures <= START_ATTEMPTS * self.options.workers:
                self.new()
        else:
            self.idle.append(actor)

    def running(self, busy: Iterable[Any]) -> int:
        """Workers that are up: idle or training (`busy`; not those still starting)."""
        return len({*self.idle, *busy})
