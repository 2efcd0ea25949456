"""The optimiser: which parameters are "SSM parameters", Adam(W) per parameter group, the
learning-rate schedule and the gradient convention for complex parameters.

Every scalar setting (learning rates, weight decays, warmup, schedule kind, step budget) is a
traced float32 array (`hyperparams`), not a compiled-in constant, so configs that differ only
in these share one executable (`models/_train.py`).
"""

import dataclasses
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ssmtune.models._layer import AbstractSSMLayer
from ssmtune.models._options import TrainOptions

__all__ = [
    "ssm_labels",
    "lr_factor",
    "descent_gradients",
    "optimizer",
    "hyperparams",
    "transform",
]


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


def hyperparams(options: TrainOptions) -> dict[str, np.ndarray]:
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


def transform(hp: dict[str, Any], labels: Any, factor: Any = 1.0) -> optax.GradientTransformation:
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


def optimizer(options: TrainOptions, model: Any) -> optax.GradientTransformation:
    """The optimiser `models.train` gives `model` under `options`, without the schedule (the
    learning-rate factor is 1, as at every step of a constant schedule without warmup).

    Args:
        options: the learning rates, weight decays and optimiser kind.
        model: from `models.build`; its parameters are grouped by `ssm_labels`.

    Returns:
        An optax transformation over `eqx.filter(model, eqx.is_inexact_array)`.

    Example:
        >>> from ssmtune import models
        >>> model = models.build(models.config("lru", hidden=4, state=4), key=jax.random.key(0))
        >>> params = eqx.filter(model, eqx.is_inexact_array)
        >>> state = optimizer(models.TrainOptions(ssm_lr=1e-4), model).init(params)
    """
    return transform(hyperparams(options), ssm_labels(model))
