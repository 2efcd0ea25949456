"""PPG-DaLiA on small per-subject pickles of the original format, made here."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

import tasks
from tasks import TaskError
from tasks._ppg import prepare_ppg


def _subject(path: Path, n_labels: int, offset: float = 0.0) -> None:
    """A subject with `n_labels` 2 s periods: BVP counts time steps (64 Hz), so a window's values
    tell where it came from; the heart rate rises linearly."""
    steps = n_labels * 128
    data = {
        "signal": {
            "wrist": {
                "ACC": np.stack([np.arange(steps // 2)] * 3, axis=1) * 1.0 + offset,
                "BVP": np.arange(steps, dtype=np.float64)[:, None] + offset,
                "EDA": np.arange(steps // 16, dtype=np.float64)[:, None],
                "TEMP": np.full((steps // 16, 1), 33.0),
            },
            "chest": {},
        },
        "label": 60.0 + np.arange(n_labels - 3, dtype=np.float64),
        "subject": path.stem,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(data, f)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "ppg_download"
    for i, n in ((1, 200), (2, 240)):
        _subject(root / "PPG_FieldStudy" / f"S{i}" / f"S{i}.pkl", n, offset=i)
    return root


def test_small_windows(source, data_dir) -> None:
    prepare_ppg(source, window=1280, stride=256)  # 10 labels per window, stride 2 labels
    data = tasks.load("ppg-dalia", seed=2345)
    assert data.info.kind == "regression" and data.info.metric == "mse"
    assert data.info.length == 1280 and data.info.channels == 6
    for split in (data.train, data.val, data.test):
        assert split.x.shape[1:] == (1280, 6) and split.y.shape[1:] == (1280, 1)
        assert split.x.min() >= -1 and split.x.max() <= 1
        at = np.flatnonzero(split.target_mask[0])
        assert at.tolist() == list(range(127, 1280, 128))
        assert (split.target_mask == split.target_mask[0]).all() and split.mask.all()
        assert (split.y[~split.target_mask] == 0).all()
        assert split.y[split.target_mask].min() >= -1 and split.y[split.target_mask].max() <= 1
    # windows per subject: train 70 % of the labels, val/test 15 %, stride 2 labels
    per = lambda k: (k - 10) // 2 + 1  # noqa: E731
    assert data.train.n == per(140) + per(168)
    assert data.val.n == per(30) + per(36) and data.test.n == per(30) + per(36)
    assert data.info.cases == data.train.n + data.val.n + data.test.n


def _spans(split) -> list[tuple[float, float]]:
    bvp = split.x[:, :, 3]  # time-ordered within a subject
    return [(float(b[0]), float(b[-1])) for b in bvp]


def test_contiguous_seeded_split(source, data_dir) -> None:
    prepare_ppg(source, window=1280, stride=256)
    a = tasks.load("ppg-dalia", seed=1)
    b = tasks.load("ppg-dalia", seed=1)
    np.testing.assert_array_equal(a.train.x, b.train.x)
    layouts = {tuple(_spans(tasks.load("ppg-dalia", seed=s).test)[0]) for s in range(8)}
    assert len(layouts) > 1  # the seed picks the order of the blocks


def test_block_disjoint_per_subject(source, data_dir) -> None:
    prepare_ppg(source / "PPG_FieldStudy" / "S1", window=1280, stride=128)  # S1.pkl alone
    for seed in range(6):
        data = tasks.load("ppg-dalia", seed=seed)
        spans = [_spans(p) for p in (data.train, data.val, data.test)]
        lo_hi = [(min(s[0] for s in sp), max(s[1] for s in sp)) for sp in spans]
        lo_hi.sort()
        assert lo_hi[0][1] < lo_hi[1][0] and lo_hi[1][1] < lo_hi[2][0]  # disjoint in time


def test_paper_window_size(tmp_path, data_dir) -> None:
    """The paper's windows (49,920 steps, stride 4,992) on one subject of 2,700 labels (1.5 h)."""
    _subject(tmp_path / "src" / "S3.pkl", 2700)
    prepare_ppg(tmp_path / "src")
    data = tasks.load("ppg-dalia", seed=0)
    assert data.info.length == 49_920
    assert data.train.x.shape[1:] == (49_920, 6) and data.train.target_mask[0].sum() == 390
    assert data.train.n == (1890 - 390) // 39 + 1
    assert data.val.n == 1 and data.test.n == 1


def test_pickles_only_from_named_folder(source, data_dir) -> None:
    """Pickles lying in the data dir are never read implicitly."""
    _subject(data_dir / "PPG_FieldStudy" / "S1" / "S1.pkl", 200)
    with pytest.raises(TaskError, match=r"ppg-dalia is not prepared .*ssmtune data ppg"):
        tasks.load("ppg-dalia", seed=0)
    assert tasks.info("ppg-dalia").available == "missing"


def test_ppg_bad_input(tmp_path, data_dir) -> None:
    with pytest.raises(TaskError, match="no PPG-DaLiA subject files"):
        prepare_ppg(tmp_path)
    bad = tmp_path / "bad" / "S1.pkl"
    bad.parent.mkdir()
    bad.write_bytes(b"\x80\x04garbage")
    with pytest.raises(TaskError, match=f"cannot read {bad}"):
        prepare_ppg(bad.parent)
    with open(bad, "wb") as f:
        pickle.dump({"signal": {}}, f)
    with pytest.raises(TaskError, match=f"cannot read {bad}.*expected PPG-DaLiA"):
        prepare_ppg(bad.parent)
    with pytest.raises(TaskError, match="multiple of 128"):
        prepare_ppg(bad.parent, window=1000)
