"""Checkpoints of a run (`models/_checkpoint.py`): a run stopped after an evaluation continues
from it bit-identically; a checkpoint that is corrupt or belongs to another run is not used,
and the run says why; only the latest checkpoint is kept."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from ssmtune import models, tasks
from ssmtune.models import _checkpoint
from ssmtune.models._checkpoint import FORMAT, latest_checkpoint, shape_key

OPTIONS = models.TrainOptions(max_steps=40, eval_every=10, batch_size=8)
SEED = 3


class Killed(Exception):
    """Stands for the process dying inside an evaluation's callback."""


@pytest.fixture(scope="module")
def data():
    return tasks.load("basicmotions", seed=2345)


@pytest.fixture(scope="module")
def config(data):
    cfg = models.config("linoss", hidden=8, state=8, blocks=1, dropout=0.1)
    return models.fit_config(cfg, data.info, include_time=False)


@pytest.fixture(scope="module")
def reference(config, data) -> models.TrainResult:
    """The run never interrupted."""
    return models.train(config, data, OPTIONS, seed=SEED)


def _interrupted(config, data, folder: Path, at: int, options=OPTIONS, seed=SEED) -> None:
    def die(step: int, val: float) -> bool:
        if step == at:
            raise Killed
        return False

    with pytest.raises(Killed):
        models.train(
            config, data, options, seed=seed, callback=die, checkpoint=models.Checkpoint(folder)
        )


def _resume(config, data, folder: Path, options=OPTIONS):
    heard: list[models.Resume] = []
    checkpoint = models.Checkpoint(folder, on_resume=heard.append)
    result = models.train(config, data, options, seed=SEED, checkpoint=checkpoint)
    assert len(heard) == 1
    return result, heard[0]


def _same_run(a: models.TrainResult, b: models.TrainResult) -> None:
    assert (a.val, a.test, a.best_step, a.steps, a.status) == (
        b.val,
        b.test,
        b.best_step,
        b.steps,
        b.status,
    )
    assert a.history == b.history
    # the evaluations' record too (test where read), only their times differ
    assert [e[:3] for e in a.evaluations] == [e[:3] for e in b.evaluations]


def test_a_run_stopped_after_its_second_evaluation_continues_bit_identically(
    config, data, reference, tmp_path: Path
) -> None:
    _interrupted(config, data, tmp_path, at=20)
    # only the latest checkpoint is there, whole (no temporary folder left)
    assert [p.name for p in tmp_path.iterdir()] == ["step-000000000020"]
    result, heard = _resume(config, data, tmp_path)
    assert heard.step == 20 and heard.reason is None and heard.spent_s > 0
    assert result.resumed_step == 20 and result.prior_s == heard.spent_s
    assert len(reference.history) == 4
    _same_run(result, reference)
    # the evaluations before the checkpoint come from it, the later ones after its time
    times = [e.elapsed_s for e in result.evaluations]
    assert times[1] <= result.prior_s < times[2] and times == sorted(times)
    # a run that went to its end wrote no checkpoint past its last evaluation but one
    assert latest_checkpoint(tmp_path).name == "step-000000000030"


def test_a_corrupt_checkpoint_means_a_fresh_start_with_the_reason(
    config, data, reference, tmp_path: Path
) -> None:
    _interrupted(config, data, tmp_path, at=30)
    state = latest_checkpoint(tmp_path) / "state.eqx"
    raw = bytearray(state.read_bytes())
    raw[-1] ^= 0xFF
    state.write_bytes(bytes(raw))
    result, heard = _resume(config, data, tmp_path)
    assert heard.step is None and "corrupt" in heard.reason and "checksum" in heard.reason
    assert result.resumed_step is None and result.prior_s == 0.0
    _same_run(result, reference)


def test_an_unreadable_manifest_means_a_fresh_start(config, data, tmp_path: Path) -> None:
    _interrupted(config, data, tmp_path, at=20)
    (latest_checkpoint(tmp_path) / "manifest.json").write_text("{not json")
    _, heard = _resume(config, data, tmp_path)
    assert heard.step is None and heard.reason.startswith("step-000000000020: corrupt")


@pytest.mark.parametrize("change", ["options", "seed", "format"])
def test_a_checkpoint_of_another_run_is_not_used(
    config, data, reference, tmp_path: Path, change: str
) -> None:
    if change == "seed":
        _interrupted(config, data, tmp_path, at=20, seed=SEED + 1)
    elif change == "options":
        _interrupted(config, data, tmp_path, at=20, options=OPTIONS.replace(lr=5e-3))
    else:
        _interrupted(config, data, tmp_path, at=20)
        manifest = latest_checkpoint(tmp_path) / "manifest.json"
        text = json.loads(manifest.read_text())
        manifest.write_text(json.dumps({**text, "format": FORMAT + 1}))
    result, heard = _resume(config, data, tmp_path)
    assert heard.step is None and heard.reason.startswith("step-000000000020: mismatch")
    wanted = {"options": "options", "seed": "dropout_key, seed", "format": "format"}[change]
    assert wanted in heard.reason
    _same_run(result, reference)


