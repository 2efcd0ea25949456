"""S4: structured state space layer (Gu, Goel & Re, "Efficiently Modeling Long Sequences with
Structured State Spaces", ICLR 2022).

A = Lambda - P P^* (normal plus low rank, from HiPPO-LegS), bilinear discretisation, kernel
computed at the roots of unity from Cauchy kernels with the Woodbury correction, then applied
by FFT convolution. One real SISO SSM of size N per channel, trained as N // 2 complex modes.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float, PRNGKeyArray

from ssmtune.models._config import S4Config
from ssmtune.models._conv import causal_conv, init_log_dt
from ssmtune.models._layer import AbstractSSMLayer

__all__ = ["S4Layer", "hippo_legs", "dplr_hippo", "conjugate_pairs", "bilinear", "s4_kernel"]


def hippo_legs(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HiPPO-LegS in NPLR form (Gu et al. 2022, Thm. 1): A = S - P P^T with S normal, and B.

    A_nk = -sqrt(2n+1) sqrt(2k+1) (n > k), -(n+1) (n = k), 0 (n < k);
    P_n = sqrt(n + 1/2);  B_n = sqrt(2n + 1).
    """
    q = np.sqrt(1 + 2 * np.arange(n))
    a = -(np.tril(q[:, None] * q[None, :]) - np.diag(np.arange(n)))
    return a, np.sqrt(np.arange(n) + 0.5), q


#: Bound on |Im(B~)| in the official NPLR set-up (state-spaces/s4, src/models/hippo/hippo.py,
#: `nplr(..., B_clip=2.0)`): "can help with stability".
B_CLIP = 2.0


