"""The one backbone shared by every SSM layer.

    linear encoder -> N x [norm -> SSM layer -> GELU -> dropout -> GLU -> dropout -> + skip]
    -> head (classification: masked mean over time, then linear; regression: per-step linear)

as in the official LinOSS code (tk-rusch/linoss, models/LinOSS.py), with one implementation of
the residual block instead of one copy per model. Batches are explicit (batch, length, ...)
arrays with a mask (True = real step); every statistic over time (batch-norm statistics, the
mean of the classification head) is taken over real steps only, and padded steps are zeroed
after each block, so padding a sequence at its end never changes the result: the SSM layers
are causal.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from ssmtune.models._config import ModelConfig
from ssmtune.models._layer import AbstractSSMLayer

__all__ = ["Backbone", "Block", "MaskedBatchNorm", "MaskedLayerNorm"]


def _linear(lin: eqx.nn.Linear, x: Array) -> Array:
    """An `eqx.nn.Linear` applied over all leading axes of x."""
    y = x @ lin.weight.T
    return y if lin.bias is None else y + lin.bias


def _dropout(x: Array, rate: float, key: PRNGKeyArray | None, inference: bool) -> Array:
    if inference or rate == 0.0:
        return x
    if key is None:
        raise ValueError(
            "models.apply: a PRNG key is required when inference=False and dropout > 0"
        )
    return jnp.where(_keep_mask(key, rate, x.shape), x / (1.0 - rate), 0.0)


def _keep_mask(key: PRNGKeyArray, rate: float, shape: tuple[int, ...]) -> Array:
    """Dropout's keep mask: True with probability 1 - rate, rate rounded to a multiple of
    2^-16. Each 32-bit random word gives two 16-bit draws, which halves the random number
    generation (threefry), a large share of a training step on a CPU: 10 ns per word, about
    a third of the step of a 2-block, hidden-64 D-LinOSS on BasicMotions with 32-bit draws.
    """
    n = math.prod(shape)
    words = jax.random.bits(key, ((n + 1) // 2,), jnp.uint32)
    draws = jnp.concatenate([words & 0xFFFF, words >> 16])[:n].reshape(shape)
    return draws >= jnp.uint32(round(rate * 65536))


class MaskedBatchNorm(eqx.Module):
    """Batch norm over batch and time, per channel, without affine parameters (as the official
    LinOSS code: `eqx.nn.BatchNorm(channelwise_affine=False)`), with statistics over the real
    (mask = True) steps only.

    Training uses the batch statistics and updates running statistics (EMA with `momentum`,
    initialised from the first batch); inference uses the running statistics.
    """

    index: eqx.nn.StateIndex
    momentum: float = eqx.field(static=True)
    eps: float = eqx.field(static=True)

    def __init__(self, hidden: int, *, momentum: float = 0.99, eps: float = 1e-5):
        self.index = eqx.nn.StateIndex((jnp.zeros(hidden), jnp.ones(hidden), jnp.array(False)))
        self.momentum = momentum
        self.eps = eps

    def __call__(
        self,
        x: Float[Array, "batch length hidden"],
        mask: Bool[Array, "batch length"],
        state: eqx.nn.State,
        *,
        inference: bool,
    ) -> tuple[Float[Array, "batch length hidden"], eqx.nn.State]:
        running_mean, running_var, started = state.get(self.index)
        if inference:
            mean, var = running_mean, running_var
        else:
            w = mask[..., None].astype(x.dtype)
            n = jnp.maximum(w.sum(), 1.0)
            mean = (x * w).sum((0, 1)) / n
            var = (jnp.square(x - mean) * w).sum((0, 1)) / n
            m = self.momentum
            new_mean = jnp.where(started, m * running_mean + (1 - m) * mean, mean)
            new_var = jnp.where(started, m * running_var + (1 - m) * var, var)
            state = state.set(
                self.index,
                (jax.lax.stop_gradient(new_mean), jax.lax.stop_gradient(new_var), jnp.array(True)),
            )
        return (x - mean) * jax.lax.rsqrt(var + self.eps), state


class MaskedLayerNorm(eqx.Module):
    """Layer norm over channels at each step, with a learned scale and shift (stateless)."""

    weight: Float[Array, " hidden"]
    bias: Float[Array, " hidden"]
    eps: float = eqx.field(static=True)

    def __init__(self, hidden: int, *, eps: float = 1e-5):
        self.weight = jnp.ones(hidden)
        self.bias = jnp.zeros(hidden)
        self.eps = eps

    def __call__(
        self,
        x: Float[Array, "batch length hidden"],
        mask: Bool[Array, "batch length"],
        state: eqx.nn.State,
        *,
        inference: bool,
    ) -> tuple[Float[Array, "batch length hidden"], eqx.nn.State]:
        del mask, inference
        mean = x.mean(-1, keepdims=True)
        var = jnp.square(x - mean).mean(-1, keepdims=True)
        return (x - mean) * jax.lax.rsqrt(var + self.eps) * self.weight + self.bias, state


class Block(eqx.Module):
    """norm -> SSM layer -> GELU -> dropout -> GLU -> dropout -> residual."""

    norm: MaskedBatchNorm | MaskedLayerNorm
    layer: AbstractSSMLayer
    glu: eqx.nn.Linear
    dropout: float = eqx.field(static=True)

    def __init__(self, config: ModelConfig, layer: AbstractSSMLayer, *, key: PRNGKeyArray):
        h = config.hidden
        self.norm = MaskedBatchNorm(h) if config.norm == "batch" else MaskedLayerNorm(h)
        self.layer = layer
        self.glu = eqx.nn.Linear(h, 2 * h, key=key)
        self.dropout = config.dropout

    def __call__(
        self,
        x: Float[Array, "batch length hidden"],
        mask: Bool[Array, "batch length"],
        state: eqx.nn.State,
        *,
        key: PRNGKeyArray | None,
        inference: bool,
    ) -> tuple[Float[Array, "batch length hidden"], eqx.nn.State]:
        k1, k2 = (None, None) if key is None else jax.random.split(key)
        skip = x
        x, state = self.norm(x, mask, state, inference=inference)
        x = jax.vmap(self.layer)(x)
        x = _dropout(jax.nn.gelu(x), self.dropout, k1, inference)
        a, b = jnp.split(_linear(self.glu, x), 2, axis=-1)
        x = _dropout(a * jax.nn.sigmoid(b), self.dropout, k2, inference)
        return jnp.where(mask[..., None], skip + x, 0.0), state


class Backbone(eqx.Module):
    """Encoder, residual blocks and head around one kind of SSM layer (see module docstring)."""

    encoder: eqx.nn.Linear
    blocks: tuple[Block, ...]
    head: eqx.nn.Linear
    head_kind: str = eqx.field(static=True)

    def __init__(self, config: ModelConfig, layers: list[AbstractSSMLayer], *, key: PRNGKeyArray):
        ke, kh, *kb = jax.random.split(key, 2 + len(layers))
        self.encoder = eqx.nn.Linear(config.in_channels, config.hidden, key=ke)
        self.blocks = tuple(
            Block(config, layer, key=k) for layer, k in zip(layers, kb, strict=True)
        )
        self.head = eqx.nn.Linear(config.hidden, config.out_dim, key=kh)
        self.head_kind = config.head

    def __call__(
        self,
        x: Float[Array, "batch length channels"],
        mask: Bool[Array, "batch length"],
        state: eqx.nn.State,
        *,
        key: PRNGKeyArray | None,
        inference: bool,
    ) -> tuple[Float[Array, "batch length outputs"] | Float[Array, "batch outputs"], eqx.nn.State]:
        keys = [None] * len(self.blocks) if key is None else jax.random.split(key, len(self.blocks))
        w = mask[..., None]
        x = jnp.where(w, _linear(self.encoder, jnp.where(w, x, 0.0)), 0.0)
        for block, k in zip(self.blocks, keys, strict=True):
            x, state = block(x, mask, state, key=k, inference=inference)
        if self.head_kind == "classification":
            n = jnp.maximum(mask.sum(1, keepdims=True), 1).astype(x.dtype)
            return _linear(self.head, x.sum(1) / n), state
        return _linear(self.head, x), state
