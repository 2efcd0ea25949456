"""The user's own data as a task (`tasks._user`): `.npz` files and `.ts` pairs written here.

Formats and splits through `tasks.info` / `tasks.load`; bad files through the command line
(exit code 2, one line); `ssmtune train` on a file; a study that records the file's SHA-256
and shape and refuses to resume once the file changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ssmtune import tasks
from ssmtune.studies import StudyError
from ssmtune.tasks import TaskError
from ssmtune.tasks._user import fill_missing
from tests.search._cli import run_main
from tests.tasks._contract import check_splits
from tests.tasks.conftest import ts_text

SPACE = str(Path(__file__).parents[2] / "spaces" / "examples" / "small-linoss.toml")
FAST = "tests.search._fakes:quick"


def _x(n: int, length: int = 12, channels: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, length, channels)).astype(np.float32)


def _npz(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)
    return path


def _ts_pair(folder: Path, name: str, train: list, test: list, classes=("a", "b")) -> Path:
    """`name`_TRAIN.ts / _TEST.ts in `folder`; cases are (array (channels, length), label);
    NaN values are written as the format's ``?``."""
    folder.mkdir(parents=True, exist_ok=True)
    for part, cases in (("TRAIN", train), ("TEST", test)):
        text = ts_text(name, cases, list(classes))
        if "nan" in text:
            text = text.replace("nan", "?").replace("@missing false", "@missing true")
        (folder / f"{name}_{part}.ts").write_text(text)
    return folder


def _variable_cases(n: int, seed: int) -> list[tuple[np.ndarray, str]]:
    rng = np.random.default_rng(seed)
    return [(np.round(rng.normal(size=(2, 3 + i % 4)), 3), "ab"[i % 2]) for i in range(n)]


# --- the registry's contract, on every format -------------------------------------------------

#: name -> write a data file under the given folder and return the task name
FILES: dict[str, Callable[[Path], object]] = {
    "npz ints": lambda d: _npz(d / "a.npz", X=_x(20), y=np.arange(20) % 3),
    "npz strings, test set": lambda d: _npz(d / "a.npz", X=_x(20), y=np.array(["p", "q"] * 10), X_test=_x(6), y_test=np.array(["q"] * 6)),
    "npz regression per step, split": lambda d: _npz(d / "a.npz", X=_x(10), y=np.ones((10, 12, 3)), split=np.arange(10) % 3),
    "ts pair, variable length": lambda d: _ts_pair(d / "V", "V", _variable_cases(9, 0), _variable_cases(4, 1)),
}  # fmt: skip


@pytest.mark.parametrize("case", list(FILES))
def test_load_contract_of_user_files(case: str, tmp_path: Path, data_dir) -> None:
    """The checks of `tests/tasks/test_registry.py::test_load_contract`, on the user's files."""
    name = str(FILES[case](tmp_path))
    data = tasks.load(name, seed=3, include_time=True)
    info = data.info
    assert info == tasks.info(name) and info.source == "user"
    assert info.metric == ("accuracy" if info.kind == "classification" else "mse")
    parts = (data.train, data.val, data.test)
    assert min(p.n for p in parts) > 0
    check_splits(info, parts)
    again = tasks.load(name, seed=3, include_time=True)
    for a, b in zip(parts, (again.train, again.val, again.test), strict=True):
        np.testing.assert_array_equal(a.x, b.x)


# --- .npz --------------------------------------------------------------------------------------


def test_npz_integer_labels_random_split_per_seed(tmp_path: Path, data_dir: Path) -> None:
    x = _x(40)
    y = np.array([3, 5, 7, 5] * 10)
    path = _npz(tmp_path / "ints.npz", X=x, y=y)
    info = tasks.info(str(path))
    assert (info.name, info.kind, info.metric) == (str(path), "classification", "accuracy")
    assert (info.cases, info.length, info.channels, info.classes) == (40, 12, 2, 3)
    assert info.source == "user"
    data = tasks.load(str(path), seed=4)
    assert [p.n for p in (data.train, data.val, data.test)] == [28, 6, 6]
    every = np.concatenate([data.train.x, data.val.x, data.test.x])
    labels = np.concatenate([data.train.y, data.val.y, data.test.y])
    for row, label in zip(every, labels, strict=True):  # each case keeps its label: 3->0, 5->1
        original = y[np.flatnonzero((x == row).all(axis=(1, 2)))[0]]
        assert label == {3: 0, 5: 1, 7: 2}[original]
    again = tasks.load(str(path), seed=4)
    np.testing.assert_array_equal(data.train.x, again.train.x)
    other = tasks.load(str(path), seed=5)
    assert not np.array_equal(data.train.x, other.train.x)
    assert tasks.data_identity(str(path)) == {
        "path": str(path),
        "sha256": {"ints.npz": hashlib.sha256(path.read_bytes()).hexdigest()},
        "shape": [40, 12, 2],
    }


