"""The user's own data as a task, named by its path: a `.npz` file or a UEA/sktime `.ts` pair.

``--task PATH`` (and `tasks.info` / `tasks.load` with a path) accepts:

- a ``.npz`` file (``np.savez``) holding ``X`` (cases, length, channels) and ``y`` (cases),
  optionally with ``X_test`` and ``y_test`` or with ``split``. Integer, boolean and string
  ``y`` is classification (classes in sorted order, numerically when every label is a
  number); float ``y`` is regression: ``(cases,)`` one target per case, read at the case's
  last step; ``(cases, length)`` or ``(cases, length, outputs)`` a target per step, NaN where
  a step has none. It is read with ``allow_pickle=False``: an array of Python objects is
  refused, save string labels as ``np.array(labels, dtype=str)``;
- a ``.ts`` pair ``NAME_TRAIN.ts`` + ``NAME_TEST.ts`` (classification), named by its TRAIN file
  or by the folder holding it.

Variable length: steps at the end of a case that are missing (NaN, ``?`` in a ``.ts`` file) in
every channel are padding; the cases are zero-padded and masked at the end, as JapaneseVowels.
Any other missing value is refused in one line that counts them, unless the name asks for a
fill: ``PATH@fill=zero`` (0) or ``PATH@fill=ffill`` (the channel's last value before it, the
first one after it at a case's start, 0 in a channel with no value at all).

Splits, all seed-determined and disjoint:

- with ``X_test``/``y_test``: the test set is those cases, for every seed; the seed permutes
  the ``X`` cases and takes ``max(1, n * 15 // 85)`` of them (15/85 of n, rounded down: the
  proportions of a 70/15 train/val split) for validation, the rest for training;
- with ``split`` (one value per case of ``X``: ``"train"``/``"val"``/``"test"`` or 0/1/2):
  exactly those parts, for every seed;
- otherwise (and for a ``.ts`` pair, as the UEA tasks): every case, train file first, with
  exact duplicates dropped (`drop_duplicates`), then the seed's random 70/15/15 split
  (`random_split`).

The task's name is the absolute path of the ``.npz`` or ``_TRAIN.ts`` file (plus the fill),
so that a study and its workers find the same data; `UserTask.identity` gives the SHA-256 of
the files and the data's shape, which a study records to refuse a changed file on resume.
"""

from __future__ import annotations

import functools
import os
import zipfile
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple, cast

import numpy as np

from ssmtune.tasks._base import Task
from ssmtune.tasks._errors import TaskError
from ssmtune.tasks._prep import drop_duplicates, file_sha256, random_split, split_sizes
from ssmtune.tasks._ts import encode_labels, read_pair
from ssmtune.tasks._types import Split, TaskInfo

__all__ = ["FILLS", "UserTask", "user_task", "fill_missing"]

#: How missing values may be filled (``PATH@fill=HOW``).
FILLS = ("zero", "ffill")
#: How missing values are filled (one of `FILLS`).
Fill = Literal["zero", "ffill"]
_FILL_TAG = "@fill="
_NPZ_KEYS = ("X", "y", "X_test", "y_test", "split")
_PARTS = {"train": 0, "val": 1, "test": 2}
_SUFFIXES = (".npz", ".ts")
#: Name prefixes of the registry (`tasks._registry`): such a name is never a path.
_PREFIXES = ("uea:",)


def fill_missing(x: np.ndarray, how: Fill) -> np.ndarray:
    """`x` (cases, length, channels) with its NaN values filled along the length.

    ``zero``: 0. ``ffill``: the channel's last value before the step; a case's leading missing
    values take the channel's first value, and a channel with no value takes 0.

    Example:
        >>> x = np.array([[[np.nan], [1.0], [np.nan], [3.0]]])
        >>> fill_missing(x, "ffill")[0, :, 0].tolist()
        [1.0, 1.0, 1.0, 3.0]
    """
    if how == "zero":
        return np.nan_to_num(x, nan=0.0)
    steps = np.arange(x.shape[1])[None, :, None]
    seen = ~np.isnan(x)
    last = np.maximum.accumulate(np.where(seen, steps, 0), axis=1)
    out = np.take_along_axis(x, last, axis=1)
    first = np.argmax(seen, axis=1)[:, None, :]  # each channel's first value, for the start
    out = np.where(np.isnan(out), np.take_along_axis(x, first, axis=1), out)
    return np.nan_to_num(out, nan=0.0)


