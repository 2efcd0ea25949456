"""LRU: linear recurrent unit (Orvieto et al., "Resurrecting Recurrent Neural Networks for
Long Sequences", ICML 2023)."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float, PRNGKeyArray

from ssmtune.models._config import LRUConfig
from ssmtune.models._layer import AbstractSSMLayer
from ssmtune.models._scan import diagonal_scan

__all__ = ["LRULayer", "lru_lambda", "lru_ring_init"]


def lru_lambda(
    nu_log: Float[Array, " state"], theta_log: Float[Array, " state"]
) -> Complex[Array, " state"]:
    """lambda = exp(-exp(nu_log) + i exp(theta_log)) (Orvieto et al. 2023, Sec. 3.3): the
    exponential parameterisation keeps |lambda| = exp(-exp(nu_log)) < 1 for any nu_log."""
    return jnp.exp(jax.lax.complex(-jnp.exp(nu_log), jnp.exp(theta_log)))


def lru_ring_init(
    key: PRNGKeyArray, state: int, *, r_min: float, r_max: float, max_phase: float
) -> tuple[Float[Array, " state"], Float[Array, " state"]]:
    """(nu_log, theta_log) with |lambda| on the ring [r_min, r_max] (uniform in area) and
    phase U[0, max_phase] (Orvieto et al. 2023, Lemma 3.2)."""
    k1, k2 = jax.random.split(key)
    u1 = jax.random.uniform(k1, (state,))
    u2 = jax.random.uniform(k2, (state,), minval=1e-6)
    nu_log = jnp.log(-0.5 * jnp.log(u1 * (r_max**2 - r_min**2) + r_min**2))
    theta_log = jnp.log(max_phase * u2)
    return nu_log, theta_log


class LRULayer(AbstractSSMLayer):
    """x_k = lambda * x_{k-1} + gamma * (B u_k),  y_k = Re(C x_k) + D * u_k, with the
    normalisation gamma = exp(gamma_log) (Orvieto et al. 2023, eq. (7)).

    gamma_log is a trained parameter of its own, initialised to log sqrt(1 - |lambda|^2), as in
    the paper's App. A and the benchmark's LRU (Benjamin-Walker/log-neural-cdes, models/LRU.py):
    gamma is NOT recomputed from lambda, so the gradient of nu_log has no path through gamma.
    B_re, B_im ~ N(0, 1/(2H)); C_re, C_im ~ N(0, 1/P) (so E|C|^2 = 2/P, again as the official
    code); D ~ N(0, 1).
    """

    nu_log: Float[Array, " state"]
    theta_log: Float[Array, " state"]
    gamma_log: Float[Array, " state"]
    b: Complex[Array, "state hidden"]
    c: Complex[Array, "hidden state"]
    d: Float[Array, " hidden"]
    scan: str = eqx.field(static=True)

    def __init__(
        self,
        hidden: int,
        state: int,
        *,
        r_min: float,
        r_max: float,
        max_phase: float,
        scan: str,
        key: PRNGKeyArray,
    ):
        kl, kb1, kb2, kc1, kc2, kd = jax.random.split(key, 6)
        self.nu_log, self.theta_log = lru_ring_init(
            kl, state, r_min=r_min, r_max=r_max, max_phase=max_phase
        )
        lam = lru_lambda(self.nu_log, self.theta_log)
        self.gamma_log = jnp.log(jnp.sqrt(1.0 - jnp.abs(lam) ** 2))
        sb, sc = 1.0 / math.sqrt(2 * hidden), 1.0 / math.sqrt(state)
        self.b = jax.lax.complex(
            sb * jax.random.normal(kb1, (state, hidden)),
            sb * jax.random.normal(kb2, (state, hidden)),
        )
        self.c = jax.lax.complex(
            sc * jax.random.normal(kc1, (hidden, state)),
            sc * jax.random.normal(kc2, (hidden, state)),
        )
        self.d = jax.random.normal(kd, (hidden,))
        self.scan = scan

    @classmethod
    def from_config(cls, config: LRUConfig, *, key: PRNGKeyArray) -> "LRULayer":
        """The layer of `config` (`models.LRUConfig`)."""
        return cls(
            config.hidden,
            config.state,
            r_min=config.r_min,
            r_max=config.r_max,
            max_phase=config.max_phase,
            scan=config.scan,
            key=key,
        )

    def __call__(self, u: Float[Array, "length hidden"]) -> Float[Array, "length hidden"]:
        lam = lru_lambda(self.nu_log, self.theta_log)
        gamma = jnp.exp(self.gamma_log)
        # real GEMMs and a real recurrence: u is real, Re(C x) = Re(C) Re(x) - Im(C) Im(x)
        # gamma scales B's rows (P x H), not B u (L x P): no length-sized residual for gamma
        b = gamma[:, None] * self.b
        xr, xi = diagonal_scan(lam, u @ b.real.T, u @ b.imag.T, mode=self.scan)
        return xr @ self.c.real.T - xi @ self.c.imag.T + self.d * u
