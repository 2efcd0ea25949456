"""Training one config on one task: the routine every trial runs.

The default is the training protocol of the LinOSS / Log-NCDE benchmark (tk-rusch/linoss
`train.py` and `run_experiment.py`): optax Adam with a constant learning rate, batch 32, at most
100,000 steps, an evaluation on validation every 1,000 steps, the test metric read at the best
validation (ties included), and an early stop once `patience` (10) evaluations in a row have
not strictly improved on the best (the official `no_val_improvement > 10`, i.e. the run stops
at the 11th such evaluation). The options the S4 / LRU / HOPE recipes need are there too:
AdamW, a linear warmup and a cosine decay, a separate learning rate without weight decay for
the SSM parameters.

Differences from the official script, each deliberate:

- the cross-entropy goes through `log_softmax` (the official `log(softmax + 1e-8)` has a zero
  gradient once the logits differ by more than ~104 in float32);
- batches are drawn by a numpy generator seeded with `seed`, as consecutive slices of a fresh
  random permutation of the training cases for every epoch (each case once per epoch; an
  epoch's tail continues into the next permutation, so no case is dropped and every batch has
  the same shape); the official loader also shuffles per epoch;
- the loss is checked at every step: a NaN or infinite loss stops the run with status
  "diverged" and the step where it happened, instead of carrying on with NaN weights.

Compilation is paid once per model structure and data shape, not once per config:

- every scalar optimiser setting (learning rates, weight decays, warmup, schedule kind, step
  budget) enters the compiled step as a traced array, so two configs that differ only in these
  share one executable;
- the steps between two evaluations run inside one compiled `lax.scan` (one dispatch per
  `eval_every` steps; when max_steps is not a multiple of eval_every, the last chunk skips its
  surplus steps and is followed by a final evaluation); evaluation runs in batches of
  ``min(max(n_val, n_test), 2 * batch_size)`` cases drawn from one device-resident pool holding
  validation and test (the last batch padded and masked), so it compiles once per task;
- the compiled functions live in a module-level cache keyed by the static structure of the
  model and the shapes of the data; JAX's persistent compilation cache is switched on in
  ``$SSMTUNE_CACHE`` (default ``~/.cache/ssmtune/jax``) unless the user set
  ``jax_compilation_cache_dir`` already, so a new process reuses executables too.

Where each part lives: the options and the result `models/_options.py`, the optimiser
`models/_optimizer.py`, the compile cache `models/_compile.py`, the initial state
`models/_initialise.py` (and the time channel `models/_time_channel.py`), the data
`models/_data.py`, the training chunk `models/_step.py`, the evaluation `models/_evaluate.py`,
the early-stop rule `models/_early_stop.py`, the host loop `models/_loop.py` and the
checkpoints a killed run continues from `models/_checkpoint.py`. This module
puts them together for one run; `models/_vtrain.py` for K vmapped runs.
"""

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ssmtune.models._checkpoint import Checkpoint, Checkpointer
from ssmtune.models._compile import compiled, enable_persistent_cache
from ssmtune.models._config import ModelConfig
from ssmtune.models._data import checked_splits, device_split, eval_pool
from ssmtune.models._evaluate import evaluate, make_eval
from ssmtune.models._initialise import initialise
from ssmtune.models._loop import Callback, Members, run_members
from ssmtune.models._options import TrainOptions, TrainResult
from ssmtune.models._step import make_train_chunk

__all__ = ["train", "precompile", "prepare"]


