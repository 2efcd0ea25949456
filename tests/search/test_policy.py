"""Search policy (`search._policy`): every sampler a study may record works with every pruner.

Contract tests over `studies.SAMPLERS` x `studies.PRUNERS`: a new name is tested by adding it.
"""

from __future__ import annotations

import itertools

import optuna
import pytest
from optuna.trial import TrialState

from ssmtune.search._policy import make_pruner, make_sampler, study_policy
from ssmtune.studies import PRUNERS, SAMPLERS, StudyError, StudySettings

PROTOCOL = {"max_steps": 40, "eval_every": 10, "patience": 2, "batch_size": 8}


def run_study(sampler: str, pruner: str, seed: int, n: int = 6) -> optuna.Study:
    """`n` trials of a 1-D quadratic, each reporting four evaluations, in memory."""
    settings = StudySettings(
        task="t", model="m", space="s", space_size=None, sampler=sampler, pruner=pruner,
        protocol=PROTOCOL, seed=seed, direction="minimize", n_trials=n,
    )  # fmt: skip
    sampler_, pruner_ = study_policy(settings)
    study = optuna.create_study(sampler=sampler_, pruner=pruner_, direction="minimize")
    for _ in range(n):
        trial = study.ask()
        x = trial.suggest_float("x", -2.0, 2.0)
        for step in range(10, 41, 10):
            trial.report((x - 0.5) ** 2 + 1.0 / step, step)
            if trial.should_prune():
                study.tell(trial, state=TrialState.PRUNED)
                break
        else:
            study.tell(trial, (x - 0.5) ** 2)
    return study


@pytest.mark.parametrize(("sampler", "pruner"), list(itertools.product(SAMPLERS, PRUNERS)))
def test_every_sampler_runs_with_every_pruner(sampler: str, pruner: str) -> None:
    study = run_study(sampler, pruner, seed=3)
    assert len(study.trials) == 6
    assert all(-2.0 <= t.params["x"] <= 2.0 for t in study.trials)
    assert {t.state for t in study.trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    assert study.trials[0].state == TrialState.COMPLETE  # nothing to compare the first with
    again = run_study(sampler, pruner, seed=3)
    assert [t.params for t in again.trials] == [t.params for t in study.trials]  # seeded


def test_the_objects_behind_the_names() -> None:
    assert isinstance(make_sampler("grid", 0), optuna.samplers.RandomSampler)  # a placeholder
    assert isinstance(make_sampler("tpe", 0), optuna.samplers.TPESampler)
    assert isinstance(make_pruner("none", PROTOCOL), optuna.pruners.NopPruner)
    assert isinstance(make_pruner("median", PROTOCOL), optuna.pruners.MedianPruner)
    assert isinstance(make_pruner("hyperband", PROTOCOL), optuna.pruners.HyperbandPruner)


@pytest.mark.parametrize("make", [lambda: make_sampler("cmaes", 0), lambda: make_pruner("sha", {})])
def test_an_unknown_name_is_one_line_naming_the_choices(make) -> None:
    with pytest.raises(StudyError, match=r"^unknown (sampler 'cmaes'|pruner 'sha'); .*: "):
        make()
