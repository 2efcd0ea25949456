"""Benchmark 2: what a grid costs per trial, the naive way against `ssmtune study start`.

The grid is `benchmarks/tuning-grid.toml` (D-LinOSS lr x hidden x include_time, 18 points) on
the embedded BasicMotions task, every trial a fixed number of steps.

(a) naive, as the official scripts run a grid: one new process per point
    (``ssmtune train --set ...``), each importing JAX, loading the data and compiling from
    scratch (JAX's persistent compilation cache off). A process holds its device from start
    to exit, so its device-seconds are its wall time.
(b) ``ssmtune study start`` with its defaults (workers keep data and compiled programs across
    trials and compile the next shape ahead while they train; include_time shares a shape, so
    the grid has 3 shapes; the persistent cache on) and a cold cache folder, so the run pays
    every compilation once; device-seconds per trial are the command's wall time x workers /
    trials (Ray start, worker start-up and shutdown included), and, for reference, the median
    of the trials' own ``device_s`` attribute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ssmtune.benchmarks._tables import median, write_table

__all__ = ["GRID", "run"]

GRID = Path(__file__).resolve().parent / "tuning-grid.toml"
TASK = "basicmotions"
ROOT = Path(__file__).resolve().parent.parent
SSMTUNE = [sys.executable, "-m", "ssmtune.search.cli"]
#: Ray runs its worker processes at niceness 15; the naive processes get the same, so both ways
#: compete equally with whatever else runs on the machine.
RAY_WORKER_NICENESS = 15


def _env(cache: Path | None) -> dict[str, str]:
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=str(ROOT))
    env.pop("RAY_ADDRESS", None)
    if cache is None:
        env["JAX_ENABLE_COMPILATION_CACHE"] = "false"
    else:
        env["SSMTUNE_CACHE"] = str(cache)
        env.pop("JAX_ENABLE_COMPILATION_CACHE", None)
        env.pop("JAX_COMPILATION_CACHE_DIR", None)
    return env


def _naive_one(point: dict[str, Any], steps: int, eval_every: int, workdir: Path) -> dict:
    sets = [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in point.items()]
    cmd = [*SSMTUNE, "train", "--task", TASK, "--model", "d-linoss"]
    for s in [*sets, "state=16", "blocks=2"]:
        cmd += ["--set", s]
    cmd += ["--max-steps", str(steps), "--eval-every", str(eval_every), "--json"]
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=_env(None),
        cwd=workdir,
        preexec_fn=lambda: os.nice(RAY_WORKER_NICENESS),
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"ssmtune train failed: {proc.stderr.strip()[-300:]}")
    out = json.loads(proc.stdout)
    return {"process_s": wall, "train_s": out["wall_s"], "compile_s": out["compile_s"]}


def naive(points: list[dict], steps: int, eval_every: int, *, parallel: int = 1) -> dict:
    """Run every point in its own process, `parallel` at a time."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(parallel) as pool:
            runs = list(pool.map(lambda p: _naive_one(p, steps, eval_every, Path(tmp)), points))
        wall = time.perf_counter() - t0
    n = len(points)
    return {
        "way": f"(a) naive: a new process per point, {parallel} at a time",
        "workers": parallel,
        "trials": n,
        "wall_s": wall,
        "device_s_per_trial": sum(r["process_s"] for r in runs) / n,
        "median_process_s": median([r["process_s"] for r in runs]),
        "trial_attr_device_s": None,
        "compile_s_total": sum(r["compile_s"] for r in runs),
    }


def study(
    points: int,
    steps: int,
    eval_every: int,
    *,
    workers: int,
    batch: int = 1,
    cache: Path | None = None,
) -> dict:
    """``ssmtune study start`` on the grid's first `points` points with a cold persistent
    cache, or the folder `cache` (warm when an earlier run filled it); `batch` > 1: with
    ``--batch-trials``."""
    import optuna

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        warm = cache is not None and any(cache.rglob("*"))
        db = tmp_path / "bench.db"
        cmd = [
            *SSMTUNE,
            "study",
            "start",
            "--task",
            TASK,
            "--space",
            str(GRID),
            "--n-trials",
            str(points),
            "--max-steps",
            str(steps),
            "--eval-every",
            str(eval_every),
            "--workers",
            str(workers),
            "--storage",
            f"sqlite:///{db}",
            "--name",
            "bench",
            "--json",
        ]
        if batch > 1:
            cmd += ["--batch-trials", str(batch)]
        t0 = time.perf_counter()
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=_env(cache or tmp_path / "jax"), cwd=tmp
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"ssmtune study start failed: {proc.stderr.strip()[-400:]}")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        trials = optuna.load_study(study_name="bench", storage=f"sqlite:///{db}").get_trials()
    done = [t for t in trials if t.state.is_finished()]
    attr = [t.user_attrs.get("device_s") for t in done]
    return {
        "way": f"(b) ssmtune study start, {workers} worker(s)"
        + (f", --batch-trials {batch}" if batch > 1 else "")
        + (", warm persistent cache (a 2nd study)" if warm else ""),
        "workers": workers,
        "trials": len(done),
        "wall_s": wall,
        "device_s_per_trial": wall * workers / max(len(done), 1),
        "median_process_s": None,
        "trial_attr_device_s": median(attr),
        "compile_s_total": sum(t.user_attrs.get("compile_s") or 0.0 for t in done),
        "complete": sum(1 for t in done if t.state.name == "COMPLETE"),
    }


