"""Downloading and unpacking the UEA archive: `download_uea`.

The archive (about 800 MB) is fetched over HTTP(S) into ``<data dir>/uea/<archive>.part``,
resuming a partial file with an HTTP Range request (within one call after a dropped connection,
and across calls), then verified (the size the server announced, an optional SHA-256, and a zip
integrity test: the central directory and the CRC of every member extracted) and renamed to
``<data dir>/uea/<archive>``. Only the datasets asked for are extracted, and an archive with a
member whose path leaves the target folder (``../``, an absolute path) is refused as a whole.

Without network the connection fails within `connect_timeout` seconds; the error says where to
put a manually downloaded archive (an archive already there is used without any network).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import socket
import ssl
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit

from tasks._errors import TaskError
from tasks._prep import resolve_data_dir
from tasks._uea import ARCHIVE_NAME, ARCHIVE_URL, LONG_RANGE, uea_dir

__all__ = ["download_uea", "archive_path", "safe_member_path", "DEFAULT_DATASETS"]

#: Extracted when no datasets are named: the six long-range tasks of the LinOSS benchmark.
DEFAULT_DATASETS: tuple[str, ...] = tuple(LONG_RANGE)

_CHUNK = 1 << 20
_MAX_REDIRECTS = 5


def archive_path(data_dir: Path, url: str = ARCHIVE_URL) -> Path:
    """Where the archive from `url` is stored (and where to put a manually downloaded copy)."""
    name = PurePosixPath(urlsplit(url).path).name
    return uea_dir(data_dir) / (name if name.endswith(".zip") else ARCHIVE_NAME)


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


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


def _extract(archive: Path, root: Path, datasets: Sequence[str] | None) -> list[str]:
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
            for info in by_dataset[name]:
                target = safe_member_path(root, info.filename)
                assert target is not None  # checked above
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(target.name + ".tmp")
                try:
                    with zf.open(info) as src, open(tmp, "wb") as dst:
                        shutil.copyfileobj(src, dst, _CHUNK)  # zipfile checks the CRC at the end
                except (zipfile.BadZipFile, EOFError, OSError) as exc:
                    tmp.unlink(missing_ok=True)
                    raise TaskError(
                        f"{archive} is corrupt ({info.filename}: {exc}); delete it and download again"
                    ) from None
                os.replace(tmp, target)
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
            f"cannot create the folder {folder} ({exc.strerror or exc}); pass --data-dir with a "
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


def download_uea(
    datasets: Sequence[str] | None = None,
    *,
    data_dir: str | os.PathLike | None = None,
    url: str = ARCHIVE_URL,
    sha256: str | None = None,
    connect_timeout: float = 5.0,
    read_timeout: float = 60.0,
    retries: int = 5,
    progress: bool = True,
) -> list[str]:
    """Download the UEA archive (unless already there) and extract `datasets`.

    Args:
        datasets: archive names (any case); None: the six long-range benchmark datasets
            (`DEFAULT_DATASETS`); ``["all"]``: every dataset in the archive.
        data_dir: the data dir (default ``$SSMTUNE_DATA`` or ``~/.cache/ssmtune/data``); the
            archive goes to ``<data_dir>/uea/`` and is unpacked there.
        url: where to download from (default the official Multivariate2018 ``.ts`` archive).
        sha256: expected SHA-256 of the archive, checked when given.
        connect_timeout: seconds to wait for a connection (no network fails this fast).
        read_timeout: seconds without data before the connection counts as dropped.
        retries: resumptions after dropped connections within this call.
        progress: show a progress bar on stderr.

    Returns:
        The names (archive spelling) of the extracted datasets.

    Raises:
        TaskError: no network (the message says where to put a manual download), an HTTP error,
            a size/checksum mismatch, a corrupt zip, an unsafe member path, or an unknown
            dataset (the message lists the archive's datasets).
    """
    root = uea_dir(resolve_data_dir(data_dir))
    archive = archive_path(resolve_data_dir(data_dir), url)
    if not archive.is_file():
        part = archive.with_name(archive.name + ".part")
        with _made_for(root, part):
            try:
                total = _download(url, part, connect_timeout, read_timeout, retries, progress)
            except (OSError, http.client.HTTPException) as exc:
                reason = " ".join(str(exc).split()) or type(exc).__name__
                raise TaskError(
                    f"cannot download {url} ({reason}); without network, download it elsewhere, "
                    f"put it at {archive} and run this command again"
                ) from None
            size = part.stat().st_size
            if total is not None and size != total:
                raise TaskError(
                    f"{part} has {size:,} bytes, the server announced {total:,}; run again"
                )
            if sha256 and _sha256(part) != sha256.lower():
                part.unlink()
                raise TaskError(
                    f"checksum of the download from {url} does not match {sha256}; deleted it"
                )
            if not zipfile.is_zipfile(part):
                part.unlink()
                raise TaskError(f"the download from {url} is not a zip archive; deleted it")
            os.replace(part, archive)
    elif sha256 and _sha256(archive) != sha256.lower():
        raise TaskError(
            f"checksum of {archive} does not match {sha256}; delete it and download again"
        )
    return _extract(archive, root, datasets)


def _download(
    url: str, part: Path, connect_timeout: float, read_timeout: float, retries: int, progress: bool
) -> int | None:
    if not progress:
        return _fetch(
            url,
            part,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries=retries,
            on_progress=lambda done, total: None,
        )
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
    task = bar.add_task(part.name.removesuffix(".part"), total=None)
    started = False

    def update(done: int, total: int | None) -> None:
        nonlocal started
        if not started:  # only once the server answered: no empty bar before an error
            bar.start()
            started = True
        bar.update(task, completed=done, total=total)

    try:
        return _fetch(
            url,
            part,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries=retries,
            on_progress=update,
        )
    finally:
        if started:
            bar.stop()
