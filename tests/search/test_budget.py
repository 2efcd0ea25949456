"""Budgets that hold (``--budget-hours``): the runner predicts each trial's cost, starts only
what the budget can pay for, and stops a trial that overruns at the budget.

The objectives are the fakes of known cost in `tests.search._fakes` (`priced`: `price_of`
seconds plus `COMPILE_S` for a shape new to the worker; `slows_down`: 10 times that after a
worker's first trial). The spaces are LinOSS grids of `lr` x `hidden` on BasicMotions (length
100): a hidden-64 point costs ten times a hidden-16 one (`spaces.point_cost`).
"""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

import spaces
from search._start import resume_study, start_study
from search._worker import BUDGET_REASON
from studies._status import study_cost_s
from studies._study import point_key
from tests.search._fakes import price_of

pytestmark = pytest.mark.usefixtures("ray_local")

PRICED = "tests.search._fakes:priced"


def _space(folder: Path, n_lr: int, hidden: tuple[int, ...] = (16, 64)) -> str:
    """A grid of `n_lr` learning rates x `hidden`, in grid order lr-major."""
    lrs = ", ".join(f"{(i + 1) * 1e-4:.1e}" for i in range(n_lr))
    sizes = ", ".join(map(str, hidden))
    path = folder / f"budget-{n_lr}-{len(hidden)}.toml"
    path.write_text(
        f'name = "budget-{n_lr}"\nmodel = "linoss"\n[params]\ndiscretization = "IM"\n'
        f"lr = [{lrs}]\nblocks = 2\nhidden = [{sizes}]\nstate = 16\ninclude_time = false\n"
    )
    return str(path)


def _start(url: str, space: str, budget_s: float, **kw):
    args = dict(
        task="basicmotions", space=space, storage=url, workers=2, max_steps=20, eval_every=5,
        budget_hours=budget_s / 3600.0, objective=PRICED,
    )  # fmt: skip
    args.update(kw)
    return start_study(**args)


def _study(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=url)


def _spent_s(study: optuna.Study) -> float:
    return study_cost_s(study.get_trials())


def test_budgeted_study_ends_within_5_percent_of_its_budget(sqlite_url: str, tmp_path) -> None:
    """60 points of 0.1 s and 1 s (3 s and 31 s in all) under a 5 s budget on two workers:
    the study spends 5 s +- 5 %. (The runner used to start trials until the budget was
    reached and let them finish: one or two 1-s trials past it.)"""
    budget_s = 5.0
    summary = _start(sqlite_url, _space(tmp_path, 30), budget_s, name="within")
    study = _study(sqlite_url, "within")
    spent = _spent_s(study)
    assert summary["stopped_by"] == "budget"
    assert summary["device_hours"] * 3600 == pytest.approx(spent)
    assert abs(spent - budget_s) <= 0.05 * budget_s, spent
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.FAIL))
    # the budget ran out with points left: they were skipped, not started
    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert waiting and summary["budget_skipped"] == len(waiting)
    assert all(t.datetime_start is None for t in waiting)


def test_too_expensive_grid_point_is_not_started_and_resume_runs_it(
    sqlite_url: str, tmp_path
) -> None:
    """One worker, 4 points: the two hidden-16 points (0.1 s each, plus 0.1 s compiling)
    fit in 0.8 s, a hidden-64 one (1 s) does not: both stay WAITING, never started, and a
    `resume` with a larger budget runs them, each point once."""
    space = _space(tmp_path, 2)
    budget_s = 0.8
    summary = _start(sqlite_url, space, budget_s, workers=1, name="skip")
    study = _study(sqlite_url, "skip")
    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert summary["stopped_by"] == "budget" and summary["budget_skipped"] == 2
    assert sorted(t.system_attrs["fixed_params"]["hidden"] for t in waiting) == [64, 64]
    assert all(t.datetime_start is None and "node" not in t.user_attrs for t in waiting)
    spent = _spent_s(study)
    assert spent <= budget_s
    spec = type("Spec", (), {"task": "basicmotions", "space": space, "protocol": {"max_steps": 20}})
    assert budget_s - spent < price_of(waiting[0].system_attrs["fixed_params"], spec)
    assert "2 not started for it" in "\n".join(_closing(summary))

    again = resume_study("skip", storage=sqlite_url, budget_hours=20 * budget_s / 3600)
    study = _study(sqlite_url, "skip")
    assert again["stopped_by"] is None and again["budget_skipped"] == 0
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    grid = spaces.get(space).grid()
    assert sorted(point_key(t.params) for t in complete) == sorted(map(point_key, grid))
    assert len(study.trials) == 4 and study.user_attrs["budget_hours"] == 20 * budget_s / 3600


