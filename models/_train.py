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
"""

import collections
import dataclasses
import math
import os
import resource
import sys
import threading
import time
import typing
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from models._config import ModelConfig
from models._errors import ConfigError
from models._layer import AbstractSSMLayer
from models._registry import apply, build

__all__ = [
    "TrainOptions",
    "TrainResult",
    "train",
    "precompile",
    "train_option_names",
    "fit_config",
    "ssm_labels",
    "lr_factor",
    "descent_gradients",
    "compilation_cache_dir",
]

OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("constant", "cosine")
STATUSES = ("ok", "early_stopped", "pruned", "diverged")


# --------------------------------------------------------------------------------------------
# Options and result
# --------------------------------------------------------------------------------------------


@typing.no_type_check
@dataclasses.dataclass(frozen=True)
class TrainOptions:
    """How one config is trained; the defaults are the LinOSS benchmark protocol.

    Attributes:
        lr: learning rate (peak learning rate with a schedule).
        ssm_lr: learning rate of the SSM parameters (see `ssm_labels`); they also get no
            weight decay. None: the SSM parameters are treated like all the others.
        optimizer: "adam" (weight decay, if any, is an L2 term added to the gradient, as
            PyTorch's Adam) or "adamw" (decoupled weight decay, Loshchilov & Hutter).
        weight_decay: weight decay coefficient (>= 0).
        schedule: "constant", or "cosine" (half-cosine decay from `lr` to 0 between the end of
            the warmup and `max_steps`).
        warmup_steps: linear warmup from lr / warmup_steps to lr over this many steps (0: none).
        batch_size: training cases per step.
        max_steps: the most training steps.
        eval_every: steps between two evaluations on validation.
        patience: evaluations in a row without strict improvement that are tolerated; the run
            stops at the next one (the official `no_val_improvement > 10` for patience 10).
        include_time: prepend the channel t/L to the input (`tasks.load(include_time=...)`).

    Example:
        >>> TrainOptions(lr=1e-4, max_steps=2_000).eval_every
        1000
    """

    lr: float = 1e-3
    ssm_lr: float | None = None
    optimizer: Literal["adam", "adamw"] = "adam"
    weight_decay: float = 0.0
    schedule: Literal["constant", "cosine"] = "constant"
    warmup_steps: int = 0
    batch_size: int = 32
    max_steps: int = 100_000
    eval_every: int = 1_000
    patience: int = 10
    include_time: bool = False

    _POSITIVE_INTS: ClassVar[tuple[str, ...]] = ("batch_size", "max_steps", "eval_every")
    _NON_NEGATIVE_INTS: ClassVar[tuple[str, ...]] = ("warmup_steps", "patience")

    def __post_init__(self) -> None:
        for name in ("lr", "ssm_lr"):
            value = getattr(self, name)
            if value is None and name == "ssm_lr":
                continue
            if not _is_number(value) or not math.isfinite(value) or value <= 0:
                raise ConfigError(f"train option {name} must be a number > 0, got {value!r}")
            object.__setattr__(self, name, float(value))
        wd = self.weight_decay
        if not _is_number(wd) or not math.isfinite(wd) or wd < 0:
            raise ConfigError(f"train option weight_decay must be a number >= 0, got {wd!r}")
        object.__setattr__(self, "weight_decay", float(wd))
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"train option optimizer must be one of {', '.join(OPTIMIZERS)}; "
                f"got {self.optimizer!r}"
            )
        if self.schedule not in SCHEDULES:
            raise ConfigError(
                f"train option schedule must be one of {', '.join(SCHEDULES)}; "
                f"got {self.schedule!r}"
            )
        for name, minimum in [(n, 1) for n in self._POSITIVE_INTS] + [
            (n, 0) for n in self._NON_NEGATIVE_INTS
        ]:
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | np.integer)
                or value < minimum
            ):
                raise ConfigError(
                    f"train option {name} must be an integer >= {minimum}, got {value!r}"
                )
            object.__setattr__(self, name, int(value))
        if not isinstance(self.include_time, bool | np.bool_):
            raise ConfigError(
                f"train option include_time must be true or false, got {self.include_time!r}"
            )
        object.__setattr__(self, "include_time", bool(self.include_time))

    def replace(self, **fields: Any) -> "TrainOptions":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **fields)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def train_option_names() -> tuple[str, ...]:
    """The field names of `TrainOptions` (for validating spaces and `--set` keys)."""
    return tuple(f.name for f in dataclasses.fields(TrainOptions))


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What one training run measured.

    Attributes:
        val: best validation metric (accuracy in [0, 1], or MSE); None if the run stopped
            before its first evaluation.
        test: test metric at the (last) best validation; None likewise.
        metric: "accuracy" or "mse".
        status: "ok" (reached max_steps), "early_stopped", "pruned" (the callback asked) or
            "diverged" (a NaN or infinite loss or validation metric).
        steps: training steps taken (the diverging step included).
        best_step: step of the best validation (0 if none).
        wall_s: seconds spent in `train`, compilation and data transfer included.
        compile_s: seconds spent tracing and compiling (0.0 when every step function came
            from the in-process cache).
        examples_per_s: training cases per second of the training steps (compilation and
            evaluation excluded).
        device: device kind, e.g. "cpu", "NVIDIA H100 80GB HBM3".
        device_count: devices used (a run uses one device).
        peak_mem: bytes: the device's peak memory in use on an accelerator (the allocator's
            figure, process-wide since start), the process's peak resident set size on the
            CPU; None where neither is known.
        diverged_step: the step whose loss was not finite (status "diverged"), else None.
        history: (step, validation metric) at every evaluation.
    """

    val: float | None
    test: float | None
    metric: str
    status: str
    steps: int
    best_step: int
    wall_s: float
    compile_s: float
    examples_per_s: float
    device: str
    device_count: int
    peak_mem: int | None
    diverged_step: int | None
    history: list[tuple[int, float]]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        out = dataclasses.asdict(self)
        out["history"] = [[s, v] for s, v in self.history]
        return out


def fit_config(config: Any, data_info: Any, include_time: bool) -> Any:
    """The config with its data-dependent fields set from a task.

    Args:
        config: a `ModelConfig`.
        data_info: the task's `tasks.TaskInfo`.
        include_time: whether the input carries the extra time channel.

    Returns:
        A validated copy with `in_channels` (channels, + 1 with time), `out_dim` (classes or
        outputs per step) and `head` ("classification" or "regression") set.
    """
    return config.replace(
        in_channels=int(data_info.channels) + int(bool(include_time)),
        out_dim=int(data_info.classes),
        head=str(data_info.kind),
    )


# --------------------------------------------------------------------------------------------
# Which parameters are "SSM parameters"
# --------------------------------------------------------------------------------------------


#: Fields of an SSM layer that are NOT SSM parameters under the default rule: the output map
#: C and the skip D, and their parts ("c_re", "C_im"); the S4 recipe gives the special
#: learning rate to dt, A and B only.
def _is_readout(field: str) -> bool:
    name = field.lower()
    return name in ("c", "d") or name.startswith(("c_", "d_"))


def ssm_labels(model: Any) -> Any:
    """Label every array of a model "ssm", "other" or "frozen".

    A leaf is "ssm" when it sits in a field of an `AbstractSSMLayer` (models/_layer.py) that
    holds SSM parameters: the fields named in the layer class's `ssm_params` ClassVar if it has one,
    else every field except the readout C and skip D (names "c", "d", "c_*", "d_*", any case):
    the discretisation step, the state matrix A or its eigenvalues, and B, i.e. the S4 recipe's
    dt, A, B and the LRU's recurrent parameters nu, theta, gamma and B. A leaf is "frozen" when
    its field is named in the layer's `frozen_params` (e.g. HOPE's log Delta, a buffer in the
    official code): the optimiser sets its update to zero. Everything else (encoder, C, D,
    norms, GLU, head) is "other".

    Returns:
        A pytree shaped like `eqx.filter(model, eqx.is_inexact_array)`: a label at each inexact
        array, None elsewhere (the label tree `optax.multi_transform` takes).
    """

    def is_layer(node: Any) -> bool:
        return isinstance(node, AbstractSSMLayer)

    label_of: dict[int, str] = {}
    for layer in jax.tree.leaves(model, is_leaf=is_layer):
        if not is_layer(layer):
            continue
        chosen = getattr(type(layer), "ssm_params", None)
        frozen = getattr(layer, "frozen_params", ())
        for f in dataclasses.fields(layer):
            if f.name in frozen:
                label = "frozen"
            elif (f.name in chosen) if chosen is not None else not _is_readout(f.name):
                label = "ssm"
            else:
                continue
            label_of.update((id(leaf), label) for leaf in jax.tree.leaves(getattr(layer, f.name)))
    params = eqx.filter(model, eqx.is_inexact_array)
    return jax.tree.map(lambda leaf: label_of.get(id(leaf), "other"), params)


# --------------------------------------------------------------------------------------------
# The compiled functions and their cache
# --------------------------------------------------------------------------------------------

#: How many times each compiled function was traced in this process (a Python side effect
#: that runs at trace time only): the tests read it to check that configs differing only in
#: optimiser scalars share one executable.
_TRACES: collections.Counter[str] = collections.Counter()

#: Compiled executables by (function, static model structure, argument shapes), least recently
#: used last; at most `_MAX_COMPILED` are kept.
_COMPILED: collections.OrderedDict[Hashable, Any] = collections.OrderedDict()
_MAX_COMPILED = 32
#: Keys being compiled right now, each with the event set once its compilation ended.
_PENDING: dict[Hashable, threading.Event] = {}
_LOCK = threading.Lock()
#: Below this, the time `_compiled` spent on a cache hit is lock overhead, reported as 0.
_WAIT_NOISE_S = 1e-3

_PERSISTENT_CACHE_SET = False


def compilation_cache_dir() -> Path:
    """Where JAX's persistent compilation cache lives: ``$SSMTUNE_CACHE`` or
    ``~/.cache/ssmtune/jax``."""
    env = os.environ.get("SSMTUNE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ssmtune" / "jax"


def _enable_persistent_cache() -> None:
    """Switch JAX's persistent compilation cache on at first use, unless the user chose a
    folder (``JAX_COMPILATION_CACHE_DIR`` or `jax.config`); a folder that cannot be created
    leaves the cache off (never an error)."""
    global _PERSISTENT_CACHE_SET
    if _PERSISTENT_CACHE_SET:
        return
    _PERSISTENT_CACHE_SET = True
    if jax.config.jax_compilation_cache_dir:
        return
    path = compilation_cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    jax.config.update("jax_compilation_cache_dir", str(path))


def _signature(args: Sequence[Any]) -> Hashable:
    leaves, treedef = jax.tree_util.tree_flatten(args)
    return treedef, tuple((tuple(np.shape(x)), str(jnp.result_type(x))) for x in leaves)


def _compiled(
    name: str,
    structure: Hashable,
    make: Callable[[], Callable[..., Any]],
    args: Sequence[Any],
    compiler_options: dict[str, Any] | None = None,
) -> tuple[Callable[..., Any], float]:
    """The executable of `make()` for these arguments, and the seconds spent getting it: 0.0
    from the in-process cache, else compiling it or waiting for another thread that is
    compiling it (`precompile`). `compiler_options` go to XLA.

    Thread-safe: of several threads asking for one key, one compiles and the others wait.
    """
    key = (name, structure, _signature(args))
    try:
        hash(key)
    except TypeError:  # an unhashable static leaf: compile without caching
        key = None
    start = time.perf_counter()
    while key is not None:
        with _LOCK:
            if key in _COMPILED:
                _COMPILED.move_to_end(key)
                waited = time.perf_counter() - start
                return _COMPILED[key], (waited if waited > _WAIT_NOISE_S else 0.0)
            pending = _PENDING.get(key)
            if pending is None:
                _PENDING[key] = threading.Event()
                break
        pending.wait()  # another thread compiles it; if that failed, this one tries
    try:
        # No buffer donation: SSM parameters and optimiser states are small next to
        # activations, and a donated buffer that is read again (params by the evaluation)
        # would be an error.
        executable = jax.jit(make()).lower(*args).compile(compiler_options)
        if key is not None:
            with _LOCK:
                _COMPILED[key] = executable
                while len(_COMPILED) > _MAX_COMPILED:
                    _COMPILED.popitem(last=False)
    finally:
        if key is not None:
            with _LOCK:
                _PENDING.pop(key).set()
    return executable, time.perf_counter() - start


class _Model(NamedTuple):
    """A built model split for compilation: trainable arrays and the rest."""

    params: Any  # the model with None everywhere but at its inexact arrays
    static: Any  # the model with None at its inexact arrays
    labels: tuple[str, ...]  # "ssm" / "other" / "frozen" per leaf of `params`
    structure: Hashable  # equal for two models that can share executables


def _split_model(model: Any) -> _Model:
    params, static = eqx.partition(model, eqx.is_inexact_array)
    labels = tuple(jax.tree.leaves(ssm_labels(model)))
    params_leaves, params_def = jax.tree.flatten(params)
    if len(labels) != len(params_leaves):  # pragma: no cover - a labelling bug
        raise AssertionError("ssm_labels does not match the model's parameters")
    static_leaves, static_def = jax.tree.flatten(static)
    structure = (params_def, static_def, tuple(static_leaves), labels)
    return _Model(params, static, labels, structure)


#: The static half of an initialised model (model with None at its arrays, labels, structure)
#: per config, recorded when its initialisation is traced.
_STATIC: dict[Hashable, tuple[Any, tuple[str, ...], Hashable]] = {}


#: XLA's backend optimisations are worth nothing for a program that runs once: without them
#: the initialisation compiles in 1.0-1.2 s instead of 1.6-2.0 s (D-LinOSS, 2 blocks, CPU).
_INIT_COMPILER_OPTIONS = {"xla_backend_optimization_level": 0}


class _Start(NamedTuple):
    """The state a run starts from."""

    model: _Model
    opt_state: Any
    bn_state: Any
    hp: dict[str, np.ndarray]  # the traced optimiser settings (`_hyperparams`)
    dropout_key: Any
    compile_s: float  # seconds spent getting the initialisation's executable


def _time_slot(config: ModelConfig) -> ModelConfig:
    """`config` with one more input channel: the place of the time channel."""
    return dataclasses.replace(config, in_channels=config.in_channels + 1)


def _empty_time(split: Any) -> Any:
    """`split` with a zero channel in front, where `tasks.add_time` puts the time channel."""
    zeros = np.zeros((*split.x.shape[:-1], 1), split.x.dtype)
    return split._replace(x=np.concatenate([zeros, split.x], axis=-1))


def _narrow(config: ModelConfig) -> ModelConfig:
    """`config` without its first input channel (the time channel's place)."""
    return dataclasses.replace(config, in_channels=config.in_channels - 1)


def _time_encoder(model: Any, narrow: Any, with_time: Any) -> Any:
    """`model` (built for the inputs with the time channel) with its own encoder where
    `with_time` is true, else with the encoder of `narrow` (built from the same key without the
    time channel) behind a zero weight column for an empty time channel."""
    enc = model.encoder
    padded = jnp.concatenate([jnp.zeros_like(narrow.weight[:, :1]), narrow.weight], axis=1)
    weight = jnp.where(with_time, enc.weight, padded)
    bias = jnp.where(with_time, enc.bias, narrow.bias)
    return eqx.tree_at(lambda m: (m.encoder.weight, m.encoder.bias), model, (weight, bias))


def _start(config: ModelConfig, options: TrainOptions, seed: int) -> _Start:
    """The initial model, optimiser state, batch-norm state and dropout key of a run.

    The model is built for the input with the time channel; a run without it gets the
    encoder its own config draws, behind a zero column for an empty time channel (`_inputs`).
    The initialisation is one compiled program per config with the time channel, the time
    channel's presence a traced flag, so runs with and without it share it too.

    Run eagerly, each of the initialisation's dozens of random and arithmetic ops compiles on
    its own for every new shape (1.8-2.4 s per model on a 2-core CPU); as one program it is
    compiled once per shape, and compiled ahead with the training step by `precompile`.
    """
    wide = config if options.include_time else _time_slot(config)
    hp = _hyperparams(options)
    key = jax.random.key(int(seed))
    with_time = np.asarray(options.include_time)

    def make() -> Callable[..., Any]:
        def init(key, hp, with_time):  # noqa: ANN001, ANN202
            init_key, dropout_key = jax.random.split(key)
            model, bn_state = eqx.nn.make_with_state(build)(wide, key=init_key)
            narrow, _ = eqx.nn.make_with_state(build)(_narrow(wide), key=init_key)
            model = _time_encoder(model, narrow.encoder, with_time)
            m = _split_model(model)
            labels = jax.tree.unflatten(jax.tree.structure(m.params), m.labels)
            opt_state = _optimizer(hp, labels).init(m.params)
            with _LOCK:
                _STATIC[wide] = (m.static, m.labels, m.structure)
            return m.params, opt_state, bn_state, dropout_key

        return init

    args = (key, hp, with_time)
    run, seconds = _compiled("init", wide, make, args, _INIT_COMPILER_OPTIONS)
    params, opt_state, bn_state, dropout_key = run(*args)
    static, labels, structure = _STATIC[wide]
    return _Start(
        _Model(params, static, labels, structure), opt_state, bn_state, hp, dropout_key, seconds
    )


def _hyperparams(options: TrainOptions) -> dict[str, np.ndarray]:
    """Every scalar optimiser setting as a float32 array: these are traced, not compiled in."""
    adamw = options.optimizer == "adamw"
    l2 = 0.0 if adamw else options.weight_decay
    wd = options.weight_decay if adamw else 0.0
    separate = options.ssm_lr is not None
    values = {
        "lr": options.lr,
        "l2": l2,
        "wd": wd,
        "ssm_lr": options.ssm_lr if separate else options.lr,
        "ssm_l2": 0.0 if separate else l2,
        "ssm_wd": 0.0 if separate else wd,
        "warmup": float(options.warmup_steps),
        "total": float(options.max_steps),
        "cosine": float(options.schedule == "cosine"),
    }
    return {k: np.asarray(v, np.float32) for k, v in values.items()}


def lr_factor(step: Any, warmup: Any, total: Any, cosine: Any) -> Any:
    """The learning-rate multiplier at (0-based) update `step`.

    Linear warmup ``min(1, (step + 1) / warmup)`` (none when warmup is 0), then either constant
    or, when `cosine` is nonzero, the half-cosine decay ``(1 + cos(pi p)) / 2`` with
    ``p = (step - warmup) / (total - warmup)`` clipped to [0, 1] (Loshchilov & Hutter 2017,
    without restarts; as optax.warmup_cosine_decay_schedule with end value 0). Every argument
    may be traced.

    Example:
        >>> float(lr_factor(0, 0.0, 100.0, 1.0))
        1.0
    """
    warm = jnp.minimum(1.0, (step + 1.0) / jnp.maximum(warmup, 1.0))
    progress = jnp.clip((step - warmup) / jnp.maximum(total - warmup, 1.0), 0.0, 1.0)
    decay = jnp.where(cosine > 0, 0.5 * (1.0 + jnp.cos(jnp.pi * progress)), 1.0)
    return warm * decay


def descent_gradients(grads: Any) -> Any:
    """Gradients as optax expects them: complex leaves conjugated.

    For a real loss f of a complex parameter z = x + iy, `jax.grad` returns
    ``df/dx - i df/dy``, the conjugate of the steepest-ascent direction (JAX autodiff cookbook,
    "Complex numbers and differentiation"), so ``z - lr * grad`` would climb the loss along
    the imaginary parts. Conjugating gives ``df/dx + i df/dy``: Adam on it treats (x, y) as
    the real pair it is. Real leaves are unchanged.

    Example:
        >>> g = jax.grad(lambda z: jnp.abs(z - (1 + 1j)) ** 2)(jnp.complex64(0))
        >>> complex(jnp.round(descent_gradients(g), 3))  # away from the minimum at 1 + 1j
        (-2-2j)
    """
    return jax.tree.map(lambda g: jnp.conj(g) if jnp.iscomplexobj(g) else g, grads)


def _optimizer(hp: dict[str, Any], labels: Any, factor: Any = 1.0) -> optax.GradientTransformation:
    """Adam(W) per label group, no update for "frozen" leaves; all hyperparameters may be
    traced (the state does not depend on them, so one `init` serves every value)."""

    def group(lr: Any, l2: Any, wd: Any) -> optax.GradientTransformation:
        return optax.chain(
            optax.add_decayed_weights(l2),  # Adam's L2 term (PyTorch Adam weight_decay)
            optax.scale_by_adam(),
            optax.add_decayed_weights(wd),  # AdamW's decoupled decay
            optax.scale(-lr * factor),
        )

    return optax.multi_transform(
        {
            "ssm": group(hp["ssm_lr"], hp["ssm_l2"], hp["ssm_wd"]),
            "other": group(hp["lr"], hp["l2"], hp["wd"]),
            "frozen": optax.set_to_zero(),
        },
        lambda _: labels,  # the label tree is an eqx.Module, hence callable: wrap it
    )


def _loss(
    params: Any, static: Any, bn_state: Any, batch: Any, key: Any, kind: str
) -> tuple[Any, Any]:
    model = eqx.combine(params, static)
    out, bn_state = apply(model, bn_state, batch.x, batch.mask, key=key, inference=False)
    out = out.astype(jnp.float32)
    if kind == "classification":
        logp = jax.nn.log_softmax(out, axis=-1)
        loss = -jnp.take_along_axis(logp, batch.y[:, None], axis=-1).mean()
    else:
        where = batch.target_mask[..., None]
        se = jnp.where(where, jnp.square(out - batch.y), 0.0)
        count = jnp.maximum(where.sum() * out.shape[-1], 1)
        loss = se.sum() / count
    return loss, bn_state


def _make_train_chunk(m: _Model, kind: str, steps: int) -> Callable[..., Any]:
    """`steps` training steps in one `lax.scan`; steps whose `active` flag is False are skipped
    (the last chunk of a run whose max_steps is not a multiple of eval_every)."""
    static, labels_flat = m.static, m.labels
    params_def = jax.tree.structure(m.params)

    def chunk(params, opt_state, bn_state, hp, key, step0, idx, active, data):  # noqa: ANN001
        _TRACES["train"] += 1
        labels = jax.tree.unflatten(params_def, labels_flat)

        def one(carry, inputs):  # noqa: ANN001
            i, batch_idx, act = inputs

            def run(carry):  # noqa: ANN001
                params, opt_state, bn_state = carry
                step = step0 + i
                batch = jax.tree.map(lambda a: a[batch_idx], data)
                (loss, bn_state), grads = jax.value_and_grad(_loss, has_aux=True)(
                    params, static, bn_state, batch, jax.random.fold_in(key, step), kind
                )
                grads = descent_gradients(grads)
                factor = lr_factor(step, hp["warmup"], hp["total"], hp["cosine"])
                tx = _optimizer(hp, labels, factor)
                updates, opt_state = tx.update(grads, opt_state, params)
                params = optax.apply_updates(params, updates)
                return (params, opt_state, bn_state), loss.astype(jnp.float32)

            def skip(carry):  # noqa: ANN001
                return carry, jnp.zeros((), jnp.float32)

            return jax.lax.cond(act, run, skip, carry)

        carry, losses = jax.lax.scan(
            one, (params, opt_state, bn_state), (jnp.arange(steps), idx, active)
        )
        return (*carry, losses)

    return chunk


def _make_eval(m: _Model, kind: str) -> Callable[..., Any]:
    """Metric sums over one fixed-size batch drawn (by index) from a device-resident pool:
    (correct, cases) for classification, (squared error, target values) for regression."""
    static = m.static

    def evaluate(params, bn_state, pool, idx, valid):  # noqa: ANN001
        _TRACES["eval"] += 1
        model = eqx.combine(params, static)
        batch = jax.tree.map(lambda a: a[idx], pool)
        out, _ = apply(model, bn_state, batch.x, batch.mask, key=None, inference=True)
        out = out.astype(jnp.float32)
        if kind == "classification":
            hit = (jnp.argmax(out, axis=-1) == batch.y) & valid
            return hit.sum().astype(jnp.float32), valid.sum().astype(jnp.float32)
        where = (batch.target_mask & valid[:, None])[..., None]
        se = jnp.where(where, jnp.square(out - batch.y), 0.0).sum()
        return se, (where.sum() * out.shape[-1]).astype(jnp.float32)

    return evaluate


# --------------------------------------------------------------------------------------------
# Data on the host and on the device
# --------------------------------------------------------------------------------------------


class _Batches:
    """Training batches as index arrays: consecutive slices of a fresh random permutation of the
    n training cases for every epoch, drawn from a numpy generator; an epoch's tail continues
    into the next permutation, so every batch has `batch` cases and none is dropped."""

    def __init__(self, n: int, batch: int, rng: np.random.Generator):
        self.n, self.batch, self.rng = n, batch, rng
        self.pending = np.empty(0, np.int64)

    def take(self, steps: int) -> np.ndarray:
        need = steps * self.batch
        parts = [self.pending]
        have = len(self.pending)
        while have < need:
            parts.append(self.rng.permutation(self.n))
            have += self.n
        flat = np.concatenate(parts)
        self.pending = flat[need:]
        return flat[:need].reshape(steps, self.batch).astype(np.int32)


def _device_split(split: Any) -> Any:
    from tasks import Split

    tm = None if split.target_mask is None else np.asarray(split.target_mask, bool)
    host = Split(
        np.asarray(split.x, np.float32),
        np.asarray(split.y),
        np.asarray(split.mask, bool),
        tm,
    )
    return jax.device_put(host)


def _pool(val: Any, test: Any) -> Any:
    from tasks import Split

    def cat(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.concatenate([a, b])

    return _device_split(Split(*(cat(a, b) for a, b in zip(val, test, strict=True))))


def _peak_memory(device: Any) -> int | None:
    try:
        stats = device.memory_stats()
    except Exception:  # backends without allocator statistics
        stats = None
    if stats and "peak_bytes_in_use" in stats:
        return int(stats["peak_bytes_in_use"])
    if device.platform != "cpu":
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


# --------------------------------------------------------------------------------------------
# The routine
# --------------------------------------------------------------------------------------------


def _check_inputs(config: Any, data: Any, options: Any, seed: Any) -> list[Any]:
    if not isinstance(config, ModelConfig):
        raise ConfigError(
            f"train() needs a config from models.config(); got {type(config).__name__}"
        )
    if not isinstance(options, TrainOptions):
        raise ConfigError(f"train() needs a TrainOptions; got {type(options).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"train(): seed must be an integer >= 0, got {seed!r}")
    info = data.info
    splits = [data.train, data.val, data.test]
    for name, split in zip(("train", "val", "test"), splits, strict=True):
        if split.n == 0:
            raise ConfigError(f"task {info.name}: the {name} split is empty")
    channels = splits[0].x.shape[-1]
    if options.include_time and channels == info.channels:
        from tasks import add_time

        splits = [add_time(s) for s in splits]
        channels += 1
    wanted = {"in_channels": channels, "out_dim": info.classes, "head": info.kind}
    wrong = [
        f"{k}={getattr(config, k)!r} (data: {v!r})"
        for k, v in wanted.items()
        if getattr(config, k) != v
    ]
    if wrong:
        raise ConfigError(
            f"{config.name} config does not fit task {info.name}: {', '.join(wrong)}; "
            "set it with models.fit_config(config, data.info, include_time)"
        )
    return splits


def _inputs(config: Any, data: Any, options: Any, seed: Any) -> list[Any]:
    """The checked splits; without the time channel, with an empty one in its place.

    A run without the time channel trains on an input with an empty (zero) one in front and
    an encoder whose weight column for it is zero: the zero input gives that column a zero
    gradient, so it stays zero under every optimiser here, and the run computes what it would
    without the channel. Runs with and without the time channel thus share one compiled
    program (`compile_key`): a grid over include_time compiles half as often.
    """
    splits = _check_inputs(config, data, options, seed)
    return splits if options.include_time else [_empty_time(s) for s in splits]


class _Prepared(NamedTuple):
    """What a run needs before its first step (`_prepare`)."""

    splits: list[Any]  # train, validation, test
    model: _Model
    opt_state: Any
    bn_state: Any
    hp: Any
    dropout_key: Any
    train_data: Any
    pool: Any
    eval_batch: int
    run_chunk: Callable[..., Any]
    run_eval: Callable[..., Any]
    compile_s: float


def _prepare(config: ModelConfig, data: Any, options: TrainOptions, seed: int) -> _Prepared:
    """Check the inputs, initialise, put the data on the device and get the executables."""
    splits = _inputs(config, data, options, seed)
    train_split, val_split, test_split = splits
    _enable_persistent_cache()
    kind = data.info.kind
    start = _start(config, options, seed)
    m, opt_state, bn_state = start.model, start.opt_state, start.bn_state
    hp = jax.device_put(start.hp)
    steps_per_chunk = options.eval_every
    batch = options.batch_size
    train_data = _device_split(train_split)
    pool = _pool(val_split, test_split)
    eval_batch = min(max(val_split.n, test_split.n), 2 * batch)
    train_args = (
        m.params,
        opt_state,
        bn_state,
        hp,
        start.dropout_key,
        np.int32(0),
        np.zeros((steps_per_chunk, batch), np.int32),
        np.zeros(steps_per_chunk, bool),
        train_data,
    )
    eval_args = (
        m.params,
        bn_state,
        pool,
        np.zeros(eval_batch, np.int32),
        np.zeros(eval_batch, bool),
    )
    run_chunk, compile_train = _compiled(
        "train",
        (m.structure, kind, steps_per_chunk),
        lambda: _make_train_chunk(m, kind, steps_per_chunk),
        train_args,
    )
    run_eval, compile_eval = _compiled(
        "eval", (m.structure, kind), lambda: _make_eval(m, kind), eval_args
    )
    return _Prepared(
        splits,
        m,
        opt_state,
        bn_state,
        hp,
        start.dropout_key,
        train_data,
        pool,
        eval_batch,
        run_chunk,
        run_eval,
        start.compile_s + compile_train + compile_eval,
    )


def _evaluate(
    run_eval: Callable[..., Any],
    params: Any,
    bn_state: Any,
    pool: Any,
    eval_batch: int,
    start: int,
    n: int,
) -> np.ndarray | np.floating:
    """The metric over cases ``start .. start + n`` of the evaluation pool, in batches of
    `eval_batch` (the last one padded and masked): a scalar, or one value per member of a
    vmapped `run_eval`."""
    idx = np.arange(start, start + n, dtype=np.int32)
    padded = -(-n // eval_batch) * eval_batch
    idx = np.concatenate([idx, np.full(padded - n, start, np.int32)])
    valid = np.arange(padded) < n
    sums = [
        run_eval(params, bn_state, pool, idx[i : i + eval_batch], valid[i : i + eval_batch])
        for i in range(0, padded, eval_batch)
    ]
    total, count = np.asarray(jax.device_get(sums), np.float64).sum(axis=0)
    return total / np.maximum(count, 1.0)


def precompile(config: ModelConfig, data: Any, options: TrainOptions, *, seed: int = 0) -> float:
    """Compile what `train` will need for this config, data shape and protocol, without
    training; return the seconds it took (0.0 when everything was compiled already).

    Meant for a background thread: a worker compiles the next trial's model while the current
    one trains, so that trial starts with its executables ready. A `train` that needs an
    executable being compiled meanwhile waits for it instead of compiling it again.

    Raises:
        ConfigError: as `train` does.

    Example:
        >>> import models, tasks
        >>> data = tasks.load("basicmotions", seed=2345)
        >>> cfg = models.fit_config(models.config("linoss", hidden=8, state=8, blocks=1),
        ...                         data.info, include_time=False)
        >>> opts = TrainOptions(max_steps=20, eval_every=10)
        >>> precompile(cfg, data, opts) > 0, models.train(cfg, data, opts, seed=1).compile_s
        (True, 0.0)
    """
    return _prepare(config, data, options, seed).compile_s


def train(
    config: ModelConfig,
    data: Any,
    options: TrainOptions,
    *,
    seed: int,
    callback: Callable[[int, float], bool | None] | None = None,
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

    Returns:
        A `TrainResult`. A NaN or infinite loss (or validation metric) ends the run with status
        "diverged" and `diverged_step`, not with an exception.

    Raises:
        ConfigError: a config that does not fit the data, bad options or seed.

    Example:
        >>> import models, tasks
        >>> data = tasks.load("basicmotions", seed=2345)
        >>> cfg = models.fit_config(models.config("linoss", hidden=16, state=16, blocks=2),
        ...                         data.info, include_time=False)
        >>> result = models.train(cfg, data, TrainOptions(max_steps=200, eval_every=100), seed=1)
        >>> result.metric
        'accuracy'
    """
    started = time.perf_counter()
    r = _prepare(config, data, options, seed)
    metric = data.info.metric
    maximize = metric == "accuracy"
    params, opt_state, bn_state, hp = r.model.params, r.opt_state, r.bn_state, r.hp
    run_chunk, run_eval, pool, eval_batch = r.run_chunk, r.run_eval, r.pool, r.eval_batch
    train_split, val_split, test_split = r.splits
    n_val, n_test = val_split.n, test_split.n
    steps_per_chunk, batch = options.eval_every, options.batch_size

    def evaluate(start: int, n: int) -> float:
        return float(_evaluate(run_eval, params, bn_state, pool, eval_batch, start, n))

    batches = _Batches(train_split.n, batch, np.random.default_rng(seed))
    history: list[tuple[int, float]] = []
    best_val: float | None = None
    best_test: float | None = None
    best_step = 0
    bad_evals = 0
    status = "ok"
    diverged_step: int | None = None
    step = 0
    train_s = 0.0
    while step < options.max_steps:
        n = min(steps_per_chunk, options.max_steps - step)
        idx = np.zeros((steps_per_chunk, batch), np.int32)
        idx[:n] = batches.take(n)
        active = np.arange(steps_per_chunk) < n
        tick = time.perf_counter()
        params, opt_state, bn_state, losses = run_chunk(
            params,
            opt_state,
            bn_state,
            hp,
            r.dropout_key,
            np.int32(step),
            idx,
            active,
            r.train_data,
        )
        losses = np.asarray(losses)[:n]
        train_s += time.perf_counter() - tick
        bad = np.flatnonzero(~np.isfinite(losses))
        if bad.size:
            status, diverged_step = "diverged", step + int(bad[0]) + 1
            step = diverged_step
            break
        step += n
        val = evaluate(0, n_val)
        if not math.isfinite(val):
            status, diverged_step = "diverged", step
            break
        history.append((step, val))
        improved = best_val is None or (val > best_val if maximize else val < best_val)
        bad_evals = 0 if improved else bad_evals + 1
        stop_early = bad_evals > options.patience
        if not stop_early and (improved or val == best_val):  # ties move the best forward
            best_val, best_step, best_test = val, step, evaluate(n_val, n_test)
        if callback is not None and callback(step, val):
            status = "pruned"
            break
        if stop_early:
            status = "early_stopped"
            break

    device = jax.devices()[0]
    return TrainResult(
        val=best_val,
        test=best_test,
        metric=metric,
        status=status,
        steps=int(step),
        best_step=int(best_step),
        wall_s=time.perf_counter() - started,
        compile_s=float(r.compile_s),
        examples_per_s=float(step * batch / train_s) if train_s > 0 else 0.0,
        device=str(device.device_kind),
        device_count=1,
        peak_mem=_peak_memory(device),
        diverged_step=diverged_step,
        history=history,
    )
