"""The abstract SSM layer: what every model's recurrence or kernel must provide.

Each model is one final `eqx.Module` subclass in its own file, built from its config by
`from_config`; the residual block, norm, encoder and head around it are shared
(`models/_backbone.py`). Layers follow equinox's abstract/final pattern: this class is abstract
(it declares the contract and is never instantiated), each layer is final (never subclassed)
and defines its fields and `__init__` in one place.
"""

import abc
from typing import Any

import equinox as eqx
from jaxtyping import Array, Float, PRNGKeyArray

__all__ = ["AbstractSSMLayer"]


class AbstractSSMLayer(eqx.Module):
    """A sequence-to-sequence map (length, hidden) -> (length, hidden) for ONE sequence.

    Layers are causal: output k depends on inputs 0..k only, so trailing padding never
    changes the outputs at real steps (the backbone relies on this for masked batches;
    `tests/models/test_contract.py` checks it for every registered layer).

    A layer may name fields the optimiser must leave alone in a `frozen_params` attribute
    (a tuple of field names, e.g. HOPE's log Delta; see `models.ssm_labels`).
    """

    @classmethod
    @abc.abstractmethod
    def from_config(cls, config: Any, *, key: PRNGKeyArray) -> "AbstractSSMLayer":
        """The layer of `config` (its `hidden`, `state` and model fields), initialised from
        `key`. `config` is the layer's own `ModelConfig` subclass (typed as such by each layer,
        so the contract here says Any: a narrower argument would not be a valid override)."""
        raise NotImplementedError

    @abc.abstractmethod
    def __call__(self, u: Float[Array, "length hidden"]) -> Float[Array, "length hidden"]:
        raise NotImplementedError
