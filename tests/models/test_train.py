"""Training one config (models.train): the protocol, its edge cases and its cost (the command
`ssmtune train` is tested in tests/search/test_train_cli.py).

Every BasicMotions run here uses the same tiny LinOSS structure and eval_every, so they share
one compiled step (the first test pays the compilation, the others reuse it).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ssmtune import models, tasks
from ssmtune.models._compile import TRACES
from ssmtune.models._data import Batches
from ssmtune.models._time_channel import time_encoder, with_time_slot

EVAL_EVERY = 25


@pytest.fixture(scope="module", autouse=True)
def private_compilation_cache(tmp_path_factory):
    """Point the persistent compilation cache at a fresh folder (unless an earlier test in this
    process already switched it on), so the tests never touch ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("jax-cache")
        mp.setenv("SSMTUNE_CACHE", str(path))
        yield None if jax.config.jax_compilation_cache_dir else path


@pytest.fixture(scope="module")
def basicmotions() -> tasks.Dataset:
    return tasks.load("basicmotions", seed=2345)


def tiny(data: tasks.Dataset, name: str = "linoss", include_time: bool = False, **fields):
    base = models.config(name, **{"hidden": 16, "state": 16, "blocks": 1, **fields})
    return models.fit_config(base, data.info, include_time)


def opts(**fields) -> models.TrainOptions:
    return models.TrainOptions(**{"lr": 3e-3, "max_steps": 100, "eval_every": EVAL_EVERY, **fields})


# --- options ---------------------------------------------------------------------------------


def test_defaults_are_the_benchmark_protocol():
    o = models.TrainOptions()
    assert (o.lr, o.optimizer, o.weight_decay, o.schedule) == (1e-3, "adam", 0.0, "constant")
    assert (o.batch_size, o.max_steps, o.eval_every, o.patience) == (32, 100_000, 1_000, 10)
    assert o.ssm_lr is None and o.include_time is False
    assert models.train_option_names() == (
        "lr", "ssm_lr", "optimizer", "weight_decay", "schedule", "warmup_steps",
        "batch_size", "max_steps", "eval_every", "patience", "include_time",
    )  # fmt: skip


@pytest.mark.parametrize(
    "fields",
    [
        {"lr": 0.0},
        {"lr": float("nan")},
        {"lr": "1e-3"},
        {"ssm_lr": -1.0},
        {"optimizer": "sgd"},
        {"weight_decay": -0.1},
        {"schedule": "linear"},
        {"warmup_steps": -1},
        {"batch_size": 0},
        {"max_steps": 0},
        {"max_steps": 1.5},
        {"eval_every": True},
        {"patience": -1},
        {"include_time": "yes"},
    ],
)
def test_bad_options_raise_config_error(fields):
    with pytest.raises(models.ConfigError, match="train option") as info:
        models.TrainOptions(**fields)
    assert "\n" not in str(info.value)


def test_lr_factor_warmup_then_cosine():
    f = lambda step, cos: float(models.lr_factor(step, 10.0, 110.0, cos))  # noqa: E731
    assert f(0, 0.0) == pytest.approx(0.1) and f(9, 0.0) == pytest.approx(1.0)
    assert f(500, 0.0) == 1.0  # constant after the warmup
    assert f(10, 1.0) == pytest.approx(1.0)
    assert f(60, 1.0) == pytest.approx(0.5)  # half-way through the decay
    assert f(110, 1.0) == pytest.approx(0.0, abs=1e-7)


def test_complex_parameters_descend():
    """jax.grad of a real loss w.r.t. a complex parameter is the conjugate of the ascent
    direction; Adam on the conjugated gradient must converge on both parts."""
    import jax.numpy as jnp
    import optax

    target = 1.0 + 1.0j
    loss = lambda z: jnp.abs(z - target) ** 2  # noqa: E731
    tx, z = optax.adam(0.1), jnp.complex64(0.0)
    state = tx.init(z)
    for _ in range(300):
        updates, state = tx.update(models.descent_gradients(jax.grad(loss)(z)), state, z)
        z = optax.apply_updates(z, updates)
    assert abs(complex(z) - target) < 1e-3
    real = {"w": jnp.ones(2)}
    assert models.descent_gradients(real)["w"] is real["w"]


def test_batches_visit_every_case_once_per_epoch():
    b = Batches(10, 4, np.random.default_rng(0))
    idx = b.take(5)  # 20 indices: two full epochs
    assert idx.shape == (5, 4) and idx.dtype == np.int32
    flat = idx.ravel()
    assert sorted(flat[:10]) == list(range(10)) and sorted(flat[10:]) == list(range(10))


# --- fitting a config to a task ----------------------------------------------------------------


def test_fit_config_sets_data_fields():
    info = tasks.info("running-mean@50")
    cfg = models.fit_config(models.config("lru"), info, include_time=True)
    assert (cfg.in_channels, cfg.out_dim, cfg.head) == (2, 1, "regression")
    cfg = models.fit_config(models.config("linoss"), tasks.info("basicmotions"), False)
    assert (cfg.in_channels, cfg.out_dim, cfg.head) == (6, 4, "classification")


