"""Convolution kernels against the unrolled recurrence of the discretised system (S4, S4D), and
HOPE's sampling points / Markov coefficients."""

import doctest
import math

import jax
import jax.numpy as jnp
import numpy as np

from ssmtune import models
from ssmtune.models import _conv
from ssmtune.models._conv import init_log_dt
from ssmtune.models._hope import HOPELayer, hope_kernel, mobius_points
from ssmtune.models._s4 import S4Layer, bilinear, conjugate_pairs, dplr_hippo, hippo_legs, s4_kernel
from ssmtune.models._s4d import S4DLayer, s4d_init, s4d_kernel, zoh


def _unroll(a_bar, b_bar, c, length):
    """K_l = C A_bar^l B_bar by running x_k = A_bar x_{k-1} + B_bar delta_k, in float64."""
    a_bar, b_bar, c = (np.asarray(v, np.complex128) for v in (a_bar, b_bar, c))
    x = b_bar
    out = []
    for _ in range(length):
        out.append(c @ x)
        x = a_bar @ x if a_bar.ndim == 2 else a_bar * x
    return np.asarray(out)


def test_hippo_dplr_reconstructs_legs():
    a, p, b = hippo_legs(8)
    lam, pt, bt = (np.concatenate([v, v.conj()]) for v in dplr_hippo(8, clip=False))  # float64
    # A = V (Lambda - P~ P~^*) V^* with V = [V_kept, conj(V_kept)]: the same spectrum
    dplr = np.diag(lam) - pt[:, None] * pt.conj()[None, :]
    np.testing.assert_allclose(
        np.sort_complex(np.linalg.eigvals(dplr)), np.sort_complex(np.linalg.eigvals(a)), atol=1e-6
    )
    np.testing.assert_allclose((np.abs(bt) ** 2).sum(), (b**2).sum(), rtol=1e-6)
    np.testing.assert_allclose(lam.real, -0.5, atol=1e-9)


def test_s4_kernel_equals_unrolled_recurrence():
    n, length, dt = 8, 64, 0.05
    lam, p, b = (jnp.asarray(v, jnp.complex64) for v in dplr_hippo(n))
    k1, k2 = jax.random.split(jax.random.key(0))
    c = jax.lax.complex(jax.random.normal(k1, (n // 2,)), jax.random.normal(k2, (n // 2,)))
    kernel = s4_kernel(lam, p, b, c, jnp.asarray(dt), length)
    lam, p, b, c = (conjugate_pairs(v) for v in (lam, p, b, c))
    a = jnp.diag(lam) - p[:, None] * p.conj()[None, :]
    a_bar, b_bar = bilinear(a, b, jnp.asarray(dt))
    unrolled = _unroll(a_bar, b_bar, c, length)
    assert np.abs(unrolled.imag).max() < 1e-4 * np.abs(unrolled).max()  # a real system
    expected = unrolled.real
    np.testing.assert_allclose(kernel, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max())


def test_s4_layer_kernel_does_not_depend_on_length():
    layer = models.layer(models.config("s4", hidden=3, state=8), key=jax.random.key(1))
    kernel = jax.jit(lambda layer, n: layer.kernel(n), static_argnums=1)
    np.testing.assert_allclose(kernel(layer, 100)[:40], kernel(layer, 40), rtol=1e-3, atol=1e-4)


def test_s4d_kernel_equals_unrolled_recurrence():
    for init in ("inv", "lin"):
        a = s4d_init(8, init)
        k1, k2 = jax.random.split(jax.random.key(2))
        b = jnp.ones(4, jnp.complex64)
        c = jax.lax.complex(jax.random.normal(k1, (4,)), jax.random.normal(k2, (4,)))
        dt = jnp.asarray(0.03)
        kernel = s4d_kernel(a, b, c, dt, 50)
        a_bar, b_bar = zoh(a, b, dt)
        expected = 2 * _unroll(a_bar, b_bar, c, 50).real  # conjugate pairs: 2 Re
        np.testing.assert_allclose(kernel, expected, rtol=1e-4, atol=1e-5)


def test_s4d_init_formulas():
    np.testing.assert_allclose(s4d_init(8, "lin").imag, np.pi * np.arange(4), rtol=1e-6)
    n = np.arange(4)
    np.testing.assert_allclose(
        s4d_init(8, "inv").imag, (8 / np.pi) * (8 / (2 * n + 1) - 1), rtol=1e-6
    )
    np.testing.assert_allclose(s4d_init(8, "inv").real, -0.5)


def test_hope_delta_one_gives_roots_of_unity_and_markov_kernel():
    length = 16
    z = mobius_points(jnp.asarray(1.0), length)
    np.testing.assert_allclose(z, np.exp(2j * np.pi * np.arange(length) / length), atol=1e-6)
    h = jax.random.normal(jax.random.key(3), (5,), jnp.complex64)
    kernel = hope_kernel(h, jnp.asarray(1.0), length)
    expected = np.zeros(length)
    expected[1:6] = np.asarray(h).real  # G(z) = sum_{k>=1} h_k z^{-k}: h_k at lag k
    np.testing.assert_allclose(kernel, expected, atol=1e-6)


def test_hope_mobius_points_stay_on_unit_circle():
    for delta in (1e-3, 0.1, 3.0):
        z = mobius_points(jnp.asarray(delta), 64)
        np.testing.assert_allclose(np.abs(z), 1.0, rtol=1e-5)


def test_hope_mobius_points_match_the_formula():
    for delta in (0.1, 0.5, 3.0):
        w = np.exp(2j * np.pi * np.arange(32) / 32)
        expected = ((1 + delta) * w + delta - 1) / ((delta - 1) * w + delta + 1)
        np.testing.assert_allclose(mobius_points(jnp.asarray(delta), 32), expected, atol=1e-5)


def test_log_dt_is_log_uniform_and_drawn_alike_by_the_convolutional_layers():
    """init_log_dt: log Delta ~ U[log dt_min, log dt_max]; S4, S4D and HOPE draw it from the
    second of their three keys, so a layer's log_dt is exactly that draw."""
    log_dt = np.asarray(init_log_dt(jax.random.key(3), 4096, dt_min=1e-3, dt_max=1e-1))
    low, high = math.log(1e-3), math.log(1e-1)
    assert log_dt.shape == (4096,) and low <= log_dt.min() and log_dt.max() <= high
    assert abs(log_dt.mean() - (low + high) / 2) < 0.05  # uniform in log, not in Delta
    key = jax.random.key(7)
    expected = init_log_dt(jax.random.split(key, 3)[1], 8, dt_min=1e-3, dt_max=1e-1)
    for layer in (
        S4Layer(8, 4, dt_min=1e-3, dt_max=1e-1, key=key),
        S4DLayer(8, 4, dt_min=1e-3, dt_max=1e-1, init="inv", key=key),
        HOPELayer(8, 4, dt_min=1e-3, dt_max=1e-1, key=key),
    ):
        np.testing.assert_array_equal(np.asarray(layer.log_dt), np.asarray(expected))
    assert doctest.testmod(_conv).failed == 0
