"""Reading the UEA/UCR archive's `.ts` and `.arff` files through sktime's loaders.

One code path serves the embedded datasets (shipped inside sktime's package) and the downloaded
archive: `read_pair` reads a dataset's TRAIN and TEST files, merges them (train first) and returns
padded arrays. sktime is imported inside the functions because it is slow to import (~1.5 s).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ssmtune.tasks._errors import TaskError
from ssmtune.tasks._prep import pad

__all__ = ["read_file", "read_pair", "encode_labels"]


def read_file(path: Path, *, keep_missing: bool = False) -> tuple[list[np.ndarray], np.ndarray]:
    """Read one `.ts` or `.arff` file.

    Args:
        path: the file.
        keep_missing: leave the missing values inside a case (``?`` or ``NaN`` in the file) as
            NaN, for the caller to refuse or fill; by default they become 0 (the benchmark's
            UEA processing).

    Returns:
        ``(series, labels)``: series a list of float32 ``(length_i, channels)`` arrays (trailing
        steps missing in every channel, which the archive uses for unequal lengths, are cut;
        other missing values become 0 unless `keep_missing`), labels the class labels as
        strings.

    Raises:
        TaskError: the file cannot be parsed (corrupt or truncated); the message names it.
    """
    import pandas as pd
    from sktime.datasets import load_from_arff_to_dataframe, load_from_tsfile

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if path.suffix.lower() == ".arff":
                frame, labels = load_from_arff_to_dataframe(str(path))
            else:
                frame, labels = load_from_tsfile(str(path), return_data_type="nested_univ")
    except Exception as exc:  # sktime raises many types (IOError, ValueError, its own) on bad files
        raise TaskError(
            f"cannot read {path}: {' '.join(str(exc).split())[:200]} "
            "(the file is corrupt or truncated; delete it and download again)"
        ) from None
    if len(frame) == 0 or labels is None or len(labels) != len(frame):
        raise TaskError(f"cannot read {path}: no labelled cases (the file is corrupt or truncated)")
    series = []
    for row in frame.itertuples(index=False):
        channels = [
            np.asarray(c.to_numpy() if isinstance(c, pd.Series) else c, np.float64) for c in row
        ]
        length = max(len(c) for c in channels)
        case = np.full((length, len(channels)), np.nan)
        for j, c in enumerate(channels):
            case[: len(c), j] = c
        real = ~np.all(np.isnan(case), axis=1)
        end = int(np.flatnonzero(real)[-1]) + 1 if real.any() else 0
        if end == 0:
            raise TaskError(f"cannot read {path}: a case has no values (the file is corrupt)")
        case = case[:end] if keep_missing else np.nan_to_num(case[:end], nan=0.0)
        series.append(case.astype(np.float32))
    return series, np.asarray(labels).astype(str)


def encode_labels(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class indices for string labels, classes ordered numerically when they are all numbers.

    Example:
        >>> encode_labels(np.array(["10", "2", "2"]))[0].tolist()
        [1, 0, 0]
    """
    classes = np.unique(labels)
    try:
        order = np.argsort([float(c) for c in classes], kind="stable")
        classes = classes[order]
    except ValueError:
        pass
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[c] for c in labels], dtype=np.int32), classes


def read_pair(train: Path, test: Path, *, keep_missing: bool = False) -> dict[str, np.ndarray]:
    """Read a dataset's TRAIN and TEST files and merge them (train cases first).

    `keep_missing`: as in `read_file` (missing values stay NaN in ``x``).

    Returns:
        dict with ``x`` float32 (n, length, channels) zero-padded at the end, ``mask`` bool
        (n, length), ``y`` int32 (n,), ``classes`` (the label strings, index = class),
        ``n_train`` (how many of the cases came from the TRAIN file).

    Raises:
        TaskError: a file is corrupt, or the two files disagree on the channels.
    """
    s_train, l_train = read_file(train, keep_missing=keep_missing)
    s_test, l_test = read_file(test, keep_missing=keep_missing)
    if s_train[0].shape[1] != s_test[0].shape[1]:
        raise TaskError(
            f"{train} has {s_train[0].shape[1]} channels but {test} has {s_test[0].shape[1]}; "
            "the files are corrupt or from different datasets"
        )
    channels = {s.shape[1] for s in s_train + s_test}
    if len(channels) != 1:
        raise TaskError(
            f"cases of {train} / {test} have different channel counts {sorted(channels)}"
        )
    x, mask = pad(s_train + s_test)
    y, classes = encode_labels(np.concatenate([l_train, l_test]))
    return {
        "x": x,
        "mask": mask,
        "y": y,
        "classes": classes,
        "n_train": np.asarray(len(s_train), np.int64),
    }
