"""The downloader against a local HTTP server on 127.0.0.1 serving a zip built here."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import socket
import threading
import zipfile
from pathlib import Path

import pytest

from ssmtune import tasks
from ssmtune.tasks import TaskError
from ssmtune.tasks import _download as download_module
from ssmtune.tasks._download import archive_path, download_uea, safe_member_path
from ssmtune.tasks._uea import MANIFEST
from tests.tasks.conftest import write_toy


def _archive(
    tmp: Path, extra: dict[str, bytes] | None = None, method=zipfile.ZIP_DEFLATED
) -> bytes:
    """A zip laid out like the real one: Multivariate_ts/<Name>/<Name>_TRAIN.ts ..."""
    src = tmp / "src"
    for name in ("Toy", "Other"):
        write_toy(src / "Multivariate_ts", name)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for path in sorted(src.rglob("*.ts")):
            zf.write(path, path.relative_to(src).as_posix())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
        zf.writestr("Multivariate_ts/padding.bin", bytes(range(256)) * 400)  # ~100 kB, stored
    return buf.getvalue()


class _Server:
    """Serves `blob` with Range support; the first `drops` responses break off halfway."""

    def __init__(self, blob: bytes, drops: int = 0) -> None:
        self.blob, self.drops, self.ranges = blob, drops, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                rng = self.headers.get("Range")
                outer.ranges.append(rng)
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                body = outer.blob[start:]
                self.send_response(206 if rng else 200)
                if rng:
                    self.send_header(
                        "Content-Range", f"bytes {start}-{len(outer.blob) - 1}/{len(outer.blob)}"
                    )
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if outer.drops > 0:
                    outer.drops -= 1
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/Multivariate2018_ts.zip"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _closed_port_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/Multivariate2018_ts.zip"


def test_dropped_connection_resumes_and_extracts_only_asked(tmp_path, data_dir) -> None:
    blob = _archive(tmp_path)
    with _Server(blob, drops=1) as server:
        got = download_uea(["toy"], data_dir=data_dir, url=server.url, progress=False)
    assert got == ["Toy"]
    assert len(server.ranges) == 2 and server.ranges[0] is None
    resumed_at = int(server.ranges[1].removeprefix("bytes=").removesuffix("-"))
    assert 0 < resumed_at < len(blob)
    archive = archive_path(data_dir, server.url)
    assert archive.read_bytes() == blob
    assert not archive.with_name(archive.name + ".part").exists()
    root = data_dir / "uea" / "Multivariate_ts"
    assert (root / "Toy" / "Toy_TRAIN.ts").is_file() and (root / "Toy" / "Toy_TEST.ts").is_file()
    assert not (root / "Other").exists() and not (root / "padding.bin").exists()
    assert tasks.load("uea:toy", seed=0).info.cases == 9


def test_partial_file_from_earlier_run_resumes(tmp_path, data_dir) -> None:
    blob = _archive(tmp_path)
    part = data_dir / "uea" / "Multivariate2018_ts.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(blob[:1000])
    with _Server(blob) as server:
        download_uea(
            ["Toy", "Other"],
            data_dir=data_dir,
            url=server.url,
            progress=True,
            sha256=hashlib.sha256(blob).hexdigest(),
        )
    assert server.ranges == ["bytes=1000-"]
    assert (data_dir / "uea" / "Multivariate_ts" / "Other" / "Other_TEST.ts").is_file()


def test_member_leaving_folder_is_refused(tmp_path, data_dir) -> None:
    blob = _archive(tmp_path, extra={"Multivariate_ts/Toy/../../../evil.ts": b"x"})
    with (
        _Server(blob) as server,
        pytest.raises(
            TaskError,
            match=r"refusing .*'Multivariate_ts/Toy/\.\./\.\./\.\./evil\.ts'.*nothing was extracted",
        ),
    ):
        download_uea(["Toy"], data_dir=data_dir, url=server.url, progress=False)
    assert not list(tmp_path.rglob("evil.ts"))
    assert not (data_dir / "uea" / "Multivariate_ts").exists()


def test_safe_member_path(tmp_path) -> None:
    root = tmp_path / "root"
    assert safe_member_path(root, "A/A_TRAIN.ts") == (root / "A" / "A_TRAIN.ts").resolve()
    for bad in ("../x", "a/../../x", "/etc/passwd", "C:/x", "a\\..\\..\\x", ""):
        assert safe_member_path(root, bad) is None, bad


@pytest.fixture
def connections(monkeypatch) -> list[tuple[str, float, float]]:
    """Each connection the downloader opens: (url, connect_timeout, read_timeout)."""
    opened = []
    connect = download_module._connect

    def counted(url, connect_timeout, read_timeout, start):
        opened.append((url, connect_timeout, read_timeout))
        return connect(url, connect_timeout, read_timeout, start)

    monkeypatch.setattr(download_module, "_connect", counted)
    return opened


def test_no_network_fails_at_the_first_try_with_manual_path(data_dir, connections) -> None:
    url = _closed_port_url()
    with pytest.raises(
        TaskError, match=r"cannot download .*put it at .*Multivariate2018_ts\.zip"
    ) as err:
        download_uea(["Toy"], data_dir=data_dir, url=url, progress=False)
    assert connections == [(url, 5.0, 60.0)]  # one try: nothing to resume, so no retry
    assert "\n" not in str(err.value)


def test_failed_download_leaves_nothing_behind(tmp_path, data_dir) -> None:
    """No folder a failed download created stays behind, unless it holds bytes to resume."""
    before = sorted(tmp_path.rglob("*"))
    for where in (data_dir, tmp_path / "new" / "data"):
        with pytest.raises(TaskError, match="cannot download"):
            download_uea(["Toy"], data_dir=where, url=_closed_port_url(), progress=False)
    assert sorted(tmp_path.rglob("*")) == before
    blob = _archive(tmp_path / "blob")
    before = sorted(tmp_path.rglob("*"))
    with _Server(blob) as server, pytest.raises(TaskError, match="checksum .* deleted it"):
        download_uea(["Toy"], data_dir=data_dir, url=server.url, sha256="0" * 64, progress=False)
    assert sorted(tmp_path.rglob("*")) == before
    with _Server(blob, drops=1) as server, pytest.raises(TaskError, match="run the command again"):
        download_uea(["Toy"], data_dir=data_dir, url=server.url, retries=0, progress=False)
    part = archive_path(data_dir, server.url).with_name("Multivariate2018_ts.zip.part")
    assert 0 < part.stat().st_size < len(blob)  # kept: the next call resumes from it


def test_silent_server_and_unknown_host_fail_at_the_first_try(data_dir, connections) -> None:
    """A server that never answers is given up after `read_timeout` (the one passed, not the
    default), an unknown host at once: one connection each, no retry."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts connections, never answers
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/a.zip"
    try:
        with pytest.raises(TaskError, match="cannot download .*timed out"):
            download_uea(["Toy"], data_dir=data_dir, url=url, read_timeout=0.5, progress=False)
    finally:
        listener.close()
    assert connections == [(url, 5.0, 0.5)]
    unknown = "http://no-such-host.invalid/a.zip"
    with pytest.raises(TaskError, match="cannot download http://no-such-host.invalid/"):
        download_uea(["Toy"], data_dir=data_dir, url=unknown, progress=False)
    assert connections[1:] == [(unknown, 5.0, 60.0)]
    assert list(data_dir.iterdir()) == []  # nothing left behind


