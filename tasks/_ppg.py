"""PPG-DaLiA (UCI dataset 495): heart rate from wrist signals, the LinOSS paper's length-50k
regression task.

The original download holds one Python pickle per subject, ``PPG_FieldStudy/S<i>/S<i>.pkl``
(i = 1..15): a dict with ``signal -> wrist -> ACC`` (32 Hz, 3 channels), ``BVP`` (64 Hz),
``EDA`` (4 Hz), ``TEMP`` (4 Hz) and ``label``, the heart rate every 2 s (8 s windows).

**Pickles can run code when loaded: they are read only by `prepare_ppg`, from the folder its
caller names, never from the data dir implicitly, and through an unpickler that builds numpy
arrays, dicts, lists, strings and numbers only** (any other global, such as ``os.system``, is
refused before anything is built). `prepare_ppg` writes plain arrays to
``<data dir>/cache/ppg-dalia.npz``; the task `ppg-dalia` reads only that file
(``allow_pickle=False``).

Processing, as in the LinOSS/Log-NCDE code (``data_dir/process_ppg.py``):

- wrist channels aligned at 64 Hz by repetition (ACC x2, EDA and TEMP x16): 6 channels
  (ACC x, y, z, BVP, EDA, TEMP);
- per subject, each signal min-max scaled to [-1, 1] (ACC as one signal over its 3 axes), and the
  heart rate too (the label sequence is first extended with 3 copies of its first value, so that
  label k covers the 128 steps ``[128 k, 128 (k + 1))``);
- per subject, a seeded contiguous 70/15/15 split: the seed picks one of the 6 orders of the
  70% train block and the two 15% blocks (as the official code's 6 variants), cut at label
  boundaries;
- windows of 49,920 steps (390 labels) with a stride of 4,992 steps (39 labels) inside each block.

Targets: ``y`` float32 (n, 49920, 1) holds label k of a window at its step ``128 (k + 1) - 1``
(the last step of the 128 steps it covers); ``target_mask`` is True exactly there.
"""

from __future__ import annotations

import functools
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ssmtune.tasks._base import Task
from ssmtune.tasks._errors import TaskError
from ssmtune.tasks._prep import load_npz, resolve_data_dir, save_npz
from ssmtune.tasks._types import Available, Split, TaskInfo

__all__ = ["PPGTask", "prepare_ppg", "WINDOW", "STRIDE", "LABEL_STEPS"]

#: steps per label (2 s at 64 Hz)
LABEL_STEPS = 128
#: window and stride of the LinOSS paper (390 and 39 labels)
WINDOW = 49_920
STRIDE = 4_992
_SUBJECTS = range(1, 16)
_CACHE = "ppg-dalia.npz"
#: the six orders of the (train, val, test) blocks; fractions 0.70 / 0.15 / 0.15
_ORDERS = ((0, 1, 2), (0, 2, 1), (1, 0, 2), (2, 0, 1), (1, 2, 0), (2, 1, 0))
_FRACTIONS = (0.70, 0.15, 0.15)


def _subject_files(source: Path) -> list[Path]:
    files = []
    for i in _SUBJECTS:
        for candidate in (
            source / "PPG_FieldStudy" / f"S{i}" / f"S{i}.pkl",
            source / f"S{i}" / f"S{i}.pkl",
            source / f"S{i}.pkl",
        ):
            if candidate.is_file():
                files.append(candidate)
                break
    return files


def _scale(a: np.ndarray) -> np.ndarray:
    lo, hi = np.min(a), np.max(a)
    if hi == lo:
        return np.zeros_like(a, dtype=np.float32)
    return (2 * (a - lo) / (hi - lo) - 1).astype(np.float32)


def _latin1(text: str, encoding: str) -> bytes:
    """``_codecs.encode`` as Python 3's pickle protocols 0-2 use it for bytes: latin1 only."""
    if encoding != "latin1":
        raise pickle.UnpicklingError(f"bytes encoded as {encoding!r}, not latin1")
    return text.encode("latin1")


