"""`ssmtune study ...` from the outside: bad input, real training, the optuna CLI, SIGKILL and
resume (SQLite and PostgreSQL), and a two-node Ray cluster losing a node."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from ssmtune import spaces
from ssmtune.studies import point_key
from tests.search._cli import run_main

ROOT = Path(__file__).parents[2]
SPACE = str(ROOT / "spaces" / "examples" / "small-linoss.toml")
GRID = spaces.get(SPACE).grid()
SSMTUNE = [sys.executable, "-m", "ssmtune.search.cli"]
SLOW = "tests.search._fakes:slow"


_main = run_main


def _studies(url: str) -> list[str]:
    if url.startswith("sqlite") and not Path(url.removeprefix("sqlite:///")).exists():
        return []
    return [s.study_name for s in optuna.get_all_study_summaries(url)]


BAD = {
    "unknown space": ["--space", "no-such-space"],
    "mismatched model": ["--space", "d-linoss-reduced", "--model", "lru"],
    "negative trials": ["--space", SPACE, "--n-trials", "-3"],
    "bad storage URL": ["--space", SPACE, "--storage", "mysql://u:hidden-pw@h/db"],
    "unreachable database": [
        "--space", SPACE, "--storage", "postgresql+psycopg://u:hidden-pw@127.0.0.1:1/db"
    ],
    "sqlite with a remote cluster": ["--space", SPACE, "--ray-address", "10.255.255.1:6379"],
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exits_2_in_one_line_and_creates_no_study(
    case: str, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    args = ["study", "start", "--task", "basicmotions", "--storage", sqlite_url, *BAD[case]]
    code, out, err = _main(monkeypatch, capsys, *args)
    assert code == 2, (out, err)
    assert err.strip().startswith("error: ") and err.strip().count("\n") == 0, err
    assert "hidden-pw" not in err + out
    assert _studies(sqlite_url) == []


def test_other_settings_for_an_existing_name_are_refused(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from ssmtune.search._start import plan_study
    from ssmtune.studies import create_or_continue
    from ssmtune.studies._storage import open_storage

    request = plan_study(task="basicmotions", space=SPACE, name="x")
    create_or_continue(open_storage(sqlite_url), "x", request.settings)
    args = ["study", "start", "--task", "basicmotions", "--space", SPACE, "--name", "x",
            "--sampler", "random", "--n-trials", "3", "--storage", sqlite_url]  # fmt: skip
    code, _, err = _main(monkeypatch, capsys, *args)
    assert code == 2 and "exists with other settings" in err and "sampler random" in err
    code, _, err = _main(monkeypatch, capsys, "study", "status", "nope", "--storage", sqlite_url)
    assert code == 2 and "studies there: x" in err


@pytest.mark.usefixtures("ray_local")
def test_real_training_end_to_end_and_the_optuna_cli_agrees(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Two real trials (models.train on BasicMotions, a few steps), then status, list and the
    optuna CLI on the same storage."""
    args = ["study", "start", "--task", "basicmotions", "--space", SPACE, "--n-trials", "2",
            "--max-steps", "4", "--eval-every", "2", "--workers", "2", "--storage", sqlite_url,
            "--json"]  # fmt: skip
    code, out, err = _main(monkeypatch, capsys, *args)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["n_complete"] == 2 and summary["finished"] == 2, summary
    name = summary["name"]
    assert name == "basicmotions-small-linoss-grid"
    study = optuna.load_study(study_name=name, storage=sqlite_url)
    for t in study.trials:
        assert t.user_attrs["steps"] == 4 and t.user_attrs["status"] in ("ok", "early_stopped")
        assert set(t.intermediate_values) == {2, 4}
        assert t.user_attrs["device"] and t.user_attrs["device_s"] > 0
    assert study.user_attrs["protocol"]["max_steps"] == 4
    code, out, _ = _main(monkeypatch, capsys, "study", "status", name, "--storage", sqlite_url, "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["best_trial"] == summary["best_trial"]
    code, out, _ = _main(monkeypatch, capsys, "study", "list", "--storage", sqlite_url, "--json")
    (row,) = json.loads(out)
    for key in ("name", "task", "model", "space", "sampler", "n_complete", "n_pruned", "n_fail", "best_value"):  # fmt: skip
        assert key in row
    optuna_cli = str(Path(sys.executable).parent / "optuna")
    best = subprocess.run(
        [optuna_cli, "best-trial", "--study-name", name, "--storage", sqlite_url, "-f", "json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(best.stdout)["number"] == summary["best_trial"]
    trials = subprocess.run(
        [optuna_cli, "trials", "--study-name", name, "--storage", sqlite_url, "-f", "json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert len(json.loads(trials.stdout)) == 2


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(SSMTUNE_HEARTBEAT_S="1", PYTHONPATH=str(ROOT), RAY_USAGE_STATS_ENABLED="0")
    return env


def _complete(url: str, name: str) -> list[optuna.trial.FrozenTrial]:
    try:
        return optuna.load_study(study_name=name, storage=url).get_trials(
            states=(TrialState.COMPLETE,)
        )
    except Exception:  # not created yet
        return []


def _kill_then_resume(url: str, extra: list[str]) -> None:
    name, n = "killed", 6
    start = SSMTUNE + ["study", "start", "--task", "basicmotions", "--space", SPACE, "--name",
                       name, "--n-trials", str(n), "--workers", "2", "--storage", url,
                       "--objective", SLOW, "--quiet", *extra]  # fmt: skip
    proc = subprocess.Popen(start, cwd=ROOT, env=_env(), stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while len(_complete(url, name)) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    before = {t.number: (t.datetime_complete, t.value) for t in _complete(url, name)}
    assert 2 <= len(before) < n
    study = optuna.load_study(study_name=name, storage=url)
    running_at_kill = {t.number for t in study.get_trials(states=(TrialState.RUNNING,))}
    assert running_at_kill  # left behind by the dead driver
    resume = SSMTUNE + ["study", "resume", name, "--storage", url, "--json", *extra]
    done = subprocess.run(resume, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["finished"] == n
    study = optuna.load_study(study_name=name, storage=url)
    # The dead driver's Ray workers may still finish the trial they hold before Ray reaps
    # them; every other trial it left RUNNING must have been found stale and re-queued.
    state = {t.number: t.state for t in study.trials}
    orphans_done = {k for k in running_at_kill if state[k] == TrialState.COMPLETE}
    assert summary["requeued_stale"] == len(running_at_kill - orphans_done)
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert sorted(point_key(t.params) for t in complete) == sorted(point_key(p) for p in GRID[:n])
    after = {t.number: (t.datetime_complete, t.value) for t in complete}
    assert all(after[k] == v for k, v in before.items())  # completed trials untouched
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))
    for t in study.get_trials(states=(TrialState.FAIL,)):
        assert "runner lost" in t.user_attrs["fail_reason"]
    assert "pg-s3cret-word" not in done.stdout + done.stderr


def test_sigkill_then_resume_sqlite(sqlite_url: str) -> None:
    _kill_then_resume(sqlite_url, [])


def test_sigkill_then_resume_postgres(postgres_url: str, ray_local: str) -> None:
    # the session's Ray serves as "a cluster" here, which SQLite would refuse
    _kill_then_resume(postgres_url, ["--ray-address", ray_local])


def test_json_output_stays_json_when_a_worker_dies(sqlite_url: str) -> None:
    """A killed worker makes Ray print "(raylet) A worker died ..." into the driver's stdout;
    with --json that goes to stderr and stdout holds the summary alone."""
    start = SSMTUNE + ["study", "start", "--task", "basicmotions", "--space", SPACE,
                       "--n-trials", "3", "--workers", "2", "--storage", sqlite_url,
                       "--objective", "tests.search._fakes:dies_once", "--json"]  # fmt: skip
    done = subprocess.run(start, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["worker_deaths"] == 1 and summary["n_complete"] == 3, summary
    assert "worker died" in done.stderr.lower()


def test_two_node_cluster_losing_a_node_still_completes(sqlite_url: str) -> None:
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, connect=False, head_node_args={"num_cpus": 1})
    try:
        node = cluster.add_node(num_cpus=1)
        name, n = "cluster", 5
        start = SSMTUNE + ["study", "start", "--task", "basicmotions", "--space", SPACE,
                           "--name", name, "--n-trials", str(n), "--workers", "2", "--storage",
                           sqlite_url, "--objective", SLOW, "--ray-address", cluster.address,
                           "--json"]  # fmt: skip
        proc = subprocess.Popen(start, cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            try:
                study = optuna.load_study(study_name=name, storage=sqlite_url)
                running = study.get_trials(states=(TrialState.RUNNING,))
            except Exception:
                running = []
            if len(running) == 2 and all("ssmtune:pid" in t.system_attrs for t in running):
                break
            time.sleep(0.2)
        time.sleep(0.5)
        cluster.remove_node(node)
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        summary = json.loads(out)
        assert summary["ray"]["nodes"] == 2 and summary["worker_deaths"] >= 1
        study = optuna.load_study(study_name=name, storage=sqlite_url)
        complete = study.get_trials(states=(TrialState.COMPLETE,))
        assert sorted(point_key(t.params) for t in complete) == sorted(
            point_key(p) for p in GRID[:n]
        )
        failed = study.get_trials(states=(TrialState.FAIL,))
        assert failed and all("worker died" in t.user_attrs["fail_reason"] for t in failed)
    finally:
        cluster.shutdown()


@pytest.mark.usefixtures("ray_local")
def test_resume_with_a_larger_budget_runs_the_points_the_budget_skipped(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """`study start --budget-hours` on one worker leaves the two hidden-64 points of a 2 x 2
    grid waiting (0.8 s pays for the two hidden-16 ones: `tests.search.test_budget`);
    `study resume --budget-hours` at what the study spent is one line, exit 2, and leaves the
    storage as it was; a larger one runs the two waiting points (each grid point once, all
    complete) and is recorded."""
    space = tmp_path / "grid.toml"
    space.write_text(
        'name = "grid"\nmodel = "linoss"\n[params]\ndiscretization = "IM"\n'
        "lr = [1e-4, 2e-4]\nblocks = 2\nhidden = [16, 64]\nstate = 16\ninclude_time = false\n"
    )
    common = ["--storage", sqlite_url, "--objective", "tests.search._fakes:priced", "--json"]
    args = ["study", "start", "--task", "basicmotions", "--space", str(space), "--name", "b",
            "--workers", "1", "--max-steps", "20", "--eval-every", "5",
            "--budget-hours", str(0.8 / 3600), *common]  # fmt: skip
    code, out, err = _main(monkeypatch, capsys, *args)
    assert code == 0, err
    first = json.loads(out)
    assert first["stopped_by"] == "budget" and first["budget_skipped"] == 2, first
    spent_h = first["device_hours"]

    db = Path(sqlite_url.removeprefix("sqlite:///"))
    before = _file_hashes(db)
    for budget in (spent_h, spent_h / 2):
        code, out, err = _main(
            monkeypatch, capsys, "study", "resume", "b", "--budget-hours", repr(budget), *common
        )
        assert code == 2 and not out, (out, err)
        assert err.startswith("error: --budget-hours ") and err.strip().count("\n") == 0, err
        assert "not larger than" in err and f"{spent_h:.4g} device-hours" in err, err
        assert _file_hashes(db) == before

    code, out, err = _main(
        monkeypatch, capsys, "study", "resume", "b", "--budget-hours", repr(20 * 0.8 / 3600),
        *common,
    )  # fmt: skip
    assert code == 0, err
    again = json.loads(out)
    assert again["stopped_by"] is None and again["budget_skipped"] == 0, again
    study = optuna.load_study(study_name="b", storage=sqlite_url)
    assert len(study.trials) == 4 and all(t.state == TrialState.COMPLETE for t in study.trials)
    grid = sorted(map(point_key, spaces.get(str(space)).grid()))
    assert sorted(point_key(t.params) for t in study.trials) == grid
    assert study.user_attrs["budget_hours"] == pytest.approx(20 * 0.8 / 3600)


def _file_hashes(db: Path) -> list[str]:
    """SHA-256 of a SQLite file and its WAL, read in another process: closing a file this
    process has open releases its SQLite locks (POSIX), which corrupts a WAL database."""
    code = (
        "import hashlib, pathlib, sys\n"
        "for p in sys.argv[1:]:\n"
        "    f = pathlib.Path(p)\n"
        "    print(hashlib.sha256(f.read_bytes()).hexdigest() if f.exists() else '-')\n"
    )
    files = [str(db), f"{db}-wal"]
    done = subprocess.run(
        [sys.executable, "-c", code, *files], capture_output=True, text=True, check=True
    )
    hashes = done.stdout.split()
    assert len(hashes) == 2 and hashes[0] != "-", done
    return hashes
