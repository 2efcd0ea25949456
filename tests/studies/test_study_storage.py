"""Storage URLs, SQLite set-up, PostgreSQL, and passwords kept out of messages."""

from __future__ import annotations

import sqlite3

import pytest

from ssmtune.studies import StudyError
from ssmtune.studies._storage import default_storage_url, mask_url, normalize_url, open_storage


def test_default_storage_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSMTUNE_STORAGE", raising=False)
    assert default_storage_url() == "sqlite:///ssmtune.db"
    monkeypatch.setenv("SSMTUNE_STORAGE", "sqlite:////tmp/elsewhere.db")
    assert default_storage_url() == "sqlite:////tmp/elsewhere.db"


def test_mask_url_hides_the_password() -> None:
    assert mask_url("postgresql+psycopg://ana:secret@db:5432/x") == (
        "postgresql+psycopg://ana:***@db:5432/x"
    )
    assert "secret" not in mask_url("not a url ana:secret@db")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql+psycopg://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
    ],
)
def test_postgres_urls_use_psycopg3(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "ssmtune.db",
        "mysql://u:hidden-pw@h/db",
        "postgresql+psycopg2://u:hidden-pw@h/db",
        "sqlite:///:memory:",
        "sqlite:////no/such/folder/x.db",
    ],
)
def test_bad_urls_are_refused_in_one_line(url: str) -> None:
    with pytest.raises(StudyError) as err:
        normalize_url(url)
    message = str(err.value)
    assert "\n" not in message and "hidden-pw" not in message


def test_sqlite_is_in_wal_mode_with_a_busy_timeout(sqlite_url: str) -> None:
    storage = open_storage(sqlite_url)
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with storage.engine.connect() as con:
        assert con.exec_driver_sql("PRAGMA busy_timeout").fetchone()[0] >= 10_000


def test_reading_a_missing_sqlite_file_is_an_error(tmp_path) -> None:
    with pytest.raises(StudyError, match="no study database"):
        open_storage(f"sqlite:///{tmp_path / 'none.db'}", create=False)
    assert not (tmp_path / "none.db").exists()


def test_unreachable_postgres_is_one_masked_line() -> None:
    with pytest.raises(StudyError) as err:
        open_storage("postgresql+psycopg://ana:hidden-pw@127.0.0.1:1/db")
    message = str(err.value)
    assert "cannot open storage" in message and "***" in message
    assert "hidden-pw" not in message and "\n" not in message


def test_postgres_storage_opens(postgres_url: str) -> None:
    import optuna

    storage = open_storage(postgres_url)
    study = optuna.create_study(study_name="s", storage=storage)
    study.enqueue_trial({"x": 1.0})
    assert len(optuna.load_study(study_name="s", storage=postgres_url).trials) == 1


def test_wal_switch_waits_for_a_writer_instead_of_failing(tmp_path) -> None:
    """Another tool writing to a fresh (rollback-journal) database while a study opens it (e.g.
    creating Optuna's tables): SQLite refuses the switch to WAL with "database is locked" at
    once, without its busy timeout; opening must wait instead."""
    import sqlite3
    import threading

    from ssmtune.studies._storage import open_storage

    path = tmp_path / "busy.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")  # a writer mid-transaction (a RESERVED lock)
    threading.Timer(0.5, lambda: writer.execute("COMMIT")).start()
    storage = open_storage(f"sqlite:///{path}")
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal" and storage.get_all_studies() == []
    writer.close()


def test_two_processes_creating_one_database_both_open_it(tmp_path) -> None:
    """Two tools opening a new database at the same moment race to create Optuna's tables;
    the loser sees "already exists" or a duplicate schema-version row and must use the
    winner's tables instead of failing."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'race.db'}"
    code = (
        "import sys; from ssmtune.studies._storage import open_storage; "
        "open_storage(sys.argv[1]); print('ok')"
    )
    for _ in range(3):
        (tmp_path / "race.db").unlink(missing_ok=True)
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code, url],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for _ in range(4)
        ]
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0 and out.strip() == "ok", err
