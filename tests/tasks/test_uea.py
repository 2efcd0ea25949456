"""UEA loaders: the files shipped in sktime, a tiny archive folder, preprocessing, the cache."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from ssmtune import tasks
from ssmtune.tasks import TaskError
from ssmtune.tasks._prep import drop_duplicates, random_split
from ssmtune.tasks._ts import read_file
from ssmtune.tasks._uea import sktime_data_dir
from tests.tasks.conftest import write_toy


@pytest.mark.parametrize(
    ("name", "shape", "classes", "cases"),
    [("basicmotions", (100, 6), 4, 80), ("japanesevowels", (29, 12), 9, 270 + 370)],
)
def test_embedded_figures(name, shape, classes, cases, data_dir) -> None:
    """Shapes, classes and case counts as the archive gives them (no duplicates in either)."""
    data = tasks.load(name, seed=2345)
    assert data.info.cases == cases and data.info.classes == classes
    assert data.train.x.shape[1:] == shape
    assert (data.train.n, data.val.n, data.test.n) == (
        int(0.7 * cases),
        int(0.15 * cases),
        cases - int(0.7 * cases) - int(0.15 * cases),
    )
    y = np.concatenate([data.train.y, data.val.y, data.test.y])
    assert set(np.unique(y)) == set(range(classes))


def test_japanese_vowels_padding_and_mask(data_dir) -> None:
    """The mask marks exactly the real steps (lengths 7-29 as in the file); pads are zeros."""
    folder = sktime_data_dir() / "JapaneseVowels"
    raw = []
    for part in ("TRAIN", "TEST"):
        series, _ = read_file(folder / f"JapaneseVowels_{part}.ts")
        raw += series
    data = tasks.load("japanesevowels", seed=0)
    every = tasks._registry.get("japanesevowels").cases(data_dir)
    lengths = every.mask.sum(axis=1)
    assert lengths.tolist() == [len(s) for s in raw]
    assert lengths.min() == 7 and lengths.max() == 29
    assert (every.mask == (np.arange(29)[None] < lengths[:, None])).all()  # real steps first
    assert (every.x[~every.mask] == 0).all()
    for i in (0, 5, 600):
        np.testing.assert_array_equal(every.x[i, : lengths[i]], raw[i])
    for split in (data.train, data.val, data.test):
        assert (split.x[~split.mask] == 0).all()


def test_include_time_channel(data_dir) -> None:
    plain = tasks.load("japanesevowels", seed=1)
    timed = tasks.load("japanesevowels", seed=1, include_time=True)
    assert timed.info == plain.info  # channels reported without the time channel
    x, mask = timed.train.x, timed.train.mask
    np.testing.assert_array_equal(x[:, :, 1:], plain.train.x)
    expected = np.arange(29, dtype=np.float32) / 29
    np.testing.assert_allclose(x[mask][:, 0], np.broadcast_to(expected, mask.shape)[mask])
    assert (x[:, :, 0][~mask] == 0).all()


def _rows(split) -> set[bytes]:
    return {split.x[i].tobytes() for i in range(split.n)}


def test_splits_deterministic_disjoint_70_15_15(data_dir) -> None:
    a = tasks.load("basicmotions", seed=2345)
    b = tasks.load("basicmotions", seed=2345)
    c = tasks.load("basicmotions", seed=3456)
    for pa, pb in zip((a.train, a.val, a.test), (b.train, b.val, b.test), strict=True):
        np.testing.assert_array_equal(pa.x, pb.x)
        np.testing.assert_array_equal(pa.y, pb.y)
    assert _rows(a.test) != _rows(c.test)
    tr, va, te = _rows(a.train), _rows(a.val), _rows(a.test)
    assert not (tr & va or tr & te or va & te)
    assert len(tr | va | te) == 80
    for n in (10, 80, 259, 1797):
        idx = random_split(n, seed=7)
        assert sorted(np.concatenate(idx).tolist()) == list(range(n))
        assert [len(i) for i in idx] == [
            int(0.7 * n),
            int(0.15 * n),
            n - int(0.7 * n) - int(0.15 * n),
        ]


def test_drop_duplicates() -> None:
    x = np.zeros((5, 3, 2), np.float32)
    x[1, 0, 0] = 1.0
    x[3, 0, 0] = 1.0  # duplicate of 1
    x[4, 2, 1] = 2.0
    mask = np.ones((5, 3), bool)
    mask[2, 2] = False  # same values as 0 but shorter: distinct
    assert drop_duplicates(x, mask).tolist() == [0, 1, 2, 4]


def test_archive_dataset_merge_dedup_and_names(data_dir) -> None:
    write_toy(data_dir / "uea" / "Multivariate_ts")
    data = tasks.load("uea:Toy", seed=0)
    assert data.info.cases == 9  # 6 + 4 cases, one exact duplicate dropped
    assert data.info.source == "uea" and data.info.available == "downloaded"
    assert tasks.load("toy", seed=0).info.cases == 9  # plain name once the files are there
    assert tasks.info("uea:TOY").length == 5


def test_npz_cache_round_trip_and_rebuild(data_dir) -> None:
    folder = write_toy(data_dir / "uea" / "Multivariate_ts")
    first = tasks.load("uea:Toy", seed=0)
    cache = data_dir / "cache" / "uea-Toy.npz"
    assert cache.is_file()
    with np.load(cache, allow_pickle=False) as f:
        assert f["x"].dtype == np.float32 and f["x"].shape == (9, 5, 2)
    again = tasks.load("uea:Toy", seed=0)
    np.testing.assert_array_equal(first.train.x, again.train.x)
    # a changed source file rebuilds the cache
    write_toy(data_dir / "uea" / "Multivariate_ts", duplicate=False)
    os.utime(folder / "Toy_TEST.ts", ns=(time.time_ns(), time.time_ns() + 10**9))
    assert tasks.load("uea:Toy", seed=0).info.cases == 10


def test_corrupt_cache_names_file(data_dir) -> None:
    tasks.load("basicmotions", seed=0)
    cache = data_dir / "cache" / "embedded-BasicMotions.npz"
    cache.write_bytes(cache.read_bytes()[:500])
    with pytest.raises(TaskError, match=f"{cache}.*corrupt or truncated"):
        tasks.load("basicmotions", seed=0)


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) * 2 // 3 - 5],  # truncated mid-case
        lambda text: text.replace("@data", "@dat"),
        lambda text: text.replace("0.", "x.", 3),
        lambda text: "",
    ],
)
def test_corrupt_ts_names_file(damage, data_dir) -> None:
    folder = write_toy(data_dir / "uea" / "Multivariate_ts")
    path: Path = folder / "Toy_TRAIN.ts"
    path.write_text(damage(path.read_text()))
    with pytest.raises(TaskError, match=f"{path}") as err:
        tasks.load("uea:Toy", seed=0)
    assert "\n" not in str(err.value)


_ARFF = """@relation {name}
@attribute relationalAtt relational
@attribute t1 numeric
@attribute t2 numeric
@attribute t3 numeric
@end relationalAtt
@attribute target {{a,b}}
@data
'1,2,3\\n4,5,6',a
'1,2,?\\n4,5,?',b
{extra}"""


def test_arff_pair_where_no_ts(data_dir) -> None:
    """`.arff` files are read when no `.ts` pair exists; trailing '?' is padding."""
    folder = data_dir / "uea" / "Multivariate_arff" / "Arf"
    folder.mkdir(parents=True)
    (folder / "Arf_TRAIN.arff").write_text(_ARFF.format(name="Arf", extra=""))
    (folder / "Arf_TEST.arff").write_text(_ARFF.format(name="Arf", extra="'7,2,3\\n4,5,6',b\n"))
    every = tasks._registry.get("uea:arf").cases(data_dir)
    assert every.x.shape == (3, 3, 2)  # the test file's first two cases repeat the train file's
    assert every.mask.sum(axis=1).tolist() == [3, 2, 3]
    np.testing.assert_array_equal(every.x[0], [[1, 4], [2, 5], [3, 6]])
    assert every.y.tolist() == [0, 1, 1]
