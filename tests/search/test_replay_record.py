"""What a replay needs is in every finished trial (issue 24): its evaluations as
``[step, val, test, device_s]`` (`search._worker.EVALS_ATTR`) and its seed, written by the
worker with the result, for real training and for a stand-in objective."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from ssmtune.search._worker import EVALS_ATTR, SEED_ATTR

ROOT = Path(__file__).parents[2]
SPACE = str(ROOT / "spaces" / "examples" / "small-linoss.toml")


def _complete(url: str, name: str) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=name, storage=url)
    return study.get_trials(states=(TrialState.COMPLETE,))


@pytest.mark.usefixtures("ray_local")
def test_a_trained_trial_records_its_evaluations_and_seed(sqlite_url: str) -> None:
    from ssmtune.search import start_study

    start_study(
        task="basicmotions", space=SPACE, storage=sqlite_url, workers=1, n_trials=2,
        max_steps=6, eval_every=2, name="rec", seed=7,
    )  # fmt: skip
    trials = _complete(sqlite_url, "rec")
    assert len(trials) == 2
    for t in trials:
        evals = t.user_attrs[EVALS_ATTR]
        assert [e[0] for e in evals] == [2, 4, 6]
        assert {e[0]: e[1] for e in evals} == t.intermediate_values
        best = max(e[1] for e in evals)
        last_best = [e for e in evals if e[1] == best][-1]
        assert last_best[2] == t.user_attrs["test"] and t.value == best
        device_s = [e[3] for e in evals]
        assert device_s == sorted(device_s) and 0 < device_s[-1] <= t.user_attrs["device_s"]
        assert t.user_attrs[SEED_ATTR] == 7


@pytest.mark.usefixtures("ray_local")
def test_a_stand_in_objective_gets_its_reports_recorded(sqlite_url: str) -> None:
    from ssmtune.search import start_study

    start_study(
        task="basicmotions", space=SPACE, storage=sqlite_url, workers=1, n_trials=2,
        name="fake", objective="tests.search._fakes:quick",
    )  # fmt: skip
    for t in _complete(sqlite_url, "fake"):
        evals = t.user_attrs[EVALS_ATTR]
        assert [e[0] for e in evals] == [10, 20, 30] and all(e[2] is None for e in evals)
        assert {e[0]: e[1] for e in evals} == t.intermediate_values
        assert 0 < evals[0][3] < evals[-1][3] <= t.user_attrs["device_s"]
