"""The runner on the session's local Ray (2 CPUs), with fake objectives that sleep.

Space: spaces/examples/small-linoss.toml, a 12-point grid. The fakes (`tests.search._fakes`)
report three evaluations and return a value that is a function of the point.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from ssmtune import spaces
from ssmtune.search._start import resume_study, start_study
from ssmtune.studies import point_key
from tests.search._fakes import value_of

SPACE = str(Path(__file__).parents[2] / "spaces" / "examples" / "small-linoss.toml")
GRID = spaces.get(SPACE).grid()
FAST = "tests.search._fakes:quick"
SLOW = "tests.search._fakes:slow"

pytestmark = pytest.mark.usefixtures("ray_local")


def _start(url: str, **kw):
    args = dict(task="basicmotions", space=SPACE, storage=url, workers=2, eval_every=10)
    args.update(kw)
    return start_study(**args)


def _load(url: str, name: str = "basicmotions-small-linoss-grid") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=url)


def _finished_points(study: optuna.Study) -> list[str]:
    states = (TrialState.COMPLETE, TrialState.PRUNED)
    return [point_key(t.params) for t in study.get_trials(states=states)]


def test_grid_with_two_workers_runs_each_point_exactly_once(sqlite_url: str) -> None:
    summary = _start(sqlite_url, objective=FAST)
    study = _load(sqlite_url)
    points = _finished_points(study)
    assert len(points) == 12 and len(set(points)) == 12
    assert set(points) == {point_key(p) for p in GRID}
    assert len(study.trials) == 12
    assert summary["n_complete"] == 12 and summary["finished"] == summary["total"] == 12
    best = max(GRID, key=value_of)
    assert summary["best_params"] == best and summary["best_value"] == value_of(best)
    t = study.best_trial
    for key in ("wall_s", "device_s", "compile_s", "steps", "status", "test", "device", "node"):
        assert key in t.user_attrs
    assert t.intermediate_values == {10: pytest.approx(t.value / 3), 20: pytest.approx(2 * t.value / 3), 30: pytest.approx(t.value)}  # fmt: skip
    assert study.user_attrs["execution"]["workers"] == 2
    # a second start continues the same study and has nothing left to do
    again = _start(sqlite_url, objective=FAST)
    assert again["created"] is False and again["trials_run"] == 0
    assert len(_load(sqlite_url).trials) == 12


def _kill_a_running_worker(url: str, name: str, out: dict) -> int:
    """SIGKILL the worker process of the first RUNNING trial that recorded its pid."""
    deadline = time.time() + 90
    while time.time() < deadline and not out:
        try:
            running = _load(url, name).get_trials(states=(TrialState.RUNNING,))
        except Exception:  # the study does not exist yet
            running = []
        for t in running:
            pid = t.system_attrs.get("ssmtune:pid")
            if pid:
                time.sleep(0.5)  # mid-trial
                os.kill(pid, signal.SIGKILL)
                return t.number
        time.sleep(0.1)
    raise AssertionError(f"no running trial to kill; the study ended with {out}")


def _in_thread(fn, **kw):
    out: dict = {}

    def run() -> None:
        try:
            out["summary"] = fn(**kw)
        except BaseException as exc:  # surfaced by the test
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def test_killed_worker_trial_is_retried_and_grid_stays_exactly_once(sqlite_url: str) -> None:
    name = "kill"
    thread, out = _in_thread(_start, url=sqlite_url, objective=SLOW, n_trials=4, name=name)
    try:
        killed = _kill_a_running_worker(sqlite_url, name, out)
    finally:
        thread.join(120)
    assert "error" not in out, out.get("error")
    study = _load(sqlite_url, name)
    points = _finished_points(study)
    assert sorted(points) == sorted(point_key(p) for p in GRID[:4])
    dead = study.trials[killed]
    assert dead.state == TrialState.FAIL and "worker died" in dead.user_attrs["fail_reason"]
    retries = [t for t in study.trials if t.user_attrs.get("retry_of") == killed]
    assert len(retries) == 1 and retries[0].params == dead.params
    assert retries[0].state == TrialState.COMPLETE
    assert out["summary"]["worker_deaths"] == 1 and out["summary"]["retries"] == 1


def test_without_retries_left_the_trial_fails_with_its_reason(sqlite_url: str) -> None:
    name = "noretry"
    thread, out = _in_thread(
        _start, url=sqlite_url, objective=SLOW, n_trials=1, max_retries=0, name=name, workers=1
    )
    killed = _kill_a_running_worker(sqlite_url, name, out)
    thread.join(120)
    study = _load(sqlite_url, name)
    assert len(study.trials) == 1
    reason = study.trials[killed].user_attrs["fail_reason"]
    assert study.trials[killed].state == TrialState.FAIL
    # the library names its argument, not the command line's flag (issue 15)
    assert reason.endswith("; no retry left (`max_retries` = 0)") and "--" not in reason


def test_stop_requeues_running_trials_and_resume_finishes(sqlite_url: str) -> None:
    name = "stop"
    stop = threading.Event()
    thread, out = _in_thread(
        _start, url=sqlite_url, objective=SLOW, n_trials=4, name=name, stop=stop
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if _load(sqlite_url, name).get_trials(states=(TrialState.RUNNING,)):
                break
        except Exception:  # the study does not exist yet
            pass
        time.sleep(0.1)
    stop.set()
    thread.join(60)
    assert "summary" in out, out.get("error", "the study did not stop within 60 s")
    assert out["summary"]["stopped_by"] == "interrupted"
    study = _load(sqlite_url, name)
    assert not study.get_trials(states=(TrialState.RUNNING,))
    interrupted = study.get_trials(states=(TrialState.FAIL,))
    assert interrupted and all("interrupted" in t.user_attrs["fail_reason"] for t in interrupted)
    resume_study(name, storage=sqlite_url, objective=FAST)
    points = _finished_points(_load(sqlite_url, name))
    assert sorted(points) == sorted(point_key(p) for p in GRID[:4])


def test_budget_stops_scheduling(sqlite_url: str) -> None:
    summary = _start(sqlite_url, objective=SLOW, budget_hours=1e-4, name="budget")
    assert summary["stopped_by"] == "budget"
    assert 0 < summary["finished"] < 12 and summary["n_running"] == 0


def test_median_pruner_prunes_through_the_reports(sqlite_url: str) -> None:
    summary = _start(sqlite_url, objective=FAST, pruner="median", name="pruned")
    assert summary["n_pruned"] >= 1 and summary["finished"] == 12
    pruned = _load(sqlite_url, "pruned").get_trials(states=(TrialState.PRUNED,))
    assert all(t.intermediate_values for t in pruned)


def test_tpe_runs_n_trials(sqlite_url: str) -> None:
    summary = _start(sqlite_url, objective=FAST, sampler="tpe", n_trials=5, pruner="hyperband")
    study = _load(sqlite_url, "basicmotions-small-linoss-tpe")
    assert len(study.trials) == 5 and summary["finished"] == 5
    assert study.user_attrs["pruner"] == "hyperband"