def run(
    *,
    quick: bool = False,
    out: Path | None = None,
    points: int | None = None,
    workers: tuple[int, ...] = (1, 2),
    naive_parallel: tuple[int, ...] = (1,),
    batched: tuple[tuple[int, int], ...] | None = None,
) -> dict:
    """Run (a) and (b) and write ``tuning-*.json/.md``; return the JSON's summary.

    Full mode: all 18 points, 100 steps each (an evaluation every 50), plus one run with
    ``--batch-trials 3`` (not a default: for information). --quick: 4 points, 10 steps.
    `batched`: (workers, K) runs with ``--batch-trials K``.
    """
    from ssmtune import spaces

    grid = spaces.get(str(GRID)).grid()
    points = points or (4 if quick else len(grid))
    steps, eval_every = (10, 10) if quick else (100, 50)
    chosen = grid[:points]
    rows = []
    for parallel in naive_parallel:
        rows.append(naive(chosen, steps, eval_every, parallel=parallel))
        print(f"  tuning {rows[-1]['way']}: {rows[-1]['device_s_per_trial']:.2f}", file=sys.stderr)
    runs = [(w, 1) for w in workers]
    runs += list(batched if batched is not None else (() if quick else ((2, 3),)))
    with tempfile.TemporaryDirectory() as shared:
        cache = Path(shared)
        for i, (w, k) in enumerate(runs):
            # the first run fills `cache` (cold); it is reused once at the end (warm)
            rows.append(
                study(points, steps, eval_every, workers=w, batch=k, cache=None if i else cache)
            )
            print(
                f"  tuning {rows[-1]['way']}: {rows[-1]['device_s_per_trial']:.2f}", file=sys.stderr
            )
        if not quick:
            w, k = runs[0]
            rows.append(study(points, steps, eval_every, workers=w, batch=k, cache=cache))
            print(
                f"  tuning {rows[-1]['way']}: {rows[-1]['device_s_per_trial']:.2f}", file=sys.stderr
            )
    base = rows[0]["device_s_per_trial"]
    for row in rows:
        row["vs_naive"] = row["device_s_per_trial"] / base
    defaults = [
        r
        for r in rows
        if r["way"].startswith("(b)") and "batch" not in r["way"] and "warm" not in r["way"]
    ]
    best = min(defaults, key=lambda r: r["vs_naive"])
    summary = {
        "grid points": points,
        "steps per trial": steps,
        "target": "(b) <= 1/3 of (a) device-seconds per trial",
        "best (b) with defaults / (a)": best["vs_naive"],
        "target met": best["vs_naive"] <= 1 / 3,
    }
    notes = [
        f"Grid {GRID.name}: D-LinOSS lr x hidden x include_time, state 16, 2 blocks, on "
        f"{TASK}, {steps} steps per trial, an evaluation every {eval_every}.",
        "(a) one `ssmtune train` process per point, JAX persistent cache off: device_s_per_trial "
        "is the process's wall time (start to exit).",
        "(b) `ssmtune study start` with its defaults (compile ahead on; include_time True and "
        "False share one compiled program, so 3 shapes) and a cold persistent-cache folder: "
        "device_s_per_trial = command wall x workers / trials (Ray start, worker start-up and "
        "shutdown included); trial_attr_device_s: median of the trials' own device_s "
        "attribute; compile_s_total: the trials' compile_s (time a trial spent compiling or "
        "waiting for a compilation; compiling ahead is not in it).",
        "warm persistent cache: the 1-worker study again, in a new database, with the cache "
        "folder the first (cold) run filled, as a user's second study of these shapes; the "
        "target is judged on the cold runs.",
        "--batch-trials 3 (not a default): the 3 learning rates of a shape train in one "
        "vmapped program (models.train_batch); on this CPU a vmapped step of K members costs "
        "more than K single steps (see vectorized-cpu.md), so it loses here.",
        "Both ways on the same 2-core machine, one after the other; other jobs may share it. "
        "The naive processes run at niceness 15, as Ray runs its workers.",
    ]
    if quick:
        notes.insert(0, f"--quick: the first {points} points, {steps} steps.")
    write_table(
        "tuning",
        title="Tuning throughput: a grid the naive way vs `ssmtune study start`",
        columns=[
            "way",
            "workers",
            "trials",
            "wall_s",
            "device_s_per_trial",
            "vs_naive",
            "median_process_s",
            "trial_attr_device_s",
            "compile_s_total",
        ],
        rows=rows,
        notes=notes,
        summary=summary,
        out=out,
        quick=quick,
    )
    return summary
