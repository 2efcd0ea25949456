"""The training step: the loss and `eval_every` optimiser steps in one compiled `lax.scan`
(one dispatch per chunk; the host loop is `models/_loop.py`)."""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from ssmtune.models._compile import TRACES
from ssmtune.models._initialise import SplitModel
from ssmtune.models._optimizer import descent_gradients, lr_factor, transform
from ssmtune.models._registry import apply

__all__ = ["make_train_chunk"]


def _loss(
    params: Any, static: Any, bn_state: Any, batch: Any, key: Any, kind: str
) -> tuple[Any, Any]:
    """The training loss of one batch and the updated batch-norm state: the mean cross-entropy
    through `log_softmax` (classification), or the mean squared error over the target steps
    (regression)."""
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


def make_train_chunk(m: SplitModel, kind: str, steps: int) -> Callable[..., Any]:
    """`steps` training steps in one `lax.scan`; steps whose `active` flag is False are skipped
    (the last chunk of a run whose max_steps is not a multiple of eval_every)."""
    static, labels_flat = m.static, m.labels
    params_def = jax.tree.structure(m.params)

    def chunk(params, opt_state, bn_state, hp, key, step0, idx, active, data):  # noqa: ANN001
        TRACES["train"] += 1
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
                tx = transform(hp, labels, factor)
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
