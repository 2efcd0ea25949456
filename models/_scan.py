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


def _shift(x: Array) -> Array:
    """x_{k-1} for every k, with x_{-1} = 0 (along axis 0)."""
    return jnp.concatenate([jnp.zeros_like(x[:1]), x[:-1]])


# The sequential scans carry their own reverse-mode rule. The adjoint of a linear recurrence
# s_k = M s_{k-1} + F_k is the linear recurrence backwards in time
#     lam_k = g_k + M^T lam_{k+1},   dF_k = lam_k,   dM = sum_k lam_k s_{k-1}^T
# (JAX's convention: transposes, no complex conjugation). One reverse `lax.scan` that also
# accumulates the parameter gradients in its carry replaces autodiff through `lax.scan`
# (jvp + transpose, more residuals and full-length temporaries).


def _sum_to(a: Array, like: Array) -> Array:
    """Sum the leading axes of `a` that `like` does not have (broadcast gradients)."""
    return jnp.sum(a, axis=tuple(range(a.ndim - like.ndim))) if a.ndim > like.ndim else a


@jax.custom_vjp
def _oscillator_sequential(m11, m12, m21, m22, g1, g2, bu):
    def step(carry, u):
        z, x = carry
        z_new = m11 * z + m12 * x + g1 * u
        x_new = m21 * z + m22 * x + g2 * u
        return (z_new, x_new), (z_new, x_new)

    init = (jnp.zeros_like(bu[0]), jnp.zeros_like(bu[0]))
    _, (z, x) = jax.lax.scan(step, init, bu)
    return z, x


def _oscillator_fwd(m11, m12, m21, m22, g1, g2, bu):
    z, x = _oscillator_sequential(m11, m12, m21, m22, g1, g2, bu)
    return (z, x), (m11, m12, m21, m22, g1, g2, bu, z, x)


def _oscillator_bwd(res, cotangents):
    m11, m12, m21, m22, g1, g2, bu, z, x = res
    gz, gx = cotangents
    z_prev, x_prev = _shift(z), _shift(x)

    # adjoint recurrence: (lz, lx)_k = (gz, gx)_k + M^T (lz, lx)_{k+1}
    def adjoint(carry, c):
        lz, lx, d11, d12, d21, d22, e1, e2 = carry
        cz, cx, u, zp, xp = c
        lz, lx = cz + m11 * lz + m21 * lx, cx + m12 * lz + m22 * lx
        carry = (
            lz,
            lx,
            d11 + lz * zp,
            d12 + lz * xp,
            d21 + lx * zp,
            d22 + lx * xp,
            e1 + lz * u,
            e2 + lx * u,
        )
        return carry, g1 * lz + g2 * lx

    zero = jnp.zeros_like(bu[0])
    init = (zero,) * 8
    (_, _, d11, d12, d21, d22, e1, e2), dbu = jax.lax.scan(
        adjoint, init, (gz, gx, bu, z_prev, x_prev), reverse=True
    )
    grads = (d11, d12, d21, d22, e1, e2)
    like = (m11, m12, m21, m22, g1, g2)
    return (*(_sum_to(d, m) for d, m in zip(grads, like, strict=True)), dbu)


_oscillator_sequential.defvjp(_oscillator_fwd, _oscillator_bwd)


@jax.custom_vjp
def _diagonal_sequential(lam, b):
    def step(x, bk):
        x = lam * x + bk
        return x, x

    _, xs = jax.lax.scan(step, jnp.zeros_like(b[0]), b)
    return xs


def _diagonal_fwd(lam, b):
    xs = _diagonal_sequential(lam, b)
    return xs, (lam, xs)


def _diagonal_bwd(res, g):
    lam, xs = res

    def step(mu, gk):
        mu = gk + lam * mu
        return mu, mu

    _, mus = jax.lax.scan(step, jnp.zeros_like(g[0]), g, reverse=True)
    return _sum_to(mus * _shift(xs), lam), mus


_diagonal_sequential.defvjp(_diagonal_fwd, _diagonal_bwd)


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
    g1: Float[Array, " state"],
    g2: Float[Array, " state"],
    bu: Float[Array, "length state"],
    *,
    mode: str,
) -> tuple[Float[Array, "length state"], Float[Array, "length state"]]:
    """All states of the per-oscillator 2x2 recurrence (LinOSS, Rusch & Rus 2025, eq. (3)-(6)):

        [z_k; x_k] = [[m11, m12], [m21, m22]] [z_{k-1}; x_{k-1}] + [g1; g2] (B u)_k,
        z_0 = x_0 = 0,

    elementwise over the `state` axis (each oscillator has its own 2x2 block). M and the
    forcing weights (g1, g2) are real and constant in time (LinOSS-IM, -IMEX and D-LinOSS all
    have F_k = [g1; g2] (B u)_k); a complex B u is passed as real and imaginary parts stacked
    along `state` (the recurrence acts on them independently).

    Returns:
        (z, x): the velocity-like and position halves of the state, each (length, state).

    Example:
        >>> one = jnp.ones(2)
        >>> z, x = oscillator_scan(one, -one, one, one, one, 0 * one, jnp.ones((5, 2)),
        ...                        mode="sequential")
    """
    mode = resolve_scan(mode, bu.shape[0])
    if mode == "sequential":
        return _oscillator_sequential(m11, m12, m21, m22, g1, g2, bu)

    length = bu.shape[0]
    elems = tuple(jnp.broadcast_to(m, (length, *m.shape)) for m in (m11, m12, m21, m22))

    def combine(earlier, later):
        a11, a12, a21, a22, f1, f2 = earlier
        b11, b12, b21, b22, h1, h2 = later
        return (
            b11 * a11 + b12 * a21,
            b11 * a12 + b12 * a22,
            b21 * a11 + b22 * a21,
            b21 * a12 + b22 * a22,
            b11 * f1 + b12 * f2 + h1,
            b21 * f1 + b22 * f2 + h2,
        )

    *_, z, x = jax.lax.associative_scan(combine, (*elems, g1 * bu, g2 * bu))
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
        return _diagonal_sequential(lam, b)

    lams = jnp.broadcast_to(lam, b.shape)

    def combine(earlier, later):
        a, g = earlier
        c, h = later
        return c * a, c * g + h

    _, xs = jax.lax.associative_scan(combine, (lams, b))
    return xs
