"""Causal convolution by FFT and the step-size initialisation, shared by the convolutional SSMs
(S4, S4D, HOPE)."""

import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

__all__ = ["causal_conv", "init_log_dt"]


def causal_conv(
    u: Float[Array, "length hidden"], k: Float[Array, "length hidden"]
) -> Float[Array, "length hidden"]:
    """y_t = sum_{s <= t} k_{t-s} u_s per channel, via FFTs of size 2L (zero padding turns the
    FFT's circular convolution into a linear, causal one; Gu et al. 2021, Sec. 3.3)."""
    n = 2 * u.shape[0]
    y = jnp.fft.irfft(jnp.fft.rfft(u, n=n, axis=0) * jnp.fft.rfft(k, n=n, axis=0), n=n, axis=0)
    return y[: u.shape[0]].astype(u.dtype)


def init_log_dt(
    key: PRNGKeyArray, hidden: int, *, dt_min: float, dt_max: float
) -> Float[Array, " hidden"]:
    """log Delta per channel, uniform in [log dt_min, log dt_max] (Delta log-uniform).

    The step initialisation of the S4 family: state-spaces/s4, ``models/s4/s4d.py`` and
    ``models/s4/s4.py`` (``log_dt = rand(H) * (log(dt_max) - log(dt_min)) + log(dt_min)``;
    Gu et al. 2022, "On the Parameterization and Initialization of Diagonal State Space
    Models", Sec. 4), which HOPE keeps (AnnanYu/HOPE-SSM, ``models/s4/HOPE_SSM.py``).

    Args:
        key: the draw's key.
        hidden: channels H, one step each.
        dt_min: the smallest step.
        dt_max: the largest step.

    Returns:
        log Delta, shape (hidden,).

    Example:
        >>> log_dt = init_log_dt(jax.random.key(0), 4, dt_min=1e-3, dt_max=1e-1)
        >>> bool(((log_dt >= math.log(1e-3)) & (log_dt <= math.log(1e-1))).all())
        True
    """
    return jax.random.uniform(key, (hidden,), minval=math.log(dt_min), maxval=math.log(dt_max))