def _stack(trees: Sequence[Any]) -> Any:
    """The members' pytrees stacked along a new leading axis."""
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def prepare(
    config: ModelConfig,
    data: Any,
    options: Sequence[TrainOptions],
    seeds: Sequence[int],
    *,
    vmapped: bool,
) -> Members:
    """Check the inputs, initialise every member, put the data on the device and get the
    executables: one run's (`vmapped=False`, one member) or K members' stacked along a leading
    axis under `jax.vmap` (`models.train_batch`).

    Raises:
        ConfigError: a config that does not fit the data, bad options or seeds.
    """
    checked = [checked_splits(config, data, o, s) for o, s in zip(options, seeds, strict=True)]
    train_split, val_split, test_split = checked[0]
    enable_persistent_cache()
    kind = data.info.kind
    starts = [initialise(config, o, s) for o, s in zip(options, seeds, strict=True)]
    k, m = len(starts), starts[0].model
    if not vmapped and k != 1:  # pragma: no cover - a caller's bug
        raise ValueError(f"prepare(vmapped=False) trains one member, got {k}")
    gather = _stack if vmapped else (lambda trees: trees[0])
    params = gather([st.model.params for st in starts])
    opt_state = gather([st.opt_state for st in starts])
    bn_state = gather([st.bn_state for st in starts])
    hp = jax.device_put(gather([st.hp for st in starts]))
    keys = gather([st.dropout_key for st in starts])
    steps_per_chunk, batch = options[0].eval_every, options[0].batch_size
    train_data = device_split(train_split)
    pool = eval_pool(val_split, test_split)
    eval_batch = min(max(val_split.n, test_split.n), 2 * batch)

    lead = (k,) if vmapped else ()
    train_args = (
        params,
        opt_state,
        bn_state,
        hp,
        keys,
        np.int32(0),
        np.zeros((*lead, steps_per_chunk, batch), np.int32),
        np.zeros((*lead, steps_per_chunk), bool),
        train_data,
    )
    eval_args = (params, bn_state, pool, np.zeros(eval_batch, np.int32), np.zeros(eval_batch, bool))
    if vmapped:

        def make_train() -> Callable[..., Any]:
            chunk = make_train_chunk(m, kind, steps_per_chunk)
            return jax.vmap(chunk, in_axes=(0, 0, 0, 0, 0, None, 0, 0, None))

        def make_evaluation() -> Callable[..., Any]:
            return jax.vmap(make_eval(m, kind), in_axes=(0, 0, None, None, None))

        run_chunk, compile_train = compiled(
            "vtrain", (m.structure, kind, steps_per_chunk, k), make_train, train_args
        )
        run_eval, compile_eval = compiled(
            "veval", (m.structure, kind, k), make_evaluation, eval_args
        )
    else:
        run_chunk, compile_train = compiled(
            "train",
            (m.structure, kind, steps_per_chunk),
            lambda: make_train_chunk(m, kind, steps_per_chunk),
            train_args,
        )
        run_eval, compile_eval = compiled(
            "eval", (m.structure, kind), lambda: make_eval(m, kind), eval_args
        )

    def train_chunk(carry: Any, step: int, idx: np.ndarray, active: np.ndarray) -> Any:
        if not vmapped:
            idx, active = idx[0], active[0]
        *carry, losses = run_chunk(*carry, hp, keys, np.int32(step), idx, active, train_data)
        losses = np.asarray(losses)
        return tuple(carry), (losses if vmapped else losses[None])

    def evaluate_members(carry: Any, start: int, n: int) -> np.ndarray:
        params, _, bn_state = carry
        return np.reshape(evaluate(run_eval, params, bn_state, pool, eval_batch, start, n), k)

    return Members(
        carry=(params, opt_state, bn_state),
        train_chunk=train_chunk,
        evaluate=evaluate_members,
        n_train=train_split.n,
        n_val=val_split.n,
        n_test=test_split.n,
        compile_s=sum(st.compile_s for st in starts) + compile_train + compile_eval,
        keys=keys,
    )


def precompile(config: ModelConfig, data: Any, options: TrainOptions, *, seed: int = 0) -> float:
    """Compile what `train` will need for this config, data shape and protocol, without
    training; return the seconds it took (0.0 when everything was compiled already).

    Meant for a background thread: a worker compiles the next trial's model while the current
    one trains, so that trial starts with its executables ready. A `train` that needs an
    executable being compiled meanwhile waits for it instead of compiling it again.

    Raises:
        ConfigError: as `train` does.

    Example:
        >>> from ssmtune import models, tasks
        >>> data = tasks.load("basicmotions", seed=2345)
        >>> cfg = models.fit_config(models.config("linoss", hidden=8, state=8, blocks=1),
        ...                         data.info, include_time=False)
        >>> opts = TrainOptions(max_steps=20, eval_every=10)
        >>> precompile(cfg, data, opts) > 0, models.train(cfg, data, opts, seed=1).compile_s
        (True, 0.0)
    """
    return prepare(config, data, [options], [seed], vmapped=False).compile_s


def train(
    config: ModelConfig,
    data: Any,
    options: TrainOptions,
    *,
    seed: int,
    callback: Callback | None = None,
    checkpoint: Checkpoint | None = None,
) -> TrainResult:
    """Train one config on one task and measure it (see the module docstring for the protocol).

    Args:
        config: a model config whose in_channels/out_dim/head fit the data (`fit_config`).
        data: a `tasks.Dataset` (from `tasks.load(name, seed=seed, include_time=...)`); with
            `options.include_time` and data loaded without it, the time channel is added here.
        options: the protocol and optimiser settings.
        seed: seeds the initialisation, the dropout masks and the batch order (the split is
            seeded by the caller through `tasks.load`); same seed, same result.
        callback: called as ``callback(step, val)`` after every evaluation; returning True
            stops the run with status "pruned".
        checkpoint: where the run keeps its latest checkpoint (`models.Checkpoint`): it
            continues from a checkpoint there written by a run of the same config, options and
            seed, and writes one at each evaluation after which it goes on. Same seed, same
            result, whether the run was interrupted or not.

    Returns:
        A `TrainResult`. A NaN or infinite loss (or validation metric) ends the run with status
        "diverged" and `diverged_step`, not with an exception.

    Raises:
        ConfigError: a config that does not fit the data, bad options or seed.

    Example:
        >>> from ssmtune import models, tasks
        >>> data = tasks.load("basicmotions", seed=2345)
        >>> cfg = models.fit_config(models.config("linoss", hidden=16, state=16, blocks=2),
        ...                         data.info, include_time=False)
        >>> result = models.train(cfg, data, TrainOptions(max_steps=200, eval_every=100), seed=1)
        >>> result.metric
        'accuracy'
    """
    started = time.perf_counter()
    members = prepare(config, data, [options], [seed], vmapped=False)
    checkpointer = None
    if checkpoint is not None:
        identity = {
            "config": {"name": config.name, **dataclasses.asdict(config)},
            "options": dataclasses.asdict(options),
            "seed": int(seed),
            "dropout_key": np.asarray(jax.random.key_data(members.keys)).tolist(),
        }
        checkpointer = Checkpointer(checkpoint, identity)
    [result] = run_members(
        members,
        metric=data.info.metric,
        options=[options],
        seeds=[seed],
        callbacks=[callback],
        started=started,
        checkpoint=checkpointer,
    )
    return result
