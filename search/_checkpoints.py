"""Where a study's trial checkpoints live (`models.Checkpoint`), and whether every worker can
reach them.

A study keeps them under one folder, ``--checkpoint-dir`` (recorded in its settings): by
default beside a SQLite file (``studies.db`` -> ``studies.db.checkpoints/``), else under the
data dir (``$SSMTUNE_DATA/checkpoints``). Inside it, ``<study>/trial-<n>/`` holds the latest
checkpoint of grid point chain `n`: a trial and every retry of it share the folder of the
first trial (`chain_number`), so a retry, a trial re-queued by `resume` or by the
stale-heartbeat path finds what the killed trial wrote.

On a cluster with nodes on other machines the folder must be on a filesystem every node mounts
at the same path (NFS, Lustre, a bucket mounted with gcsfuse or mountpoint-s3): a retry runs
on whichever node is free. `check_shared` refuses a folder on this machine's own disk then.
Object-store URLs (``gs://``, ``s3://``) are refused: a checkpoint is made visible by a POSIX
rename, which they do not have.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from ssmtune.studies import StudyError

__all__ = [
    "remove_folder",
    "default_checkpoint_dir",
    "resolve_checkpoint_dir",
    "chain_number",
    "trial_folder",
    "study_folder",
    "remove_study_folder",
    "drop_trial_checkpoint",
    "remote_nodes",
    "check_shared",
    "NETWORK_FILESYSTEMS",
]

#: Filesystem types (``/proc/self/mounts``) that other machines can mount too; any
#: ``fuse.*`` filesystem (gcsfuse, s3fs, sshfs, ...) counts as well.
NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "lustre", "gpfs", "ceph", "glusterfs", "beegfs",
     "9p", "afs", "orangefs", "virtiofs", "wekafs"}
)  # fmt: skip


def default_checkpoint_dir(url: str) -> Path:
    """The default checkpoint folder of a study stored at `url`: beside a SQLite file, else
    under the data dir.

    Example:
        >>> default_checkpoint_dir("sqlite:////tmp/studies.db")
        PosixPath('/tmp/studies.db.checkpoints')
    """
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///")).expanduser()
        return path.parent.resolve() / f"{path.name}.checkpoints"
    from ssmtune.tasks import default_data_dir

    return default_data_dir() / "checkpoints"


def resolve_checkpoint_dir(path: str | os.PathLike | None, url: str) -> str:
    """``--checkpoint-dir`` as an absolute path (the default of `url` when None).

    Raises:
        StudyError: an object-store URL.
    """
    text = str(path) if path is not None else ""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text):
        raise StudyError(
            f"checkpoint folder {text}: checkpoints are written to a filesystem (a POSIX "
            "rename makes each one visible); mount the bucket (gcsfuse, mountpoint-s3) on every "
            "node and give the mount's path"
        )
    if not text:
        return str(default_checkpoint_dir(url))
    return str(Path(text).expanduser().resolve())


def chain_number(trial: Any) -> int:
    """The number of the first trial of a trial's retry chain (its own number for an
    original): the retries of a trial share its checkpoints.

    Example:
        >>> from types import SimpleNamespace as T
        >>> chain_number(T(number=7, system_attrs={"failed_trial": 3})), chain_number(
        ...     T(number=7, system_attrs={}))
        (3, 7)
    """
    return int(trial.system_attrs.get("failed_trial", trial.number))


def study_folder(root: str | os.PathLike, study_name: str) -> Path:
    """The folder of one study's checkpoints under `root` (its name made a safe file name)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", study_name).lstrip(".") or "_"
    return Path(root) / safe


def trial_folder(root: str | os.PathLike, study_name: str, trial: Any) -> Path:
    """The folder of a trial's latest checkpoint (shared by its retry chain)."""
    return study_folder(root, study_name) / f"trial-{chain_number(trial)}"


def remove_study_folder(root: str | os.PathLike, study_name: str) -> None:
    """Remove what is left of a study's checkpoints (its trials have all finished)."""
    shutil.rmtree(study_folder(root, study_name), ignore_errors=True)


def drop_trial_checkpoint(root: str | os.PathLike | None, study_name: str, trial: Any) -> None:
    """Delete the checkpoint folder of a trial that has finished for good (failed with no
    retry left, stopped at the budget); nothing for a study without checkpoints (`root` None)."""
    if root is not None:
        remove_folder(trial_folder(root, study_name, trial))


def remove_folder(folder: str | os.PathLike) -> None:
    """Remove a trial's checkpoint folder (nothing when it is not there). The same as
    `models.delete_checkpoints`, without importing the models (and JAX) into a process that
    ran a trial without them: the worker of a light objective would otherwise import them
    after storing each result, seconds before it can take the next trial."""
    shutil.rmtree(folder, ignore_errors=True)


def _filesystem_type(path: Path) -> str | None:
    """The type of the filesystem holding `path` (its nearest existing parent), from
    ``/proc/self/mounts``; None where that file is missing (not Linux)."""
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    while not path.exists() and path != path.parent:
        path = path.parent
    real = os.path.realpath(path)
    best, kind = "", None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount = fields[1].replace("\\040", " ")
        inside = real == mount or real.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, kind = mount, fields[2]
    return kind


def remote_nodes() -> int:
    """The alive nodes of the connected Ray cluster that run on other machines."""
    import ray

    from ssmtune.search._ray import _is_local_host

    return sum(
        1 for n in ray.nodes() if n.get("Alive") and not _is_local_host(n["NodeManagerAddress"])
    )


def check_shared(path: str | os.PathLike, remote_nodes: int) -> None:
    """Refuse a checkpoint folder on this machine's own disk when the cluster has nodes on
    other machines (they could not read what a killed trial wrote). Where the filesystem's
    type cannot be read it is taken as shared.

    Raises:
        StudyError: one line naming the folder, its filesystem and what to give instead.
    """
    if remote_nodes <= 0:
        return
    kind = _filesystem_type(Path(path))
    if kind is None or kind in NETWORK_FILESYSTEMS or kind.startswith("fuse."):
        return
    raise StudyError(
        f"checkpoint folder {path} is on this machine's own disk ({kind}) but the Ray cluster "
        f"has {remote_nodes} node(s) on other machines; give a folder on a filesystem every "
        "node mounts at the same path (NFS, Lustre, a bucket mounted with gcsfuse)"
    )
