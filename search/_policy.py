"""Search policy: the Optuna sampler that proposes a study's points and the pruner that stops
its trials early.

A study records the names (`studies.SAMPLERS`, `studies.PRUNERS`: its settings check them);
what each name means is decided here, by the search. `study_policy` gives both for a study's
settings, and `studies.load_study` / `studies.create_or_continue` take it to load a study
ready to run; the workers build the pruner alone (`make_pruner`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssmtune.studies import PRUNERS, SAMPLERS, StudyError

if TYPE_CHECKING:
    import optuna

    from ssmtune.studies import StudySettings

__all__ = ["SAMPLERS", "PRUNERS", "make_sampler", "make_pruner", "study_policy"]


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """The Optuna sampler of a study.

    A grid study never asks its sampler for a point (its points are enqueued), so "grid" gets
    a seeded random sampler as a placeholder: Optuna's GridSampler repeats points when
    several workers ask at once (measured with Optuna 5.0).
    """
    import optuna

    if name in ("grid", "random"):
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        # constant_liar: running trials count as bad guesses, so parallel workers spread out.
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    if name == "gp":
        try:
            import scipy  # noqa: F401
            import torch  # noqa: F401
        except ImportError as exc:
            raise StudyError(
                f"sampler 'gp' needs {exc.name}, which is not installed; "
                f"install it (pip install {exc.name}) or use `sampler` tpe"
            ) from None
        return optuna.samplers.GPSampler(seed=seed)
    raise StudyError(f"unknown sampler {name!r}; samplers: {', '.join(SAMPLERS)}")


def make_pruner(name: str, protocol: dict[str, int]) -> optuna.pruners.BasePruner:
    """The Optuna pruner of a study; the resource is the training step.

    median: prune a trial whose validation at an evaluation is worse than the median of the
    earlier trials at that step, once 4 trials have finished, never at the first evaluation.
    hyperband: successive halving brackets between one evaluation and `max_steps`, factor 3.
    """
    import optuna

    eval_every = int(protocol.get("eval_every", 1000))
    max_steps = int(protocol.get("max_steps", 100_000))
    if name == "none":
        return optuna.pruners.NopPruner()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=eval_every)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=eval_every, max_resource=max(max_steps, eval_every), reduction_factor=3
        )
    raise StudyError(f"unknown pruner {name!r}; pruners: {', '.join(PRUNERS)}")


def study_policy(
    settings: StudySettings,
) -> tuple[optuna.samplers.BaseSampler, optuna.pruners.BasePruner]:
    """The sampler and pruner of a study started with `settings`.

    Raises:
        StudyError: the sampler needs a package that is not installed ('gp').
    """
    return (
        make_sampler(settings.sampler, settings.seed),
        make_pruner(settings.pruner, settings.protocol),
    )
