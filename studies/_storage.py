"""Where studies live: storage URLs, their checks, and the Optuna RDB storage that opens them.

Two back ends, both the plain Optuna RDB schema (so `optuna trials`, `optuna best-trial` and
optuna-dashboard read ssmtune's studies as they are):

- SQLite (``sqlite:///ssmtune.db``, the default) for the workers of one machine. The file is
  put in write-ahead-log mode (readers do not block the writer) and every connection waits up
  to `SQLITE_BUSY_TIMEOUT_S` for a lock instead of failing with "database is locked".
- PostgreSQL (``postgresql+psycopg://user:password@host/db``, the `postgres` extra) for
  workers on several machines. ``postgresql://`` and ``postgres://`` are read as psycopg 3.

Passwords never leave this module in clear: `mask_url` renders a URL with ``***`` in place of
the password, and every error message goes through it.

Example:
    >>> mask_url("postgresql+psycopg://ana:secret@db.lab:5432/tune")
    'postgresql+psycopg://ana:***@db.lab:5432/tune'
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ssmtune.studies._errors import StudyError

if TYPE_CHECKING:
    from optuna.storages import RDBStorage

T = TypeVar("T")

__all__ = [
    "DEFAULT_STORAGE",
    "STORAGE_ENV",
    "SQLITE_BUSY_TIMEOUT_S",
    "default_storage_url",
    "normalize_url",
    "mask_url",
    "is_sqlite",
    "open_storage",
    "OUTAGE_S",
    "is_outage",
    "retrying",
]

#: The storage used when neither ``--storage`` nor ``$SSMTUNE_STORAGE`` is given.
DEFAULT_STORAGE = "sqlite:///ssmtune.db"
#: The environment variable naming the default storage.
STORAGE_ENV = "SSMTUNE_STORAGE"
#: How long a SQLite connection waits for another process's lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 60.0
#: How long a PostgreSQL connection attempt may take before the server counts as unreachable.
POSTGRES_CONNECT_TIMEOUT_S = 10

#: How long a runner or a worker waits for an unreachable database (a PostgreSQL restart, a
#: failover) before it gives up; ``$SSMTUNE_OUTAGE_S`` overrides it.
OUTAGE_S = 60.0

_ALLOWED = "sqlite:///PATH.db or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB"


def default_storage_url() -> str:
    """``$SSMTUNE_STORAGE`` when set, else `DEFAULT_STORAGE` (a file in the working folder)."""
    return os.environ.get(STORAGE_ENV) or DEFAULT_STORAGE


def mask_url(url: str) -> str:
    """`url` with its password replaced by ``***`` (unparsable text is returned masked whole).

    Example:
        >>> mask_url("sqlite:///ssmtune.db")
        'sqlite:///ssmtune.db'
    """
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL: show no part that might be a secret
        return "<unparsable URL>" if "@" in str(url) else str(url)


def _scrub(text: str, url: str) -> str:
    """`text` with the password of `url` (if any) replaced by ``***``."""
    from sqlalchemy.engine import make_url

    try:
        password = make_url(url).password
    except Exception:
        return text
    return text.replace(str(password), "***") if password else text


def normalize_url(url: str) -> str:
    """Check a storage URL and return it in the form SQLAlchemy and Optuna open.

    ``postgresql://`` and ``postgres://`` become ``postgresql+psycopg://`` (psycopg 3, the
    driver of the `postgres` extra).

    Raises:
        StudyError: not a URL, an unsupported database, an in-memory SQLite database (worker
            processes could not see it) or a SQLite file in a folder that does not exist.
    """
    from sqlalchemy.engine import make_url

    if not isinstance(url, str) or "://" not in url:
        raise StudyError(f"bad storage URL {mask_url(str(url))!r}; use {_ALLOWED}")
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    try:
        parsed = make_url(url)
    except Exception:
        raise StudyError(f"bad storage URL {mask_url(url)!r}; use {_ALLOWED}") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            raise StudyError(
                "an in-memory SQLite storage is invisible to the worker processes; "
                "use a file such as sqlite:///ssmtune.db"
            )
        folder = Path(database).expanduser().resolve().parent
        if not folder.is_dir():
            raise StudyError(
                f"bad storage URL {mask_url(url)!r}: folder {folder} does not exist; "
                "create it or use a path in an existing folder"
            )
        return parsed.render_as_string(hide_password=False)
    if backend == "postgresql":
        if driver not in ("", "psycopg"):
            raise StudyError(
                f"unsupported PostgreSQL driver {driver!r} in {mask_url(url)!r}; "
                "use postgresql+psycopg:// (install the `postgres` extra)"
            )
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise StudyError(
        f"unsupported storage {parsed.drivername!r} in {mask_url(url)!r}; use {_ALLOWED}"
    )


def is_sqlite(url: str) -> bool:
    """Whether `url` names a SQLite database (a file one machine's workers share)."""
    return str(url).startswith("sqlite")


def _sqlite_path(url: str) -> Path:
    from sqlalchemy.engine import make_url

    return Path(make_url(url).database or "").expanduser()


def open_storage(
    url: str,
    *,
    create: bool = True,
) -> RDBStorage:
    """Open the Optuna RDB storage at `url`, ready for concurrent workers.

    Args:
        url: a storage URL (`normalize_url` lists the accepted forms).
        create: whether a missing SQLite file may be created (False: it is an error).

    Returns:
        An `optuna.storages.RDBStorage`; its tables exist.

    Raises:
        StudyError: a bad URL, a database that cannot be reached or opened (the message
            carries the masked URL and the driver's reason, never the password).
    """
    import optuna
    from sqlalchemy import event

    url = normalize_url(url)
    engine_kwargs: dict = {}
    if is_sqlite(url):
        path = _sqlite_path(url)
        if not create and not path.exists():
            raise StudyError(
                f"no study database at {path}; run `ssmtune study start` first or pass "
                "`storage` with an existing database"
            )
        try:
            _set_wal(path)
        except sqlite3.Error as exc:
            raise StudyError(f"cannot open SQLite storage {mask_url(url)!r}: {exc}") from None
        engine_kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
    else:
        engine_kwargs["connect_args"] = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}
        engine_kwargs["pool_pre_ping"] = True
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        storage = _rdb_storage(url, engine_kwargs)
    except Exception as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        raise StudyError(
            f"cannot open storage {mask_url(url)!r}: {_scrub(reason, url)[:300]}; "
            "check that the database server runs and the URL is right"
        ) from None
    if is_sqlite(url):
        event.listen(storage.engine, "connect", _sqlite_pragmas)
    return storage


