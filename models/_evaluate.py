"""Evaluation: the metric of a (vmapped) model over a slice of one device-resident pool that
holds validation and test, in fixed-size batches, so it compiles once per task."""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ssmtune.models._compile import TRACES
from ssmtune.models._initialise import SplitModel
from ssmtune.models._registry import apply

__all__ = ["make_eval", "evaluate"]


def make_eval(m: SplitModel, kind: str) -> Callable[..., Any]:
    """Metric sums over one fixed-size batch drawn (by index) from a device-resident pool:
    (correct, cases) for classification, (squared error, target values) for regression."""
    static = m.static

    def evaluate(params, bn_state, pool, idx, valid):  # noqa: ANN001
        TRACES["eval"] += 1
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


def evaluate(
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