def test_config_that_does_not_fit_raises(basicmotions):
    cfg = models.config("linoss", in_channels=3, out_dim=4, hidden=8, state=8, blocks=1)
    with pytest.raises(models.ConfigError, match="fit_config"):
        models.train(cfg, basicmotions, opts(), seed=0)


def test_ssm_labels_pick_the_recurrence_parameters(basicmotions):
    model = models.build(tiny(basicmotions), key=jax.random.key(0))
    labels = models.ssm_labels(model)
    layer = labels.blocks[0].layer
    assert (layer.a_hat, layer.steps, layer.b) == ("ssm", "ssm", "ssm")
    assert (layer.c, layer.d) == ("other", "other")
    assert labels.encoder.weight == "other" and labels.head.weight == "other"


# --- training -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["linoss", "d-linoss"])
def test_short_run_on_basicmotions_is_clearly_above_chance(basicmotions, name):
    calls = []
    result = models.train(
        tiny(basicmotions, name),
        basicmotions,
        opts(max_steps=200),
        seed=1,
        callback=lambda step, val: calls.append((step, val)),
    )
    assert result.metric == "accuracy" and result.status == "ok"
    assert result.test >= 0.75  # 4 classes: chance is 0.25
    assert result.val == max(v for _, v in result.history)
    assert calls == result.history == [(s, v) for s, v in result.history]
    assert [s for s, _ in result.history] == [25, 50, 75, 100, 125, 150, 175, 200]
    assert result.steps == 200 and 0 < result.best_step <= 200
    assert result.device == jax.devices()[0].device_kind and result.device_count == 1
    assert result.wall_s > 0 and result.examples_per_s > 0 and result.compile_s >= 0
    assert result.peak_mem is None or result.peak_mem > 0
    assert result.diverged_step is None


def test_persistent_compilation_cache_is_on(basicmotions, private_compilation_cache):
    models.train(tiny(basicmotions), basicmotions, opts(max_steps=25), seed=0)
    cache_dir = jax.config.jax_compilation_cache_dir
    assert cache_dir
    if private_compilation_cache is not None:
        assert cache_dir == str(private_compilation_cache)
        assert models.compilation_cache_dir() == private_compilation_cache


def test_same_seed_same_result(basicmotions):
    cfg = tiny(basicmotions)
    a = models.train(cfg, basicmotions, opts(), seed=7)
    b = models.train(cfg, basicmotions, opts(), seed=7)
    assert (a.val, a.test, a.history, a.best_step) == (b.val, b.test, b.history, b.best_step)


def test_changing_only_optimiser_scalars_compiles_nothing(basicmotions):
    cfg = tiny(basicmotions)
    models.train(cfg, basicmotions, opts(max_steps=25), seed=0)  # compiled (or cached) here
    traces = dict(TRACES)
    compiles = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(duration)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        for changed in [
            {"lr": 1e-2},
            {"lr": 1e-4, "ssm_lr": 1e-3, "optimizer": "adamw", "weight_decay": 0.05},
            {"schedule": "cosine", "warmup_steps": 10, "max_steps": 50},
        ]:
            result = models.train(cfg, basicmotions, opts(**{"max_steps": 25, **changed}), seed=1)
            assert result.compile_s == 0.0
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    assert dict(TRACES) == traces
    assert compiles == []


def test_precompile_then_train_compiles_nothing(basicmotions):
    cfg = tiny(basicmotions, hidden=24)  # a shape no other test compiles
    options = opts(max_steps=25)
    assert models.precompile(cfg, basicmotions, options, seed=3) > 0
    traces = dict(TRACES)
    assert models.precompile(cfg, basicmotions, options, seed=4) == 0.0
    result = models.train(cfg, basicmotions, options, seed=5)
    assert result.compile_s == 0.0 and result.steps == 25
    assert dict(TRACES) == traces


def test_threads_asking_for_one_new_shape_compile_it_once(basicmotions):
    import threading

    cfg = tiny(basicmotions, hidden=20)
    traces = dict(TRACES)
    seconds: list[float] = []
    start = threading.Barrier(3)

    def ask() -> None:
        start.wait()
        seconds.append(models.precompile(cfg, basicmotions, opts(max_steps=25), seed=0))

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert TRACES["train"] == traces.get("train", 0) + 1
    assert TRACES["eval"] == traces.get("eval", 0) + 1
    assert len(seconds) == 3 and all(s > 0 for s in seconds)  # the waiters count their wait


def test_initialisation_is_one_compiled_program_per_config(basicmotions):
    cfg = tiny(basicmotions, hidden=12)
    compiles = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(duration)

    models.train(cfg, basicmotions, opts(max_steps=25), seed=0)
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:  # another seed, same config: nothing to compile, not even one eager op
        assert models.train(cfg, basicmotions, opts(max_steps=25), seed=1).compile_s == 0.0
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    assert compiles == []


