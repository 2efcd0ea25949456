"""Benchmark 3: orchestration overhead per trial, ssmtune's runner against plain Optuna.

The objective does nothing (`noop`): what is left is the cost of asking for a trial, handing it
to a worker, reporting it and storing its result. Both sides draw the points of the tuning grid
(`benchmarks/tuning-grid.toml`) with Optuna's random sampler on the same kind of storage:

- plain Optuna: ``study.optimize(objective, n_trials=N)`` in one process;
- ssmtune: the runner of ``ssmtune study start`` (`search.start_study`) with one Ray worker on
  a local Ray started once for the benchmark, the worker writing the trial's attributes and
  result to the storage as a real trial does.

Per trial: the median interval between two consecutive trial completions (steady state:
start-up excluded), and the run's wall time / N (start-up included: for ssmtune the worker
process start, for both the storage's schema set-up). Storages: SQLite, Optuna's
JournalFileBackend (plain Optuna only when ssmtune refuses it) and a throwaway PostgreSQL
server (initdb/pg_ctl as an unprivileged user, 127.0.0.1, stopped by its PID at the end).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ssmtune.benchmarks._tables import median, write_table
from ssmtune.benchmarks._tuning import GRID

__all__ = ["noop", "run", "throwaway_postgres"]


def noop(params: dict[str, Any], ctx: Any) -> Any:
    """The objective that does nothing (a `search._worker` objective)."""
    from ssmtune.search import TrialOutcome

    return TrialOutcome(val=0.5, status="ok", steps=1)


def _intervals(trials: list[Any]) -> tuple[float | None, int]:
    done = sorted(t.datetime_complete for t in trials if t.datetime_complete is not None)
    gaps = [(b - a).total_seconds() for a, b in zip(done, done[1:], strict=False)]
    return median(gaps), len(done)


def _plain(url_or_storage: Any, n: int, name: str) -> dict[str, Any]:
    import optuna

    from ssmtune import spaces

    space = spaces.get(str(GRID))

    def objective(trial: Any) -> float:
        space.suggest(trial)
        return 0.5

    t0 = time.perf_counter()
    study = optuna.create_study(
        study_name=name,
        storage=url_or_storage,
        sampler=optuna.samplers.RandomSampler(seed=0),
        direction="maximize",
    )
    study.optimize(objective, n_trials=n)
    wall = time.perf_counter() - t0
    gap, count = _intervals(study.get_trials(deepcopy=False))
    return {
        "per_trial_ms": gap * 1e3 if gap is not None else None,
        "wall_per_trial_ms": wall / n * 1e3,
        "trials": count,
    }


def _ssmtune(url: str, n: int, name: str) -> dict[str, Any]:
    import optuna

    from ssmtune.search import start_study

    t0 = time.perf_counter()
    summary = start_study(
        task="basicmotions",
        space=str(GRID),
        sampler="random",
        n_trials=n,
        workers=1,
        storage=url,
        name=name,
        objective="ssmtune.benchmarks._overhead:noop",
    )
    wall = time.perf_counter() - t0
    study = optuna.load_study(study_name=name, storage=_open(url))
    gap, count = _intervals(study.get_trials(deepcopy=False))
    return {
        "per_trial_ms": gap * 1e3 if gap is not None else None,
        "wall_per_trial_ms": wall / n * 1e3,
        "runner_wall_per_trial_ms": summary["wall_s"] / n * 1e3,
        "trials": count,
    }


def _open(url: str) -> Any:
    from ssmtune.studies import open_storage

    return open_storage(url)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[tuple[str, int]]:
    """A private PostgreSQL server on 127.0.0.1 for the length of the block.

    Yields ``(host, port)``; user ``postgres`` with trust authentication. initdb refuses to
    run as root, so as root the server runs as user ``nobody`` (setpriv). The server is
    stopped by its PID (SIGINT: PostgreSQL's fast shutdown) and its folder removed.
    """
    import pwd

    tmp = Path(tempfile.mkdtemp(prefix="ssmtune-bench-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        who = pwd.getpwnam("nobody")
        os.chown(tmp, who.pw_uid, who.pw_gid)
        prefix = ["setpriv", f"--reuid={who.pw_uid}", f"--regid={who.pw_gid}", "--clear-groups"]
    tmp.chmod(0o700)
    env = dict(os.environ, HOME=str(tmp), LC_ALL="C")
    data = tmp / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pid = None
    try:
        subprocess.run(
            [*prefix, "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
            env=env,
            cwd=tmp,
        )
        opts = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1"
        subprocess.run(
            [*prefix, "pg_ctl", "-D", str(data), "-l", str(tmp / "log"), "-o", opts, "-w", "start"],
            check=True,
            capture_output=True,
            env=env,
            cwd=tmp,
        )
        pid = int((data / "postmaster.pid").read_text().split()[0])
        yield "127.0.0.1", port
    finally:
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
        shutil.rmtree(tmp, ignore_errors=True)


def _create_db(port: int, name: str) -> str:
    import psycopg

    with psycopg.connect(
        f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
    ) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}"


def _row(storage: str, plain: dict, ours: dict | None, why: str | None = None) -> dict[str, Any]:
    row = {
        "storage": storage,
        "plain_optuna_ms": plain["per_trial_ms"],
        "ssmtune_ms": ours["per_trial_ms"] if ours else None,
        "overhead_ms": (ours["per_trial_ms"] - plain["per_trial_ms"]) if ours else None,
        "plain_wall_ms": plain["wall_per_trial_ms"],
        "ssmtune_wall_ms": ours["wall_per_trial_ms"] if ours else None,
        "trials": plain["trials"],
        "note": why,
    }
    return row


def run(
    *, quick: bool = False, out: Path | None = None, n: int | None = None, postgres: bool = True
) -> dict:
    """Measure both sides on every storage and write ``overhead-*.json/.md``.

    Full mode: 100 trials per run; --quick: 10.
    """
    import optuna
    import ray

    from ssmtune.search import start_local_ray
    from ssmtune.studies import StudyError

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    n = n or (10 if quick else 100)
    rows = []
    start_local_ray(num_cpus=2)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # SQLite: ssmtune's storage (WAL, busy timeout) for both sides
            ours: dict[str, Any] | None = _ssmtune(f"sqlite:///{tmp}/ours.db", n, "ovh")
            plain = _plain(_open(f"sqlite:///{tmp}/plain.db"), n, "ovh")
            rows.append(_row("sqlite", plain, ours))
            print(f"  overhead sqlite: {rows[-1]['overhead_ms']}", file=sys.stderr)
            # Journal file: plain Optuna; ssmtune only if it accepts the storage
            from optuna.storages import JournalStorage
            from optuna.storages.journal import JournalFileBackend

            journal = JournalStorage(JournalFileBackend(f"{tmp}/plain.log"))
            plain = _plain(journal, n, "ovh")
            try:
                ours = _ssmtune(f"{tmp}/ours.log", n, "ovh")
                why = None
            except (StudyError, ValueError) as exc:
                ours, why = None, f"ssmtune refuses it: {' '.join(str(exc).split())[:160]}"
            rows.append(_row("journal file", plain, ours, why))
            print(f"  overhead journal: {rows[-1]['overhead_ms']}", file=sys.stderr)
        if postgres:
            try:
                with throwaway_postgres() as (_, port):
                    ours = _ssmtune(_create_db(port, "ours"), n, "ovh")
                    plain = _plain(_open(_create_db(port, "plain")), n, "ovh")
                    rows.append(_row("postgresql", plain, ours))
            except (OSError, subprocess.CalledProcessError) as exc:
                rows.append({"storage": "postgresql", "note": f"no server: {exc}"[:200]})
            print(f"  overhead postgresql: {rows[-1].get('overhead_ms')}", file=sys.stderr)
    finally:
        ray.shutdown()
    measured = [r["overhead_ms"] for r in rows if r.get("overhead_ms") is not None]
    summary = {
        "trials per run": n,
        "target": "<= 50 ms per trial above plain Optuna",
        "worst overhead ms": max(measured) if measured else None,
        "target met": bool(measured) and max(measured) <= 50,
    }
    notes = [
        "No-op objective; points of the tuning grid drawn by Optuna's RandomSampler on both sides.",
        "*_ms: median interval between consecutive trial completions (steady state); *_wall_ms: "
        "run wall time / trials (start-up included: ssmtune's worker start, schema set-up).",
        "ssmtune: the `ssmtune study start` runner (search.start_study), 1 Ray worker, on a local "
        "Ray started once; its worker stores 8 cost attributes per trial, as real trials do.",
        "PostgreSQL 15: a throwaway server on 127.0.0.1 (default settings, fsync on).",
        "Journal file: ssmtune's runner needs an RDB storage (Optuna heartbeats, atomic "
        "pops of waiting trials), so only plain Optuna is measured there.",
    ]
    if quick:
        notes.insert(0, f"--quick: {n} trials per run.")
    write_table(
        "overhead",
        title="Orchestration overhead per trial: ssmtune's runner vs plain Optuna",
        columns=[
            "storage",
            "plain_optuna_ms",
            "ssmtune_ms",
            "overhead_ms",
            "plain_wall_ms",
            "ssmtune_wall_ms",
            "trials",
            "note",
        ],
        rows=rows,
        notes=notes,
        summary=summary,
        out=out,
        quick=quick,
    )
    return summary