def dplr_hippo(n: int, *, clip: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Lambda, P~, B~) of HiPPO-LegS in the eigenbasis V of its normal part S = A + P P^T,
    keeping one mode of each complex-conjugate pair: n // 2 modes.

    A = V (diag(Lambda) - P~ P~^*) V^*, P~ = V^* P, B~ = V^* B. S = -1/2 I + skew, so
    Lambda = -1/2 + i * eig(-i (S + 1/2 I)). A and B are real, so the eigenvalues come in
    conjugate pairs with conjugate coordinates; like the official S4 (state-spaces/s4,
    src/models/hippo/hippo.py `nplr`) we keep the n // 2 modes with negative imaginary part
    (for odd n the one real mode is dropped, as there) and the conjugates are implied
    (`conjugate_pairs`). With `clip` (the official default) Im(B~) is clipped to
    [-B_CLIP, B_CLIP], which changes 3 of the 8 kept modes at n = 16; `clip=False` keeps the
    exact HiPPO-LegS matrix.
    """
    a, p, b = hippo_legs(n)
    s = a + p[:, None] * p[None, :]
    re = np.mean(np.diagonal(s))
    im, v = np.linalg.eigh(-1j * (s - re * np.eye(n)))  # ascending: negative halves first
    v = v[:, : n // 2]
    b_tilde = v.conj().T @ b
    if clip:
        b_tilde = b_tilde.real + 1j * np.clip(b_tilde.imag, -B_CLIP, B_CLIP)
    return re + 1j * im[: n // 2], v.conj().T @ p, b_tilde


def conjugate_pairs(x: Complex[Array, "... modes"]) -> Complex[Array, "... n"]:
    """The full set of modes [x, conj(x)] of a system whose conjugates are implied."""
    return jnp.concatenate([x, jnp.conj(x)], axis=-1)


def bilinear(
    a: Complex[Array, "n n"], b: Complex[Array, " n"], dt: Float[Array, ""]
) -> tuple[Complex[Array, "n n"], Complex[Array, " n"]]:
    """Bilinear (Tustin) discretisation: A_bar = (I - dt/2 A)^{-1} (I + dt/2 A),
    B_bar = (I - dt/2 A)^{-1} dt B (Gu et al. 2022, eq. (3))."""
    eye = jnp.eye(a.shape[0], dtype=a.dtype)
    left = eye - dt / 2 * a
    return jnp.linalg.solve(left, eye + dt / 2 * a), jnp.linalg.solve(left, dt * b)


def s4_kernel(
    lam: Complex[Array, " modes"],
    p: Complex[Array, " modes"],
    b: Complex[Array, " modes"],
    c: Complex[Array, " modes"],
    dt: Float[Array, ""],
    length: int,
) -> Float[Array, " length"]:
    """The length-L kernel K_l = C A_bar^l B_bar, l < L, of one channel (Gu et al. 2022,
    Alg. 1): a real system of 2M states given by M modes and their implied conjugates
    (`conjugate_pairs`), A = diag(Lambda) - P P^*, bilinear discretisation.

    At the roots of unity w_j = e^{-2 pi i j/L} the truncated generating function is
    K_hat(w) = C~ (I - A_bar w)^{-1} B_bar with C~ = C (I - A_bar^L)
    = 2/(1+w) C~ (g(w) - A)^{-1} B with g(w) = (2/dt)(1-w)/(1+w); Woodbury gives
    k00 - k01 (1 + k11)^{-1} k10, k_ab = sum_n a_n b_n / (g - Lambda_n) the Cauchy kernels for
    a in (C~, P^*), b in (B, P), summed over all 2M modes. We use k_ab = (1+w) s_ab with
    s_ab = sum_n a_n b_n / ((2/dt)(1-w) - Lambda_n (1+w)), which removes the 0/0 at w = -1:

        K_hat = 2 (s00 - (1+w) s01 s10 / (1 + (1+w) s11)),     K = IFFT(K_hat).

    The system is real, so K is real and K_hat Hermitian: only the L // 2 + 1 frequencies of
    a real inverse FFT are evaluated (half the Cauchy work of the full spectrum).

    C (not C~) is the parameter: C~ is computed here with A_bar^L by repeated squaring, so the
    kernel's first l taps do not depend on L (padding a sequence leaves its outputs alone).
    """
    lam, p, b, c = (conjugate_pairs(x) for x in (lam, p, b, c))
    a = jnp.diag(lam) - p[:, None] * p.conj()[None, :]
    a_bar, _ = bilinear(a, jnp.zeros_like(b), dt)
    c_tilde = c - c @ jnp.linalg.matrix_power(a_bar, length)
    w = jnp.exp(-2j * jnp.pi * jnp.arange(length // 2 + 1) / length).astype(jnp.complex64)
    opw = 1.0 + w
    cauchy = 1.0 / ((2.0 / dt) * (1.0 - w)[:, None] - lam[None, :] * opw[:, None])
    pc = p.conj()
    s00 = cauchy @ (c_tilde * b)
    s01 = cauchy @ (c_tilde * p)
    s10 = cauchy @ (pc * b)
    s11 = cauchy @ (pc * p)
    k_hat = 2.0 * (s00 - opw * s01 * s10 / (1.0 + opw * s11))
    return jnp.fft.irfft(k_hat, n=length)


class S4Layer(AbstractSSMLayer):
    """H independent SISO S4 SSMs of state size N, one per channel, as the official S4
    (state-spaces/s4, src/models/sequence/kernels/ssm.py `SSMKernelDPLR`): N // 2 trained
    complex modes per channel, their conjugates implied, so the kernel is real by construction.

    Lambda, P, B from HiPPO-LegS (`dplr_hippo`; `init="legs"` clips Im(B~) at 2 as the
    official NPLR set-up, `init="legs-exact"` keeps the exact HiPPO matrix), with
    Re(Lambda) = -exp(log_lambda_re) kept negative; C ~ CN(0, 1) per kept mode (E|C_n|^2 = 1,
    the official `torch.randn(..., dtype=cfloat)`); dt log-uniform in [dt_min, dt_max];
    D ~ N(0, 1).
    """

    log_lambda_re: Float[Array, "hidden modes"]
    lambda_im: Float[Array, "hidden modes"]
    p: Complex[Array, "hidden modes"]
    b: Complex[Array, "hidden modes"]
    c: Complex[Array, "hidden modes"]
    log_dt: Float[Array, " hidden"]
    d: Float[Array, " hidden"]

    def __init__(
        self,
        hidden: int,
        state: int,
        *,
        dt_min: float,
        dt_max: float,
        init: str = "legs",
        key: PRNGKeyArray,
    ):
        kc, kdt, kd = jax.random.split(key, 3)
        lam, p, b = dplr_hippo(state, clip=init == "legs")
        shape = (hidden, state // 2)
        self.log_lambda_re = jnp.broadcast_to(jnp.log(-lam.real).astype(jnp.float32), shape)
        self.lambda_im = jnp.broadcast_to(lam.imag.astype(jnp.float32), shape)
        self.p = jnp.broadcast_to(jnp.asarray(p, jnp.complex64), shape)
        self.b = jnp.broadcast_to(jnp.asarray(b, jnp.complex64), shape)
        self.c = jax.random.normal(kc, shape, jnp.complex64)
        self.log_dt = init_log_dt(kdt, hidden, dt_min=dt_min, dt_max=dt_max)
        self.d = jax.random.normal(kd, (hidden,))

    @classmethod
    def from_config(cls, config: S4Config, *, key: PRNGKeyArray) -> "S4Layer":
        """The layer of `config` (`models.S4Config`)."""
        return cls(
            config.hidden,
            config.state,
            dt_min=config.dt_min,
            dt_max=config.dt_max,
            init=config.init,
            key=key,
        )

    def lam(self) -> Complex[Array, "hidden modes"]:
        return jax.lax.complex(-jnp.exp(self.log_lambda_re), self.lambda_im)

    def kernel(self, length: int) -> Float[Array, "length hidden"]:
        k = jax.vmap(s4_kernel, in_axes=(0, 0, 0, 0, 0, None))(
            self.lam(), self.p, self.b, self.c, jnp.exp(self.log_dt), length
        )
        return k.T

    def __call__(self, u: Float[Array, "length hidden"]) -> Float[Array, "length hidden"]:
        return causal_conv(u, self.kernel(u.shape[0])) + self.d * u