class _Cases(NamedTuple):
    """A user file read and checked: every case, and how they are split.

    `how`: ``"random"`` (the seed's 70/15/15 split of every case), ``"split"`` (`part` per
    case: 0 train, 1 val, 2 test) or ``"test"`` (`part` 2 on the fixed test cases, 0 on the
    cases the seed splits into train and val).
    """

    every: Split
    kind: Literal["classification", "regression"]
    outputs: int
    how: Literal["random", "split", "test"]
    part: np.ndarray | None
    rule: str


@dataclass(frozen=True)
class UserTask(Task):
    """The user's data file as a task (see the module docstring for the formats and splits).

    Attributes:
        path: absolute path of the ``.npz`` file or of the ``NAME_TRAIN.ts`` file of a pair.
        fill: how to fill missing values (one of `FILLS`), or None to refuse them.
    """

    path: Path
    fill: Fill | None = None

    @property
    def name(self) -> str:  # type: ignore[override]
        return str(self.path) + ("" if self.fill is None else f"{_FILL_TAG}{self.fill}")

    def files(self) -> tuple[Path, ...]:
        """The files the task reads: the ``.npz``, or the TRAIN and TEST ``.ts`` files."""
        if self.path.suffix.lower() == ".npz":
            return (self.path,)
        return (self.path, _test_file(self.path))

    def _cases(self) -> _Cases:
        files = self.files()
        stamps = []
        for f in files:
            try:
                st = f.stat()
            except OSError as exc:
                raise TaskError(f"cannot read {f}: {exc.strerror or exc}") from None
            stamps.append((st.st_size, st.st_mtime_ns))
        return _read(files, tuple(stamps), self.fill)

    def info(self, data_dir: Path) -> TaskInfo:
        cases = self._cases()
        n, length, channels = cases.every.x.shape
        return TaskInfo(
            name=self.name,
            kind=cases.kind,
            metric="accuracy" if cases.kind == "classification" else "mse",
            channels=int(channels),
            classes=cases.outputs,
            length=int(length),
            cases=int(n),
            source="user",
            available="downloaded",
            description=f"your data {self.path.name}: {cases.rule}",
        )

    def splits(self, *, seed: int, data_dir: Path) -> tuple[Split, Split, Split]:
        cases = self._cases()
        every, part = cases.every, cases.part
        parts: tuple[np.ndarray, ...]
        if cases.how == "random":
            parts = random_split(every.n, seed=seed)
        elif cases.how == "split":
            parts = tuple(np.flatnonzero(part == k) for k in range(3))
        else:  # a fixed test set; the seed splits the rest 70/15
            pool = np.random.default_rng(seed).permutation(np.flatnonzero(part == 0))
            n_val = _val_size(len(pool))
            parts = (pool[n_val:], pool[:n_val], np.flatnonzero(part == 2))
        train, val, test = (every.take(np.sort(idx)) for idx in parts)
        return train, val, test

    def identity(self) -> dict:
        """What a study records to recognise this data: ``{"path", "sha256", "shape"}``.

        ``sha256`` maps each file's name to the SHA-256 of its bytes; ``shape`` is
        ``[cases, length, channels]`` after preprocessing.
        """
        n, length, channels = self._cases().every.x.shape
        return {
            "path": str(self.path),
            "sha256": {f.name: _sha256(f) for f in self.files()},
            "shape": [int(n), int(length), int(channels)],
        }


