"""Causal convolution by FFT, shared by the convolutional SSMs (S4, S4D, HOPE)."""

import jax.numpy as jnp
from jaxtyping import Array, Float

__all__ = ["causal_conv"]


def causal_conv(
    u: Float[Array, "length hidden"], k: Float[Array, "length hidden"]
) -> Float[Array, "length hidden"]:
    """y_t = sum_{s <= t} k_{t-s} u_s per channel, via FFTs of size 2L (zero padding turns the
    FFT's circular convolution into a linear, causal one; Gu et al. 2021, Sec. 3.3)."""
    n = 2 * u.shape[0]
    y = jnp.fft.irfft(jnp.fft.rfft(u, n=n, axis=0) * jnp.fft.rfft(k, n=n, axis=0), n=n, axis=0)
    return y[: u.shape[0]].astype(u.dtype)
