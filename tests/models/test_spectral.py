"""Eigenvalue magnitudes of the LinOSS / D-LinOSS transitions for random raw parameters
(Rusch & Rus 2025, Prop. 3.1 and 3.3; Boyer, Rusch & Rus 2025, Prop. 3.1)."""

import jax
import jax.numpy as jnp
import numpy as np

from ssmtune import models
from ssmtune.models._dlinoss import damped_transition, project_a, ring_init
from ssmtune.models._linoss import transition_eigenvalues


def _raw(seed, n=4096):
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    return (
        jax.random.uniform(k1, (n,), minval=-1.0, maxval=8.0),  # A_hat (negative too)
        jax.random.normal(k2, (n,)) * 3.0,  # steps: dt = sigmoid(steps) in (0, 1)
        jax.random.normal(k3, (n,)) * 2.0,  # G_hat (negative too)
    )


def _layer(name, **fields):
    return models.layer(models.config(name, hidden=2, state=4096, **fields), key=jax.random.key(0))


def test_imex_is_energy_conserving_where_dt2a_le_4():
    a_hat, steps, _ = _raw(0)
    layer = _layer("linoss", discretization="IMEX")
    layer = jax.tree_util.tree_map(lambda x: x, layer)
    layer = eqx_replace(layer, a_hat=a_hat, steps=steps)
    lam = np.abs(np.asarray(transition_eigenvalues(layer.transition())))
    dt = jax.nn.sigmoid(steps)
    cond = np.asarray(dt**2 * jax.nn.relu(a_hat) <= 4.0)
    assert cond.mean() > 0.5
    np.testing.assert_allclose(lam[:, cond], 1.0, atol=1e-5)


def test_im_eigenvalue_magnitude():
    a_hat, steps, _ = _raw(1)
    layer = eqx_replace(_layer("linoss", discretization="IM"), a_hat=a_hat, steps=steps)
    lam = np.abs(np.asarray(transition_eigenvalues(layer.transition())))
    dt, a = jax.nn.sigmoid(steps), jax.nn.relu(a_hat)
    expected = np.asarray(1.0 / jnp.sqrt(1.0 + dt**2 * a))
    np.testing.assert_allclose(lam, np.broadcast_to(expected, lam.shape), rtol=1e-5, atol=1e-6)


def test_dlinoss_projection_gives_complex_pair_inside_unit_circle():
    a_hat, steps, g_hat = _raw(2)
    a_hat = a_hat * 50.0  # far outside the band, both sides
    layer = eqx_replace(_layer("d-linoss"), a_hat=a_hat, steps=steps, g_hat=g_hat)
    a, g, dt = layer.parameters()
    lam = np.abs(np.asarray(transition_eigenvalues(layer.transition())))
    expected = np.asarray(1.0 / jnp.sqrt(1.0 + dt * g))
    np.testing.assert_allclose(lam, np.broadcast_to(expected, lam.shape), rtol=1e-4)
    # G = ReLU(G_hat) >= 0 (the and the official parameterisation): |lambda| <= 1
    # always, and < 1 wherever the damping dt G is resolvable in float32 (1 - |lambda| ~ dt G/2).
    damped = np.asarray(dt * g > 1e-6)
    assert damped.mean() > 0.4
    assert np.all(lam[:, damped] < 1.0) and np.all(lam <= 1.0 + 1e-6)
    # strictly inside the band: an exact complex-conjugate pair of equal magnitude
    low, high = ((jnp.sqrt(1 + dt * g) - 1) / dt) ** 2, ((jnp.sqrt(1 + dt * g) + 1) / dt) ** 2
    assert bool(jnp.all((a >= low * (1 - 1e-6)) & (a <= high * (1 + 1e-6))))


def test_dlinoss_ring_init_inverts_closed_form():
    k1, k2, k3 = jax.random.split(jax.random.key(3), 3)
    r = jax.random.uniform(k1, (256,), minval=0.5, maxval=0.999)
    theta = jax.random.uniform(k2, (256,), minval=0.1, maxval=jnp.pi - 0.1)
    dt = jax.random.uniform(k3, (256,), minval=0.3, maxval=0.7)
    a, g = ring_init(r, theta, dt)
    np.testing.assert_allclose(project_a(a, g, dt), a, rtol=1e-4)
    lam = np.asarray(transition_eigenvalues(damped_transition(a, g, dt)))
    np.testing.assert_allclose(np.abs(lam), np.broadcast_to(np.asarray(r), lam.shape), rtol=1e-3)
    np.testing.assert_allclose(
        np.sort(np.abs(np.angle(lam)), axis=0)[0], np.asarray(theta), atol=2e-2
    )


def eqx_replace(module, **fields):
    import equinox as eqx

    names = list(fields)
    return eqx.tree_at(lambda m: [getattr(m, n) for n in names], module, [fields[n] for n in names])
