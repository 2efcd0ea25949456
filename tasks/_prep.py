"""Small pure functions shared by every task: data dir, padding, duplicates, splits, time channel,
and the `.npz` cache.

Every function here works on numpy arrays of cases: ``x`` float32 ``(n, length, channels)``,
``mask`` bool ``(n, length)``, ``y`` per case.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ssmtune.tasks._errors import TaskError
from ssmtune.tasks._types import Split

__all__ = [
    "SPLIT_FRACTIONS",
    "default_data_dir",
    "resolve_data_dir",
    "pad",
    "drop_duplicates",
    "random_split",
    "split_sizes",
    "add_time",
    "save_npz",
    "load_npz",
    "file_sha256",
]

#: Train / validation / test fractions of the LinOSS/Log-NCDE benchmark (Benjamin-Walker/
#: log-neural-cdes ``data_dir/process_uea.py``, used by tk-rusch/linoss).
SPLIT_FRACTIONS = (0.70, 0.15, 0.15)


def default_data_dir() -> Path:
    """``$SSMTUNE_DATA`` if set, else ``~/.cache/ssmtune/data``."""
    env = os.environ.get("SSMTUNE_DATA")
    return Path(env).expanduser() if env else Path("~/.cache/ssmtune/data").expanduser()


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    """`data_dir` as a Path, or the default data dir when None."""
    return default_data_dir() if data_dir is None else Path(data_dir).expanduser()


def pad(series: Sequence[np.ndarray], length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stack variable-length cases, padding at the end with zeros.

    Args:
        series: cases, each float ``(length_i, channels)``.
        length: padded length; default the longest case.

    Returns:
        ``(x, mask)``: x float32 ``(n, length, channels)`` with zeros after each case's end,
        mask bool ``(n, length)`` True exactly on the real steps.

    Example:
        >>> x, m = pad([np.ones((2, 1)), np.ones((3, 1))])
        >>> m.tolist()
        [[True, True, False], [True, True, True]]
    """
    lengths = np.array([len(s) for s in series], dtype=np.int64)
    length = int(lengths.max()) if length is None else length
    channels = series[0].shape[1]
    x = np.zeros((len(series), length, channels), dtype=np.float32)
    for i, s in enumerate(series):
        x[i, : len(s)] = s
    mask = np.arange(length)[None, :] < lengths[:, None]
    return x, mask


def drop_duplicates(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Indices of the first occurrence of each distinct case (series and length), in order.

    The benchmark (Log-NCDE ``process_uea.py``) drops cases whose series are exactly equal,
    keeping one label; so do we, keeping the first case in file order (train, then test).

    Example:
        >>> x = np.array([[[1.0]], [[2.0]], [[1.0]]], dtype=np.float32)
        >>> drop_duplicates(x, np.ones((3, 1), bool)).tolist()
        [0, 1]
    """
    n = x.shape[0]
    rows = np.concatenate(
        [np.ascontiguousarray(x).reshape(n, -1).view(np.uint8), mask.reshape(n, -1).view(np.uint8)],
        axis=1,
    )
    rows = np.ascontiguousarray(rows)
    keys = rows.view(np.dtype((np.void, rows.shape[1]))).ravel()
    _, first = np.unique(keys, return_index=True)
    return np.sort(first)


def split_sizes(n: int, fractions: Sequence[float] = SPLIT_FRACTIONS) -> tuple[int, int, int]:
    """Sizes of train/val/test for `n` cases: ``int(0.7 n)``, ``int(0.15 n)``, the rest."""
    n_train = int(fractions[0] * n)
    n_val = int(fractions[1] * n)
    return n_train, n_val, n - n_train - n_val


def random_split(n: int, *, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A seed-determined random 70/15/15 split of ``range(n)``: (train, val, test) indices.

    Each seed gives its own split, as in the benchmark; the three parts are disjoint and cover
    every case.

    Example:
        >>> tr, va, te = random_split(20, seed=0)
        >>> len(tr), len(va), len(te)
        (14, 3, 3)
    """
    perm = np.random.default_rng(seed).permutation(n)
    n_train, n_val, _ = split_sizes(n)
    return perm[:n_train], perm[n_train : n_train + n_val], perm[n_train + n_val :]


def add_time(split: Split) -> Split:
    """Prepend the time channel ``t / L`` (t = 0..L-1, L the padded length); zero on padding."""
    n, length, _ = split.x.shape
    t = (np.arange(length, dtype=np.float32) / np.float32(length))[None, :, None]
    t = np.broadcast_to(t, (n, length, 1)) * split.mask[:, :, None]
    x = np.concatenate([t.astype(np.float32), split.x], axis=-1)
    return split._replace(x=x)


def save_npz(path: Path, **arrays: np.ndarray | np.generic) -> None:
    """Write `arrays` to `path` atomically (a temporary file, then rename).

    A data dir that cannot be written is not an error: the arrays are then recomputed next time.
    """
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp.npz")  # one per process
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(tmp, allow_pickle=True, **arrays)  # numpy's default, said for the type checker
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Read a cache file written by `save_npz` (never unpickles).

    Raises:
        TaskError: the file is corrupt or truncated (the message names it).
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise TaskError(
            f"cache file {path} is corrupt or truncated ({_one_line(exc)}); delete it to rebuild"
        ) from None


def file_sha256(path: Path) -> str:
    """The SHA-256 (hex) of the file at `path`, read in 1 MiB blocks.

    Raises:
        OSError: the file cannot be read.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__
