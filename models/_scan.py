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
from jaxtyping import Array, Complex, Float

__all__ = ["resolve_scan", "oscillator_scan", "diagonal_scan", "SCAN_MODES"]

SCAN_MODES = ("auto", "parallel", "sequential")


# The sequential scans carry their own reverse-mode rule. The adjoint of a linear recurrence
# s_k = M s_{k-1} + F_k is the linear recurrence backwards in time
#     lam_k = g_k + M^T lam_{k+1},   dF_k = lam_k,   dM = sum_k lam_k s_{k-1}^T
# (JAX's convention: transposes, no complex conjugation). One reverse `lax.scan` that also
# accumulates the parameter gradients in its carry replaces autodiff through `lax.scan`
# (jvp + transpose, more residuals and full-length temporaries).


def _sum_to(a: Array, like: Array) -> Array:
    """Sum the leading axes of `a` that `like` does not have (broadcast gradients)."""
    return jnp.sum(a, axis=tuple(range(a.ndim - like.ndim))) if a.ndim > like.ndim else a


def _oscillator_states(m11, m12, m21, m22, g1, g2, bu):
    def step(carry, u):
        z, x = carry
        z_new = m11 * z + m12 * x + g1 * u
        x_new = m21 * z + m22 * x + g2 * u
        return (z_new, x_new), (z_new, x_new)

    init = (jnp.zeros_like(bu[0]), jnp.zeros_like(bu[0]))
    _, (z, x) = jax.lax.scan(step, init, bu)
    return z, x


@jax.custom_vjp
def _oscillator_sequential(m11, m12, m21, m22, g1, g2, bu):
    return _oscillator_states(m11, m12, m21, m22, g1, g2, bu)[1]


def _oscillator_fwd(m11, m12, m21, m22, g1, g2, bu):
    z, x = _oscillator_states(m11, m12, m21, m22, g1, g2, bu)
    return x, (m11, m12, m21, m22, g1, g2, bu, z, x)


def _oscillator_bwd(res, gx):
    m11, m12, m21, m22, g1, g2, bu, z, x = res

    # Reverse over k with lam_{k+1} in the carry: first accumulate dM += lam_{k+1} s_k^T
    # (so no shifted copy of the states is needed), then lam_k = (0, gx_k) + M^T lam_{k+1}.
    def adjoint(carry, c):
        lz, lx, d11, d12, d21, d22, e1, e2 = carry
        cx, u, zk, xk = c
        d11, d12, d21, d22 = d11 + lz * zk, d12 + lz * xk, d21 + lx * zk, d22 + lx * xk
        lz, lx = m11 * lz + m21 * lx, cx + m12 * lz + m22 * lx
        carry = (lz, lx, d11, d12, d21, d22, e1 + lz * u, e2 + lx * u)
        return carry, g1 * lz + g2 * lx

    init = (jnp.zeros_like(bu[0]),) * 8
    (_, _, *grads), dbu = jax.lax.scan(adjoint, init, (gx, bu, z, x), reverse=True)
    like = (m11, m12, m21, m22, g1, g2)
    return (*(_sum_to(d, m) for d, m in zip(grads, like, strict=True)), dbu)


_oscillator_sequential.defvjp(_oscillator_fwd, _oscillator_bwd)


@jax.custom_vjp
def _rotation_sequential(a, c, br, bi):
    """x_k = (a + ic) x_{k-1} + b_k in real arithmetic: [xr; xi] <- [[a, -c], [c, a]] [xr; xi]
    + [br; bi] (about 2x faster than complex64 arithmetic in a CPU `lax.scan`)."""

    def step(carry, b):
        xr, xi = carry
        xr, xi = a * xr - c * xi + b[0], c * xr + a * xi + b[1]
        return (xr, xi), (xr, xi)

    init = (jnp.zeros_like(br[0]), jnp.zeros_like(bi[0]))
    _, (xr, xi) = jax.lax.scan(step, init, (br, bi))
    return xr, xi


def _rotation_fwd(a, c, br, bi):
    xr, xi = _rotation_sequential(a, c, br, bi)
    return (xr, xi), (a, c, xr, xi)


