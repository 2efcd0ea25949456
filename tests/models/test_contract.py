"""Contract tests run for EVERY registered model: adding a model to the registry tests it."""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ssmtune import models

NAMES = models.names()
SMALL = dict(in_channels=3, out_dim=4, hidden=8, state=6, blocks=1)


@eqx.filter_jit
def _apply(model, state, x, mask, *, key, inference):
    return models.apply(model, state, x, mask, key=key, inference=inference)


def _fresh(state):
    """A clone of an eqx State, so that it may be used more than once."""
    leaves, treedef = jax.tree_util.tree_flatten(state)
    return jax.tree_util.tree_unflatten(treedef, leaves)


def _build(name, **fields):
    cfg = models.config(name, **{**SMALL, **fields})
    model = models.build(cfg, key=jax.random.key(0))
    return cfg, model, eqx.nn.State(model)


def _batch(length=24, batch=3, channels=3, seed=1):
    x = jax.random.normal(jax.random.key(seed), (batch, length, channels))
    lengths = jnp.array([length, length - 5, length - 11])[:batch]
    mask = jnp.arange(length)[None, :] < lengths[:, None]
    return x, mask


def test_registry_names():
    assert NAMES == ["linoss", "d-linoss", "s4", "s4d", "hope", "lru"]
    for name in NAMES:
        cfg = models.config(name)
        assert cfg.name == name
        assert models.field_names(name)[:8] == (
            "in_channels",
            "out_dim",
            "head",
            "hidden",
            "state",
            "blocks",
            "dropout",
            "norm",
        )
        with pytest.raises(dataclasses.FrozenInstanceError):
            cfg.hidden = 3


@pytest.mark.parametrize("name", NAMES)
def test_each_model_is_a_config_class_and_a_final_layer_built_from_it(name):
    cfg = models.config(name, **SMALL)
    assert type(cfg) is models.config_class(name)
    layer = models.layer(cfg, key=jax.random.key(0))
    assert isinstance(layer, models.AbstractSSMLayer)
    again = type(layer).from_config(cfg, key=jax.random.key(0))
    assert eqx.tree_equal(layer, again)
    assert layer(jnp.ones((5, SMALL["hidden"]))).shape == (5, SMALL["hidden"])
    others = [type(models.layer(models.config(n, **SMALL), key=jax.random.key(0))) for n in NAMES]
    assert not any(issubclass(o, type(layer)) for o in others if o is not type(layer))


def test_the_abstract_layer_cannot_be_built():
    with pytest.raises(TypeError, match="abstract"):
        models.AbstractSSMLayer()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("head", ["classification", "regression"])
def test_output_shape_and_determinism(name, head):
    x, mask = _batch()
    expected = (3, 4) if head == "classification" else (3, 24, 4)
    outs = []
    for _ in range(2):  # same key twice: bit-identical model and output
        _, model, state = _build(name, head=head)
        out, new_state = _apply(model, state, x, mask, key=jax.random.key(2), inference=False)
        outs.append(np.asarray(out))
    assert out.shape == expected
    assert out.dtype == jnp.float32
    assert np.all(np.isfinite(outs[0]))
    np.testing.assert_array_equal(outs[0], outs[1])
    out_inf, _ = _apply(model, new_state, x, mask, key=None, inference=True)
    assert out_inf.shape == expected
    # another key gives another model
    other = models.build(models.config(name, **{**SMALL, "head": head}), key=jax.random.key(1))
    out_other, _ = _apply(
        other, eqx.nn.State(other), x, mask, key=jax.random.key(2), inference=False
    )
    assert not np.allclose(outs[0], np.asarray(out_other))


@pytest.mark.parametrize("name", NAMES)
def test_gradients_finite(name):
    _, model, state = _build(name)
    x, mask = _batch()
    y = jnp.array([0, 1, 3])

    @eqx.filter_grad
    def grad(m):
        logits, _ = models.apply(m, _fresh(state), x, mask, key=jax.random.key(3), inference=False)
        return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(3), y])

    grads = eqx.filter_jit(grad)(model)
    leaves = jax.tree.leaves(eqx.filter(grads, eqx.is_inexact_array))
    assert leaves
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in leaves)
    layer_grads = jax.tree.leaves(eqx.filter(grads.blocks[0].layer, eqx.is_inexact_array))
    assert any(float(jnp.abs(g).max()) > 0 for g in layer_grads)


PADDING_CASES = [(name, "classification", "batch") for name in NAMES] + [
    ("lru", "regression", "layer"),
    ("s4d", "regression", "batch"),
]