def _empty_bytes() -> bytes:
    """``bytes()``, how Python 3's pickle protocols 0-2 write ``b""`` (an empty array's data)."""
    return b""


@functools.cache
def _allowed_globals() -> dict[tuple[str, str], object]:
    """The globals a pickle of numpy arrays may name, each mapped to this process's object.

    A subject file is a dict of numpy arrays, dicts, strings and numbers (the dataset's readme,
    UCI Machine Learning Repository, dataset 495: keys ``rpeaks``, ``signal``, ``label``,
    ``activity``, ``questionnaire``, ``subject``), pickled by Python 2 with numpy 1: an array
    is ``numpy.core.multiarray._reconstruct`` of ``numpy.ndarray`` with a ``numpy.dtype``, a
    numpy number ``numpy.core.multiarray.scalar``. numpy 2 writes ``numpy._core`` instead and,
    in protocol 5, ``numpy._core.numeric._frombuffer``; Python 3 in protocols 0-2 writes bytes
    as ``_codecs.encode(text, "latin1")`` and ``b""`` as ``bytes()``. The numpy functions are
    the ones numpy's own ``__reduce__`` returns, so neither ``numpy.core`` (deprecated in numpy
    2) nor ``numpy._core`` (absent before) is imported.
    """
    array = np.zeros(1)
    found = {
        "_reconstruct": array.__reduce__()[0],
        "_frombuffer": array.__reduce_ex__(5)[0],
        "scalar": np.float64(0).__reduce__()[0],
    }
    allowed: dict[tuple[str, str], object] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1,
        ("builtins", "bytes"): _empty_bytes,
        ("__builtin__", "bytes"): _empty_bytes,  # the Python 2 name, as protocols 0-2 write it
    }
    for core in ("numpy.core", "numpy._core"):
        allowed[(f"{core}.multiarray", "_reconstruct")] = found["_reconstruct"]
        allowed[(f"{core}.multiarray", "scalar")] = found["scalar"]
        allowed[(f"{core}.numeric", "_frombuffer")] = found["_frombuffer"]
    return allowed


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that builds numpy arrays, dicts, lists, strings and numbers, nothing else.

    Every global a pickle names (a function to call, a class to build) goes through
    `find_class`; one outside `_allowed_globals` raises `TaskError` before it is called.
    """

    def __init__(self, file: BinaryIO, path: Path) -> None:
        super().__init__(file, encoding="latin1")  # Python 2 strings: numpy's array bytes
        self._path = path

    def find_class(self, module: str, name: str) -> object:
        try:
            return _allowed_globals()[(module, name)]
        except KeyError:
            raise TaskError(
                f"refusing to load {self._path}: it references {module}.{name}, which a "
                "PPG-DaLiA file never contains; only numpy arrays, dicts, lists, strings and "
                "numbers are allowed"
            ) from None


def _read_subject(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(x float32 (T, 6), labels float32 (T // 128,)) of one subject's pickle.

    The pickle is read by `_ArrayUnpickler`: a global other than numpy's array and number
    builders raises `TaskError` naming it, before any of it runs.
    """
    try:
        with open(path, "rb") as f:
            data = _ArrayUnpickler(f, path).load()
        wrist = data["signal"]["wrist"]
        acc = np.asarray(wrist["ACC"], np.float64).reshape(-1, 3)
        bvp = np.asarray(wrist["BVP"], np.float64).reshape(-1, 1)
        eda = np.asarray(wrist["EDA"], np.float64).reshape(-1, 1)
        temp = np.asarray(wrist["TEMP"], np.float64).reshape(-1, 1)
        label = np.asarray(data["label"], np.float64).reshape(-1)
    except TaskError:  # a refused global: its own message, not "corrupt"
        raise
    except (
        OSError,
        EOFError,
        pickle.UnpicklingError,
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
        IndexError,
    ) as exc:
        raise TaskError(
            f"cannot read {path}: {type(exc).__name__} {' '.join(str(exc).split())[:150]} "
            "(expected PPG-DaLiA's dict with signal/wrist/ACC,BVP,EDA,TEMP and label; "
            "the file is corrupt or truncated)"
        ) from None
    signals = [
        np.repeat(_scale(acc), 2, axis=0),
        _scale(bvp),
        np.repeat(_scale(eda), 16, axis=0),
        np.repeat(_scale(temp), 16, axis=0),
    ]
    labels = np.concatenate([np.repeat(label[:1], 3), label])
    steps = min(min(len(s) for s in signals), len(labels) * LABEL_STEPS)
    n_labels = steps // LABEL_STEPS
    if n_labels == 0 or len(label) == 0:
        raise TaskError(f"cannot read {path}: no complete 2 s label period (the file is truncated)")
    x = np.concatenate([s[: n_labels * LABEL_STEPS] for s in signals], axis=1)
    return x, _scale(labels[:n_labels])


