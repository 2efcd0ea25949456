"""Trial checkpoints in a study (`search._checkpoints`, `search._worker`): a worker killed after
its trial's second evaluation, or the driver killed mid-trial, costs only the steps since the
last evaluation; a checkpoint that cannot be used is a fresh start with the reason on the
trial; nothing is left once the study is done.

Real training (small LinOSS on BasicMotions, 4 evaluations of 10 steps) on the session's Ray
or the CLI's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import optuna
import psutil
import pytest
from optuna.trial import TrialState

from ssmtune import models, spaces, tasks
from ssmtune.search._checkpoints import (
    _filesystem_type,
    check_shared,
    default_checkpoint_dir,
    resolve_checkpoint_dir,
    trial_folder,
)
from ssmtune.studies import CARRIED_ATTR, FAULT_ENV, StudyError, study_cost_s, trial_cost_s

ROOT = Path(__file__).parents[2]
SPACE = str(ROOT / "spaces" / "examples" / "small-linoss.toml")
SSMTUNE = [sys.executable, "-m", "ssmtune.search.cli"]
PROTOCOL = dict(max_steps=40, eval_every=10)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", FAULT_ENV)}
    env.update(SSMTUNE_HEARTBEAT_S="1", PYTHONPATH=str(ROOT), RAY_USAGE_STATS_ENABLED="0")
    env.update(extra)
    return env


def _uninterrupted(study: optuna.Study, params: dict) -> models.TrainResult:
    """The trial's run as `train_objective` trains it, in one go, in this process."""
    data = tasks.load("basicmotions", seed=study.user_attrs["seed"])
    config, options = spaces.get(SPACE).to_config(params, task_info=data.info)
    protocol = study.user_attrs["protocol"]
    options = options.replace(**{k: protocol[k] for k in ("max_steps", "eval_every", "patience")})
    return models.train(config, data, options, seed=study.user_attrs["seed"])


def _chain(study: optuna.Study) -> tuple[optuna.trial.FrozenTrial, optuna.trial.FrozenTrial]:
    """The killed trial and its retry, which finished."""
    killed, retry = study.get_trials()
    assert killed.state == TrialState.FAIL and retry.state == TrialState.COMPLETE
    assert retry.user_attrs["retry_of"] == killed.number
    return killed, retry


@pytest.mark.usefixtures("ray_local")
def test_a_worker_killed_after_the_second_evaluation_costs_nothing_but_its_steps_since(
    sqlite_url: str,
) -> None:
    """The worker dies (SIGKILL) right after its trial's second of four evaluations; the retry
    continues from that evaluation's checkpoint, and the trial's value, test metric and whole
    evaluation history are bit-identical to a run never interrupted. A corrupt checkpoint
    left in the trial's folder beforehand was refused, with the reason on the trial. Nothing
    is left in the checkpoint folder at the end."""
    from ssmtune.search._start import start_study

    name = "killed-worker"
    root = default_checkpoint_dir(sqlite_url)
    planted = root / name / "trial-0" / "step-000000000010"
    planted.mkdir(parents=True)
    (planted / "manifest.json").write_text("{torn")
    summary = start_study(
        task="basicmotions", space=SPACE, storage=sqlite_url, name=name, workers=1, n_trials=1,
        objective="tests.search._fakes:trains_dies_once", **PROTOCOL,
    )  # fmt: skip
    assert summary["worker_deaths"] == 1 and summary["n_complete"] == 1
    study = optuna.load_study(study_name=name, storage=sqlite_url)
    assert study.user_attrs["checkpoint_dir"] == str(root)
    killed, retry = _chain(study)
    assert "corrupt" in killed.user_attrs["checkpoint_refused"]
    assert "resumed_from_step" not in killed.user_attrs
    assert sorted(killed.intermediate_values) == [10, 20]
    assert retry.user_attrs["resumed_from_step"] == 20
    assert "checkpoint_refused" not in retry.user_attrs
    assert sorted(retry.intermediate_values) == [30, 40]

    ref = _uninterrupted(study, retry.params)
    assert retry.value == ref.val and retry.user_attrs["test"] == ref.test
    history = {**killed.intermediate_values, **retry.intermediate_values}
    assert sorted(history.items()) == ref.history
    # the retry is charged the killed run's time to the checkpoint; the study counts it once
    carried = retry.user_attrs[CARRIED_ATTR]
    assert 0 < carried < retry.user_attrs["device_s"]
    trials = study.get_trials()
    assert study_cost_s(trials) == pytest.approx(sum(trial_cost_s(t) for t in trials) - carried)
    assert not (root / name).exists()


