"""HOPE: Hankel-operator state-space layer (Yu, Mahoney & Erichson, "There is HOPE to Avoid
HiPPOs for Long-memory State Space Models", 2024), written from the paper's equations.

There is no A, B, C: each channel learns its Markov (Hankel) coefficients h_1..h_n directly,
with n = state // 2, i.e. the transfer function G(z) = sum_{k=1}^{n} h_k z^{-k}, and the
convolution kernel is defined in frequency space by sampling G at Moebius-mapped points of the
unit circle (which stretches the n coefficients into a long, decaying impulse response).
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float, PRNGKeyArray

from ssmtune.models._config import HOPEConfig
from ssmtune.models._conv import causal_conv, init_log_dt
from ssmtune.models._layer import AbstractSSMLayer

__all__ = ["HOPELayer", "mobius_points", "transfer_function", "hope_kernel"]


def mobius_points(delta: Float[Array, ""], length: int) -> Complex[Array, " length"]:
    """z_j = ((1 + D) w_j + D - 1) / ((D - 1) w_j + D + 1), w_j = e^{2 pi i j / L}
    (Yu et al. 2024, Sec. 3): a Moebius map of the unit circle onto itself; D = 1 gives the
    roots of unity z_j = w_j."""
    # With w = e^{i phi}: 1 + w = 2 cos(phi/2) e^{i phi/2}, 1 - w = -2i sin(phi/2) e^{i phi/2},
    # so z = q / conj(q) = e^{2i arg q}, q = D cos(phi/2) + i sin(phi/2): exactly on the unit
    # circle and free of the cancellation in (1 + D) w + D - 1 for small D.
    half = jnp.pi * jnp.arange(length) / length
    return jnp.exp(2j * jnp.arctan2(jnp.sin(half), delta * jnp.cos(half))).astype(jnp.complex64)


def transfer_function(
    h: Complex[Array, " n"], z: Complex[Array, " length"]
) -> Complex[Array, " length"]:
    """G(z) = sum_{k=1}^{n} h_k z^{-k} (the Hankel/Markov-parameter form, Yu et al. 2024)."""
    powers = jnp.cumprod(jnp.broadcast_to(1.0 / z, (h.shape[0], z.shape[0])), axis=0)
    return h @ powers


def hope_kernel(
    h: Complex[Array, " n"], delta: Float[Array, ""], length: int
) -> Float[Array, " length"]:
    """Time-domain kernel of one channel: k = Re IFFT_L(G(z_j)), j = 0..L-1.

    With delta = 1 the points are the roots of unity and k = (0, Re h_1, ..., Re h_n, 0, ...)
    exactly, provided n < L. For delta != 1 the mapped system has an infinite, geometrically
    decaying impulse response (rate |(1 - delta)/(1 + delta)|); sampling at L points aliases
    its tail beyond L, as in the paper.
    """
    k_hat = transfer_function(h, mobius_points(delta, length))
    # k_hat_j is sampled at w_j = e^{+2 pi i j/L}; sum_t k_t w_j^{-t} = FFT(k)_j.
    return jnp.real(jnp.fft.ifft(k_hat))


class HOPELayer(AbstractSSMLayer):
    """y = causal_conv(u, k) + D u per channel, k from `hope_kernel`.

    Initialisation and training follow the official code (AnnanYu/HOPE-SSM,
    models/s4/HOPE_SSM.py and run_cifar.py): h ~ CN(0, 1) / sqrt(N) / 2 (N = state, so
    E|h_k|^2 = 1/(4N)); Delta log-uniform in [dt_min, dt_max] per channel and, by default,
    frozen: the official scripts' `--lr_dt` defaults to 0.0, which registers log Delta as a
    buffer. `train_dt=True` trains log Delta like the other SSM parameters instead. A frozen
    log Delta gets no gradient (`stop_gradient`) and is labelled "frozen" for the optimiser
    (`frozen_params`), so weight decay does not move it either. D ~ N(0, 1).

    Deliberate difference from the official layer: the official HOPE layer is bidirectional
    (2H kernels, the second half flipped in time) and applies the kernel as a circular
    convolution, IFFT(FFT(u) K_hat) at size L, so every output sees the whole sequence, the
    future included. Here the layer is causal and one-directional (H kernels; linear
    convolution with FFT size 2L), which sequence classification with padded batches and
    per-step regression need: trailing padding must not change the outputs at real steps.
    """

    h: Complex[Array, "hidden n"]
    log_dt: Float[Array, " hidden"]
    d: Float[Array, " hidden"]
    frozen_params: tuple[str, ...] = eqx.field(static=True)

    def __init__(
        self,
        hidden: int,
        state: int,
        *,
        dt_min: float,
        dt_max: float,
        train_dt: bool = False,
        key: PRNGKeyArray,
    ):
        kh, kdt, kd = jax.random.split(key, 3)
        scale = 1.0 / math.sqrt(state) / 2.0
        self.h = scale * jax.random.normal(kh, (hidden, state // 2), jnp.complex64)
        self.log_dt = init_log_dt(kdt, hidden, dt_min=dt_min, dt_max=dt_max)
        self.d = jax.random.normal(kd, (hidden,))
        self.frozen_params = () if train_dt else ("log_dt",)

    @classmethod
    def from_config(cls, config: HOPEConfig, *, key: PRNGKeyArray) -> "HOPELayer":
        """The layer of `config` (`models.HOPEConfig`)."""
        return cls(
            config.hidden,
            config.state,
            dt_min=config.dt_min,
            dt_max=config.dt_max,
            train_dt=config.train_dt,
            key=key,
        )

    def kernel(self, length: int) -> Float[Array, "length hidden"]:
        log_dt = self.log_dt
        if "log_dt" in self.frozen_params:
            log_dt = jax.lax.stop_gradient(log_dt)
        k = jax.vmap(hope_kernel, in_axes=(0, 0, None))(self.h, jnp.exp(log_dt), length)
        return k.T

    def __call__(self, u: Float[Array, "length hidden"]) -> Float[Array, "length hidden"]:
        return causal_conv(u, self.kernel(u.shape[0])) + self.d * u
