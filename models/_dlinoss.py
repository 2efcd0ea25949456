"""D-LinOSS: damped oscillatory state-space layer (Boyer, Rusch & Rus, "Learning to Dissipate
Energy in Oscillatory State-Space Models", 2025).

Per oscillator x'' = -A x - G x' + B u, discretised implicitly with step dt. The learned
damping G sets the eigenvalue magnitude |lambda| = 1/sqrt(1 + dt G); A is projected into the
band where the eigenvalues are a complex-conjugate pair.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float, PRNGKeyArray

from ssmtune.models._config import DLinOSSConfig
from ssmtune.models._layer import AbstractSSMLayer
from ssmtune.models._linoss import Transition, complex_uniform, oscillator_output, stack

__all__ = ["DLinOSSLayer", "damped_transition", "damped_forcing", "project_a", "ring_init"]


BAND_MARGIN = 1e-4

#: Standard deviation of the initial step parameter (dt = sigmoid(steps)), as the official code.
STEPS_STD = 0.5


def project_a(
    a: Float[Array, " state"], g: Float[Array, " state"], dt: Float[Array, " state"]
) -> Float[Array, " state"]:
    """Clip A into [A_low, A_high] = (2 + dt G -+ 2 sqrt(1 + dt G)) / dt^2 (Boyer et al. 2025,
    Prop. 3.1), where the eigenvalues of M are a complex pair with |lambda| = 1/sqrt(1 + dt G).

    Written as ((sqrt(S) -+ 1) / dt)^2 with S = 1 + dt G, which avoids the cancellation of
    2 + dt G - 2 sqrt(1 + dt G) for small dt G.

    Deliberate difference from the official code: the official D-LinOSS
    (jaredbmit/damped-linoss, models/LinOSS.py, DampedIMEX1Layer._soft_project_AGdt) clamps A
    to the band's edges; we shrink the band by `BAND_MARGIN` of its width at each end. At an
    edge the eigenvalue is a double real root, and float32 rounding of M splits it into two
    real roots, one of magnitude above 1/sqrt(S): at the upper edge with G = 0 (undamped),
    over 50,000 draws of dt = sigmoid(N(0, 0.5^2)), 38 % of the float32 transitions have
    |lambda| > 1, up to 1.0010, i.e. a growth of 1.0010^20000 ~ 5e8 over a 20,000-step
    sequence (tests/models/test_official.py). Inside the margin the pair is complex and
    |lambda| = 1/sqrt(S) to float32 rounding (the same draws: at most 1 + 2.4e-7). Inside the
    band both agree exactly; they differ only for an A the optimiser pushed outside it.
    """
    root = jnp.sqrt(1.0 + dt * g)
    low, high = ((root - 1.0) / dt) ** 2, ((root + 1.0) / dt) ** 2
    margin = BAND_MARGIN * (high - low)
    return jnp.clip(a, low + margin, high - margin)


def damped_transition(
    a: Float[Array, " state"], g: Float[Array, " state"], dt: Float[Array, " state"]
) -> Transition:
    """D-LinOSS transition (Boyer, Rusch & Rus 2025, eq. (5)):

        S = 1 + dt G,   M = [[1/S, -dt A / S], [dt / S, 1 - dt^2 A / S]],

    det M = 1/S, so a complex pair has |lambda| = 1/sqrt(1 + dt G).
    """
    s = 1.0 + dt * g
    return 1.0 / s, -dt * a / s, dt / s, 1.0 - dt**2 * a / s


def damped_forcing(
    g: Float[Array, " state"], dt: Float[Array, " state"]
) -> tuple[Float[Array, " state"], Float[Array, " state"]]:
    """D-LinOSS forcing F_k = [dt (B u_k) / S; dt^2 (B u_k) / S], S = 1 + dt G, as the weights
    (g1, g2) of F_k = [g1; g2] (B u_k)."""
    s = 1.0 + dt * g
    return dt / s, dt**2 / s


def ring_init(
    r: Float[Array, " state"], theta: Float[Array, " state"], dt: Float[Array, " state"]
) -> tuple[Float[Array, " state"], Float[Array, " state"]]:
    """(A, G) whose transition has eigenvalues r e^{+-i theta} (Boyer et al. 2025, Sec. 3.3):

        G = (1/r^2 - 1) / dt,   S = 1 + dt G = 1/r^2,   A = (1 + S - 2 r S cos(theta)) / dt^2,

    from det M = 1/S = r^2 and tr M = (1 + S - dt^2 A) / S = 2 r cos(theta).
    """
    g = (1.0 / r**2 - 1.0) / dt
    s = 1.0 + dt * g
    a = (1.0 + s - 2.0 * r * s * jnp.cos(theta)) / dt**2
    return a, g


class DLinOSSLayer(AbstractSSMLayer):
    """D-LinOSS layer. G = ReLU(G_hat) >= 0, dt = sigmoid(steps), A the projection of A_hat;
    A_hat, G_hat initialised in closed form from r^2 ~ U[r_min^2, r_max^2] and
    theta ~ U[theta_min, theta_max]. B, C, D as LinOSS.

    steps ~ N(0, 0.5^2) (standard deviation `STEPS_STD` = 0.5), so dt lies in about
    [0.27, 0.73] (two standard deviations): the official initialisation
    (jaredbmit/damped-linoss, DampedIMEX1Layer._ring_init_AGdt with `dt_std` 0.5 in
    scripts/create_experiment.py), not LinOSS's U[0, 1]."""

    a_hat: Float[Array, " state"]
    g_hat: Float[Array, " state"]
    steps: Float[Array, " state"]
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
        theta_min: float,
        theta_max: float,
        scan: str,
        key: PRNGKeyArray,
    ):
        kr, kt, ks, kb, kc, kd = jax.random.split(key, 6)
        self.steps = STEPS_STD * jax.random.normal(ks, (state,))
        dt = jax.nn.sigmoid(self.steps)
        # sample r^2 uniformly in [r_min^2, r_max^2] (uniform on the ring's area, as LRU)
        r = jnp.sqrt(jax.random.uniform(kr, (state,), minval=r_min**2, maxval=r_max**2))
        theta = jax.random.uniform(kt, (state,), minval=theta_min, maxval=theta_max)
        self.a_hat, self.g_hat = ring_init(r, theta, dt)
        self.b = complex_uniform(kb, (state, hidden), 1.0 / math.sqrt(hidden))
        self.c = complex_uniform(kc, (hidden, state), 1.0 / math.sqrt(state))
        self.d = jax.random.normal(kd, (hidden,))
        self.scan = scan

    @classmethod
    def from_config(cls, config: DLinOSSConfig, *, key: PRNGKeyArray) -> "DLinOSSLayer":
        """The layer of `config` (`models.DLinOSSConfig`)."""
        return cls(
            config.hidden,
            config.state,
            r_min=config.r_min,
            r_max=config.r_max,
            theta_min=config.theta_min,
            theta_max=config.theta_max,
            scan=config.scan,
            key=key,
        )

    def parameters(
        self,
    ) -> tuple[Float[Array, " state"], Float[Array, " state"], Float[Array, " state"]]:
        """(A, G, dt) after ReLU, sigmoid and the projection of A."""
        g, dt = jax.nn.relu(self.g_hat), jax.nn.sigmoid(self.steps)
        return project_a(self.a_hat, g, dt), g, dt

    def transition(self) -> Transition:
        return damped_transition(*self.parameters())

    def __call__(self, u: Float[Array, "length hidden"]) -> Float[Array, "length hidden"]:
        a, g, dt = (stack(v) for v in self.parameters())
        return oscillator_output(
            damped_transition(a, g, dt),
            damped_forcing(g, dt),
            self.c,
            self.d,
            u,
            self.b,
            mode=self.scan,
        )