@pytest.mark.usefixtures("ray_local")
def test_a_worker_killed_before_its_checkpoint_landed_repeats_that_evaluation(
    sqlite_url: str,
) -> None:
    """The checkpoint of an evaluation is written in the background and may land after the
    evaluation's report. The worker dies (SIGKILL) after reporting step 20 while that
    checkpoint is still being written: the retry continues from step 10, reports step 20 on
    its own trial (no clash with the killed trial's report of it) with the same value, and
    its result and history are those of a run never interrupted."""
    from ssmtune.search._start import start_study

    name = "killed-before-write"
    summary = start_study(
        task="basicmotions", space=SPACE, storage=sqlite_url, name=name, workers=1, n_trials=1,
        objective="tests.search._fakes:trains_dies_before_its_write_lands", **PROTOCOL,
    )  # fmt: skip
    assert summary["worker_deaths"] == 1 and summary["n_complete"] == 1
    study = optuna.load_study(study_name=name, storage=sqlite_url)
    killed, retry = _chain(study)
    assert sorted(killed.intermediate_values) == [10, 20]
    assert retry.user_attrs["resumed_from_step"] == 10
    assert sorted(retry.intermediate_values) == [20, 30, 40]
    assert retry.intermediate_values[20] == killed.intermediate_values[20]

    ref = _uninterrupted(study, retry.params)
    assert retry.value == ref.val and retry.user_attrs["test"] == ref.test
    assert sorted({**killed.intermediate_values, **retry.intermediate_values}.items()) == (
        ref.history
    )
    assert 0 < retry.user_attrs[CARRIED_ATTR] < retry.user_attrs["device_s"]
    # written when the retry started, for a runner that would stop it at the budget (1 device)
    assert retry.user_attrs["resumed_spent_s"] == retry.user_attrs[CARRIED_ATTR]
    assert not (default_checkpoint_dir(sqlite_url) / name).exists()