def test_npz_duplicates_are_dropped_without_a_given_split(tmp_path: Path, data_dir) -> None:
    x = _x(20)
    x[7] = x[2]
    path = _npz(tmp_path / "dup.npz", X=x, y=np.arange(20) % 2)
    assert tasks.info(str(path)).cases == 19


def test_npz_string_labels_with_a_split_array(tmp_path: Path, data_dir) -> None:
    x = _x(12)
    y = np.array(["walk", "run", "sit"] * 4)
    split = np.array(["train"] * 6 + ["val"] * 3 + ["test"] * 3)
    path = _npz(tmp_path / "named.npz", X=x, y=y, split=split)
    data = tasks.load(str(path), seed=0)
    assert data.info.classes == 3
    np.testing.assert_array_equal(data.train.x, x[:6])
    np.testing.assert_array_equal(data.test.x, x[9:])
    # classes in sorted order: run 0, sit 1, walk 2
    assert data.train.y.tolist() == [2, 0, 1, 2, 0, 1]
    again = tasks.load(str(path), seed=9)  # the file's split is every seed's
    np.testing.assert_array_equal(data.val.x, again.val.x)
    numeric = _npz(tmp_path / "numeric.npz", X=x, y=y, split=np.array([0] * 6 + [1] * 3 + [2] * 3))
    np.testing.assert_array_equal(tasks.load(str(numeric), seed=0).val.x, x[6:9])


def test_npz_fixed_test_set_and_a_70_15_split_of_the_rest(tmp_path: Path, data_dir) -> None:
    x, x_test = _x(34, seed=1), _x(10, seed=2)
    y, y_test = np.arange(34) % 2, np.arange(10) % 2
    path = _npz(tmp_path / "fixed.npz", X=x, y=y, X_test=x_test, y_test=y_test)
    vals = []
    for seed in (0, 1):
        data = tasks.load(str(path), seed=seed)
        assert data.info.cases == 44
        assert (data.train.n, data.val.n) == (28, 6)  # 6 = 34 * 15 // 85
        np.testing.assert_array_equal(data.test.x, x_test)
        np.testing.assert_array_equal(data.test.y, y_test)
        vals.append(data.val.x)
    assert not np.array_equal(*vals)
    assert "X_test fixed" in tasks.info(str(path)).description


def test_npz_regression_per_case_variable_length(tmp_path: Path, data_dir) -> None:
    x = _x(20, length=10, channels=1)
    lengths = 5 + np.arange(20) % 6
    for i, n in enumerate(lengths):
        x[i, n:] = np.nan  # padding: missing in every channel at the end
    y = np.linspace(-1, 1, 20)
    path = _npz(tmp_path / "per-case.npz", X=x, y=y)
    info = tasks.info(str(path))
    assert (info.kind, info.metric, info.classes, info.length) == ("regression", "mse", 1, 10)
    data = tasks.load(str(path), seed=0)
    for part in (data.train, data.val, data.test):
        assert part.y.shape == (part.n, 10, 1)
        last = part.mask.sum(axis=1) - 1  # the one target of a case is at its last step
        assert (part.target_mask.sum(axis=1) == 1).all()
        assert part.target_mask[np.arange(part.n), last].all()
        assert np.isfinite(part.x).all() and (part.x[~part.mask] == 0).all()
    every = np.concatenate([p.y[p.target_mask, 0] for p in (data.train, data.val, data.test)])
    np.testing.assert_allclose(np.sort(every), np.sort(y).astype(np.float32))