def user_task(name: str, *, reserved: Collection[str] = ()) -> UserTask | None:
    """The task of the data file that `name` names, or None when `name` is not a path.

    `name` is a path when it ends with ``.npz`` or ``.ts``, holds a ``/`` or starts with ``~``,
    or names an existing file or folder and is not one of `reserved` (the registry's names,
    which win); never when it starts with ``uea:``. ``@fill=zero`` or ``@fill=ffill`` at its end asks for missing values to be
    filled. A folder stands for the ``.ts`` pair it holds.

    Raises:
        TaskError: the path does not exist, is not a ``.npz`` or ``.ts`` pair, or a bad fill.

    Example:
        >>> user_task("basicmotions", reserved=["basicmotions"]) is None
        True
    """
    text = name.strip()
    fill = None
    if _FILL_TAG in text and not _exists(Path(text).expanduser()):
        text, _, fill = text.rpartition(_FILL_TAG)
    pathlike = (
        text.lower().endswith(_SUFFIXES)
        or "/" in text
        or os.sep in text
        or text.startswith("~")
        or (text.lower() not in reserved and _exists(Path(text)))
    )
    if not pathlike or text.lower().startswith(_PREFIXES):
        return None
    if fill is not None and fill not in FILLS:
        raise TaskError(f"bad fill {fill!r} in {name!r}: use {_FILL_TAG}zero or {_FILL_TAG}ffill")
    how = cast(Fill | None, fill)  # checked against FILLS above
    return UserTask(_data_file(Path(text).expanduser().absolute()), how)


# --- finding the files -------------------------------------------------------------------------


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):  # a name too long for the system, a NUL byte
        return False


def _data_file(path: Path) -> Path:
    """The ``.npz`` or ``_TRAIN.ts`` file that `path` stands for (a folder: its pair)."""
    if not _exists(path):
        raise TaskError(f"no such data file: {path}")
    if path.is_dir():
        return _pair_in(path)
    if path.suffix.lower() == ".npz":
        return path
    if path.suffix.lower() == ".ts":
        if not path.stem.upper().endswith("_TRAIN"):
            raise TaskError(
                f"{path}: a .ts task is a pair NAME_TRAIN.ts + NAME_TEST.ts; "
                "name the _TRAIN.ts file or the folder holding both"
            )
        _test_file(path)  # raises when missing
        return path
    raise TaskError(
        f"{path}: not a data file ssmtune reads; give a .npz (X, y, optionally X_test/y_test "
        "or split), a NAME_TRAIN.ts file beside its NAME_TEST.ts, or their folder"
    )


def _pair_in(folder: Path) -> Path:
    trains = sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() == ".ts" and p.stem.upper().endswith("_TRAIN") and p.is_file()
    )
    own = [p for p in trains if p.stem[: -len("_TRAIN")].lower() == folder.name.lower()]
    if len(own) == 1 or len(trains) == 1:
        found = (own or trains)[0]
        _test_file(found)
        return found
    if not trains:
        raise TaskError(f"folder {folder} holds no NAME_TRAIN.ts / NAME_TEST.ts pair")
    raise TaskError(
        f"folder {folder} holds several pairs ({', '.join(p.name for p in trains)}); "
        "name the _TRAIN.ts file"
    )


def _test_file(train: Path) -> Path:
    test = train.with_name(f"{train.stem[: -len('_TRAIN')]}_TEST{train.suffix}")
    if not test.is_file():
        raise TaskError(f"{train} has no {test.name} beside it; a .ts task needs both files")
    return test


def _sha256(path: Path) -> str:
    try:
        return file_sha256(path)
    except OSError as exc:
        raise TaskError(f"cannot read {path}: {exc.strerror or exc}") from None


# --- reading and checking ----------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _read(files: tuple[Path, ...], stamps: tuple, fill: Fill | None) -> _Cases:
    """The checked cases of `files`; `stamps` (size, mtime of each) renew the cache entry."""
    del stamps
    if len(files) == 1:
        return _read_npz(files[0], fill)
    return _read_ts(files[0], files[1], fill)


