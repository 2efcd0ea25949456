"""Retraining a study's best config over the benchmark's seeds (`evaluate_study`).

The benchmark reports mean ± std of the test metric of the best config retrained over five
seeds, each its own split and initialisation (`studies.EVALUATION_SEEDS`). `studies` says
what to retrain (`studies.evaluation_plan`) and stores the result
(`studies.store_evaluation`); the retraining is here, on Ray, through the study's objective
(`search._objective.load_objective`), with the resources its workers had.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Literal, get_args

from ssmtune.search._objective import DEFAULT_OBJECTIVE, TrialContext, WorkerSpec, load_objective
from ssmtune.search._ray import ray_session, worker_env
from ssmtune.studies import StudyError

__all__ = [
    "Protocol",
    "PROTOCOLS",
    "Evaluation",
    "EvaluationError",
    "full_protocol",
    "evaluate_study",
    "retrain_seeds",
]

#: The training protocol of an evaluation: "full", the benchmark's (`full_protocol`), or
#: "study", the (often shorter) one the study was tuned with.
Protocol = Literal["full", "study"]
PROTOCOLS: tuple[Protocol, ...] = get_args(Protocol)
#: The protocol fields an evaluation takes from its protocol (the rest is the config's).
_PROTOCOL_FIELDS = ("max_steps", "eval_every", "patience")


class EvaluationError(RuntimeError):
    """A seed produced no test metric (a failed or diverged run); nothing was stored."""


@dataclass(frozen=True)
class Evaluation:
    """What `evaluate_study` stored with the study (its ``evaluation`` user attribute).

    Attributes:
        study: the study; best_trial: the number of the trial whose config was retrained;
        metric: the task's metric; seeds, tests: one test value per seed; mean, std: their
        mean and population std (ddof=0).
    """

    study: str
    best_trial: int
    metric: str
    seeds: list[int]
    tests: list[float]
    mean: float
    std: float
    rank: int = 1
    params: dict[str, Any] | None = None
    value: float | None = None

    def record(self) -> dict[str, Any]:
        """The JSON record of one point of ``evaluate --top`` (the study's ``evaluations``)."""
        return {"rank": self.rank, "trial": self.best_trial, "params": self.params,
                "value": self.value, "seeds": self.seeds, "tests": self.tests,
                "mean": self.mean, "std": self.std}  # fmt: skip


def full_protocol() -> dict[str, int]:
    """The LinOSS benchmark's protocol, which its published mean ± std used: the defaults of
    `models.TrainOptions` (tk-rusch/linoss ``train.py``).

    Example:
        >>> full_protocol()
        {'max_steps': 100000, 'eval_every': 1000, 'patience': 10}
    """
    from ssmtune import models

    defaults = models.TrainOptions()
    return {k: getattr(defaults, k) for k in _PROTOCOL_FIELDS}


def evaluate_study(
    name: str,
    *,
    storage: str,
    seeds: int = 5,
    workers: int | None = None,
    protocol: Protocol = "full",
    objective: str | None = None,
) -> Evaluation:
    """Retrain study `name`'s best config once per seed and store mean ± std with the study.

    Args:
        name: the study.
        storage: its storage URL.
        seeds: how many of the benchmark's seeds (1..5).
        workers: seeds trained at once (default: all of them).
        protocol: "full" (`full_protocol`) or "study" (the study's recorded protocol).
        objective: ``module:function`` replacing the training (tests).

    Raises:
        StudyError: bad input (unknown study, no complete trial, bad numbers or protocol).
        EvaluationError: a seed produced no test metric; nothing was stored.
    """
    return evaluate_top(
        name, storage=storage, top=1, seeds=seeds, workers=workers, protocol=protocol,
        objective=objective,
    )[0]  # fmt: skip


def evaluate_top(
    name: str,
    *,
    storage: str,
    top: int = 5,
    seeds: int = 5,
    workers: int | None = None,
    protocol: Protocol = "full",
    objective: str | None = None,
) -> list[Evaluation]:
    """`evaluate_study` for the study's `top` best points (distinct configurations, best
    first): each retrained once per seed. The best's is stored as the study's ``evaluation``
    (as `evaluate_study` stores it), all of them as its ``evaluations``; nothing is stored
    unless every point's every seed gave a test metric.

    Raises:
        StudyError: bad input, or `top` larger than the points with a complete trial.
        EvaluationError: a seed produced no test metric; nothing was stored.
    """
    from ssmtune import studies

    if workers is not None and workers < 1:
        raise StudyError(f"`workers` must be >= 1, got {workers}")
    if protocol not in PROTOCOLS:
        raise StudyError(f"`protocol` must be one of {', '.join(PROTOCOLS)}; got {protocol!r}")
    seed_list = studies.evaluation_seeds(seeds)
    # the last rank first: a `top` past the points is one line before anything trains
    plans = [studies.evaluation_plan(storage, name, rank=r) for r in range(top, 0, -1)][::-1]
    done: list[Evaluation] = []
    for rank, plan in enumerate(plans, start=1):
        if protocol == "full":
            plan = {**plan, "protocol": {**(plan.get("protocol") or {}), **full_protocol()}}
        tests = retrain_seeds(
            plan, seed_list, workers=workers or len(seed_list), storage=storage,
            objective=objective,
        )  # fmt: skip
        summary = studies.summarize_evaluation(seed_list, tests)
        done.append(
            Evaluation(study=name, best_trial=plan["best_trial"], metric=plan["metric"],
                       rank=rank, params=plan["params"], value=plan["best_value"], **summary)
        )  # fmt: skip
    studies.store_evaluation(storage, name, seed_list, done[0].tests)
    if top > 1:
        studies.store_evaluations(
            storage, name, [{**e.record(), "protocol": protocol} for e in done]
        )
    return done


def retrain_seeds(
    plan: dict[str, Any],
    seeds: list[int],
    *,
    workers: int,
    storage: str,
    objective: str | None = None,
) -> list[float]:
    """Retrain `plan`'s config (see `studies.evaluation_plan`) once per seed; the test metrics.

    Each seed trains on a Ray actor of the cluster the study ran on (``$RAY_ADDRESS``, else a
    private local Ray, as a study's run), with the resources the study's workers had, through
    the objective (default `search._objective.train_objective`, `models.train`) under
    `plan['protocol']`, with the seed's own split and initialisation. At most `workers` seeds
    train at once (Ray's `ActorPool` hands the seeds to that many actors).

    Raises:
        EvaluationError: a seed produced no test metric (failed or diverged run).
    """
    import ray
    from ray.util import ActorPool

    protocol = plan.get("protocol") or {}
    execution = plan.get("execution") or {}
    cpus = float(execution.get("cpus_per_trial") or 1.0)
    gpus = float(execution.get("gpus_per_trial") or 0.0)
    specs = [
        WorkerSpec(
            storage_url=storage,
            study_name=plan["study"],
            task=plan["task"],
            seed=seed,
            space=plan["space"],
            protocol={k: protocol[k] for k in _PROTOCOL_FIELDS if k in protocol},
            pruner="none",
            objective=objective or DEFAULT_OBJECTIVE,
            device_share=gpus,
        )
        for seed in seeds
    ]
    n_actors = max(1, min(workers, len(specs)))
    with ray_session(num_cpus=max(float(os.cpu_count() or 1), n_actors * cpus)) as info:
        if gpus > info.gpus:
            gpus = 0.0  # the study ran on GPUs this cluster does not have: train on CPUs
        options: dict[str, Any] = {"num_cpus": cpus, "num_gpus": gpus, "max_restarts": 0}
        if gpus > 0:
            options["runtime_env"] = {"env_vars": worker_env(gpus)}
        actors: list[Any] = [  # ray types the handle loosely
            ray.remote(_SeedTrainer).options(**options).remote() for _ in range(n_actors)
        ]
        try:
            pool = ActorPool(actors)
            params = plan["params"]
            runs = list(pool.map(lambda actor, spec: actor.train.remote(spec, params), specs))
        except ray.exceptions.RayError as exc:  # an actor's process or node is gone
            raise EvaluationError(
                f"a worker died during the evaluation ({type(exc).__name__}); nothing stored"
            ) from None
        finally:
            for actor in actors:
                ray.kill(actor, no_restart=True)
    results = dict(zip(seeds, runs, strict=True))
    bad = [s for s in seeds if results[s]["test"] is None or not math.isfinite(results[s]["test"])]
    if bad:
        why = "; ".join(f"seed {s}: {results[s]['status']}" for s in bad)
        raise EvaluationError(
            f"no test metric for {len(bad)} of {len(seeds)} seeds ({why}); nothing stored"
        )
    return [float(results[s]["test"]) for s in seeds]


class _SeedTrainer:
    """A Ray actor that trains one config with one seed at a time (`retrain_seeds`)."""

    def train(self, spec: WorkerSpec, params: dict[str, Any]) -> dict[str, Any]:
        """Train `params` once with `spec.seed`; its test metric and status (an error of the
        run is its status: the other seeds go on)."""
        ctx = TrialContext(spec, report=lambda step, val: False)  # no pruning in an evaluation
        try:
            outcome = load_objective(spec.objective)(params, ctx)
        except Exception as exc:  # noqa: BLE001 - reported per seed
            return {"test": None, "status": f"error: {' '.join(str(exc).split())[:200]}"}
        return {"test": outcome.test, "val": outcome.val, "status": outcome.status}