def _rdb_storage(url: str, engine_kwargs: dict) -> RDBStorage:
    import time

    import optuna

    for attempt in range(10):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
        except Exception as exc:
            # another process is creating the tables at the same moment (a table or Optuna's
            # schema-version row is already there): wait, then use them
            racing = ("already exists", "UNIQUE constraint failed: alembic_version")
            if not any(r in str(exc) for r in racing) or attempt == 9:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")


def _set_wal(path: Path) -> None:
    """Put the SQLite file at `path` (created if missing) in write-ahead-log mode.

    The journal mode is a property of the file, so this holds for every later connection.
    Switching needs the file to itself, and SQLite answers "database is locked" at once (the
    busy timeout does not apply) while another process reads it, e.g. a second tool that
    opened the file a moment earlier: retry until the busy timeout has passed.
    """
    import time

    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    con = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S)
    try:
        while True:
            try:
                if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    con.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    finally:
        con.close()


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 (SQLAlchemy hook)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def outage_seconds() -> float:
    """Seconds to ride through a database outage (``$SSMTUNE_OUTAGE_S`` or `OUTAGE_S`)."""
    try:
        return max(0.0, float(os.environ.get("SSMTUNE_OUTAGE_S", OUTAGE_S)))
    except ValueError:
        return OUTAGE_S


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` means the database could not be reached or dropped the connection (worth
    retrying), rather than a statement it refused.

    SQLAlchemy raises `OperationalError` / `InterfaceError` (or marks the error
    ``connection_invalidated``) for a server that is down, restarting or dropped us; Optuna
    wraps them in `StorageInternalError` ("... e.g. exceeding max length", which is misleading
    then).
    """
    from sqlalchemy import exc as sa_exc

    seen: set[int] = set()
    link: BaseException | None = exc  # then its cause or context, down the chain
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        if isinstance(link, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        if isinstance(link, sa_exc.DBAPIError) and link.connection_invalidated:
            return True
        link = link.__cause__ or link.__context__
    return False


def retrying(
    call: Callable[[], T],
    *,
    what: str,
    url: str = "",
    study: str | None = None,
    outage_s: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> T:
    """`call()`, retried with exponential backoff (0.25 s doubling to 8 s) while the database
    is unreachable (`is_outage`), for at most `outage_s` seconds (default `outage_seconds()`).

    Use it only for calls that may run twice: reads, heartbeats, and the compare-and-set
    writes of `studies._trials` (a write that committed before the connection dropped fails
    its compare-and-set on the second try and reports "already done").

    Args:
        call: the database call.
        what: what it does, for the messages ("record the result of trial 7").
        url: the storage URL, shown masked in the message.
        study: the study's name, for the `resume` command in the message.
        outage_s: how long to keep trying.
        on_wait: called with a one-line message at the first failure (a log line).

    Raises:
        StudyError: still unreachable after `outage_s` seconds (one line, saying to resume).
        Exception: any other error of `call`, as it is.
    """
    import time

    limit = outage_seconds() if outage_s is None else outage_s
    deadline = None
    delay = 0.25
    while True:
        try:
            return call()
        except Exception as exc:
            if not is_outage(exc):
                raise
            now = time.monotonic()
            if deadline is None:
                deadline = now + limit
                if on_wait is not None:
                    on_wait(f"database unreachable ({_reason(exc, url)}); retrying for {limit:g} s")
            if now >= deadline:
                raise StudyError(
                    f"the database {mask_url(url)} was unreachable for over {limit:g} s "
                    f"(could not {what}: {_reason(exc, url)}); once it is back, continue with "
                    f"`ssmtune study resume {study or 'NAME'}`"
                ) from None
            time.sleep(min(delay, max(0.0, deadline - now)))
            delay = min(delay * 2, 8.0)


def _reason(exc: BaseException, url: str) -> str:
    orig = getattr(exc, "orig", None) or exc.__cause__ or exc
    return _scrub(" ".join(str(getattr(orig, "orig", None) or orig).split()), url)[:200]