def test_an_empty_or_missing_folder_is_a_fresh_start_without_a_reason(
    config, data, reference, tmp_path: Path
) -> None:
    result, heard = _resume(config, data, tmp_path / "new")
    assert heard == models.Resume(step=None) and result.resumed_step is None
    _same_run(result, reference)
    models.delete_checkpoints(tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_shape_key_changes_with_structure_shape_and_dtype() -> None:
    base = shape_key({"a": np.zeros(2, np.float32)})
    assert base == shape_key({"a": np.ones(2, np.float32)})
    assert base != shape_key({"b": np.zeros(2, np.float32)})
    assert base != shape_key({"a": np.zeros(3, np.float32)})
    assert base != shape_key({"a": np.zeros(2, np.float64)})


# ------------------------------------------------------------ the write off the training path
def _write_hooked(monkeypatch: pytest.MonkeyPatch, hook) -> list[dict]:
    """Wrap `write_checkpoint` (the background write) with `hook(step)` called before it;
    returns one record per write: its step, its thread, the writes in flight with it."""
    real, records, lock, running = _checkpoint.write_checkpoint, [], threading.Lock(), [0]

    def write(folder, tree, identity, state):
        with lock:
            running[0] += 1
            records.append(
                {"step": state.step, "thread": threading.current_thread(), "with": running[0]}
            )
        try:
            hook(state.step)
            return real(folder, tree, identity, state)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(_checkpoint, "write_checkpoint", write)
    return records


def test_the_write_runs_behind_the_callback_one_at_a_time(
    config, data, reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each write waits until its evaluation's callback has run: the loop reached the
    callback while the write was in flight (it did not wait for it). Never two writes at
    once; none is left running once `train` returns, and the last one is on disk."""
    called = {s: threading.Event() for s in (10, 20, 30, 40)}
    released = []

    def hold(step: int) -> None:
        released.append(called[step].wait(timeout=120))

    records = _write_hooked(monkeypatch, hold)

    def callback(step: int, val: float) -> bool:
        called[step].set()
        return False

    result = models.train(
        config, data, OPTIONS, seed=SEED, callback=callback,
        checkpoint=models.Checkpoint(tmp_path),
    )  # fmt: skip
    assert [r["step"] for r in records] == [10, 20, 30] and released == [True] * 3
    assert all(r["thread"] is not threading.main_thread() for r in records)
    assert max(r["with"] for r in records) == 1
    assert not any(t.name.startswith("ssmtune-checkpoint") for t in threading.enumerate())
    assert [p.name for p in tmp_path.iterdir()] == ["step-000000000030"]
    assert len(result.checkpoint_s) == len(result.checkpoint_write_s) == 3
    _same_run(result, reference)


def test_a_failed_write_raises_in_the_training_thread(
    config, data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(step: int) -> None:
        if step == 20:
            raise OSError(28, "No space left on device")

    _write_hooked(monkeypatch, fail)
    with pytest.raises(OSError, match="No space left"):
        models.train(config, data, OPTIONS, seed=SEED, checkpoint=models.Checkpoint(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["step-000000000010"]


_KILLED_MID_WRITE = """
import json, os, signal, sys, threading
from ssmtune import models, tasks
from ssmtune.models import _checkpoint

folder, log, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = tasks.load("basicmotions", seed=2345)
config = models.fit_config(
    models.config("linoss", hidden=8, state=8, blocks=1, dropout=0.1), data.info,
    include_time=False,
)
reported = threading.Event()
real_replace = os.replace

def replace(src, dst):  # the write of step 20, whole but not yet renamed into place
    if str(dst).endswith("step-000000000020"):
        reported.wait(timeout=120)  # in vain if the write came before the callback
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst)

_checkpoint.os.replace = replace

def callback(step, val):
    with open(log, "a") as f:
        f.write(json.dumps([step, val]) + "\\n")
    if step == 20:
        reported.set()
    return False

options = models.TrainOptions(max_steps=40, eval_every=10, batch_size=8)
models.train(config, data, options, seed=seed, callback=callback,
             checkpoint=models.Checkpoint(folder))
"""


def test_a_kill_after_the_report_before_the_write_lands_repeats_that_evaluation(
    config, data, reference, tmp_path: Path
) -> None:
    """The process is SIGKILLed after the callback of step 20 ran, while the checkpoint of
    step 20 was being written (before its rename): the checkpoint of step 10 is intact, the
    torn write is not read, and the resumed run repeats step 20 with the value the killed run
    reported there, then ends as the run never interrupted."""
    folder, log = tmp_path / "run", tmp_path / "reported.jsonl"
    root = Path(__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_MID_WRITE, str(folder), str(log), str(SEED)],
        cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    killed = [tuple(json.loads(line)) for line in log.read_text().splitlines()]
    assert [s for s, _ in killed] == [10, 20]
    assert latest_checkpoint(folder).name == "step-000000000010"
    assert [p.name for p in folder.iterdir() if p.name.startswith(".tmp-")]  # the torn write

    heard: list[models.Resume] = []
    again: list[tuple[int, float]] = []

    def report(step: int, val: float) -> bool:
        again.append((step, val))
        return False

    result = models.train(
        config, data, OPTIONS, seed=SEED, callback=report,
        checkpoint=models.Checkpoint(folder, on_resume=heard.append),
    )  # fmt: skip
    assert heard == [models.Resume(step=10, spent_s=heard[0].spent_s)]
    assert [s for s, _ in again] == [20, 30, 40]
    assert again[0] == killed[1]  # the repeated evaluation reports what was reported
    assert killed + again[1:] == reference.history
    _same_run(result, reference)