def test_npz_regression_per_step_with_steps_without_target(tmp_path: Path, data_dir) -> None:
    x = _x(10, length=8)
    y = np.random.default_rng(3).normal(size=(10, 8, 2))
    y[:, :3] = np.nan  # no target on the first 3 steps
    split = np.array([0] * 6 + [1, 1, 2, 2])
    path = _npz(tmp_path / "per-step.npz", X=x, y=y, split=split)
    data = tasks.load(str(path), seed=0)
    assert (data.info.kind, data.info.classes) == ("regression", 2)
    assert data.train.target_mask[:, :3].sum() == 0 and data.train.target_mask[:, 3:].all()
    np.testing.assert_allclose(data.train.y[:, 3:], y[:6, 3:].astype(np.float32))
    assert (data.train.y[:, :3] == 0).all()


def test_npz_missing_values_refused_or_filled(tmp_path: Path, data_dir) -> None:
    x = _x(10, length=5, channels=1)
    x[0, 1, 0] = np.nan
    x[0, 3, 0] = np.nan
    path = _npz(tmp_path / "holes.npz", X=x, y=np.arange(10) % 2)
    with pytest.raises(TaskError, match="2 missing values") as err:
        tasks.info(str(path))
    assert f"'{path}@fill=ffill'" in str(err.value)
    filled = tasks.load(f"{path}@fill=ffill", seed=0)
    assert filled.info.name == f"{path}@fill=ffill"
    row = np.concatenate([filled.train.x, filled.val.x, filled.test.x])[:, :, 0]
    expected = [x[0, 0, 0], x[0, 0, 0], x[0, 2, 0], x[0, 2, 0], x[0, 4, 0]]
    assert any(np.allclose(r, expected) for r in row)


def test_fill_missing() -> None:
    x = np.array([[[np.nan, np.nan], [1.0, np.nan], [np.nan, np.nan], [3.0, np.nan]]])
    assert fill_missing(x, "ffill")[0].tolist() == [[1, 0], [1, 0], [1, 0], [3, 0]]
    assert fill_missing(x, "zero")[0].tolist() == [[0, 0], [1, 0], [0, 0], [3, 0]]


# --- .ts pairs ---------------------------------------------------------------------------------


def test_ts_pair_by_file_and_folder_padded_masked_as_the_uea_tasks(
    tmp_path: Path, data_dir: Path
) -> None:
    train, test = _variable_cases(8, seed=0), _variable_cases(5, seed=1)
    test[0] = train[0]  # an exact duplicate across the files
    folder = _ts_pair(tmp_path / "Mine", "Mine", train, test)
    by_file = tasks.info(str(folder / "Mine_TRAIN.ts"))
    assert tasks.info(str(folder)) == by_file
    assert by_file.name == str(folder / "Mine_TRAIN.ts")
    assert (by_file.cases, by_file.length, by_file.channels, by_file.classes) == (12, 6, 2, 2)
    data = tasks.load(str(folder), seed=1)
    assert [p.n for p in (data.train, data.val, data.test)] == [8, 1, 3]
    for p in (data.train, data.val, data.test):
        assert set(p.mask.sum(axis=1).tolist()) <= {3, 4, 5, 6}
        assert (p.x[~p.mask] == 0).all()
    # the same pair under the data dir, as a UEA dataset: the same cases and split
    _ts_pair(data_dir / "uea" / "Multivariate_ts" / "Mine", "Mine", train, test)
    uea = tasks.load("mine", seed=1)
    np.testing.assert_array_equal(uea.train.x, data.train.x)
    np.testing.assert_array_equal(uea.test.y, data.test.y)
    assert set(tasks.data_identity(str(folder))["sha256"]) == {"Mine_TRAIN.ts", "Mine_TEST.ts"}