def test_overrunning_trial_is_stopped_at_the_budget_and_pruned_with_its_best(
    sqlite_url: str, tmp_path
) -> None:
    """The second trial of the worker runs 10 times slower than the first predicts (its
    prediction fits what is left, its 100 steps would take 10 times that): it starts, and is
    stopped at the budget (3.5 s in all), PRUNED with its best validation so far, the test
    metric there and the reason."""
    budget_s = 3.5
    summary = _start(
        sqlite_url, _space(tmp_path, 2, (16,)), budget_s, workers=1, max_steps=100,
        eval_every=2, objective="tests.search._fakes:slows_down", name="overrun",
    )  # fmt: skip
    study = _study(sqlite_url, "overrun")
    first, second = study.trials
    assert first.state == TrialState.COMPLETE and "stopped_reason" not in first.user_attrs
    assert second.state == TrialState.PRUNED
    assert second.user_attrs["stopped_reason"] == BUDGET_REASON
    first_s = first.user_attrs["device_s"]
    assert second.user_attrs["predicted_s"] <= budget_s - first_s  # it was started as fitting
    # but ran longer than predicted for all its steps, and stopped before their end
    assert second.user_attrs["wall_s"] > 1.5 * second.user_attrs["predicted_s"]
    assert second.user_attrs["steps"] < 100
    reported = second.intermediate_values
    assert len(reported) > 1 and second.value == max(reported.values())
    assert second.user_attrs["test"] == pytest.approx(second.value / 2)
    assert summary["budget_stopped"] == 1 and summary["n_pruned"] == 1
    assert abs(_spent_s(study) - budget_s) <= 0.05 * budget_s, _spent_s(study)


def test_trial_without_evaluations_is_killed_past_its_deadline(sqlite_url: str, tmp_path) -> None:
    """A 4-s trial that evaluates only at its end under a 1-s budget: its worker cannot stop
    it, so the runner kills it one grace second past the deadline and stores it PRUNED (no
    value, no test metric) with the reason; the study does not run on to 4 s."""
    budget_s = 1.0
    summary = _start(
        sqlite_url, _space(tmp_path, 1, (64,)), budget_s, workers=1, max_steps=80,
        eval_every=80, name="kill",
    )  # fmt: skip
    study = _study(sqlite_url, "kill")
    (trial,) = study.trials
    assert trial.state == TrialState.PRUNED
    assert trial.user_attrs["stopped_reason"] == BUDGET_REASON
    assert trial.user_attrs["test"] is None and trial.value is None
    assert summary["stopped_by"] == "budget" and summary["budget_stopped"] == 1
    assert budget_s < _spent_s(study) <= budget_s + 1.0 + 0.6


def test_sampler_skips_without_failed_or_lost_trials_and_resume_runs_them(
    sqlite_url: str, tmp_path
) -> None:
    """TPE under a budget that pays for about half of its 16 trials: a suggestion that does
    not fit is put back WAITING with its parameters (not FAIL, not left RUNNING, never given
    to a worker); `resume` with a larger budget runs those very trials, and the study ends
    with 16 trials, all COMPLETE."""
    space = _space(tmp_path, 30)
    summary = _start(sqlite_url, space, 3.0, sampler="tpe", n_trials=16, name="tpe")
    study = _study(sqlite_url, "tpe")
    assert not study.get_trials(states=(TrialState.FAIL, TrialState.RUNNING))
    parked = study.get_trials(states=(TrialState.WAITING,))
    assert parked and summary["budget_skipped"] == len(parked)
    assert all(set(t.params) == {"lr", "hidden"} and "node" not in t.user_attrs for t in parked)
    assert summary["stopped_by"] == "budget" and len(study.trials) <= 16

    resume_study("tpe", storage=sqlite_url, budget_hours=1.0)
    after = _study(sqlite_url, "tpe")
    assert len(after.trials) == 16
    assert all(t.state == TrialState.COMPLETE for t in after.trials)
    for t in parked:  # the same trials ran, with the parameters suggested before
        assert after.trials[t.number].params == t.params


def _closing(summary: dict) -> list[str]:
    from search._progress import closing_lines

    return closing_lines({**summary, "storage": "sqlite:///x"})
