"""S4D: diagonal state-space layer (Gu, Gupta, Goel & Re, "On the Parameterization and
Initialization of Diagonal State Space Models", NeurIPS 2022)."""

import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float, PRNGKeyArray

from ssmtune.models._config import S4DConfig
from ssmtune.models._conv import causal_conv, init_log_dt
from ssmtune.models._layer import AbstractSSMLayer

__all__ = ["S4DLayer", "s4d_init", "zoh", "s4d_kernel"]


def s4d_init(state: int, init: str) -> Complex[Array, " modes"]:
    """Diagonal A with state // 2 modes (the conjugate halves are implied by 2 Re):

    S4D-Lin: A_n = -1/2 + i pi n
    S4D-Inv: A_n = -1/2 + i (N/pi) (N/(2n+1) - 1)          (Gu et al. 2022, Sec. 4)
    """
    n = jnp.arange(state // 2)
    if init == "lin":
        imag = math.pi * n
    else:
        imag = (state / math.pi) * (state / (2 * n + 1) - 1)
    return jax.lax.complex(jnp.full(n.shape, -0.5), imag.astype(jnp.float32))


def zoh(
    a: Complex[Array, " modes"], b: Complex[Array, " modes"], dt: Float[Array, ""]
) -> tuple[Complex[Array, " modes"], Complex[Array, " modes"]]:
    """Zero-order hold: A_bar = exp(dt A), B_bar = (exp(dt A) - 1) / A * B."""
    a_bar = jnp.exp(dt * a)
    return a_bar, (a_bar - 1.0) / a * b


def s4d_kernel(
    a: Complex[Array, " modes"],
    b: Complex[Array, " modes"],
    c: Complex[Array, " modes"],
    dt: Float[Array, ""],
    length: int,
) -> Float[Array, " length"]:
    """The Vandermonde kernel of one SISO channel (Gu et al. 2022, eq. (5)):

    K_l = 2 Re sum_n C_n B_n (e^{dt A_n} - 1) / A_n * e^{dt A_n l},   l = 0..L-1.
    """
    a_bar, b_bar = zoh(a, b, dt)
    vandermonde = jnp.exp(dt * a[:, None] * jnp.arange(length))
    return 2.0 * jnp.real((c * b_bar) @ vandermonde)


class S4DLayer(AbstractSSMLayer):
    """H independent SISO diagonal SSMs, one per channel, applied by FFT convolution.

    A = -exp(log_a_re) + i a_im (real part kept negative), B = 1, C ~ CN(0, 1), D ~ N(0, 1),
    dt log-uniform in [dt_min, dt_max] per channel.
    """

    log_a_re: Float[Array, "hidden modes"]
    a_im: Float[Array, "hidden modes"]
    b: Complex[Array, "hidden modes"]
    c: Complex[Array, "hidden modes"]
    log_dt: Float[Array, " hidden"]
    d: Float[Array, " hidden"]

    def __init__(
        self, hidden: int, state: int, *, dt_min: float, dt_max: float, init: str, key: PRNGKeyArray
    ):
        kc, kdt, kd = jax.random.split(key, 3)
        a = s4d_init(state, init)
        self.log_a_re = jnp.broadcast_to(jnp.log(-a.real), (hidden, state // 2))
        self.a_im = jnp.broadcast_to(a.imag, (hidden, state // 2))
        self.b = jnp.ones((hidden, state // 2), jnp.complex64)
        self.c = jax.random.normal(kc, (hidden, state // 2), jnp.complex64)
        self.log_dt = init_log_dt(kdt, hidden, dt_min=dt_min, dt_max=dt_max)
        self.d = jax.random.normal(kd, (hidden,))

    @classmethod
    def from_config(cls, config: S4DConfig, *, key: PRNGKeyArray) -> "S4DLayer":
        """The layer of `config` (`models.S4DConfig`)."""
        return cls(
            config.hidden,
            config.state,
            dt_min=config.dt_min,
            dt_max=config.dt_max,
            init=config.init,
            key=key,
        )

    def a(self) -> Complex[Array, "hidden modes"]:
        return jax.lax.complex(-jnp.exp(self.log_a_re), self.a_im)

    def kernel(self, length: int) -> Float[Array, "length hidden"]:
        k = jax.vmap(s4d_kernel, in_axes=(0, 0, 0, 0, None))(
            self.a(), self.b, self.c, jnp.exp(self.log_dt), length
        )
        return k.T

    def __call__(self, u: Float[Array, "length hidden"]) -> Float[Array, "length hidden"]:
        return causal_conv(u, self.kernel(u.shape[0])) + self.d * u
