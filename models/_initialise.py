"""The state a run starts from: the model built and split into its trainable arrays and the
rest, the optimiser state, the batch-norm state and the dropout key, from one compiled
initialisation per config."""

from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import numpy as np

from ssmtune.models._compile import LOCK, compiled
from ssmtune.models._config import ModelConfig
from ssmtune.models._optimizer import hyperparams, ssm_labels, transform
from ssmtune.models._options import TrainOptions
from ssmtune.models._registry import build
from ssmtune.models._time_channel import time_encoder, with_time_slot, without_time_slot

__all__ = ["SplitModel", "Start", "initialise"]


class SplitModel(NamedTuple):
    """A built model split for compilation: trainable arrays and the rest."""

    params: Any  # the model with None everywhere but at its inexact arrays
    static: Any  # the model with None at its inexact arrays
    labels: tuple[str, ...]  # "ssm" / "other" / "frozen" per leaf of `params`
    structure: Hashable  # equal for two models that can share executables


def _split_model(model: Any) -> SplitModel:
    params, static = eqx.partition(model, eqx.is_inexact_array)
    labels = tuple(jax.tree.leaves(ssm_labels(model)))
    params_leaves, params_def = jax.tree.flatten(params)
    if len(labels) != len(params_leaves):  # pragma: no cover - a labelling bug
        raise AssertionError("ssm_labels does not match the model's parameters")
    static_leaves, static_def = jax.tree.flatten(static)
    structure = (params_def, static_def, tuple(static_leaves), labels)
    return SplitModel(params, static, labels, structure)


#: The static half of an initialised model (model with None at its arrays, labels, structure)
#: per config, recorded when its initialisation is traced (under `LOCK`).
_STATIC: dict[Hashable, tuple[Any, tuple[str, ...], Hashable]] = {}

#: XLA's backend optimisations are worth nothing for a program that runs once: without them
#: the initialisation compiles in 1.0-1.2 s instead of 1.6-2.0 s (D-LinOSS, 2 blocks, CPU).
_INIT_COMPILER_OPTIONS = {"xla_backend_optimization_level": 0}


class Start(NamedTuple):
    """The state a run starts from."""

    model: SplitModel
    opt_state: Any
    bn_state: Any
    hp: dict[str, np.ndarray]  # the traced optimiser settings (`hyperparams`)
    dropout_key: Any
    compile_s: float  # seconds spent getting the initialisation's executable


def initialise(config: ModelConfig, options: TrainOptions, seed: int) -> Start:
    """The initial model, optimiser state, batch-norm state and dropout key of a run.

    The model is built for the input with the time channel; a run without it gets the
    encoder its own config draws, behind a zero column for an empty time channel (`models/_time_channel.py`).
    The initialisation is one compiled program per config with the time channel, the time
    channel's presence a traced flag, so runs with and without it share it too.

    Run eagerly, each of the initialisation's dozens of random and arithmetic ops compiles on
    its own for every new shape (1.8-2.4 s per model on a 2-core CPU); as one program it is
    compiled once per shape, and compiled ahead with the training step by `models.precompile`.
    """
    wide = config if options.include_time else with_time_slot(config)
    hp = hyperparams(options)
    key = jax.random.key(int(seed))
    with_time = np.asarray(options.include_time)

    def make() -> Callable[..., Any]:
        def init(key, hp, with_time):  # noqa: ANN001, ANN202
            init_key, dropout_key = jax.random.split(key)
            model, bn_state = eqx.nn.make_with_state(build)(wide, key=init_key)
            narrow, _ = eqx.nn.make_with_state(build)(without_time_slot(wide), key=init_key)
            model = time_encoder(model, narrow.encoder, with_time)
            m = _split_model(model)
            labels = jax.tree.unflatten(jax.tree.structure(m.params), m.labels)
            opt_state = transform(hp, labels).init(m.params)
            with LOCK:
                _STATIC[wide] = (m.static, m.labels, m.structure)
            return m.params, opt_state, bn_state, dropout_key

        return init

    args = (key, hp, with_time)
    run, seconds = compiled("init", wide, make, args, _INIT_COMPILER_OPTIONS)
    params, opt_state, bn_state, dropout_key = run(*args)
    static, labels, structure = _STATIC[wide]
    return Start(
        SplitModel(params, static, labels, structure), opt_state, bn_state, hp, dropout_key, seconds
    )
