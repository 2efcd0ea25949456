"""S4: structured state space layer (Gu, Goel & Re, "Efficiently Modeling Long Sequences with
Structured State Spaces", ICLR 2022).

A = Lambda - P P^* (normal plus low rank, from HiPPO-LegS), bilinear discretisation, kernel
computed at the roots of unity from Cauchy kernels with the Woodbury correction, then applied
by FFT convolution. One SISO SSM of size N per channel.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float, PRNGKeyArray

from models._conv import causal_conv
from models._layer import SSMLayer

__all__ = ["S4Layer", "hippo_legs", "dplr_hippo", "bilinear", "s4_kernel"]


def hippo_legs(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HiPPO-LegS in NPLR form (Gu et al. 2022, Thm. 1): A = S - P P^T with S normal, and B.

    A_nk = -sqrt(2n+1) sqrt(2k+1) (n > k), -(n+1) (n = k), 0 (n < k);
    P_n = sqrt(n + 1/2);  B_n = sqrt(2n + 1).
    """
    q = np.sqrt(1 + 2 * np.arange(n))
    a = -(np.tril(q[:, None] * q[None, :]) - np.diag(np.arange(n)))
    return a, np.sqrt(np.arange(n) + 0.5), q


def dplr_hippo(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Lambda, P, B) of HiPPO-LegS in the eigenbasis V of its normal part S = A + P P^T:
    A = V (diag(Lambda) - P~ P~^*) V^*, with P~ = V^* P, B~ = V^* B. S = -1/2 I + skew, so
    Lambda = -1/2 + i * eig(-i (S + 1/2 I))."""
    a, p, b = hippo_legs(n)
    s = a + p[:, None] * p[None, :]
    re = np.mean(np.diagonal(s))
    im, v = np.linalg.eigh(-1j * (s - re * np.eye(n)))
    return re + 1j * im, v.conj().T @ p, v.conj().T @ b


def bilinear(
    a: Complex[Array, "n n"], b: Complex[Array, " n"], dt: Float[Array, ""]
) -> tuple[Complex[Array, "n n"], Complex[Array, " n"]]:
    """Bilinear (Tustin) discretisation: A_bar = (I - dt/2 A)^{-1} (I + dt/2 A),
    B_bar = (I - dt/2 A)^{-1} dt B (Gu et al. 2022, eq. (3))."""
    eye = jnp.eye(a.shape[0], dtype=a.dtype)
    left = eye - dt / 2 * a
    return jnp.linalg.solve(left, eye + dt / 2 * a), jnp.linalg.solve(left, dt * b)


def s4_kernel(
    lam: Complex[Array, " n"],
    p: Complex[Array, " n"],
    b: Complex[Array, " n"],
    c: Complex[Array, " n"],
    dt: Float[Array, ""],
    length: int,
) -> Float[Array, " length"]:
    """The length-L kernel K_l = Re(C A_bar^l B_bar), l < L, of one channel (Gu et al. 2022,
    Alg. 1), A = diag(Lambda) - P P^*, bilinear discretisation.

    At the roots of unity w_j = e^{-2 pi i j/L} the truncated generating function is
    K_hat(w) = C~ (I - A_bar w)^{-1} B_bar with C~ = C (I - A_bar^L)
    = 2/(1+w) C~ (g(w) - A)^{-1} B with g(w) = (2/dt)(1-w)/(1+w); Woodbury gives
    k00 - k01 (1 + k11)^{-1} k10, k_ab = sum_n a_n b_n / (g - Lambda_n) the Cauchy kernels for
    a in (C~, P^*), b in (B, P). We use k_ab = (1+w) s_ab with
    s_ab = sum_n a_n b_n / ((2/dt)(1-w) - Lambda_n (1+w)), which removes the 0/0 at w = -1:

        K_hat = 2 (s00 - (1+w) s01 s10 / (1 + (1+w) s11)),     K = Re IFFT(K_hat).

    C (not C~) is the parameter: C~ is computed here with A_bar^L by repeated squaring, so the
    kernel's first l taps do not depend on L (padding a sequence leaves its outputs alone).
    """
    a = jnp.diag(lam) - p[:, None] * p.conj()[None, :]
    a_bar, _ = bilinear(a, jnp.zeros_like(b), dt)
    c_tilde = c - c @ jnp.linalg.matrix_power(a_bar, length)
    w = jnp.exp(-2j * jnp.pi * jnp.arange(length) / length).astype(jnp.complex64)
    opw = 1.0 + w
    cauchy = 1.0 / ((2.0 / dt) * (1.0 - w)[:, None] - lam[None, :] * opw[:, None])
    pc = p.conj()
    s00 = cauchy @ (c_tilde * b)
    s01 = cauchy @ (c_tilde * p)
    s10 = cauchy @ (pc * b)
    s11 = cauchy @ (pc * p)
    k_hat = 2.0 * (s00 - opw * s01 * s10 / (1.0 + opw * s11))
    return jnp.real(jnp.fft.ifft(k_hat))


class S4Layer(SSMLayer):
    """H independent SISO S4 SSMs (state size N), one per channel.

    Lambda, P, B from HiPPO-LegS (`dplr_hippo`), with Re(Lambda) = -exp(log_lambda_re) kept
    negative; C ~ CN(0, 1); dt log-uniform in [dt_min, dt_max]; D ~ N(0, 1).
    """

    log_lambda_re: Float[Array, "hidden n"]
    lambda_im: Float[Array, "hidden n"]
    p: Complex[Array, "hidden n"]
    b: Complex[Array, "hidden n"]
    c: Complex[Array, "hidden n"]
    log_dt: Float[Array, " hidden"]
    d: Float[Array, " hidden"]

    def __init__(self, hidden: int, state: int, *, dt_min: float, dt_max: float, key: PRNGKeyArray):
        kc, kdt, kd = jax.random.split(key, 3)
        lam, p, b = dplr_hippo(state)
        shape = (hidden, state)
        self.log_lambda_re = jnp.broadcast_to(jnp.log(-lam.real).astype(jnp.float32), shape)
        self.lambda_im = jnp.broadcast_to(lam.imag.astype(jnp.float32), shape)
        self.p = jnp.broadcast_to(jnp.asarray(p, jnp.complex64), shape)
        self.b = jnp.broadcast_to(jnp.asarray(b, jnp.complex64), shape)
        self.c = jax.random.normal(kc, shape, jnp.complex64)
        self.log_dt = jax.random.uniform(
            kdt, (hidden,), minval=math.log(dt_min), maxval=math.log(dt_max)
        )
        self.d = jax.random.normal(kd, (hidden,))

    def lam(self) -> Complex[Array, "hidden n"]:
        return jax.lax.complex(-jnp.exp(self.log_lambda_re), self.lambda_im)

    def kernel(self, length: int) -> Float[Array, "length hidden"]:
        k = jax.vmap(s4_kernel, in_axes=(0, 0, 0, 0, 0, None))(
            self.lam(), self.p, self.b, self.c, jnp.exp(self.log_dt), length
        )
        return k.T

    def __call__(self, u: Float[Array, "length hidden"]) -> Float[Array, "length hidden"]:
        return causal_conv(u, self.kernel(u.shape[0])) + self.d * u
