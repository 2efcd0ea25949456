"""Faults at awkward instants: a runner killed inside its bookkeeping, the local Ray's raylet
killed under a running study, workers dying as they start, a PostgreSQL restart mid-study.

Each test checks the promise of the runner (`search._runner`): no grid point lost or run
twice, a status that never calls a grid finished early, and a run that either rides the fault
through or stops with one line saying to `resume`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import psutil
import pytest
from optuna.trial import TrialState

from ssmtune import spaces
from ssmtune.studies import FAULT_ENV, point_key

ROOT = Path(__file__).parents[2]
SPACE = str(ROOT / "spaces" / "examples" / "small-linoss.toml")
GRID = spaces.get(SPACE).grid()
SSMTUNE = [sys.executable, "-m", "ssmtune.search.cli"]
N = 6


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", FAULT_ENV)}
    env.update(SSMTUNE_HEARTBEAT_S="1", PYTHONPATH=str(ROOT), RAY_USAGE_STATS_ENABLED="0")
    env.update(extra)
    return env


def _start(url: str, name: str, objective: str, *extra: str) -> list[str]:
    return SSMTUNE + ["study", "start", "--task", "basicmotions", "--space", SPACE, "--name",
                      name, "--n-trials", str(N), "--workers", "2", "--storage", url,
                      "--objective", objective, "--quiet", *extra]  # fmt: skip


def _trials(url: str, name: str, *states: TrialState) -> list[optuna.trial.FrozenTrial]:
    try:
        study = optuna.load_study(study_name=name, storage=url)
    except Exception:  # not created yet
        return []
    return study.get_trials(states=states or None)


def _wait_for(check, timeout: float, proc: subprocess.Popen | None = None) -> None:  # noqa: ANN001
    deadline = time.time() + timeout
    while not check():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the driver ended early: {proc.stderr.read()}")
        if time.time() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def _resume(url: str, name: str, **env: str) -> dict:
    done = subprocess.run(
        SSMTUNE + ["study", "resume", name, "--storage", url, "--json"],
        cwd=ROOT, env=_env(**env), capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _assert_each_point_complete_once(url: str, name: str) -> None:
    study = optuna.load_study(study_name=name, storage=url)
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert sorted(point_key(t.params) for t in complete) == sorted(point_key(p) for p in GRID[:N])
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))


def _status(url: str, name: str) -> dict:
    out = subprocess.run(
        SSMTUNE + ["study", "status", name, "--storage", url, "--json"],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


# ------------------------------------------------------------- the fail-and-requeue window
@pytest.mark.parametrize(
    "backend,point",
    [
        ("sqlite", "requeue-before-commit"),
        ("sqlite", "requeue-after-commit"),
        ("postgres", "requeue-before-commit"),
    ],
)
def test_driver_killed_while_it_requeues_a_dead_workers_trial_loses_no_point(
    backend: str, point: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A worker dies; the driver is SIGKILLed exactly while it fails that trial and queues
    its retry (inside the transaction, or just after its commit); `resume` then runs every
    grid point to COMPLETE exactly once. Before the fail and the re-queue were one
    transaction, the point was lost: 5 COMPLETE, 1 FAIL, nothing queued, "6/6 finished"."""
    url = request.getfixturevalue(f"{backend}_url")
    name = "window"
    env = _env(SSMTUNE_TEST_MARKERS=str(tmp_path), **{FAULT_ENV: point})
    proc = subprocess.Popen(
        _start(url, name, "tests.search._fakes:dies_once"),
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        proc.wait(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    assert (tmp_path / f"{name}.died").exists()
    trials = _trials(url, name)
    failed = [t for t in trials if t.state == TrialState.FAIL]
    if point == "requeue-before-commit":  # rolled back: the trial is still RUNNING
        assert failed == []
    else:  # both written: the failed trial and its retry, waiting
        (dead,) = failed
        retries = [t for t in trials if t.user_attrs.get("retry_of") == dead.number]
        assert [t.state for t in retries] == [TrialState.WAITING]
    status = _status(url, name)
    assert status["finished"] < N and status["n_complete"] == status["finished"]
    summary = _resume(url, name, SSMTUNE_TEST_MARKERS=str(tmp_path))
    assert summary["finished"] == summary["n_complete"] == N
    _assert_each_point_complete_once(url, name)
    assert _status(url, name)["finished"] == N


# ----------------------------------------------------------------------- Ray's processes
def test_killed_raylet_ends_the_run_with_one_line_and_resume_finishes(sqlite_url: str) -> None:
    """SIGKILL the raylet of the driver's local Ray mid-study: the driver stops within
    seconds with one line saying to resume (it used to wait forever in the main loop), its
    trials in flight are re-queued, and `resume` finishes the grid."""
    name = "raylet"
    proc = subprocess.Popen(
        _start(sqlite_url, name, "tests.search._fakes:slow"),
        cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for(lambda: len(_trials(sqlite_url, name, TrialState.RUNNING)) == 2, 120, proc)
        raylets = [
            p for p in psutil.Process(proc.pid).children(recursive=True) if p.name() == "raylet"
        ]
        assert len(raylets) == 1
        t0 = time.time()
        raylets[0].send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=90)
        ended_s = time.time() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert proc.returncode == 2 and len(lines) == 1, err
    assert "raylet" in lines[0] and f"ssmtune study resume {name}" in lines[0]
    assert "Traceback" not in err
    assert ended_s < 60
    assert not _trials(sqlite_url, name, TrialState.RUNNING)  # re-queued, not left running
    _resume(sqlite_url, name)
    _assert_each_point_complete_once(sqlite_url, name)


@pytest.mark.usefixtures("ray_local")
def test_workers_that_die_while_starting_are_replaced(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first two worker processes die at their first call: both are replaced, the study
    finishes on two workers, and the summary counts what really ran. (They used to be given
    up: no worker left, "no worker could start".)"""
    from ssmtune.search import _runner
    from ssmtune.search._progress import closing_lines
    from ssmtune.search._start import start_study
    from tests.search._fakes import DiesWhileStarting

    monkeypatch.setattr(_runner, "TrialWorker", DiesWhileStarting)
    summary = start_study(
        task="basicmotions", space=SPACE, storage=sqlite_url, workers=2, n_trials=4,
        objective="tests.search._fakes:quick",
    )  # fmt: skip
    assert Path(
        sqlite_url.removeprefix("sqlite:///") + f".{summary['name']}.start-death-1"
    ).exists()
    assert summary["worker_start_failures"] == 2 and summary["workers_running"] == 2
    assert summary["n_complete"] == summary["finished"] == 4
    assert "on 2 workers (2 worker starts failed)" in "\n".join(closing_lines(summary))


# ------------------------------------------------------------------- PostgreSQL restarts
def _pg_ctl(server: dict, *args: str) -> None:
    subprocess.run(
        [*server["pg_ctl"], *args], check=True, capture_output=True, user=server["os_user"],
        cwd=server["cwd"], timeout=60,
    )  # fmt: skip


def test_postgres_restart_and_a_10s_stop_mid_study_are_ridden_through(
    postgres_url: str, postgres_server: dict
) -> None:
    """`pg_ctl restart` while trials run, then the server stopped for 10 s: the driver and the
    workers wait for it, keep training and finish every point once (the driver used to exit
    1 with a StorageInternalError)."""
    name = "pgrestart"
    proc = subprocess.Popen(
        _start(postgres_url, name, "tests.search._fakes:slow", "--json"),
        cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for(lambda: len(_trials(postgres_url, name, TrialState.RUNNING)) == 2, 120, proc)
        _pg_ctl(postgres_server, "-m", "fast", "restart")
        _wait_for(lambda: len(_trials(postgres_url, name, TrialState.COMPLETE)) >= 3, 120, proc)
        _pg_ctl(postgres_server, "-m", "fast", "stop")
        time.sleep(10)
        _pg_ctl(postgres_server, "start")
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "pg-s3cret-word" not in out + err
    summary = json.loads(out)
    assert summary["n_complete"] == summary["finished"] == N
    _assert_each_point_complete_once(postgres_url, name)


def test_postgres_down_past_the_limit_stops_with_one_line_then_resume_finishes(
    postgres_url: str, postgres_server: dict
) -> None:
    """The server stays down longer than the outage limit (``$SSMTUNE_OUTAGE_S``, 4 s here):
    the driver stops with one line that says to resume, without a traceback; `resume` with
    the server back finishes the grid."""
    name = "pgdown"
    proc = subprocess.Popen(
        _start(postgres_url, name, "tests.search._fakes:slow"),
        cwd=ROOT, env=_env(SSMTUNE_OUTAGE_S="4"), stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    stopped = False
    try:
        _wait_for(lambda: len(_trials(postgres_url, name, TrialState.RUNNING)) == 2, 120, proc)
        _pg_ctl(postgres_server, "-m", "fast", "stop")
        stopped = True
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        if stopped:
            _pg_ctl(postgres_server, "start")
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert proc.returncode == 2 and len(lines) == 1, err
    assert "unreachable" in lines[0] and f"ssmtune study resume {name}" in lines[0]
    assert "Traceback" not in err and "pg-s3cret-word" not in err
    _resume(postgres_url, name)
    _assert_each_point_complete_once(postgres_url, name)


def test_outage_retry_gives_up_after_the_limit_with_one_line() -> None:
    """`retrying` itself: a call that keeps failing with a connection error is retried until
    the limit, then a one-line StudyError naming the study and hiding the password."""
    from sqlalchemy.exc import OperationalError

    from ssmtune.studies._errors import StudyError
    from ssmtune.studies._storage import retrying

    calls: list[float] = []

    def down() -> None:
        calls.append(time.monotonic())
        raise OperationalError("SELECT 1", {}, Exception("connection refused by pw-123"))

    url = "postgresql+psycopg://u:pw-123@127.0.0.1:1/db"
    with pytest.raises(StudyError) as info:
        retrying(down, what="read", url=url, study="s", outage_s=1.0)
    message = str(info.value)
    assert "\n" not in message and "pw-123" not in message and "study resume s" in message
    assert len(calls) >= 3 and calls[-1] - calls[0] >= 0.9
    answers = iter([OperationalError("x", {}, Exception("down")), 7])

    def flaky() -> int:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert retrying(flaky, what="read", outage_s=5.0) == 7
    with pytest.raises(ValueError):  # not an outage: raised at once
        retrying(lambda: int("x"), what="read", outage_s=5.0)
