"""tasks: datasets, splits, metrics and downloads.

One registry of tasks (`names`, `info`, `load`); every task gives seed-determined
train/val/test `Split`s. See `tasks._registry` for the naming rules; a path names the user's own
data (`tasks._user`).
"""

from ssmtune.tasks._download import download_uea
from ssmtune.tasks._errors import TaskError
from ssmtune.tasks._ppg import prepare_ppg
from ssmtune.tasks._prep import add_time, default_data_dir, drop_duplicates, random_split
from ssmtune.tasks._registry import data_identity, info, load, names
from ssmtune.tasks._types import Dataset, Split, TaskInfo
from ssmtune.tasks._uea import ARCHIVE_URL as UEA_ARCHIVE_URL
from ssmtune.tasks._uea import provenance

__all__ = [
    "TaskError",
    "TaskInfo",
    "Split",
    "Dataset",
    "names",
    "info",
    "load",
    "provenance",
    "data_identity",
    "default_data_dir",
    "random_split",
    "drop_duplicates",
    "add_time",
    "download_uea",
    "UEA_ARCHIVE_URL",
    "prepare_ppg",
]