def _read_ts(train: Path, test: Path, fill: Fill | None) -> _Cases:
    if _regression_ts(train):
        raise TaskError(
            f"{train} holds regression targets (@targetLabel true); a .ts task is "
            "classification: save X and float y in a .npz for regression"
        )
    raw = read_pair(train, test, keep_missing=True)
    x = _filled(raw["x"], raw["mask"], fill, train, f"{train} and {test.name} have")
    _check_finite(x, f"{train} and {test.name} have")
    if len(raw["classes"]) < 2:
        raise TaskError(
            f"{train} and {test.name}: every case has the label '{raw['classes'][0]}'; "
            "classification needs at least 2 classes"
        )
    every = Split(x, raw["y"], raw["mask"], None)
    every = _distinct(every, f"{train} and {test.name}:")
    rule = "TRAIN and TEST merged, duplicates dropped, random 70/15/15 split per seed"
    return _Cases(every, "classification", len(raw["classes"]), "random", None, rule)


def _regression_ts(path: Path) -> bool:
    """Whether the header of `path` declares regression targets (``@targetLabel true``)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                words = line.lower().split()
                if words[:1] == ["@data"]:
                    return False
                if words[:2] == ["@targetlabel", "true"]:
                    return True
    except OSError as exc:
        raise TaskError(f"cannot read {path}: {exc.strerror or exc}") from None
    return False


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    if not zipfile.is_zipfile(path):
        raise TaskError(f"cannot read {path}: not a .npz archive (np.savez writes one)")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {}
            for key in f.files:
                try:
                    arrays[key] = f[key]
                except ValueError as exc:
                    if "allow_pickle" not in str(exc):
                        raise
                    raise TaskError(
                        f"{path}: array {key!r} holds Python objects, which ssmtune does not "
                        "unpickle; save numbers, or labels as np.array(labels, dtype=str)"
                    ) from None
    except TaskError:  # an array of objects (TaskError is a ValueError too)
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, KeyError) as exc:
        text = " ".join(str(exc).split())[:150] or type(exc).__name__
        raise TaskError(
            f"cannot read {path}: {text} (expected a .npz written by np.savez with X and y)"
        ) from None
    return arrays


def _read_npz(path: Path, fill: Fill | None) -> _Cases:
    arrays = _load_npz(path)
    unknown = sorted(set(arrays) - set(_NPZ_KEYS))
    if unknown or "X" not in arrays or "y" not in arrays:
        found = ", ".join(sorted(arrays)) or "nothing"
        raise TaskError(
            f"{path} holds {found}; a task .npz holds X and y, optionally X_test and y_test "
            "or split (nothing else)"
        )
    has_test = ("X_test" in arrays, "y_test" in arrays)
    if has_test[0] != has_test[1]:
        raise TaskError(f"{path} has {'X_test' if has_test[0] else 'y_test'} alone; give both")
    if has_test[0] and "split" in arrays:
        raise TaskError(f"{path} has both X_test and split; give one way of splitting")
    x, mask = _series(arrays["X"], "X", path)
    y = arrays["y"]
    _check_cases(y, x, "y", path)
    part = None
    if has_test[0]:
        x_test, mask_test = _series(arrays["X_test"], "X_test", path)
        if x_test.shape[1:] != x.shape[1:]:
            raise TaskError(
                f"{path}: X_test is (cases, {x_test.shape[1]}, {x_test.shape[2]}) but X is "
                f"(cases, {x.shape[1]}, {x.shape[2]}); length and channels must match (pad "
                "shorter series with NaN at the end)"
            )
        y_test = arrays["y_test"]
        _check_cases(y_test, x_test, "y_test", path)
        if (y.dtype.kind == "f") != (y_test.dtype.kind == "f") or y.shape[1:] != y_test.shape[1:]:
            raise TaskError(
                f"{path}: y is {y.dtype} {y.shape[1:]} per case but y_test is {y_test.dtype} "
                f"{y_test.shape[1:]}; both must be labels or both targets of one shape"
            )
        part = np.repeat(np.array([0, 2], np.int8), [len(x), len(x_test)])
        x, mask = np.concatenate([x, x_test]), np.concatenate([mask, mask_test])
        labels = y.dtype.kind != "f"  # int and string labels merge as strings
        y = np.concatenate([y.astype(str), y_test.astype(str)] if labels else [y, y_test])
        if len(x) - len(x_test) < 2:
            raise TaskError(f"{path}: X holds {len(x) - len(x_test)} case; at least 2 are needed")
        how: Literal["random", "split", "test"]
        how, rule = "test", "test set X_test fixed, X split 70/15 into train/val per seed"
    elif "split" in arrays:
        part = _parts(arrays["split"], len(x), path)
        how, rule = "split", "train/val/test as the split array says"
    else:
        how, rule = "random", "duplicates dropped, random 70/15/15 split per seed"
    x = _filled(x, mask, fill, path, f"{path} has")
    _check_finite(x, f"{path} has")
    kind, y, target_mask, outputs = _targets(y, mask, path)
    every = Split(x, y, mask, target_mask)
    if how == "random":
        every = _distinct(every, f"{path}:")
    return _Cases(every, kind, outputs, how, part, rule)


def _series(a: np.ndarray, key: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """float (cases, length, channels) with NaN inside cases, and the mask of real steps."""
    if a.dtype.kind not in "biuf":
        raise TaskError(f"{path}: {key} is {a.dtype}; it must hold numbers")
    if a.ndim != 3 or 0 in a.shape:
        hint = f" (one channel: {key}[..., None])" if a.ndim == 2 else ""
        raise TaskError(
            f"{path}: {key} has shape {a.shape}; it must be (cases, length, channels){hint}"
        )
    x = a.astype(np.float32)
    real = np.asarray(~np.isnan(x).all(axis=2))
    lengths = np.where(real.any(axis=1), x.shape[1] - np.argmax(real[:, ::-1], axis=1), 0)
    if (lengths == 0).any():
        raise TaskError(f"{path}: {key}[{int(np.argmin(lengths))}] has no values (all NaN)")
    mask = np.arange(x.shape[1])[None, :] < lengths[:, None]
    x[~mask] = 0.0
    return x, mask


def _check_cases(y: np.ndarray, x: np.ndarray, key: str, path: Path) -> None:
    if y.ndim == 0 or len(y) != len(x):
        raise TaskError(
            f"{path}: {key} has shape {y.shape} but there are {len(x)} cases; it needs one "
            "label or target per case"
        )


def _parts(split: np.ndarray, n: int, path: Path) -> np.ndarray:
    if split.shape != (n,):
        raise TaskError(f"{path}: split has shape {split.shape}; it needs one value per case ({n})")
    if split.dtype.kind in "US":
        text = np.char.lower(split.astype(str))
        bad = sorted(set(text.tolist()) - set(_PARTS))
        part = np.array([_PARTS.get(t, -1) for t in text], np.int8)
    elif split.dtype.kind in "iu":
        bad = sorted(set(split.tolist()) - {0, 1, 2})
        part = split.astype(np.int8)
    else:
        raise TaskError(f"{path}: split is {split.dtype}; use 'train'/'val'/'test' or 0/1/2")
    if bad:
        raise TaskError(f"{path}: split holds {bad[:3]}; use 'train'/'val'/'test' or 0/1/2")
    empty = [p for p, k in _PARTS.items() if not (part == k).any()]
    if empty:
        raise TaskError(f"{path}: split gives no case to {' and '.join(empty)}")
    return part


def _targets(
    y: np.ndarray, mask: np.ndarray, path: Path
) -> tuple[Literal["classification", "regression"], np.ndarray, np.ndarray | None, int]:
    """(kind, y as a `Split` holds it, target_mask, classes or outputs) of the labels `y`."""
    n, length = mask.shape
    if y.dtype.kind in "biuUS":
        if y.ndim != 1:
            raise TaskError(
                f"{path}: y has shape {y.shape}; class labels are one per case (float y for "
                "per-step regression targets)"
            )
        labels, classes = encode_labels(y.astype(str))
        if len(classes) < 2:
            raise TaskError(
                f"{path}: every case has the label '{classes[0]}'; classification needs at "
                "least 2 classes"
            )
        return "classification", labels, None, len(classes)
    if y.dtype.kind != "f":
        raise TaskError(f"{path}: y is {y.dtype}; use integer or string labels or float targets")
    if y.ndim == 1:  # one target per case, at its last real step
        if not np.isfinite(y).all():
            raise TaskError(f"{path}: y has {int((~np.isfinite(y)).sum())} NaN or inf targets")
        last = mask.sum(axis=1) - 1
        targets = np.zeros((n, length, 1), np.float32)
        targets[np.arange(n), last, 0] = y
        target_mask = np.zeros((n, length), bool)
        target_mask[np.arange(n), last] = True
        return "regression", targets, target_mask, 1
    per_step = y[:, :, None] if y.ndim == 2 else y
    if per_step.ndim != 3 or per_step.shape[1] != length or 0 in per_step.shape:
        raise TaskError(
            f"{path}: y has shape {y.shape}; float targets are (cases,), (cases, {length}) or "
            f"(cases, {length}, outputs)"
        )
    if np.isinf(per_step).any():
        raise TaskError(f"{path}: y has {int(np.isinf(per_step).sum())} infinite targets")
    target_mask = mask & ~np.isnan(per_step).any(axis=2)
    if not target_mask.any(axis=1).all():
        case = int(np.argmin(target_mask.any(axis=1)))
        raise TaskError(f"{path}: case {case} has no target (y is NaN on all its steps)")
    targets = np.where(target_mask[:, :, None], per_step, 0.0).astype(np.float32)
    return "regression", targets, target_mask, int(per_step.shape[2])


def _filled(
    x: np.ndarray, mask: np.ndarray, fill: Fill | None, path: Path, what: str
) -> np.ndarray:
    """float32 `x` with its missing values filled, or TaskError counting them.

    `path`: the task's file (for the fix); `what`: the start of the message ("F has").
    """
    missing = int((np.isnan(x) & mask[:, :, None]).sum())
    if not missing:
        return x.astype(np.float32)
    if fill is None:
        raise TaskError(
            f"{what} {missing:,} missing value{'s' if missing > 1 else ''} (NaN or '?') "
            f"inside the series; to fill them, name the task '{path}{_FILL_TAG}ffill' (the "
            f"last value before) or '{path}{_FILL_TAG}zero'"
        )
    return np.where(mask[:, :, None], fill_missing(x, fill), 0.0).astype(np.float32)


def _check_finite(x: np.ndarray, what: str) -> None:
    """TaskError counting the infinite values of `x`, if any; `what`: "F has"."""
    bad = int((~np.isfinite(x)).sum())
    if bad:
        raise TaskError(f"{what} {bad:,} infinite values (or values beyond float32)")


def _distinct(every: Split, what: str) -> Split:
    """`every` without exact duplicates (first kept), cut to its longest case; TaskError
    (`what`: the files, "F:") when too few cases remain for the 70/15/15 split."""
    every = every.take(drop_duplicates(every.x, every.mask))
    length = int(every.mask.sum(axis=1).max())
    if length < every.x.shape[1]:  # duplicates removed the longest case
        target_mask = every.target_mask  # per-step targets
        every = Split(
            every.x[:, :length],
            every.y[:, :length] if target_mask is not None else every.y,
            every.mask[:, :length],
            target_mask[:, :length] if target_mask is not None else None,
        )
    _, n_val, n_test = split_sizes(every.n)
    if min(n_val, n_test) < 1:
        raise TaskError(
            f"{what} {every.n} distinct cases are too few for a 70/15/15 split; "
            "at least 7 are needed"
        )
    return every


def _val_size(n: int) -> int:
    """Validation cases taken from `n` training cases when the test set is fixed.

    Example:
        >>> _val_size(85), _val_size(10), _val_size(2)
        (15, 1, 1)
    """
    return max(1, n * 15 // 85)
