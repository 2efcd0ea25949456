"""The abstract SSM layer: what every model's recurrence or kernel must provide.

Each model is one final `eqx.Module` subclass in its own file; the residual block, norm,
encoder and head around it are shared (`models/_backbone.py`).
"""

import abc

import equinox as eqx
from jaxtyping import Array, Float

__all__ = ["SSMLayer"]


class SSMLayer(eqx.Module):
    """A sequence-to-sequence map (length, hidden) -> (length, hidden) for ONE sequence.

    Layers are causal: output k depends on inputs 0..k only, so trailing padding never
    changes the outputs at real steps (the backbone relies on this for masked batches).

    A layer may name fields the optimiser must leave alone in a `frozen_params` attribute
    (a tuple of field names, e.g. HOPE's log Delta; see `models._train.ssm_labels`).
    """

    @abc.abstractmethod
    def __call__(self, u: Float[Array, "length hidden"]) -> Float[Array, "length hidden"]:
        raise NotImplementedError