def prepare_ppg(
    source: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    window: int = WINDOW,
    stride: int = STRIDE,
) -> Path:
    """Process PPG-DaLiA's per-subject pickles from `source` into the data dir's `.npz` cache.

    **Loads Python pickles, only from `source`, the folder you name,** and only those that
    hold numpy arrays, dicts, lists, strings and numbers (a pickle naming any other global, which
    could run code, is refused before it is built).

    Args:
        source: the unpacked UCI download: holds ``PPG_FieldStudy/S<i>/S<i>.pkl`` (or
            ``S<i>/S<i>.pkl`` or ``S<i>.pkl``), i = 1..15; the subjects present are used.
        data_dir: the data dir (default ``$SSMTUNE_DATA`` or ``~/.cache/ssmtune/data``).
        window: window length in steps (a multiple of 128; the paper: 49,920).
        stride: window stride in steps (a multiple of 128; the paper: 4,992).

    Returns:
        The written cache file.

    Raises:
        TaskError: no subject files in `source`, a corrupt file (named), a file naming a global
            other than numpy's (named, nothing of it run), bad window/stride.
    """
    source = Path(source).expanduser()
    for what, value in (("window", window), ("stride", stride)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value <= 0
            or value % LABEL_STEPS
        ):
            raise TaskError(
                f"{what} must be a positive multiple of {LABEL_STEPS} steps, got {value!r}"
            )
    files = _subject_files(source)
    if not files:
        raise TaskError(
            f"no PPG-DaLiA subject files under {source}; expected PPG_FieldStudy/S1/S1.pkl ... "
            "S15/S15.pkl (download https://archive.ics.uci.edu/dataset/495/ppg+dalia and unpack it)"
        )
    xs, labels, names = [], [], []
    for path in files:
        x, lab = _read_subject(path)
        xs.append(x)
        labels.append(lab)
        names.append(path.stem)
    out = resolve_data_dir(data_dir) / "cache" / _CACHE
    save_npz(
        out,
        x=np.concatenate(xs),
        labels=np.concatenate(labels),
        label_offsets=np.cumsum([0] + [len(lab) for lab in labels]).astype(np.int64),
        subjects=np.array(names),
        window=np.int64(window),
        stride=np.int64(stride),
    )
    if not out.is_file():
        raise TaskError(f"cannot write {out}; check that the data dir is writable")
    return out