@pytest.mark.parametrize(("name", "head", "norm"), PADDING_CASES)
def test_padding_invariance(name, head, norm):
    # HOPE's kernel samples its transfer function at L points, so with Delta != 1 it depends
    # on the padded length through aliasing (see models/_hope.py); with Delta = 1 it is exact.
    extra = dict(dt_min=1.0, dt_max=1.0) if name == "hope" else {}
    _, model, state = _build(name, head=head, norm=norm, dropout=0.0, **extra)
    x, mask = _batch()
    pad = 9
    garbage = 1e3 * jax.random.normal(jax.random.key(7), (3, pad, 3))
    x_pad = jnp.concatenate([x, garbage], axis=1)
    mask_pad = jnp.concatenate([mask, jnp.zeros((3, pad), bool)], axis=1)
    # garbage also in the padded steps inside the original length
    x_pad = jnp.where(mask_pad[..., None], x_pad, 1e3)
    for inference in (False, True):
        out, s1 = _apply(model, _fresh(state), x, mask, key=None, inference=inference)
        out_pad, s2 = _apply(model, _fresh(state), x_pad, mask_pad, key=None, inference=inference)
        if head == "regression":
            out, out_pad = out * mask[..., None], (out_pad[:, :24]) * mask[..., None]
        np.testing.assert_allclose(np.asarray(out), np.asarray(out_pad), rtol=1e-4, atol=1e-5)
        for a, b in zip(jax.tree.leaves(s1), jax.tree.leaves(s2), strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_bad_values_raise_config_error(name):
    bad = {
        "hidden": 0,
        "state": -1,
        "blocks": 1.5,
        "dropout": 1.0,
        "norm": "group",
        "head": "ranking",
        "in_channels": True,
    }
    for field, value in bad.items():
        with pytest.raises(models.ConfigError) as info:
            models.config(name, **{field: value})
        assert field in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(models.ConfigError, match="norm must be one of batch, layer"):
        models.config(name, norm="group")
    with pytest.raises(models.ConfigError, match="valid fields: in_channels"):
        models.config(name, hiddne=3)
    if "scan" in models.field_names(name):
        with pytest.raises(models.ConfigError, match="auto, parallel, sequential"):
            models.config(name, scan="fast")


@pytest.mark.parametrize("name", NAMES)
def test_numpy_values_give_the_config_of_python_values(name):
    """The shared checks (models/_checks.py) store numpy scalars as the Python values they hold,
    for configs as for train options, so both compare, hash and serialise alike."""
    python = models.config(name, hidden=16, dropout=0.25)
    from_numpy = models.config(name, hidden=np.int64(16), dropout=np.float32(0.25))
    assert from_numpy == python and hash(from_numpy) == hash(python)
    assert type(from_numpy.hidden) is int and type(from_numpy.dropout) is float
    options = models.TrainOptions(lr=np.float32(0.5), max_steps=np.int64(10), include_time=np.True_)
    assert options == models.TrainOptions(lr=0.5, max_steps=10, include_time=True)
    assert [type(v) for v in (options.lr, options.max_steps, options.include_time)] == [
        float,
        int,
        bool,
    ]
    with pytest.raises(models.ConfigError, match="hidden must be an integer >= 1"):
        models.config(name, hidden=np.float64(16.0))
    with pytest.raises(models.ConfigError, match="train option include_time must be true or false"):
        models.TrainOptions(include_time=np.int64(1))


def test_model_specific_choices():
    with pytest.raises(models.ConfigError, match="discretization must be one of IM, IMEX"):
        models.config("linoss", discretization="EX")
    with pytest.raises(models.ConfigError, match="init must be one of inv, lin"):
        models.config("s4d", init="legs")
    with pytest.raises(models.ConfigError, match="r_min <= r_max"):
        models.config("d-linoss", r_min=0.9, r_max=0.5)
    with pytest.raises(models.ConfigError, match="theta_min"):
        models.config("d-linoss", theta_max=4.0)
    with pytest.raises(models.ConfigError, match="r_max must be < 1"):
        models.config("lru", r_max=1.0)
    with pytest.raises(models.ConfigError, match="dt_min"):
        models.config("s4", dt_min=0.0)
    with pytest.raises(
        models.ConfigError, match="valid models: linoss, d-linoss, s4, s4d, hope, lru"
    ):
        models.config("mamba")
    assert models.config("LinOSS").name == "linoss"


def test_jaxtyping_checks_are_active():
    import jaxtyping

    _, model, state = _build("lru")
    x, mask = _batch()
    with pytest.raises(jaxtyping.TypeCheckError):
        models.apply(model, state, x, mask[:, :-1], key=None, inference=True)
    with pytest.raises(jaxtyping.TypeCheckError):
        model.blocks[0].layer(jnp.ones(10))  # (length,) instead of (length, hidden)
    with pytest.raises(jaxtyping.TypeCheckError):
        models.apply(model, state, x.astype(jnp.int32), mask, key=None, inference=True)
