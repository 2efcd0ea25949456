"""The records a study is started from: a checked `StudyRequest` and an `Execution`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import get_args, get_type_hints

import pytest

from ssmtune import studies
from ssmtune.search import Execution, StudyRequest, plan_study
from ssmtune.studies import StudyError, StudySettings

SPACE = str(Path(__file__).parents[2] / "spaces" / "examples" / "small-linoss.toml")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"workers": 0}, "`workers` must be an integer >= 1, got 0"),
        ({"batch_trials": 0}, "`batch_trials` must be an integer >= 1, got 0"),
        ({"cpus_per_trial": -2.0}, "`cpus_per_trial` must be a number > 0, got -2.0"),
        ({"gpus_per_trial": float("nan")}, "`gpus_per_trial` must be a number >= 0, got nan"),
    ],
)
def test_execution_refuses_bad_numbers_naming_the_argument(fields, message):
    with pytest.raises(StudyError) as exc:
        Execution(**fields)
    assert str(exc.value) == message


def test_execution_is_frozen_and_takes_the_address_from_the_environment(monkeypatch):
    execution = Execution(workers=2, gpus_per_trial=0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        execution.workers = 3  # type: ignore[misc]
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")
    assert execution.address == "10.0.0.1:6379"
    assert Execution(ray_address="127.0.0.1:1").address == "127.0.0.1:1"
    monkeypatch.delenv("RAY_ADDRESS")
    assert execution.address is None


def test_plan_study_returns_a_frozen_request_of_the_grid():
    request = plan_study(task="basicmotions", space=SPACE, n_trials=3, max_steps=4, eval_every=2)
    assert isinstance(request, StudyRequest)
    assert request.name == "basicmotions-small-linoss-grid"
    assert len(request.points) == 3 and isinstance(request.points, tuple)
    assert request.settings.protocol["max_steps"] == 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.name = "other"  # type: ignore[misc]


def test_sampler_and_pruner_names_are_literals_of_the_settings():
    hints = get_type_hints(StudySettings)
    assert get_args(hints["sampler"]) == studies.SAMPLERS == ("grid", "random", "tpe", "gp")
    assert get_args(hints["pruner"]) == studies.PRUNERS == ("none", "median", "hyperband")
    assert get_args(hints["direction"]) == ("maximize", "minimize")