def _windows(x: np.ndarray, labels: np.ndarray, window: int, stride: int) -> Split:
    """Windows of one contiguous block (x: (k * 128, 6), labels: (k,))."""
    per = window // LABEL_STEPS
    if len(labels) < per:
        empty = np.zeros((0, window), dtype=bool)
        return Split(
            np.zeros((0, window, x.shape[1]), np.float32),
            np.zeros((0, window, 1), np.float32),
            empty,
            empty.copy(),
        )
    xw = sliding_window_view(x, window, axis=0)[::stride]  # (n, 6, window)
    lw = sliding_window_view(labels, per)[:: stride // LABEL_STEPS]  # (n, per)
    n = min(len(xw), len(lw))
    xw = np.ascontiguousarray(np.swapaxes(xw[:n], 1, 2), dtype=np.float32)
    y = np.zeros((n, window, 1), np.float32)
    target_mask = np.zeros((n, window), bool)
    at = np.arange(1, per + 1) * LABEL_STEPS - 1
    y[:, at, 0] = lw[:n]
    target_mask[:, at] = True
    return Split(xw, y, np.ones((n, window), bool), target_mask)


def _concat(parts: list[Split]) -> Split:
    return Split(*(np.concatenate([getattr(p, f) for p in parts]) for f in Split._fields))


@dataclass(frozen=True)
class PPGTask(Task):
    """PPG-DaLiA heart-rate regression at 64 Hz (see the module docstring)."""

    name: str = "ppg-dalia"

    def info(self, data_dir: Path) -> TaskInfo:
        cache = data_dir / "cache" / _CACHE
        available: Available = "missing"
        window, cases = WINDOW, 0
        if cache.is_file():
            try:
                with np.load(cache, allow_pickle=False) as f:
                    window = int(f["window"])
                    stride = int(f["stride"])
                    offsets = f["label_offsets"]
            except (OSError, ValueError, KeyError, EOFError):
                pass
            else:
                available = "downloaded"
                per, step = window // LABEL_STEPS, stride // LABEL_STEPS
                for k in np.diff(offsets):  # order 0 of each subject; others differ by a few
                    cuts = _cuts(int(k))
                    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
                        cases += max(0, (b - a - per) // step + 1)
        return TaskInfo(
            self.name,
            "regression",
            "mse",
            6,
            1,
            window,
            cases,
            "ppg",
            available,
            "PPG-DaLiA heart rate from wrist signals (UCI 495); prepare with `ssmtune data ppg`",
        )

    def splits(self, *, seed: int, data_dir: Path) -> tuple[Split, Split, Split]:
        cache = data_dir / "cache" / _CACHE
        if not cache.is_file():
            raise TaskError(
                f"ppg-dalia is not prepared ({cache} is missing): download "
                "https://archive.ics.uci.edu/dataset/495/ppg+dalia, unpack it and run "
                "`ssmtune data ppg <unpacked folder>`"
            )
        arrays = load_npz(cache)
        try:
            x, labels, offsets = arrays["x"], arrays["labels"], arrays["label_offsets"]
            window, stride = int(arrays["window"]), int(arrays["stride"])
        except KeyError:
            raise TaskError(
                f"{cache} lacks arrays (corrupt); run `ssmtune data ppg` again"
            ) from None
        rng = np.random.default_rng(seed)
        parts: list[list[Split]] = [[], [], []]
        for a, b in zip(offsets[:-1], offsets[1:], strict=True):
            order = _ORDERS[int(rng.integers(len(_ORDERS)))]
            cuts = _cuts(int(b - a), order)
            for pos, which in enumerate(order):
                lo, hi = a + cuts[pos], a + cuts[pos + 1]
                block = x[lo * LABEL_STEPS : hi * LABEL_STEPS]
                parts[which].append(_windows(block, labels[lo:hi], window, stride))
        train, val, test = (_concat(p) for p in parts)
        if min(train.n, val.n, test.n) == 0:
            raise TaskError(
                f"{cache} is too short for windows of {window} steps in every split "
                f"({train.n}/{val.n}/{test.n} windows)"
            )
        return train, val, test


def _cuts(n_labels: int, order: tuple[int, int, int] = (0, 1, 2)) -> list[int]:
    """Label boundaries of the three blocks laid out in `order` (block sizes 70/15/15 %)."""
    sizes = [int(_FRACTIONS[which] * n_labels) for which in order]
    sizes[-1] = n_labels - sizes[0] - sizes[1]
    return [0, sizes[0], sizes[0] + sizes[1], n_labels]
