"""Vectorized trials: K configs that differ only in traced values, trained as one program.

Trials of a grid often differ only in numbers that `models.train` already feeds to its compiled
step as arrays (see models/_train.py and models/_optimizer.py): the learning rates, weight decays, warmup,
schedule and step budget, and the seed (initialisation, dropout masks, batch order). Such
trials can share one executable *and* one launch: `train_batch` stacks their parameters,
optimiser states and hyperparameters along a leading axis and runs the training chunk and the
evaluation under `jax.vmap`, so K trials cost one dispatch per chunk instead of K. On a GPU,
where a small model leaves most of the device idle, K members take little more time than one;
on a CPU the work is K times the work of one (there is no idle hardware to fill).

Each member is still its own run, with the protocol of `models.train`:

- its own batch order (its seed's generator), initialisation and dropout keys, so a member's
  result is that of `models.train` with the same config, options and seed (up to float
  rounding of the batched kernels);
- its own evaluations, best validation, test at the best, early stop (`patience`), step budget
  (`max_steps`), divergence check and callback (pruning);
- a member that stopped is masked: its parameters no longer change (the vmapped step still
  computes it; the batch is not re-compiled smaller).

Cost shares: the call's wall time is split between the members: set-up and compilation
equally, each chunk (its training and evaluation) equally between the members still running
in it; the members' `wall_s` add up to the call's wall time, and `compile_s` likewise.

What may differ between members: `TrainOptions.lr`, `ssm_lr`, `optimizer`, `weight_decay`,
`schedule`, `warmup_steps`, `max_steps`, `patience`, and the seed. What must be equal: the model
config (every field: `dropout` is compiled into the backbone, `models._backbone.Block`), and
`batch_size`, `eval_every`, `include_time` (shapes).
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from typing import Any

from ssmtune.models._config import ModelConfig
from ssmtune.models._errors import ConfigError
from ssmtune.models._loop import Callback, run_members
from ssmtune.models._options import TrainOptions, TrainResult
from ssmtune.models._time_channel import with_time_slot
from ssmtune.models._train import prepare

__all__ = ["train_batch", "batch_key", "compile_key", "TRACED_OPTIONS"]

#: TrainOptions fields that enter the compiled step as arrays (or only the host loop), so
#: members of one batch may differ in them.
TRACED_OPTIONS = (
    "lr",
    "ssm_lr",
    "optimizer",
    "weight_decay",
    "schedule",
    "warmup_steps",
    "max_steps",
    "patience",
)
_SHAPE_OPTIONS = ("batch_size", "eval_every", "include_time")


def batch_key(config: ModelConfig, options: TrainOptions) -> Hashable:
    """What two trials must share to train in one `train_batch` call (and one executable).

    Two (config, options) pairs with equal keys differ only in traced values (`TRACED_OPTIONS`
    and the seed). The runner groups trials by this key.

    Example:
        >>> from ssmtune import models
        >>> a = models.config("linoss", hidden=16)
        >>> batch_key(a, TrainOptions(lr=1e-3)) == batch_key(a, TrainOptions(lr=1e-4))
        True
    """
    return (config, tuple(getattr(options, name) for name in _SHAPE_OPTIONS))


def compile_key(config: ModelConfig, options: TrainOptions) -> Hashable:
    """What two trials must share to use one compiled training step in a worker: `batch_key`,
    with a run without the time channel counted as one with it (`models.train` gives such a
    run an empty time channel), so include_time True and False share an executable.

    Example:
        >>> from ssmtune import models
        >>> a = models.config("linoss", hidden=16, in_channels=6)
        >>> b = models.config("linoss", hidden=16, in_channels=7)
        >>> compile_key(a, TrainOptions()) == compile_key(b, TrainOptions(include_time=True))
        True
    """
    if not options.include_time:
        config, options = with_time_slot(config), options.replace(include_time=True)
    return batch_key(config, options)


def _check_members(
    configs: Sequence[ModelConfig], options: Sequence[TrainOptions], seeds: Sequence[int]
) -> None:
    k = len(configs)
    if k == 0:
        raise ConfigError("train_batch() needs at least one config")
    if len(options) != k or len(seeds) != k:
        raise ConfigError(
            f"train_batch(): {k} configs, {len(options)} options and {len(seeds)} seeds; "
            "give one of each per member"
        )
    first = configs[0]
    for i, c in enumerate(configs[1:], start=1):
        if c != first:
            fields = [
                f for f in c.__dataclass_fields__ if getattr(c, f, None) != getattr(first, f, None)
            ]
            raise ConfigError(
                f"train_batch(): member {i} differs from member 0 in model field(s) "
                f"{', '.join(fields) or type(c).__name__}; members may differ only in "
                f"{', '.join(TRACED_OPTIONS)} and the seed (train such configs separately)"
            )
    for name in _SHAPE_OPTIONS:
        values = {getattr(o, name) for o in options}
        if len(values) > 1:
            raise ConfigError(
                f"train_batch(): members differ in train option {name} ({sorted(values)}); "
                f"members may differ only in {', '.join(TRACED_OPTIONS)} and the seed"
            )


def train_batch(
    configs: Sequence[ModelConfig],
    data: Any,
    options: Sequence[TrainOptions],
    *,
    seeds: Sequence[int],
    callbacks: Sequence[Callback | None] | None = None,
) -> list[TrainResult]:
    """Train K members in one vmapped program; one `TrainResult` per member, in order.

    Args:
        configs: one model config per member, all equal (see the module docstring).
        data: the task's `tasks.Dataset` (shared by every member).
        options: one `TrainOptions` per member; they may differ in `TRACED_OPTIONS` only.
        seeds: one seed per member (initialisation, dropout masks, batch order).
        callbacks: per member, None or ``callback(step, val) -> bool`` after each of its
            evaluations; True stops that member with status "pruned".

    Returns:
        One `TrainResult` per member, as `models.train` would give it, with its cost share.

    Raises:
        ConfigError: members that differ in more than traced values, or bad inputs.

    Example:
        >>> from ssmtune import models, tasks
        >>> data = tasks.load("basicmotions", seed=2345)
        >>> cfg = models.fit_config(models.config("linoss", hidden=8, state=8, blocks=1),
        ...                         data.info, include_time=False)
        >>> opts = [TrainOptions(lr=lr, max_steps=20, eval_every=10) for lr in (1e-3, 1e-2)]
        >>> [r.steps for r in train_batch([cfg, cfg], data, opts, seeds=[1, 2])]
        [20, 20]
    """
    started = time.perf_counter()
    configs, options, seeds = list(configs), list(options), list(seeds)
    _check_members(configs, options, seeds)
    k = len(configs)
    callbacks = list(callbacks) if callbacks is not None else [None] * k
    if len(callbacks) != k:
        raise ConfigError(f"train_batch(): {len(callbacks)} callbacks for {k} members")
    members = prepare(configs[0], data, options, seeds, vmapped=True)
    return run_members(
        members,
        metric=data.info.metric,
        options=options,
        seeds=seeds,
        callbacks=callbacks,
        started=started,
    )
