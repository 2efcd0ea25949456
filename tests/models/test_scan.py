"""The scans against a naive step-by-step loop, and parallel == sequential on every recurrent
model at L = 1,000 with random (not just initial) parameters."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ssmtune import models
from ssmtune.models._scan import diagonal_scan, oscillator_scan, resolve_scan

RECURRENT = [("linoss", {"discretization": "IM"}), ("linoss", {"discretization": "IMEX"}),
             ("d-linoss", {}), ("lru", {})]  # fmt: skip


def _naive_oscillator(m, f1, f2):
    m11, m12, m21, m22 = (np.asarray(v, np.float64) for v in m)
    z = np.zeros_like(m11)
    x = np.zeros_like(m11)
    zs, xs = [], []
    for k in range(f1.shape[0]):
        z, x = m11 * z + m12 * x + f1[k], m21 * z + m22 * x + f2[k]
        zs.append(z)
        xs.append(x)
    return np.stack(zs), np.stack(xs)


@pytest.mark.parametrize("mode", ["parallel", "sequential", "auto"])
def test_oscillator_scan_matches_loop(mode):
    keys = jax.random.split(jax.random.key(0), 7)
    m = tuple(0.7 * jax.random.normal(k, (5,)) for k in keys[:4])
    g1, g2 = (jax.random.normal(k, (5,)) for k in keys[4:6])
    bu = jax.random.normal(keys[6], (13, 5))
    x = oscillator_scan(*m, g1, g2, bu, mode=mode)
    _, x_ref = _naive_oscillator(m, np.asarray(g1 * bu), np.asarray(g2 * bu))
    np.testing.assert_allclose(x, x_ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["parallel", "sequential", "auto"])
def test_diagonal_scan_matches_loop(mode):
    k1, k2, k3 = jax.random.split(jax.random.key(1), 3)
    lam = 0.9 * jnp.exp(1j * jax.random.uniform(k1, (4,), maxval=6.0)).astype(jnp.complex64)
    b = jax.lax.complex(jax.random.normal(k2, (11, 4)), jax.random.normal(k3, (11, 4)))
    xr, xi = diagonal_scan(lam, b.real, b.imag, mode=mode)
    xs = np.asarray(xr) + 1j * np.asarray(xi)
    x, ref = np.zeros(4, np.complex128), []
    for k in range(11):
        x = np.asarray(lam) * x + np.asarray(b[k])
        ref.append(x)
    np.testing.assert_allclose(xs, np.stack(ref), rtol=1e-5, atol=1e-5)


def test_auto_resolves_by_backend():
    assert resolve_scan("parallel", 10) == "parallel"
    assert resolve_scan("sequential", 10_000) == "sequential"
    expected = "sequential" if jax.default_backend() == "cpu" else "parallel"
    assert resolve_scan("auto", 10_000) == expected
    with pytest.raises(models.ConfigError, match="auto, parallel, sequential"):
        resolve_scan("fast", 10)


def _randomise(layer, key):
    """Random raw parameters, well away from the initialisation (negative raw values too)."""
    leaves, treedef = jax.tree_util.tree_flatten(layer)
    keys = jax.random.split(key, len(leaves))
    new = []
    for leaf, k in zip(leaves, keys, strict=True):
        if eqx.is_inexact_array(leaf) and not jnp.iscomplexobj(leaf):
            leaf = leaf + 0.5 * jax.random.normal(k, leaf.shape)
        new.append(leaf)
    return jax.tree_util.tree_unflatten(treedef, new)


@pytest.mark.parametrize(("name", "extra"), RECURRENT)
def test_parallel_equals_sequential_at_1000(name, extra):
    key = jax.random.key(3)
    outs = {}
    for mode in ("parallel", "sequential"):  # "auto" resolves to one of these (tested above)
        cfg = models.config(name, hidden=4, state=5, scan=mode, **extra)
        layer = _randomise(models.layer(cfg, key=key), jax.random.key(4))
        u = jax.random.normal(jax.random.key(5), (1000, 4))
        outs[mode] = np.asarray(eqx.filter_jit(lambda layer, u: layer(u))(layer, u))
    assert np.all(np.isfinite(outs["sequential"]))
    # rtol 1e-4, with an absolute floor of 1e-4 of the output's scale: float32 rounding
    # accumulates over 1,000 steps of an (energy-conserving, for IMEX) recurrence.
    atol = 1e-4 * float(np.abs(outs["sequential"]).max())
    np.testing.assert_allclose(outs["parallel"], outs["sequential"], rtol=1e-4, atol=atol)


@pytest.mark.parametrize(("name", "extra"), RECURRENT)
def test_sequential_gradients_equal_parallel_autodiff(name, extra):
    """The sequential scans' hand-written adjoints agree with autodiff of the parallel scan.

    Compared in float64: random raw parameters can put an oscillator next to the edge of its
    stable band (a near-double eigenvalue), where float32 rounding alone moves a gradient by
    ~1e-4 relative in either scan (D-LinOSS, seeds below: the float32 sequential adjoint is
    2e-5 from the float64 value, the float32 parallel autodiff 1.5e-4)."""
    grads = {}
    for mode in ("parallel", "sequential"):
        cfg = models.config(name, hidden=4, state=5, scan=mode, **extra)
        layer = _randomise(models.layer(cfg, key=jax.random.key(0)), jax.random.key(1))
        u = jax.random.normal(jax.random.key(2), (3, 40, 4))
        with jax.enable_x64(True):
            layer, u = jax.tree.map(_to_float64, (layer, u))

            def loss(layer, u):
                return jnp.sum(jnp.sin(jax.vmap(layer)(u)))

            g_layer, g_u = eqx.filter_jit(eqx.filter_grad(lambda lu: loss(*lu)))((layer, u))
            grads[mode] = jax.tree.leaves(eqx.filter((g_layer, g_u), eqx.is_inexact_array))
    for a, b in zip(grads["parallel"], grads["sequential"], strict=True):
        assert a.dtype in (np.float64, np.complex128)
        scale = float(np.abs(a).max()) + 1e-12
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-9, atol=1e-9 * scale)


def _to_float64(leaf):
    if not eqx.is_inexact_array(leaf):
        return leaf
    return np.asarray(leaf).astype(np.complex128 if jnp.iscomplexobj(leaf) else np.float64)
