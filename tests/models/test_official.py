"""The parameterisations and initialisations the papers trained (issue 13): each against the
equations it follows, or a naive reference of the official structure, and the moments of the
drawn parameters at a large size (within 3 % of the official values).

Sources: LRU, Orvieto et al. 2023 App. A and Benjamin-Walker/log-neural-cdes models/LRU.py;
S4, state-spaces/s4 (hippo.py `nplr`, kernels/ssm.py `SSMKernelDPLR`); HOPE, AnnanYu/HOPE-SSM
(models/s4/HOPE_SSM.py, run_cifar.py); D-LinOSS, jaredbmit/damped-linoss (models/LinOSS.py
`DampedIMEX1Layer`, scripts/create_experiment.py).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from ssmtune import models
from ssmtune.models._dlinoss import STEPS_STD, damped_transition, project_a
from ssmtune.models._lru import lru_lambda
from ssmtune.models._s4 import B_CLIP, bilinear, conjugate_pairs, dplr_hippo


def _within(value: float, target: float, rel: float = 0.03) -> None:
    assert abs(value - target) <= rel * abs(target), (value, target)


# --- LRU ----------------------------------------------------------------------------------------


def _lru_reference(nu_log, theta_log, gamma_log, b, c, d, u):
    """The official LRU layer's equations as a loop: x_k = lambda x_{k-1} + exp(gamma_log) B u_k,
    y_k = Re(C x_k) + D u_k, with gamma_log an input of its own."""
    lam = jnp.exp(-jnp.exp(nu_log) + 1j * jnp.exp(theta_log))
    b_norm = b * jnp.exp(gamma_log)[:, None]
    x = jnp.zeros(lam.shape, jnp.complex64)
    out = []
    for k in range(u.shape[0]):
        x = lam * x + b_norm @ u[k]
        out.append((c @ x).real + d * u[k])
    return jnp.stack(out)


def test_lru_gamma_is_a_trained_parameter_initialised_from_lambda():
    layer = models.layer(models.config("lru", hidden=3, state=5), key=jax.random.key(0))
    lam = lru_lambda(layer.nu_log, layer.theta_log)
    np.testing.assert_allclose(
        layer.gamma_log, np.log(np.sqrt(1 - np.abs(np.asarray(lam)) ** 2)), rtol=1e-5
    )
    u = jax.random.normal(jax.random.key(1), (12, 3))
    w = jax.random.normal(jax.random.key(2), (12, 3))
    args = (layer.nu_log, layer.theta_log, layer.gamma_log, layer.b, layer.c, layer.d, u)
    np.testing.assert_allclose(layer(u), _lru_reference(*args), rtol=1e-4, atol=1e-5)

    grads = jax.grad(lambda m: jnp.sum(w * m(u)))(layer)
    ref = jax.grad(lambda *a: jnp.sum(w * _lru_reference(*a)), argnums=(0, 2))(*args)
    np.testing.assert_allclose(grads.nu_log, ref[0], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(grads.gamma_log, ref[1], rtol=1e-4, atol=1e-6)
    assert np.abs(np.asarray(grads.gamma_log)).min() > 0

    def tied(nu_log, theta_log, *rest):  # gamma recomputed from lambda, as before issue 13
        gamma_log = jnp.log(jnp.sqrt(1 - jnp.abs(lru_lambda(nu_log, theta_log)) ** 2))
        return jnp.sum(w * _lru_reference(nu_log, theta_log, gamma_log, *rest))

    through_gamma = jax.grad(tied)(*args[:2], *args[3:])
    assert not np.allclose(grads.nu_log, through_gamma, rtol=1e-2)
    assert models.ssm_labels(layer).gamma_log == "ssm"


def test_lru_initial_moments_match_the_official_scales():
    hidden, state = 64, 1024
    layer = models.layer(models.config("lru", hidden=hidden, state=state), key=jax.random.key(3))
    for part in (layer.c.real, layer.c.imag):  # C_re, C_im ~ N(0, 1/P)
        _within(float(np.std(part)), 1 / np.sqrt(state))
    for part in (layer.b.real, layer.b.imag):  # B_re, B_im ~ N(0, 1/(2H))
        _within(float(np.std(part)), 1 / np.sqrt(2 * hidden))


# --- S4 -----------------------------------------------------------------------------------------


def _unrolled_kernel(lam, p, b, c, dt, length):
    """C A_bar^l B_bar of the full 2M-state system, in float64, by running the recurrence."""
    lam, p, b, c = (np.concatenate([v, v.conj()]).astype(np.complex128) for v in (lam, p, b, c))
    a = np.diag(lam) - p[:, None] * p.conj()[None, :]
    eye = np.eye(a.shape[0])
    left = eye - dt / 2 * a
    a_bar, x = np.linalg.solve(left, eye + dt / 2 * a), np.linalg.solve(left, dt * b)
    out = []
    for _ in range(length):
        out.append(c @ x)
        x = a_bar @ x
    return np.asarray(out)


def test_s4_trains_half_the_modes_and_its_kernel_is_real_by_construction():
    hidden, state, length = 2, 16, 48
    layer = models.layer(models.config("s4", hidden=hidden, state=state), key=jax.random.key(4))
    for name in ("log_lambda_re", "lambda_im", "p", "b", "c"):
        assert getattr(layer, name).shape == (hidden, state // 2), name
    # perturb every mode independently (as training does): the kernel stays the real one of
    # the 2M-state system with the conjugate modes
    keys = jax.random.split(jax.random.key(5), 4)
    noise = [jax.lax.complex(*jax.random.normal(k, (2, hidden, state // 2))) * 0.3 for k in keys]
    layer = eqx.tree_at(
        lambda m: (m.p, m.b, m.c, m.lambda_im),
        layer,
        (
            layer.p + noise[0],
            layer.b + noise[1],
            layer.c + noise[2],
            layer.lambda_im + noise[3].real,
        ),
    )
    kernel = np.asarray(layer.kernel(length))
    assert kernel.dtype == np.float32
    dt = np.exp(np.asarray(layer.log_dt))
    for h in range(hidden):
        args = (np.asarray(v[h]) for v in (layer.lam(), layer.p, layer.b, layer.c))
        expected = _unrolled_kernel(*args, dt[h], length)
        assert np.abs(expected.imag).max() < 1e-9 * np.abs(expected).max()
        np.testing.assert_allclose(kernel[:, h], expected.real, atol=2e-3 * np.abs(expected).max())


def test_s4_clips_im_b_like_the_official_nplr_and_keeps_the_exact_hippo_as_an_option():
    _, _, exact = dplr_hippo(16, clip=False)
    _, _, clipped = dplr_hippo(16)
    assert np.sum(np.abs(exact.imag) > B_CLIP) == 3  # 3 of the 8 kept modes at N = 16
    assert np.abs(clipped.imag).max() <= B_CLIP
    np.testing.assert_allclose(clipped.real, exact.real)
    exact_layer = models.layer(
        models.config("s4", hidden=1, state=16, init="legs-exact"), key=jax.random.key(0)
    )
    np.testing.assert_allclose(exact_layer.b[0], exact.astype(np.complex64), rtol=1e-6)
    with pytest.raises(models.ConfigError, match="init must be one of legs, legs-exact"):
        models.config("s4", init="lin")


def test_s4_initial_c_has_unit_power_per_mode():
    layer = models.layer(models.config("s4", hidden=256, state=512), key=jax.random.key(6))
    c = np.asarray(layer.c)  # official: torch.randn(..., dtype=cfloat), E|C_n|^2 = 1
    _within(float(np.mean(np.abs(c) ** 2)), 1.0)
    _within(float(np.std(c.real)), np.sqrt(0.5))


def test_s4_kernel_of_the_exact_hippo_matches_the_dense_bilinear_system():
    lam, p, b = dplr_hippo(8, clip=False)
    a_legs = -(
        np.tril(np.sqrt(1 + 2 * np.arange(8))[:, None] * np.sqrt(1 + 2 * np.arange(8))[None])
        - np.diag(np.arange(8))
    )
    full = np.concatenate([lam, lam.conj()])
    pt = np.concatenate([p, p.conj()])
    dplr = np.diag(full) - pt[:, None] * pt.conj()[None, :]
    np.testing.assert_allclose(
        np.sort_complex(np.linalg.eigvals(dplr)),
        np.sort_complex(np.linalg.eigvals(a_legs)),
        atol=1e-6,
    )
    a_bar, _ = bilinear(
        jnp.asarray(dplr, jnp.complex64), jnp.zeros(8, jnp.complex64), jnp.asarray(0.1)
    )
    assert np.abs(np.linalg.eigvals(np.asarray(a_bar))).max() < 1.0  # a stable discretisation
    assert conjugate_pairs(jnp.asarray(lam, jnp.complex64)).shape == (8,)


# --- HOPE ---------------------------------------------------------------------------------------


def _hope_updates(train_dt: bool, optimizer: str, weight_decay: float):
    """(model before, model after three optimiser steps) of a tiny HOPE classifier."""
    cfg = models.config(
        "hope", in_channels=2, out_dim=3, hidden=4, state=8, blocks=1, dropout=0.0,
        train_dt=train_dt,
    )  # fmt: skip
    model = models.build(cfg, key=jax.random.key(7))
    state = eqx.nn.State(model)
    x = jax.random.normal(jax.random.key(8), (5, 30, 2))
    mask = jnp.ones((5, 30), bool)
    y = jnp.arange(5) % 3
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def loss(p):
        out, _ = models.apply(eqx.combine(p, static), state, x, mask, inference=True)
        return -jnp.take_along_axis(jax.nn.log_softmax(out), y[:, None], axis=-1).mean()

    options = models.TrainOptions(lr=1e-2, optimizer=optimizer, weight_decay=weight_decay)
    tx = models.optimizer(options, model)
    opt_state = tx.init(params)
    new = params
    for _ in range(3):
        grads = models.descent_gradients(jax.grad(loss)(new))
        updates, opt_state = tx.update(grads, opt_state, new)
        new = optax.apply_updates(new, updates)
    return model, eqx.combine(new, static), jax.grad(loss)(params)


@pytest.mark.parametrize("optimizer,weight_decay", [("adam", 0.0), ("adamw", 0.05), ("adam", 0.05)])
def test_hope_delta_is_frozen_by_default(optimizer, weight_decay):
    before, after, grads = _hope_updates(False, optimizer, weight_decay)
    layer0, layer1 = before.blocks[0].layer, after.blocks[0].layer
    assert models.ssm_labels(before).blocks[0].layer.log_dt == "frozen"
    assert np.all(np.asarray(grads.blocks[0].layer.log_dt) == 0)
    np.testing.assert_array_equal(layer1.log_dt, layer0.log_dt)
    assert not np.allclose(layer1.h, layer0.h)  # the Markov coefficients do train


def test_hope_train_dt_trains_delta():
    before, after, grads = _hope_updates(True, "adam", 0.0)
    assert models.ssm_labels(before).blocks[0].layer.log_dt == "ssm"
    assert np.abs(np.asarray(grads.blocks[0].layer.log_dt)).min() > 0
    assert not np.allclose(after.blocks[0].layer.log_dt, before.blocks[0].layer.log_dt)


def test_hope_initial_markov_coefficients_have_the_official_scale():
    state = 512
    layer = models.layer(models.config("hope", hidden=256, state=state), key=jax.random.key(9))
    h = np.asarray(layer.h)  # official: randn(cfloat) / sqrt(N) / 2, E|h|^2 = 1/(4N)
    assert h.shape == (256, state // 2)
    _within(float(np.mean(np.abs(h) ** 2)), 1 / (4 * state))


# --- D-LinOSS -----------------------------------------------------------------------------------


def test_dlinoss_initial_step_parameter_is_the_official_normal():
    layer = models.layer(models.config("d-linoss", hidden=2, state=65536), key=jax.random.key(10))
    steps = np.asarray(layer.steps)
    _within(float(np.std(steps)), STEPS_STD)
    assert abs(float(np.mean(steps))) < 0.03 * STEPS_STD
    dt = 1 / (1 + np.exp(-steps))
    _within(float(np.mean((dt > 0.269) & (dt < 0.731))), 0.9545)  # two standard deviations


def _max_eigenvalue(a, g, dt):
    """Largest |eigenvalue| of each float32 transition M (eigenvalues computed in float64 from
    the float32 entries, i.e. of the matrix the scan actually multiplies by)."""
    m11, m12, m21, m22 = (np.asarray(v, np.float64) for v in damped_transition(a, g, dt))
    tr, det = m11 + m22, m11 * m22 - m12 * m21
    root = np.sqrt((tr**2 - 4 * det).astype(np.complex128))
    return np.maximum(np.abs((tr + root) / 2), np.abs((tr - root) / 2))


def test_dlinoss_band_margin_prevents_float32_eigenvalues_above_one():
    """At the band's upper edge the eigenvalue is a double real root; float32 rounding of M
    splits it, and with G = 0 one root leaves the unit circle. The margin keeps a complex pair
    of magnitude 1/sqrt(1 + dt G)."""
    n = 50_000
    dt = jax.nn.sigmoid(STEPS_STD * jax.random.normal(jax.random.key(11), (n,)))
    g = jnp.zeros(n)
    edge = ((jnp.sqrt(1.0 + dt * g) + 1.0) / dt) ** 2  # the official clamp: A = A_high
    at_edge = _max_eigenvalue(edge, g, dt)
    assert np.mean(at_edge > 1.0 + 1e-6) > 0.3  # measured: 38 %
    assert at_edge.max() > 1.0005  # measured 1.0010: a growth of ~5e8 over 20,000 steps
    inside = _max_eigenvalue(project_a(jnp.full(n, 1e9), g, dt), g, dt)
    assert inside.max() < 1.0 + 1e-6
