"""The one registry: model name -> (config class, layer class).

Adding a model = one config class (`models/_config.py`), one layer file with a final
`AbstractSSMLayer` that builds itself from that config (`from_config`), one row in `_TABLE`;
the contract tests in `tests/models/` iterate over `names()` and test the new entry
automatically.
"""

import dataclasses
from typing import NamedTuple

import equinox as eqx
import jax
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from ssmtune.models._backbone import Backbone
from ssmtune.models._config import (
    DLinOSSConfig,
    HOPEConfig,
    LinOSSConfig,
    LRUConfig,
    ModelConfig,
    S4Config,
    S4DConfig,
    construct,
)
from ssmtune.models._dlinoss import DLinOSSLayer
from ssmtune.models._errors import ConfigError
from ssmtune.models._hope import HOPELayer
from ssmtune.models._layer import AbstractSSMLayer
from ssmtune.models._linoss import LinOSSLayer
from ssmtune.models._lru import LRULayer
from ssmtune.models._s4 import S4Layer
from ssmtune.models._s4d import S4DLayer

__all__ = ["names", "config", "build", "apply", "field_names", "layer", "config_class"]


class _Entry(NamedTuple):
    config: type[ModelConfig]
    layer: type[AbstractSSMLayer]


#: One row per model, in the order `names()` lists them; the name is the config's `name`.
_TABLE: tuple[_Entry, ...] = (
    _Entry(LinOSSConfig, LinOSSLayer),
    _Entry(DLinOSSConfig, DLinOSSLayer),
    _Entry(S4Config, S4Layer),
    _Entry(S4DConfig, S4DLayer),
    _Entry(HOPEConfig, HOPELayer),
    _Entry(LRUConfig, LRULayer),
)
_REGISTRY: dict[str, _Entry] = {entry.config.name: entry for entry in _TABLE}


def names() -> list[str]:
    """The registered model names, e.g. `["linoss", "d-linoss", "s4", "s4d", "hope", "lru"]`."""
    return list(_REGISTRY)


def _entry(name: str) -> _Entry:
    key = name.lower() if isinstance(name, str) else name
    if key not in _REGISTRY:
        raise ConfigError(f"unknown model {name!r}; valid models: {', '.join(_REGISTRY)}")
    return _REGISTRY[key]


def config_class(name: str) -> type[ModelConfig]:
    """The config dataclass of a registered model."""
    return _entry(name).config


def field_names(name: str) -> tuple[str, ...]:
    """The config field names of a model (common fields first), e.g. for validating spaces."""
    return tuple(f.name for f in dataclasses.fields(config_class(name)))


def config(name: str, **fields: object) -> ModelConfig:
    """A validated config for model `name`; unset fields take the defaults.

    Raises:
        ConfigError: unknown model name, unknown field or invalid value (the message lists
            the valid choices).

    Example:
        >>> cfg = config("linoss", discretization="IMEX", hidden=16, state=16)
        >>> cfg.name
        'linoss'
    """
    return construct(config_class(name), fields)


def layer(config: ModelConfig, *, key: PRNGKeyArray) -> AbstractSSMLayer:
    """One SSM layer of `config` alone (no backbone), mapping (length, hidden) -> same."""
    return _entry(config.name).layer.from_config(config, key=key)


def build(config: ModelConfig, *, key: PRNGKeyArray) -> Backbone:
    """The model for `config`: encoder, `config.blocks` residual blocks, head.

    The SSM layers sit at `model.blocks[i].layer` (e.g. to give them their own learning rate).
    The initial state (batch-norm running statistics) is `eqx.nn.State(model)`.

    Example:
        >>> model = build(config("lru", in_channels=3, hidden=8, state=8), key=jax.random.key(0))
        >>> state = eqx.nn.State(model)
    """
    if not isinstance(config, ModelConfig):
        raise ConfigError(
            f"build() needs a config from models.config(); got {type(config).__name__}"
        )
    entry = _entry(config.name)
    keys = jax.random.split(key, config.blocks + 1)
    layers = [entry.layer.from_config(config, key=k) for k in keys[1:]]
    return Backbone(config, layers, key=keys[0])


def apply(
    model: Backbone,
    state: eqx.nn.State,
    x: Float[Array, "batch length channels"],
    mask: Bool[Array, "batch length"],
    *,
    key: PRNGKeyArray | None = None,
    inference: bool = False,
) -> tuple[Float[Array, "batch outputs"] | Float[Array, "batch length outputs"], eqx.nn.State]:
    """Run the model on a padded batch.

    Args:
        model: from `build`.
        state: batch-norm running statistics (`eqx.nn.State(model)` at first).
        x: inputs (batch, length, channels); padded steps may hold anything.
        mask: True at real steps. Padding (False) at the end of a sequence never changes the
            output.
        key: dropout key; may be None when `inference=True` (or dropout is 0).
        inference: use running statistics and no dropout.

    Returns:
        (out, state): logits (batch, classes) for classification, per-step outputs
        (batch, length, outputs) for regression; the updated state.
    """
    return model(x, mask, state, key=key, inference=inference)
