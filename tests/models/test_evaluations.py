"""Each run records its evaluations (`models.Evaluation`, issue 24): step and validation as in
`history`, the test metric where it was read (at each new best validation) and the seconds since
the run started, compilation included. A replay of the run needs nothing more."""

from __future__ import annotations

import math

import pytest

from ssmtune import models, tasks

OPTIONS = models.TrainOptions(max_steps=40, eval_every=10, batch_size=8)


@pytest.fixture(scope="module")
def data():
    return tasks.load("basicmotions", seed=2345)


def _config(data, hidden: int = 8):
    cfg = models.config("linoss", hidden=hidden, state=8, blocks=1)
    return models.fit_config(cfg, data.info, include_time=False)


def _check(result: models.TrainResult) -> None:
    evals = result.evaluations
    assert [(e.step, e.val) for e in evals] == result.history
    assert len(evals) == 4 and evals[0].test is not None  # the first is a best
    best_so_far = -math.inf
    for e in evals:  # a test was read exactly where the validation was best so far (ties too)
        assert (e.test is not None) == (e.val >= best_so_far), evals
        best_so_far = max(best_so_far, e.val)
    (at_best,) = [e for e in evals if e.step == result.best_step]
    assert at_best.test == result.test and at_best.val == result.val
    times = [e.elapsed_s for e in evals]
    assert times == sorted(times) and times[0] >= result.compile_s
    assert times[-1] <= result.wall_s + result.prior_s


def test_a_run_records_its_evaluations(data) -> None:
    result = models.train(_config(data), data, OPTIONS, seed=3)
    _check(result)
    assert result.to_dict()["evaluations"] == [list(e) for e in result.evaluations]


def test_each_member_of_a_vmapped_run_records_its_own(data) -> None:
    configs = [_config(data), _config(data)]
    results = models.train_batch(configs, data, [OPTIONS, OPTIONS.replace(lr=1e-2)], seeds=[3, 4])
    for result in results:
        _check(result)
    assert results[0].evaluations != results[1].evaluations