@pytest.mark.parametrize("name", ["linoss", "d-linoss", "s4d", "lru"])
def test_an_empty_time_channel_changes_nothing(basicmotions, name):
    import equinox as eqx

    cfg = tiny(basicmotions, name)
    key = jax.random.key(0)
    model, state = eqx.nn.make_with_state(models.build)(cfg, key=key)
    wide_model, _ = eqx.nn.make_with_state(models.build)(with_time_slot(cfg), key=key)
    wide = time_encoder(wide_model, model.encoder, False)
    assert time_encoder(wide_model, model.encoder, True).encoder == wide_model.encoder
    x = jnp.asarray(basicmotions.train.x[:4])
    mask = jnp.asarray(basicmotions.train.mask[:4])
    x_wide = jnp.concatenate([jnp.zeros_like(x[..., :1]), x], axis=-1)
    k = jax.random.key(1)  # the same dropout masks for both

    def fresh():  # equinox refuses to reuse a state object
        return jax.tree.map(lambda a: a, state)

    out, _ = models.apply(model, fresh(), x, mask, key=k)
    out_wide, _ = models.apply(wide, fresh(), x_wide, mask, key=k)
    np.testing.assert_allclose(out_wide, out, rtol=1e-6, atol=1e-6)

    def loss(m):
        return jnp.sum(models.apply(m, fresh(), x_wide, mask, key=k)[0] ** 2)

    grad = jax.grad(loss)(wide).encoder.weight
    assert grad.shape == (16, basicmotions.info.channels + 1)
    assert np.all(np.asarray(grad[:, 0]) == 0.0) and np.any(np.asarray(grad[:, 1:]) != 0.0)


def test_runs_with_and_without_time_share_the_training_step(basicmotions):
    cfg = tiny(basicmotions, hidden=28)
    models.train(cfg, basicmotions, opts(max_steps=25), seed=0)
    traces = dict(TRACES)
    with_time = tiny(basicmotions, include_time=True, hidden=28)
    result = models.train(with_time, basicmotions, opts(max_steps=25, include_time=True), seed=0)
    assert result.steps == 25 and math.isfinite(result.val)
    assert dict(TRACES) == traces
    assert result.compile_s == 0.0  # the initialisation is shared too
    key = models.compile_key
    assert key(cfg, opts()) == key(with_time, opts(include_time=True))
    assert models.batch_key(cfg, opts()) != models.batch_key(with_time, opts(include_time=True))


def test_nan_loss_stops_with_status_diverged(basicmotions):
    poisoned = basicmotions.train._replace(x=np.full_like(basicmotions.train.x, np.nan))
    data = tasks.Dataset(basicmotions.info, poisoned, basicmotions.val, basicmotions.test)
    result = models.train(tiny(basicmotions), data, opts(), seed=0)
    assert result.status == "diverged" and result.diverged_step == 1 and result.steps == 1
    assert result.val is None and result.test is None and result.history == []


def test_huge_learning_rate_diverges_without_exception(basicmotions):
    result = models.train(tiny(basicmotions), basicmotions, opts(lr=1e30), seed=0)
    assert result.status == "diverged"
    assert 1 <= result.diverged_step <= 100 and result.steps == result.diverged_step


def test_callback_prunes(basicmotions):
    seen = []

    def prune_at_second(step, val):
        seen.append(step)
        return len(seen) == 2

    result = models.train(
        tiny(basicmotions), basicmotions, opts(), seed=0, callback=prune_at_second
    )
    assert result.status == "pruned" and result.steps == 2 * EVAL_EVERY
    assert seen == [EVAL_EVERY, 2 * EVAL_EVERY] and len(result.history) == 2


def test_early_stop_after_patience_evaluations_without_strict_improvement(basicmotions):
    result = models.train(
        tiny(basicmotions), basicmotions, opts(max_steps=2_000, patience=2), seed=1
    )
    assert result.status == "early_stopped" and result.steps < 2_000
    vals = [v for _, v in result.history]
    best_before = max(vals[:-3])
    assert all(v <= best_before for v in vals[-3:])  # patience 2: stops at the 3rd
    assert result.val == max(vals)


def test_last_partial_chunk_is_trained_and_evaluated(basicmotions):
    result = models.train(tiny(basicmotions), basicmotions, opts(max_steps=60), seed=0)
    assert result.steps == 60 and [s for s, _ in result.history] == [25, 50, 60]


def test_include_time_adds_the_channel(basicmotions):
    cfg = tiny(basicmotions, include_time=True)
    assert cfg.in_channels == 7
    result = models.train(cfg, basicmotions, opts(include_time=True, max_steps=25), seed=0)
    assert result.status == "ok" and result.val is not None


def test_regression_path_learns_the_running_mean():
    data = tasks.load("running-mean@50", seed=0)
    baseline = float(np.mean(data.val.y[data.val.target_mask] ** 2))  # predicting 0
    result = models.train(tiny(data), data, opts(max_steps=100), seed=0)
    assert result.metric == "mse" and result.status == "ok"
    assert result.val < 0.5 * baseline and math.isfinite(result.test)
    assert result.val == min(v for _, v in result.history)
