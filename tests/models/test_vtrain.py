"""Vectorized trials (models/_vtrain.py): K members in one program behave as K `models.train`
runs, each with its own stops and cost share; members differing in compiled values are refused."""

import itertools
import threading
import time

import numpy as np
import pytest

from ssmtune import models, tasks
from ssmtune.models import ConfigError, TrainOptions, batch_key, train_batch
from ssmtune.models._compile import TRACES

STEPS, EVERY = 20, 10


@pytest.fixture(scope="module")
def data():
    return tasks.load("basicmotions", seed=2345)


@pytest.fixture(scope="module")
def config(data):
    base = models.config("linoss", hidden=8, state=8, blocks=1, dropout=0.0)
    return models.fit_config(base, data.info, include_time=False)


def _opts(**kw):
    return TrainOptions(**{"max_steps": STEPS, "eval_every": EVERY, **kw})


def _close(a, b):
    assert a.status == b.status and a.steps == b.steps and a.best_step == b.best_step
    assert [s for s, _ in a.history] == [s for s, _ in b.history]
    np.testing.assert_allclose([v for _, v in a.history], [v for _, v in b.history], atol=1e-6)
    assert a.test == pytest.approx(b.test, abs=1e-6)


def test_members_match_separate_runs(data, config):
    lrs, seeds = (1e-3, 1e-2, 3e-2), (1, 2, 3)
    opts = [_opts(lr=lr) for lr in lrs]
    batched = train_batch([config] * 3, data, opts, seeds=seeds)
    assert len(batched) == 3
    for res, o, s in zip(batched, opts, seeds, strict=True):
        _close(res, models.train(config, data, o, seed=s))
    # different learning rates really train differently
    assert (
        len({tuple(v for _, v in r.history) for r in batched}) > 1
        or len({r.test for r in batched}) > 1
    )


def test_each_member_stops_on_its_own(data, config):
    opts = [_opts(lr=1e-2), _opts(lr=1e-2, max_steps=EVERY), _opts(lr=1e-3)]
    pruned = []

    def prune_first(step, val):
        pruned.append(step)
        return True

    res = train_batch(
        [config] * 3, data, opts, seeds=[5, 6, 7], callbacks=[prune_first, None, None]
    )
    assert res[0].status == "pruned" and res[0].steps == EVERY and pruned == [EVERY]
    assert res[1].status == "ok" and res[1].steps == EVERY
    assert res[2].status == "ok" and res[2].steps == STEPS
    # the masked members do not disturb the one that runs on
    _close(res[2], models.train(config, data, opts[2], seed=7))


def test_cost_shares_add_up(data, config, monkeypatch):
    """The call's time is shared out whole: with a clock that ticks one second a reading, the
    members' `wall_s` add up to the time from the set-up's first reading to the last, and the
    member that stopped after the first chunk gets less than the one that ran on."""
    main, ticks, readings = threading.get_ident(), itertools.count(), []

    def clock() -> float:
        value = float(next(ticks))
        if threading.get_ident() == main:
            readings.append(value)
        return value

    monkeypatch.setattr(time, "perf_counter", clock)
    opts = [_opts(lr=1e-3), _opts(lr=1e-4, max_steps=EVERY)]
    res = train_batch([config] * 2, data, opts, seeds=[1, 1])
    first, last = readings[0], readings[-1]
    monkeypatch.undo()
    assert [r.steps for r in res] == [STEPS, EVERY]
    assert sum(r.wall_s for r in res) == pytest.approx(last - first)
    assert 0 < res[1].wall_s < res[0].wall_s
    assert all(r.examples_per_s > 0 and r.device_count == 1 for r in res)


def test_traced_values_share_one_executable(data, config):
    train_batch([config] * 2, data, [_opts(lr=1e-3), _opts(lr=1e-4)], seeds=[1, 2])
    before = TRACES["train"]
    res = train_batch(
        [config] * 2,
        data,
        [_opts(lr=5e-3, optimizer="adamw", weight_decay=0.01), _opts(lr=2e-3, warmup_steps=5)],
        seeds=[3, 4],
    )
    assert TRACES["train"] == before
    assert all(r.compile_s == 0.0 for r in res)


def test_batch_key(config):
    assert batch_key(config, _opts(lr=1e-3)) == batch_key(config, _opts(lr=1e-4, patience=2))
    assert batch_key(config, _opts()) != batch_key(config.replace(hidden=16), _opts())
    assert batch_key(config, _opts()) != batch_key(config, _opts(batch_size=16))


@pytest.mark.parametrize(
    "change, match",
    [
        ({"hidden": 16}, "hidden"),
        ({"dropout": 0.2}, "dropout"),
    ],
)
def test_refuses_members_that_differ_in_compiled_values(data, config, change, match):
    with pytest.raises(ConfigError, match=match):
        train_batch([config, config.replace(**change)], data, [_opts(), _opts()], seeds=[1, 2])


def test_refuses_shape_options_and_bad_counts(data, config):
    with pytest.raises(ConfigError, match="batch_size"):
        train_batch([config] * 2, data, [_opts(), _opts(batch_size=16)], seeds=[1, 2])
    with pytest.raises(ConfigError, match="one of each"):
        train_batch([config] * 2, data, [_opts()], seeds=[1, 2])
    with pytest.raises(ConfigError, match="at least one"):
        train_batch([], data, [], seeds=[])
