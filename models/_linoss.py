"""LinOSS: oscillatory state-space layer (Rusch & Rus, "Oscillatory State-Space Models",
ICLR 2025), with the parameterisation of the official JAX code (tk-rusch/linoss).

Per oscillator p (P of them) the second-order ODE x'' = -A x + B u is discretised with a step
Delta t into a 2x2 recurrence on (z, x), z the velocity-like and x the position half.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float, PRNGKeyArray

from ssmtune.models._config import LinOSSConfig
from ssmtune.models._layer import AbstractSSMLayer
from ssmtune.models._scan import oscillator_scan

__all__ = [
    "LinOSSLayer",
    "im_transition",
    "imex_transition",
    "im_forcing",
    "imex_forcing",
    "transition_eigenvalues",
    "oscillator_output",
    "stacked_input",
]

Transition = tuple[
    Float[Array, " state"], Float[Array, " state"], Float[Array, " state"], Float[Array, " state"]
]


def im_transition(a: Float[Array, " state"], dt: Float[Array, " state"]) -> Transition:
    """LinOSS-IM (implicit) transition, Rusch & Rus 2025, eq. (4):

        S = 1 / (1 + dt^2 A),   M = [[1 - dt^2 A S, -dt A S], [dt S, S]].

    Its eigenvalues satisfy |lambda| = 1 / sqrt(1 + dt^2 A) (Prop. 3.1): dissipative.

    Returns:
        (m11, m12, m21, m22), each of shape (state,).
    """
    s = 1.0 / (1.0 + dt**2 * a)
    return 1.0 - dt**2 * a * s, -dt * a * s, dt * s, s


def imex_transition(a: Float[Array, " state"], dt: Float[Array, " state"]) -> Transition:
    """LinOSS-IMEX (symplectic implicit-explicit) transition, Rusch & Rus 2025, eq. (6):

        M = [[1, -dt A], [dt, 1 - dt^2 A]],

    det M = 1, so |lambda| = 1 wherever dt^2 A <= 4 (Prop. 3.3): energy conserving.
    """
    one = jnp.ones_like(a)
    return one, -dt * a, dt, 1.0 - dt**2 * a


def im_forcing(
    transition: Transition, dt: Float[Array, " state"]
) -> tuple[Float[Array, " state"], Float[Array, " state"]]:
    """LinOSS-IM forcing F_k = M [dt (B u_k); 0] = [m11 dt; m21 dt] (B u_k) (eq. (4)),
    returned as the weights (g1, g2) of F_k = [g1; g2] (B u_k)."""
    m11, _, m21, _ = transition
    return m11 * dt, m21 * dt


def imex_forcing(
    dt: Float[Array, " state"],
) -> tuple[Float[Array, " state"], Float[Array, " state"]]:
    """LinOSS-IMEX forcing F_k = [dt (B u_k); dt^2 (B u_k)] (eq. (6)), as weights (g1, g2)."""
    return dt, dt**2


def transition_eigenvalues(transition: Transition) -> Complex[Array, "2 state"]:
    """The two eigenvalues of each oscillator's 2x2 block, (tr +- sqrt(tr^2 - 4 det)) / 2."""
    m11, m12, m21, m22 = (jnp.asarray(m, jnp.complex64) for m in transition)
    tr, det = m11 + m22, m11 * m22 - m12 * m21
    root = jnp.sqrt(tr**2 - 4 * det)
    return jnp.stack([(tr + root) / 2, (tr - root) / 2])


def stacked_input(
    b: Complex[Array, "state hidden"], u: Float[Array, "length hidden"]
) -> Float[Array, "length state2"]:
    """B u_k for all k as real and imaginary parts stacked along the state axis, (L, 2P).

    u is real, so two real matrix products replace one complex one (about 4x less work and
    a fast real GEMM on every backend, forward and backward).
    """
    return u @ jnp.concatenate([b.real, b.imag]).T


def stack(v: Float[Array, " state"]) -> Float[Array, " state2"]:
    """A per-oscillator vector repeated for the real and imaginary halves of the state."""
    return jnp.concatenate([v, v])


