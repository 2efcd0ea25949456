"""The time channel t/L (`TrainOptions.include_time`) and how runs with and without it share
one compiled program.

A run without the time channel trains on an input with an empty (zero) channel in its place,
in front (where `tasks.add_time` puts it), and an encoder whose weight column for it is zero:
the zero input gives that column a zero gradient, so it stays zero under every optimiser here,
and the run computes what it would without the channel. Runs with and without the time
channel thus share one compiled program (`models.compile_key`): a grid over include_time
compiles half as often.
"""

import dataclasses
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ssmtune.models._config import ModelConfig

__all__ = ["with_time_slot", "without_time_slot", "empty_time", "time_encoder"]


def with_time_slot(config: ModelConfig) -> ModelConfig:
    """`config` with one more input channel: the place of the time channel."""
    return dataclasses.replace(config, in_channels=config.in_channels + 1)


def empty_time(split: Any) -> Any:
    """`split` with a zero channel in front, where `tasks.add_time` puts the time channel."""
    zeros = np.zeros((*split.x.shape[:-1], 1), split.x.dtype)
    return split._replace(x=np.concatenate([zeros, split.x], axis=-1))


def without_time_slot(config: ModelConfig) -> ModelConfig:
    """`config` without its first input channel (the time channel's place)."""
    return dataclasses.replace(config, in_channels=config.in_channels - 1)


def time_encoder(model: Any, narrow: Any, with_time: Any) -> Any:
    """`model` (built for the inputs with the time channel) with its own encoder where
    `with_time` is true, else with the encoder of `narrow` (built from the same key without the
    time channel) behind a zero weight column for an empty time channel."""
    enc = model.encoder
    padded = jnp.concatenate([jnp.zeros_like(narrow.weight[:, :1]), narrow.weight], axis=1)
    weight = jnp.where(with_time, enc.weight, padded)
    bias = jnp.where(with_time, enc.bias, narrow.bias)
    return eqx.tree_at(lambda m: (m.encoder.weight, m.encoder.bias), model, (weight, bias))
