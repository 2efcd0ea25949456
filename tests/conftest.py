"""Session-wide fixtures: one local Ray, a throwaway PostgreSQL server, SQLite URLs.

Each is started only by the tests that ask for it, once per session, and torn down at the end:

- `ray_local`: ONE local Ray for the whole session (2 CPUs, 127.0.0.1, no dashboard, usage
  stats off); the runner's in-process tests and the CLI tests that pass `--ray-address` share
  it, so the session pays Ray's start (~4 s, ~1 GB) once.
- `postgres_url`: a private PostgreSQL cluster (initdb + pg_ctl, as the unprivileged user
  `nobody` when the tests run as root, since initdb refuses root) on 127.0.0.1 and a free port,
  with a password (so the tests can check it is never shown). Skipped where the server
  binaries are missing (`.ci/run` installs them).
- `sqlite_url`: a fresh SQLite file per test.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

#: Password of the test PostgreSQL user: tests assert it never appears in any output.
PG_PASSWORD = "pg-s3cret-word"


@pytest.fixture(scope="session")
def ray_local() -> Iterator[str]:
    """A local Ray for the session; yields its address (for ``--ray-address``)."""
    import ray

    from ssmtune.search._ray import start_local_ray

    if not ray.is_initialized():
        start_local_ray(num_cpus=2)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite storage URL in this test's temporary folder (the file does not exist yet)."""
    return f"sqlite:///{tmp_path / 'studies.db'}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[dict[str, object]]:
    """A throwaway PostgreSQL server: {"host", "port", "user", "password"}."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    user = "nobody" if os.getuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="ssmtune-pg-"))
    base.chmod(0o755)
    if user:
        pw = pwd.getpwnam(user)
        os.chown(base, pw.pw_uid, pw.pw_gid)
    data, log, pwfile = base / "data", base / "server.log", base / "pw"
    pwfile.write_text(PG_PASSWORD + "\n")
    if user:
        os.chown(pwfile, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
    port = _free_port()
    run = dict(check=True, capture_output=True, user=user, cwd=base, timeout=120)
    subprocess.run(
        [initdb, "-D", str(data), "-U", "ssmtune", f"--pwfile={pwfile}",
         "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync"],
        **run,
    )  # fmt: skip
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "start"], **run)
    try:
        yield {
            "host": "127.0.0.1",
            "port": port,
            "user": "ssmtune",
            "password": PG_PASSWORD,
            # what a test needs to stop and start the server (`pg_ctl`, as `os_user`)
            "pg_ctl": [pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w"],
            "os_user": user,
            "cwd": str(base),
        }
    finally:
        subprocess.run(
            [pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            user=user,
            cwd=base,
            timeout=60,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: dict[str, object]) -> Iterator[str]:
    """A fresh, empty database on the session's PostgreSQL server, as a storage URL."""
    import psycopg

    s = postgres_server
    name = f"t{time.time_ns()}"
    dsn = f"host={s['host']} port={s['port']} user={s['user']} password={s['password']}"
    with psycopg.connect(dsn + " dbname=postgres", autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    yield f"postgresql+psycopg://{s['user']}:{s['password']}@{s['host']}:{s['port']}/{name}"