def test_resume_after_the_driver_was_killed_continues_from_the_checkpoints(
    sqlite_url: str, tmp_path: Path
) -> None:
    """`study start` is SIGKILLed while its trial trains (past its second checkpoint);
    `resume` re-queues the trial once its heartbeat is stale, and the retry continues from
    the last checkpoint: its first reported step is past it."""
    name = "killed-driver"
    folder = tmp_path / "ckpt"
    start = SSMTUNE + ["study", "start", "--task", "basicmotions", "--space", SPACE, "--name",
                       name, "--n-trials", "1", "--workers", "1", "--storage", sqlite_url,
                       "--max-steps", "40", "--eval-every", "10", "--checkpoint-dir",
                       str(folder), "--objective", "tests.search._fakes:trains_slowly",
                       "--quiet"]  # fmt: skip
    proc = subprocess.Popen(start, cwd=ROOT, env=_env(), stderr=subprocess.PIPE, text=True)
    trial_dir = folder / name / "trial-0"
    try:
        deadline = time.time() + 180
        while (
            models.latest_checkpoint(trial_dir) is None
            or models.latest_checkpoint(trial_dir).name < "step-000000000020"
        ):
            assert proc.poll() is None, proc.stderr.read()
            assert time.time() < deadline, "no second checkpoint in time"
            time.sleep(0.2)
        study = optuna.load_study(study_name=name, storage=sqlite_url)
        (running,) = study.get_trials(states=(TrialState.RUNNING,))
        worker = running.system_attrs["ssmtune:pid"]
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    psutil.wait_procs([psutil.Process(worker)] if psutil.pid_exists(worker) else [], timeout=60)
    last = int(models.latest_checkpoint(trial_dir).name.removeprefix("step-"))
    assert last in (20, 30)

    done = subprocess.run(
        SSMTUNE + ["study", "resume", name, "--storage", sqlite_url, "--json"],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["n_complete"] == 1
    study = optuna.load_study(study_name=name, storage=sqlite_url)
    killed, retry = _chain(study)
    assert "no heartbeat" in killed.user_attrs["fail_reason"]
    assert retry.user_attrs["resumed_from_step"] == last
    assert min(retry.intermediate_values) > last
    assert not (folder / name).exists()


# ---------------------------------------------------------------------- the folder itself
def test_the_default_folder_is_beside_a_sqlite_file_else_under_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.db"
    assert default_checkpoint_dir(f"sqlite:///{db}") == tmp_path / "s.db.checkpoints"
    monkeypatch.setenv("SSMTUNE_DATA", str(tmp_path / "data"))
    url = "postgresql+psycopg://u:p@h/db"
    assert resolve_checkpoint_dir(None, url) == str(tmp_path / "data" / "checkpoints")
    assert resolve_checkpoint_dir(str(tmp_path / "x" / ".." / "y"), url) == str(tmp_path / "y")


@pytest.mark.parametrize("url", ["gs://bucket/ckpt", "s3://bucket/ckpt"])
def test_an_object_store_url_is_refused_with_one_line(url: str) -> None:
    with pytest.raises(StudyError, match="mount the bucket") as info:
        resolve_checkpoint_dir(url, "sqlite:///s.db")
    assert "\n" not in str(info.value)


def test_a_local_folder_is_refused_when_the_cluster_has_remote_nodes(tmp_path: Path) -> None:
    kind = _filesystem_type(tmp_path)
    if kind is None or not kind.isalnum() or kind.startswith("nfs"):
        pytest.skip(f"{tmp_path} is not on a local filesystem here ({kind})")
    check_shared(tmp_path, 0)  # every node on this machine: any folder will do
    with pytest.raises(StudyError, match="own disk") as info:
        check_shared(tmp_path / "not-yet", 2)
    assert "\n" not in str(info.value) and "2 node(s)" in str(info.value)


def test_retries_share_the_folder_of_their_first_trial(tmp_path: Path) -> None:
    from types import SimpleNamespace as T

    first = trial_folder(tmp_path, "a/b", T(number=4, system_attrs={}))
    retry = trial_folder(tmp_path, "a/b", T(number=9, system_attrs={"failed_trial": 4}))
    assert first == retry == tmp_path / "a_b" / "trial-4"


# ---------------------------------------------------------------------- cost of a resumed trial
def test_a_resumed_trial_stopped_at_the_budget_is_charged_its_carried_time_either_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A trial resumed from a checkpoint (its killed runs spent 30 wall-s to it), on half a
    GPU, stopped at the budget after 10 s of its own: the runner's stop path
    (`stopped_at_budget`, from what the worker wrote when the trial started) charges it what
    the worker's own path (`TrialWorker._record`) does: 40 wall-s, 20 device-s of which 15
    carried; a trial not resumed carries nothing."""
    from datetime import datetime, timedelta
    from types import SimpleNamespace

    from ssmtune.search._budget import stopped_at_budget
    from ssmtune.search._worker import RESUMED_SPENT_ATTR, TrialOutcome, TrialWorker, WorkerSpec
    from ssmtune.studies import DEVICES_ATTR

    spec = WorkerSpec(storage_url="sqlite:///unused.db", study_name="s", task="basicmotions",
                      seed=0, space=SPACE, protocol={}, device_share=0.5)  # fmt: skip
    worker = TrialWorker(spec)
    monkeypatch.setattr(worker, "_finish", lambda trial_id, state, value, attrs, reason=None: attrs)
    worker._carried[7], worker._over_budget = 30.0, {7}
    by_worker = worker._record(7, TrialOutcome(val=0.6, status="pruned", steps=30), wall=10.0)

    def running(**attrs: float) -> SimpleNamespace:
        return SimpleNamespace(
            state=TrialState.RUNNING, user_attrs={DEVICES_ATTR: 0.5, **attrs},
            datetime_start=datetime.now() - timedelta(seconds=10), datetime_complete=None,
            intermediate_values={20: 0.5, 30: 0.6},
        )  # fmt: skip

    _, by_runner = stopped_at_budget(running(**{RESUMED_SPENT_ATTR: 30.0}), minimize=False)
    assert by_runner[CARRIED_ATTR] == by_worker[CARRIED_ATTR] == 15.0
    for key, value in (("wall_s", 40.0), ("device_s", 20.0)):
        assert by_runner[key] == pytest.approx(by_worker[key], abs=0.05) == value
    assert by_runner["stopped_reason"] == by_worker["stopped_reason"] == "budget"
    _, fresh = stopped_at_budget(running(), minimize=False)
    assert CARRIED_ATTR not in fresh and fresh["device_s"] == pytest.approx(5.0, abs=0.05)
