"""Linear recurrences, computed either by `jax.lax.associative_scan` ("parallel") or by
`jax.lax.scan` ("sequential"); "auto" picks one from the backend (see `resolve_scan`).

Both recurrences here are time-invariant in their transition, x_k = M x_{k-1} + F_k with
x_0 = 0, so the sequential scan carries only the state and reads M from the closure: no
per-step matrix is ever materialised. The parallel scan needs one (M, F) element per step
(Blelloch 1990; S5, Smith et al. 2023, Sec. 2.2):

    (M_i, F_i) . (M_j, F_j) = (M_j M_i, M_j F_i + F_j)      (i before j)
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float, Inexact

__all__ = ["resolve_scan", "oscillator_scan", "diagonal_scan", "SCAN_MODES"]

SCAN_MODES = ("auto", "parallel", "sequential")


def resolve_scan(mode: str, length: int) -> str:
    """The concrete scan for `mode` ("auto", "parallel" or "sequential") at this length.

    "auto" follows measurements (FACTS.md, "Measured on a 2-core CPU"; benchmarks/layers.py):
    on the CPU `lax.scan` beats the associative scan at every length we measured (1,000 to
    20,000 steps: 2-2.5x faster forward+backward, ~0.5x peak memory, 10x faster compile),
    because the associative scan does O(L log L) work with no parallel hardware to hide it.
    On a GPU/TPU the associative scan's O(log L) depth wins, except for very short sequences
    where both are launch-bound.
    """
    if mode not in SCAN_MODES:
        from models._errors import ConfigError

        raise ConfigError(f"scan must be one of {', '.join(SCAN_MODES)}; got {mode!r}")
    if mode != "auto":
        return mode
    if jax.default_backend() == "cpu" or length < 64:
        return "sequential"
    return "parallel"


def oscillator_scan(
    m11: Float[Array, " state"],
    m12: Float[Array, " state"],
    m21: Float[Array, " state"],
    m22: Float[Array, " state"],
    f1: Float[Array, "length state"],
    f2: Float[Array, "length state"],
    *,
    mode: str,
) -> tuple[Float[Array, "length state"], Float[Array, "length state"]]:
    """All states of the per-oscillator 2x2 recurrence (LinOSS, Rusch & Rus 2025, eq. (3)-(6)):

        [z_k; x_k] = [[m11, m12], [m21, m22]] [z_{k-1}; x_{k-1}] + [f1_k; f2_k],  z_0 = x_0 = 0,

    elementwise over the `state` axis (each oscillator has its own 2x2 block). M is real and
    constant in time; a complex forcing is passed as real and imaginary parts stacked along
    `state` (the recurrence acts on them independently).

    Returns:
        (z, x): the velocity-like and position halves of the state, each (length, state).

    Example:
        >>> z, x = oscillator_scan(*([jnp.ones(2)] * 4), jnp.ones((5, 2)), jnp.ones((5, 2)),
        ...                        mode="sequential")
    """
    mode = resolve_scan(mode, f1.shape[0])
    if mode == "sequential":

        def step(carry, f):
            z, x = carry
            z_new = m11 * z + m12 * x + f[0]
            x_new = m21 * z + m22 * x + f[1]
            return (z_new, x_new), (z_new, x_new)

        init = (jnp.zeros_like(f1[0]), jnp.zeros_like(f2[0]))
        _, (z, x) = jax.lax.scan(step, init, (f1, f2))
        return z, x

    length = f1.shape[0]
    elems = tuple(jnp.broadcast_to(m, (length, *m.shape)) for m in (m11, m12, m21, m22))

    def combine(earlier, later):
        a11, a12, a21, a22, g1, g2 = earlier
        b11, b12, b21, b22, h1, h2 = later
        return (
            b11 * a11 + b12 * a21,
            b11 * a12 + b12 * a22,
            b21 * a11 + b22 * a21,
            b21 * a12 + b22 * a22,
            b11 * g1 + b12 * g2 + h1,
            b21 * g1 + b22 * g2 + h2,
        )

    *_, z, x = jax.lax.associative_scan(combine, (*elems, f1, f2))
    return z, x


def diagonal_scan(
    lam: Complex[Array, " state"],
    b: Inexact[Array, "length state"],
    *,
    mode: str,
) -> Complex[Array, "length state"]:
    """All states of the diagonal recurrence x_k = lam * x_{k-1} + b_k, x_0 = 0 (LRU, Orvieto
    et al. 2023, eq. (1) with a diagonal complex Lambda).

    Example:
        >>> x = diagonal_scan(jnp.full(3, 0.5 + 0j), jnp.ones((4, 3), jnp.complex64),
        ...                   mode="parallel")
    """
    mode = resolve_scan(mode, b.shape[0])
    b = b.astype(lam.dtype)
    if mode == "sequential":

        def step(x, bk):
            x = lam * x + bk
            return x, x

        _, xs = jax.lax.scan(step, jnp.zeros_like(b[0]), b)
        return xs

    lams = jnp.broadcast_to(lam, b.shape)

    def combine(earlier, later):
        a, g = earlier
        c, h = later
        return c * a, c * g + h

    _, xs = jax.lax.associative_scan(combine, (lams, b))
    return xs
