"""The one registry: model name -> (config class, layer constructor).

Adding a model = one config class, one layer file, one entry here; the contract tests in
`tests/models/` iterate over `names()` and test the new entry automatically.
"""

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from models._backbone import Backbone
from models._config import (
    DLinOSSConfig,
    HOPEConfig,
    LinOSSConfig,
    LRUConfig,
    ModelConfig,
    S4Config,
    S4DConfig,
)
from models._errors import ConfigError
from models._layer import SSMLayer

__all__ = ["names", "config", "build", "apply", "field_names", "layer", "config_class"]


def _linoss(c: LinOSSConfig, key: PRNGKeyArray) -> SSMLayer:
    from models._linoss import LinOSSLayer

    return LinOSSLayer(c.hidden, c.state, discretization=c.discretization, scan=c.scan, key=key)


def _dlinoss(c: DLinOSSConfig, key: PRNGKeyArray) -> SSMLayer:
    from models._dlinoss import DLinOSSLayer

    return DLinOSSLayer(
        c.hidden,
        c.state,
        r_min=c.r_min,
        r_max=c.r_max,
        theta_min=c.theta_min,
        theta_max=c.theta_max,
        scan=c.scan,
        key=key,
    )


def _s4(c: S4Config, key: PRNGKeyArray) -> SSMLayer:
    from models._s4 import S4Layer

    return S4Layer(c.hidden, c.state, dt_min=c.dt_min, dt_max=c.dt_max, init=c.init, key=key)


def _s4d(c: S4DConfig, key: PRNGKeyArray) -> SSMLayer:
    from models._s4d import S4DLayer

    return S4DLayer(c.hidden, c.state, dt_min=c.dt_min, dt_max=c.dt_max, init=c.init, key=key)


def _hope(c: HOPEConfig, key: PRNGKeyArray) -> SSMLayer:
    from models._hope import HOPELayer

    return HOPELayer(
        c.hidden, c.state, dt_min=c.dt_min, dt_max=c.dt_max, train_dt=c.train_dt, key=key
    )


def _lru(c: LRUConfig, key: PRNGKeyArray) -> SSMLayer:
    from models._lru import LRULayer

    return LRULayer(
        c.hidden,
        c.state,
        r_min=c.r_min,
        r_max=c.r_max,
        max_phase=c.max_phase,
        scan=c.scan,
        key=key,
    )


class _Entry(NamedTuple):
    config: type[ModelConfig]
    layer: Callable[[ModelConfig, PRNGKeyArray], SSMLayer]


_REGISTRY: dict[str, _Entry] = {
    "linoss": _Entry(LinOSSConfig, _linoss),
    "d-linoss": _Entry(DLinOSSConfig, _dlinoss),
    "s4": _Entry(S4Config, _s4),
    "s4d": _Entry(S4DConfig, _s4d),
    "hope": _Entry(HOPEConfig, _hope),
    "lru": _Entry(LRUConfig, _lru),
}


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
    cls = config_class(name)
    valid = field_names(name)
    unknown = sorted(set(fields) - set(valid))
    if unknown:
        raise ConfigError(
            f"{cls.name}: unknown config field(s) {', '.join(unknown)}; valid fields: {', '.join(valid)}"
        )
    return cls(**fields)


def layer(config: ModelConfig, *, key: PRNGKeyArray) -> SSMLayer:
    """One SSM layer of `config` alone (no backbone), mapping (length, hidden) -> same."""
    return _entry(config.name).layer(config, key)


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
    layers = [entry.layer(config, k) for k in keys[1:]]
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
