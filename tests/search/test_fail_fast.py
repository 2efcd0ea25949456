"""Fail fast (issue 23): a run whose first trials all raise the same error stops with that error
in one line, its points stay queued, and `resume` runs them once the cause is fixed.

The rule itself (`search._fail_fast.FailFast`) is pure; the runs use the session's local Ray and
the fakes of `tests.search._fakes` (`broken` raises ``RuntimeError: boom`` at every trial).
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from ssmtune import spaces
from ssmtune.search import _fail_fast
from ssmtune.search._fail_fast import FailFast
from ssmtune.studies import StudyError, point_key, study_status, trial_point

ROOT = Path(__file__).parents[2]
SPACE = str(ROOT / "spaces" / "examples" / "small-linoss.toml")
GRID = spaces.get(SPACE).grid()


def test_the_module_examples_hold() -> None:
    failed, tried = doctest.testmod(_fail_fast)
    assert tried > 0 and failed == 0


def test_the_rule_trips_on_the_third_same_error() -> None:
    rule = FailFast(limit=3)
    assert not rule.failed(10, "RuntimeError: boom")
    assert not rule.failed(11, "RuntimeError: boom")
    assert rule.failed(12, "RuntimeError: boom")
    assert rule.trials == [10, 11, 12] and rule.reason == "RuntimeError: boom"


def test_a_result_or_a_second_error_settles_the_run() -> None:
    after_result = FailFast(limit=2)
    after_result.failed(1, "E: a")
    after_result.succeeded()
    assert not after_result.failed(2, "E: a") and not after_result.failed(3, "E: a")
    two_errors = FailFast(limit=2)
    assert not two_errors.failed(1, "E: a")
    assert not two_errors.failed(2, "E: b")
    assert not two_errors.failed(3, "E: a") and not two_errors.failed(4, "E: a")


def _waiting_per_point(url: str, name: str) -> dict[str, int]:
    study = optuna.load_study(study_name=name, storage=url)
    counts: dict[str, int] = {}
    for t in study.get_trials(states=(TrialState.WAITING,)):
        key = point_key(trial_point(t))
        counts[key] = counts.get(key, 0) + 1
    return counts


@pytest.mark.usefixtures("ray_local")
def test_a_run_whose_trials_all_raise_the_same_error_stops_and_resumes(sqlite_url: str) -> None:
    from ssmtune.search import resume_study, start_study

    with pytest.raises(StudyError) as raised:
        start_study(
            task="basicmotions", space=SPACE, storage=sqlite_url, workers=2, name="bug",
            objective="tests.search._fakes:broken",
        )  # fmt: skip
    message = str(raised.value)
    assert "\n" not in message
    assert "RuntimeError: boom" in message and "ssmtune study resume bug" in message
    study = optuna.load_study(study_name="bug", storage=sqlite_url)
    trials = study.get_trials()
    boom = [t for t in trials if t.user_attrs.get("fail_reason") == "RuntimeError: boom"]
    assert len(boom) == 3  # stopped after the third, not after the whole grid of 12
    named = re.search(r"\(trial (\d+): RuntimeError: boom\)", message)
    assert named and int(named.group(1)) in {t.number for t in boom}  # the first to fail
    assert not study.get_trials(states=(TrialState.COMPLETE, TrialState.RUNNING))
    # every point is queued once: the three that failed, the one in flight, the rest
    assert _waiting_per_point(sqlite_url, "bug") == {point_key(p): 1 for p in GRID}
    assert study_status(study)["n_lost"] == 0
    # the cause fixed (here: another objective), resume runs every point once
    summary = resume_study("bug", storage=sqlite_url, objective="tests.search._fakes:quick")
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert sorted(point_key(t.params) for t in complete) == sorted(point_key(p) for p in GRID)
    assert summary["finished"] == len(GRID) and summary["n_lost"] == 0


@pytest.mark.usefixtures("ray_local")
def test_different_errors_run_the_plan_and_the_closing_line_says_none_was_retried(
    sqlite_url: str,
) -> None:
    """Errors that differ per point are not one cause: the run goes through its plan, and the
    closing line does not blame worker trouble or used-up retries."""
    from ssmtune.search import start_study
    from ssmtune.search._progress import closing_lines

    summary = start_study(
        task="basicmotions", space=SPACE, storage=sqlite_url, workers=1, n_trials=4, name="bugs",
        objective="tests.search._fakes:broken_per_point",
    )  # fmt: skip
    assert summary["n_fail"] == summary["n_lost"] == 4 and summary["retries"] == 0
    text = "\n".join(closing_lines(summary))
    assert (
        "4 trials failed without a result (none was retried; the last: RuntimeError: boom at"
        in text
    )
    assert "retries used up" not in text and "worker or database" not in text


def test_the_command_exits_2_with_one_line(tmp_path: Path) -> None:
    """``ssmtune study start`` with a broken objective: exit code 2, one line on stderr naming
    the error, no traceback; `study status` then shows every point waiting."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(PYTHONPATH=str(ROOT), RAY_USAGE_STATS_ENABLED="0")
    ssmtune = [sys.executable, "-m", "ssmtune.search.cli"]
    done = subprocess.run(
        [*ssmtune, "study", "start", "--task", "basicmotions", "--space", SPACE, "--name", "bug",
         "--workers", "1", "--storage", url, "--objective", "tests.search._fakes:broken", "-q"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "RuntimeError: boom" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    status = subprocess.run(
        [*ssmtune, "study", "status", "bug", "--storage", url],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert f"waiting {len(GRID)}" in status.stdout