def _rotation_bwd(res, cotangents):
    a, c, xr, xi = res
    gr, gi = cotangents

    def adjoint(carry, inputs):  # carry lam_{k+1}; M^T = [[a, c], [-c, a]]
        lr, li, da, dc = carry
        cr, ci, xrk, xik = inputs
        da = da + lr * xrk + li * xik
        dc = dc - lr * xik + li * xrk
        lr, li = cr + a * lr + c * li, ci - c * lr + a * li
        return (lr, li, da, dc), (lr, li)

    init = (jnp.zeros_like(gr[0]),) * 4
    (_, _, da, dc), (dbr, dbi) = jax.lax.scan(adjoint, init, (gr, gi, xr, xi), reverse=True)
    return _sum_to(da, a), _sum_to(dc, c), dbr, dbi


_rotation_sequential.defvjp(_rotation_fwd, _rotation_bwd)


def resolve_scan(mode: str, length: int) -> str:
    """The concrete scan for `mode` ("auto", "parallel" or "sequential") at this length.

    "auto" follows measurements (benchmarks/results/layers-cpu.md, 2-core CPU): on the CPU
    the sequential scan beats the associative scan at every length measured (L = 1,000 to
    20,000, B=16 H=64 P=64): LinOSS/D-LinOSS forward+backward 2.5-3.9x faster, LRU 1.3-2.7x,
    at 0.53-0.64x the peak memory and a fraction of the compile time, because the associative
    scan does O(L log L) work with no parallel hardware to hide it. On a GPU/TPU the
    associative scan's O(log L) depth wins (the argument of Smith et al., S5, ICLR 2023; not
    yet measured here), except for very short sequences where both are launch-bound.
    """
    if mode not in SCAN_MODES:
        from ssmtune.models._errors import ConfigError

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
) -> Float[Array, "length state"]:
    """The positions x_k of the per-oscillator 2x2 recurrence (LinOSS, Rusch & Rus 2025, eq. (3)-(6)):

        [z_k; x_k] = [[m11, m12], [m21, m22]] [z_{k-1}; x_{k-1}] + [g1; g2] (B u)_k,
        z_0 = x_0 = 0,

    elementwise over the `state` axis (each oscillator has its own 2x2 block). M and the
    forcing weights (g1, g2) are real and constant in time (LinOSS-IM, -IMEX and D-LinOSS all
    have F_k = [g1; g2] (B u)_k); a complex B u is passed as real and imaginary parts stacked
    along `state` (the recurrence acts on them independently).

    Returns:
        x: the position half of the state (length, state); the velocity-like half z is not
        returned (the layers read out x only, and not returning z saves its memory).

    Example:
        >>> one = jnp.ones(2)
        >>> x = oscillator_scan(one, -one, one, one, one, 0 * one, jnp.ones((5, 2)),
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

    *_, x = jax.lax.associative_scan(combine, (*elems, g1 * bu, g2 * bu))
    return x


def diagonal_scan(
    lam: Complex[Array, " state"],
    br: Float[Array, "length state"],
    bi: Float[Array, "length state"],
    *,
    mode: str,
) -> tuple[Float[Array, "length state"], Float[Array, "length state"]]:
    """All states of the diagonal recurrence x_k = lam * x_{k-1} + b_k, x_0 = 0 (LRU, Orvieto
    et al. 2023, eq. (1) with a diagonal complex Lambda), with b = br + i bi.

    Inputs and outputs are real and imaginary parts: the sequential scan runs in real
    arithmetic (a 2x2 rotation-scaling per state), the parallel one in complex64.

    Returns:
        (xr, xi): real and imaginary parts of the states, each (length, state).

    Example:
        >>> xr, xi = diagonal_scan(jnp.full(3, 0.5 + 0j), jnp.ones((4, 3)), jnp.zeros((4, 3)),
        ...                        mode="parallel")
    """
    mode = resolve_scan(mode, br.shape[0])
    if mode == "sequential":
        return _rotation_sequential(lam.real, lam.imag, br, bi)

    b = jax.lax.complex(br, bi)
    lams = jnp.broadcast_to(lam, b.shape)

    def combine(earlier, later):
        a, g = earlier
        c, h = later
        return c * a, c * g + h

    _, xs = jax.lax.associative_scan(combine, (lams, b))
    return xs.real, xs.imag