def test_ts_missing_values_refused_in_one_line_or_filled(tmp_path: Path, data_dir) -> None:
    train, test = _variable_cases(8, seed=2), _variable_cases(4, seed=3)
    hole = train[1][0].copy()
    hole[1, 1] = np.nan
    train[1] = (hole, train[1][1])
    folder = _ts_pair(tmp_path / "Holes", "Holes", train, test)
    with pytest.raises(TaskError, match="1 missing value") as err:
        tasks.load(str(folder), seed=0)
    assert "\n" not in str(err.value) and "@fill=ffill" in str(err.value)
    zero = tasks.load(f"{folder}@fill=zero", seed=0)
    ffill = tasks.load(f"{folder / 'Holes_TRAIN.ts'}@fill=ffill", seed=0)
    assert ffill.info.name == f"{folder / 'Holes_TRAIN.ts'}@fill=ffill"
    want_zero, want_ffill = hole.T.copy(), hole.T.copy()
    want_zero[1, 1], want_ffill[1, 1] = 0.0, hole[1, 0]
    for data, want in ((zero, want_zero), (ffill, want_ffill)):
        cases = np.concatenate([data.train.x, data.val.x, data.test.x])
        assert any(np.allclose(c[: len(want)], want) for c in cases)


def test_registered_names_win_over_a_folder_of_that_name(
    tmp_path: Path, data_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _ts_pair(
        tmp_path / "basicmotions", "basicmotions", _variable_cases(8, 0), _variable_cases(4, 1)
    )
    assert tasks.info("basicmotions").source == "embedded"
    assert tasks.info("./basicmotions").source == "user"
    _npz(tmp_path / "rel.npz", X=_x(10), y=np.arange(10) % 2)
    assert tasks.info("rel.npz").name == str(tmp_path / "rel.npz")  # absolute, for the workers


# --- bad files: one line, exit code 2 ------------------------------------------------------------


def _bad_ts(folder: Path, **change) -> Path:
    train, test = _variable_cases(8, 0), _variable_cases(4, 1)
    if "channels" in change:
        test = [(np.vstack([c, c[:1]]), label) for c, label in test]
    if "one_class" in change:
        train = [(c, "a") for c, _ in train]
        test = [(c, "a") for c, _ in test]
    return _ts_pair(folder / "Bad", "Bad", train, test)


def _truncated(path: Path) -> Path:
    _npz(path, X=_x(10), y=np.arange(10) % 2)
    path.write_bytes(path.read_bytes()[:300])
    return path


#: name -> (write the file under tmp_path and return the task name, text the line must hold)
BAD: dict[str, tuple[Callable[[Path], object], str]] = {
    "X not 3-D": (lambda d: _npz(d / "b.npz", X=_x(10)[:, :, 0], y=np.arange(10) % 2), "X[..., None]"),
    "y of another length": (lambda d: _npz(d / "b.npz", X=_x(10), y=np.arange(9) % 2), "one label or target per case"),
    "NaN in X": (lambda d: _npz(d / "b.npz", X=np.where(np.eye(12)[None, :, :2] > 0, np.nan, _x(10)), y=np.arange(10) % 2), "missing values"),
    "inf in X": (lambda d: _npz(d / "b.npz", X=np.where(np.eye(12)[None, :, :2] > 0, np.inf, _x(10)), y=np.arange(10) % 2), "infinite"),
    "one class": (lambda d: _npz(d / "b.npz", X=_x(10), y=np.ones(10, int)), "at least 2 classes"),
    "test channels differ": (lambda d: _npz(d / "b.npz", X=_x(10), y=np.arange(10) % 2, X_test=_x(4, channels=3), y_test=np.arange(4) % 2), "length and channels must match"),
    "test lengths differ": (lambda d: _npz(d / "b.npz", X=_x(10), y=np.arange(10) % 2, X_test=_x(4, length=9), y_test=np.arange(4) % 2), "length and channels must match"),
    "X_test without y_test": (lambda d: _npz(d / "b.npz", X=_x(10), y=np.arange(10) % 2, X_test=_x(4)), "X_test alone"),
    "unknown array": (lambda d: _npz(d / "b.npz", x=_x(10), y=np.arange(10) % 2), "holds x, y"),
    "object labels": (lambda d: _npz(d / "b.npz", X=_x(3), y=np.array([1, "a", None], dtype=object)), "Python objects"),
    "bad split values": (lambda d: _npz(d / "b.npz", X=_x(10), y=np.arange(10) % 2, split=np.array(["train", "dev"] * 5)), "split holds ['dev']"),
    "too few cases": (lambda d: _npz(d / "b.npz", X=_x(5), y=np.arange(5) % 2), "at least 7"),
    "not a .npz": (lambda d: (d / "b.npz").write_bytes(b"X,y\n1,2\n") and d / "b.npz", "not a .npz archive"),
    "truncated .npz": (lambda d: _truncated(d / "b.npz"), "cannot read"),
    "no such file": (lambda d: d / "nothing.npz", "no such data file"),
    "a .csv": (lambda d: (d / "b.csv").write_text("case,t,x\n") and d / "b.csv", "not a data file ssmtune reads"),
    "a bad fill": (lambda d: f"{_npz(d / 'b.npz', X=_x(10), y=np.arange(10) % 2)}@fill=mean", "bad fill 'mean'"),
    ".ts channels differ": (lambda d: _bad_ts(d, channels=True), "channels"),
    ".ts one class": (lambda d: _bad_ts(d, one_class=True), "at least 2 classes"),
    ".ts without its TEST file": (lambda d: (_bad_ts(d) / "Bad_TEST.ts").unlink() or d / "Bad" / "Bad_TRAIN.ts", "no Bad_TEST.ts beside it"),
    ".ts file that is not a pair": (lambda d: (d / "one.ts").write_text("@data\n") and d / "one.ts", "name the _TRAIN.ts file"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
def test_bad_file_is_one_line_and_exit_2(
    case: str,
    tmp_path: Path,
    data_dir,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    write, says = BAD[case]
    name = str(write(tmp_path))
    for command in (["tasks", "info", name], ["train", "--task", name]):
        code, out, err = run_main(monkeypatch, capsys, *command)
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2, (command, code, out, err)
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        assert says in lines[0]
        assert "Traceback" not in out + err


# --- train and study start on a file ----------------------------------------------------------


@pytest.fixture
def private_jax_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    monkeypatch.setenv("SSMTUNE_CACHE", str(tmp_path_factory.mktemp("jax-cache")))


@pytest.mark.usefixtures("private_jax_cache")
@pytest.mark.parametrize("kind", ["strings", "per-case regression"])
def test_train_on_a_file(
    kind: str, tmp_path: Path, data_dir, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    x = _x(30, length=8)
    x[::3, 6:] = np.nan  # variable length
    y = np.array(["up", "down"] * 15) if kind == "strings" else np.linspace(0, 1, 30)
    path = _npz(tmp_path / "mine.npz", X=x, y=y)
    args = ["train", "--task", str(path), "--model", "linoss", "--set", "hidden=8",
            "--set", "state=8", "--set", "blocks=1", "--max-steps", "4", "--eval-every", "2",
            "--json"]  # fmt: skip
    code, out, err = run_main(monkeypatch, capsys, *args)
    assert code == 0, err
    result = json.loads(out)
    assert result["task"] == str(path) and result["steps"] == 4
    assert result["metric"] == ("accuracy" if kind == "strings" else "mse")
    assert np.isfinite(result["val"]) and np.isfinite(result["test"])


@pytest.mark.usefixtures("ray_local")
def test_study_records_the_data_and_resume_refuses_a_changed_file(
    tmp_path: Path, sqlite_url: str, data_dir, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import optuna

    from ssmtune.search._start import resume_study, start_study

    path = _npz(tmp_path / "study.npz", X=_x(20), y=np.arange(20) % 2)
    args = ["study", "start", "--task", str(path), "--space", SPACE, "--n-trials", "2",
            "--workers", "2", "--eval-every", "10", "--storage", sqlite_url, "--objective",
            FAST, "--quiet"]  # fmt: skip
    code, _, err = run_main(monkeypatch, capsys, *args)
    assert code == 0, err
    name = "study-small-linoss-grid"
    study = optuna.load_study(study_name=name, storage=sqlite_url)
    assert study.user_attrs["task"] == str(path)
    assert study.user_attrs["data"] == {
        "path": str(path),
        "sha256": {"study.npz": hashlib.sha256(path.read_bytes()).hexdigest()},
        "shape": [20, 12, 2],
    }
    assert len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))) == 2
    _npz(path, X=_x(21), y=np.arange(21) % 2)  # the file changes
    with pytest.raises(StudyError, match="changed since it started") as err:
        resume_study(name, storage=sqlite_url)
    assert "\n" not in str(err.value) and "shape 21x12x2" in str(err.value)
    with pytest.raises(StudyError, match=f"data {path} sha256"):
        start_study(task=str(path), space=SPACE, n_trials=2, storage=sqlite_url, objective=FAST)
