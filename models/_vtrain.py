"""Vectorized trials: K configs that differ only in traced values, trained as one program.

Trials of a grid often differ only in numbers that `models.train` already feeds to its compiled
step as arrays (see models/_train.py): the learning rates, weight decays, warmup,
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

import math
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from models._config import ModelConfig
from models._errors import ConfigError
from models._train import (
    TrainOptions,
    TrainResult,
    _Batches,
    _compiled,
    _device_split,
    _enable_persistent_cache,
    _evaluate,
    _inputs,
    _make_eval,
    _make_train_chunk,
    _peak_memory,
    _pool,
    _start,
    _time_slot,
)

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
        >>> import models
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
        >>> import models
        >>> a = models.config("linoss", hidden=16, in_channels=6)
        >>> b = models.config("linoss", hidden=16, in_channels=7)
        >>> compile_key(a, TrainOptions()) == compile_key(b, TrainOptions(include_time=True))
        True
    """
    if not options.include_time:
        config, options = _time_slot(config), options.replace(include_time=True)
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


def _stack(trees: Sequence[Any]) -> Any:
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def _member(tree: Any, i: int) -> Any:
    return jax.tree.map(lambda x: x[i], tree)


def train_batch(
    configs: Sequence[ModelConfig],
    data: Any,
    options: Sequence[TrainOptions],
    *,
    seeds: Sequence[int],
    callbacks: Sequence[Callable[[int, float], bool | None] | None] | None = None,
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
        >>> import models, tasks
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
    checked = [_inputs(configs[0], data, o, s) for o, s in zip(options, seeds, strict=True)]
    train_split, val_split, test_split = checked[0]
    _enable_persistent_cache()
    kind, metric = data.info.kind, data.info.metric
    maximize = metric == "accuracy"

    starts = [_start(configs[0], o, s) for o, s in zip(options, seeds, strict=True)]
    m0 = starts[0].model
    params = _stack([st.model.params for st in starts])
    opt_state = _stack([st.opt_state for st in starts])
    bn_state = _stack([st.bn_state for st in starts])
    hp = jax.device_put(_stack([st.hp for st in starts]))
    keys = _stack([st.dropout_key for st in starts])

    steps_per_chunk = options[0].eval_every
    batch = options[0].batch_size
    train_data = _device_split(train_split)
    pool = _pool(val_split, test_split)
    n_val, n_test = val_split.n, test_split.n
    eval_batch = min(max(n_val, n_test), 2 * batch)

    train_args = (
        params,
        opt_state,
        bn_state,
        hp,
        keys,
        np.int32(0),
        np.zeros((k, steps_per_chunk, batch), np.int32),
        np.zeros((k, steps_per_chunk), bool),
        train_data,
    )
    eval_args = (params, bn_state, pool, np.zeros(eval_batch, np.int32), np.zeros(eval_batch, bool))

    def make_train() -> Callable[..., Any]:
        chunk = _make_train_chunk(m0, kind, steps_per_chunk)
        return jax.vmap(chunk, in_axes=(0, 0, 0, 0, 0, None, 0, 0, None))

    def make_eval() -> Callable[..., Any]:
        return jax.vmap(_make_eval(m0, kind), in_axes=(0, 0, None, None, None))

    run_chunk, compile_train = _compiled(
        "vtrain", (m0.structure, kind, steps_per_chunk, k), make_train, train_args
    )
    run_eval, compile_eval = _compiled("veval", (m0.structure, kind, k), make_eval, eval_args)
    compile_s = sum(st.compile_s for st in starts) + compile_train + compile_eval

    def evaluate(start: int, n: int) -> np.ndarray:  # one value per member
        return _evaluate(run_eval, params, bn_state, pool, eval_batch, start, n)

    batches = [_Batches(train_split.n, batch, np.random.default_rng(s)) for s in seeds]
    alive = np.ones(k, bool)
    steps = np.zeros(k, np.int64)
    history: list[list[tuple[int, float]]] = [[] for _ in range(k)]
    best_val: list[float | None] = [None] * k
    best_test: list[float | None] = [None] * k
    best_step = [0] * k
    bad_evals = [0] * k
    status = ["ok"] * k
    diverged_step: list[int | None] = [None] * k
    share_s = np.full(k, (time.perf_counter() - started) / k)  # set-up and compilation
    train_share_s = np.zeros(k)
    step = 0
    while alive.any():
        tick = time.perf_counter()
        running = alive.copy()
        n = np.where(running, np.minimum(steps_per_chunk, [o.max_steps - step for o in options]), 0)
        idx = np.zeros((k, steps_per_chunk, batch), np.int32)
        for i in np.flatnonzero(running):
            idx[i, : n[i]] = batches[i].take(int(n[i]))
        active = np.arange(steps_per_chunk)[None, :] < n[:, None]
        params, opt_state, bn_state, losses = run_chunk(
            params, opt_state, bn_state, hp, keys, np.int32(step), idx, active, train_data
        )
        losses = np.asarray(losses)
        train_s = time.perf_counter() - tick
        train_share_s[running] += train_s / running.sum()
        step += steps_per_chunk
        for i in np.flatnonzero(running):
            bad = np.flatnonzero(~np.isfinite(losses[i, : n[i]]))
            if bad.size:
                status[i], diverged_step[i] = "diverged", int(steps[i] + bad[0] + 1)
                steps[i] = diverged_step[i]
                alive[i] = False
            else:
                steps[i] += n[i]
        evaluating = alive & running
        if evaluating.any():
            vals = evaluate(0, n_val)
            improved_any = np.zeros(k, bool)
            stop_early = np.zeros(k, bool)
            for i in np.flatnonzero(evaluating):
                val = float(vals[i])
                if not math.isfinite(val):
                    status[i], diverged_step[i] = "diverged", int(steps[i])
                    alive[i] = False
                    continue
                history[i].append((int(steps[i]), val))
                prev = best_val[i]
                improved = prev is None or (val > prev if maximize else val < prev)
                bad_evals[i] = 0 if improved else bad_evals[i] + 1
                stop_early[i] = bad_evals[i] > options[i].patience
                if not stop_early[i] and (improved or val == prev):
                    improved_any[i] = True
                    best_val[i], best_step[i] = val, int(steps[i])
            if improved_any.any():
                tests = evaluate(n_val, n_test)
                for i in np.flatnonzero(improved_any):
                    best_test[i] = float(tests[i])
            for i in np.flatnonzero(evaluating & alive):
                cb = callbacks[i]
                if cb is not None and cb(int(steps[i]), history[i][-1][1]):
                    status[i], alive[i] = "pruned", False
                elif stop_early[i]:
                    status[i], alive[i] = "early_stopped", False
                elif steps[i] >= options[i].max_steps:
                    alive[i] = False
        share_s[running] += (time.perf_counter() - tick) / running.sum()

    device = jax.devices()[0]
    peak = _peak_memory(device)
    return [
        TrainResult(
            val=best_val[i],
            test=best_test[i],
            metric=metric,
            status=status[i],
            steps=int(steps[i]),
            best_step=int(best_step[i]),
            wall_s=float(share_s[i]),
            compile_s=float(compile_s / k),
            examples_per_s=float(steps[i] * batch / train_share_s[i]) if train_share_s[i] else 0.0,
            device=str(device.device_kind),
            device_count=1,
            peak_mem=peak,
            diverged_step=diverged_step[i],
            history=history[i],
        )
        for i in range(k)
    ]