def test_manual_archive_used_offline(tmp_path, data_dir) -> None:
    archive = data_dir / "uea" / "Multivariate2018_ts.zip"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(_archive(tmp_path))
    assert download_uea(["toy"], data_dir=data_dir, url=_closed_port_url(), progress=False) == [
        "Toy"
    ]
    with pytest.raises(TaskError, match="Nope not in .*it holds: Other, Toy"):
        download_uea(["Nope"], data_dir=data_dir, url=_closed_port_url(), progress=False)
    assert download_uea(["all"], data_dir=data_dir, progress=False) == ["Other", "Toy"]


def test_corrupt_archive_and_bad_checksum(tmp_path, data_dir) -> None:
    blob = bytearray(_archive(tmp_path, method=zipfile.ZIP_STORED))
    at = bytes(blob).find(b"@data")  # inside a stored .ts member: still parses, wrong CRC
    blob[at + 10 : at + 11] = b"7" if blob[at + 10 : at + 11] != b"7" else b"8"
    archive = data_dir / "uea" / "Multivariate2018_ts.zip"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(bytes(blob))
    with pytest.raises(TaskError, match=r"Multivariate2018_ts\.zip is corrupt"):
        download_uea(["all"], data_dir=data_dir, progress=False)
    with pytest.raises(TaskError, match="checksum"):
        download_uea(["Toy"], data_dir=data_dir, progress=False, sha256="0" * 64)
    archive.write_bytes(b"not a zip")
    with pytest.raises(
        TaskError, match=r"Multivariate2018_ts\.zip is not a valid zip archive .*delete it"
    ):
        download_uea(["Toy"], data_dir=data_dir, progress=False)


def test_extraction_records_its_source_and_keeps_identical_files(tmp_path, data_dir) -> None:
    blob = _archive(tmp_path)
    sha = hashlib.sha256(blob).hexdigest()
    with _Server(blob) as server:
        download_uea(["Toy"], data_dir=data_dir, url=server.url, sha256=sha, progress=False)
    folder = data_dir / "uea" / "Multivariate_ts" / "Toy"
    manifest = json.loads((folder / MANIFEST).read_text())
    assert (manifest["source"], manifest["sha256"]) == (server.url, sha)
    assert manifest["files"] == {
        p.name: {"sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "size": p.stat().st_size}
        for p in folder.glob("*.ts")
    }
    assert tasks.provenance(tasks.info("uea:toy")) == "archive"
    stamps = {p: p.stat().st_mtime_ns for p in folder.iterdir()}
    download_uea(["Toy"], data_dir=data_dir, url=server.url, sha256=sha, progress=False)
    assert {p: p.stat().st_mtime_ns for p in folder.iterdir()} == stamps  # nothing rewritten

    (folder / MANIFEST).write_text("{not json")
    assert tasks.provenance(tasks.info("uea:toy")) == "local files"
    (folder / MANIFEST).unlink()
    assert tasks.provenance(tasks.info("uea:toy")) == "local files"
    assert tasks.provenance(tasks.info("eigenworms")) == "-"


def test_unreachable_archive_names_what_the_wheel_holds(data_dir) -> None:
    with pytest.raises(TaskError) as err:
        download_uea(None, data_dir=data_dir, url=_closed_port_url(), progress=False)
    assert str(err.value).endswith(
        "(SelfRegulationSCP1, SelfRegulationSCP2 also come from the package index: `source` wheel)"
    )
    assert not any(data_dir.iterdir())
