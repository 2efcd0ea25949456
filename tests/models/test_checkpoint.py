"""Checkpoints of a run (`models/_checkpoint.py`): a run stopped after an evaluation continues
from it bit-identically; a checkpoint that is corrupt or belongs to another run is not used,
and the run says why; only the latest checkpoint is kept."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import models
import tasks
from models._checkpoint import FORMAT, latest_checkpoint, shape_key

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