def oscillator_output(
    transition: tuple[Float[Array, " state2"], ...],
    forcing: tuple[Float[Array, " state2"], Float[Array, " state2"]],
    c: Complex[Array, "hidden state"],
    d: Float[Array, " hidden"],
    u: Float[Array, "length hidden"],
    b: Complex[Array, "state hidden"],
    *,
    mode: str,
) -> Float[Array, "length hidden"]:
    """y_k = Re(C x_k) + D * u_k with x_k the position half of the oscillator state.

    M and the forcing weights are real, so the real and imaginary parts of B u evolve
    independently: `transition` and `forcing` come repeated for [real; imaginary] along the
    state axis (width 2P), and the scan is a real recurrence (no complex arithmetic per step).
    """
    (m11, m12, m21, m22), (g1, g2) = transition, forcing
    x = oscillator_scan(m11, m12, m21, m22, g1, g2, stacked_input(b, u), mode=mode)
    # Re(C x) = Re(C) Re(x) - Im(C) Im(x)
    y = x @ jnp.concatenate([c.real, -c.imag], axis=1).T
    return y + d * u


def complex_uniform(key: PRNGKeyArray, shape: tuple[int, ...], bound: float) -> Array:
    """Complex array with real and imaginary parts uniform in [-bound, bound]."""
    kr, ki = jax.random.split(key)
    re = jax.random.uniform(kr, shape, minval=-bound, maxval=bound)
    im = jax.random.uniform(ki, shape, minval=-bound, maxval=bound)
    return jax.lax.complex(re, im)


class LinOSSLayer(AbstractSSMLayer):
    """LinOSS-IM or LinOSS-IMEX layer (Rusch & Rus, ICLR 2025).

    Parameters (as the official code): A = ReLU(A_hat) >= 0 and dt = sigmoid(steps), with
    A_hat, steps ~ U[0, 1]; B in C^{PxH}, C in C^{HxP} with real and imaginary parts
    U[-1/sqrt(H), 1/sqrt(H)] and U[-1/sqrt(P), 1/sqrt(P)]; D ~ N(0, 1).
    """

    a_hat: Float[Array, " state"]
    steps: Float[Array, " state"]
    b: Complex[Array, "state hidden"]
    c: Complex[Array, "hidden state"]
    d: Float[Array, " hidden"]
    discretization: str = eqx.field(static=True)
    scan: str = eqx.field(static=True)

    def __init__(
        self, hidden: int, state: int, *, discretization: str, scan: str, key: PRNGKeyArray
    ):
        ka, ks, kb, kc, kd = jax.random.split(key, 5)
        self.a_hat = jax.random.uniform(ka, (state,))
        self.steps = jax.random.uniform(ks, (state,))
        self.b = complex_uniform(kb, (state, hidden), 1.0 / math.sqrt(hidden))
        self.c = complex_uniform(kc, (hidden, state), 1.0 / math.sqrt(state))
        self.d = jax.random.normal(kd, (hidden,))
        self.discretization = discretization
        self.scan = scan

    @classmethod
    def from_config(cls, config: LinOSSConfig, *, key: PRNGKeyArray) -> "LinOSSLayer":
        """The layer of `config` (`models.LinOSSConfig`)."""
        return cls(
            config.hidden,
            config.state,
            discretization=config.discretization,
            scan=config.scan,
            key=key,
        )

    def transition(self) -> Transition:
        """The 2x2 blocks M of the discretised system (after ReLU / sigmoid)."""
        a, dt = jax.nn.relu(self.a_hat), jax.nn.sigmoid(self.steps)
        if self.discretization == "IM":
            return im_transition(a, dt)
        return imex_transition(a, dt)

    def __call__(self, u: Float[Array, "length hidden"]) -> Float[Array, "length hidden"]:
        dt = stack(jax.nn.sigmoid(self.steps))
        m11, m12, m21, m22 = (stack(v) for v in self.transition())
        m = (m11, m12, m21, m22)
        forcing = im_forcing(m, dt) if self.discretization == "IM" else imex_forcing(dt)
        return oscillator_output(m, forcing, self.c, self.d, u, self.b, mode=self.scan)
