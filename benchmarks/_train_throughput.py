"""Benchmark 1: training-step throughput of the LinOSS paper's best configurations.

Random data of the real shapes (the best LinOSS configs shipped by tk-rusch/linoss, and the
UEA archive's dataset shapes), trained by `models.train` itself (the routine every trial runs), for each
scan mode. Steps per second are the routine's own figure (`examples_per_s / batch_size`:
compilation and evaluation excluded), the median over repeated runs in one process; peak
memory is the allocator's peak on an accelerator, the process's peak resident set on the CPU.
Each (config, scan mode) runs in a fresh process, so its compile time is a cold compile
(persistent cache off) and its peak resident set is its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssmtune.benchmarks._tables import median, write_table

__all__ = ["CASES", "run", "measure"]


@dataclass(frozen=True)
class Case:
    """One of the paper's best configurations (LinOSS-IM) on its task's real shapes."""

    name: str
    channels: int
    length: int
    classes: int
    batch: int
    hidden: int
    state: int
    blocks: int
    include_time: bool
    lr: float
    steps: int  # training steps per timed run (full mode)


CASES = (
    Case("heartbeat", 61, 405, 2, 32, 16, 16, 6, True, 1e-3, 10),
    Case("selfregulationscp1", 6, 896, 2, 32, 128, 256, 6, True, 1e-4, 3),
    Case("eigenworms", 6, 17_984, 5, 4, 128, 64, 2, True, 1e-3, 2),
)
SCANS = ("auto", "parallel", "sequential")
QUICK_LENGTH = 48
QUICK_BLOCKS = 2


def _dataset(case: Case, length: int, seed: int = 0) -> Any:
    """Random cases of the task's shape: enough training cases for two batches, small
    validation and test splits (evaluation is not timed)."""
    import numpy as np

    from ssmtune import tasks

    rng = np.random.default_rng(seed)

    def split(n: int) -> Any:
        x = rng.standard_normal((n, length, case.channels), dtype=np.float32)
        y = rng.integers(0, case.classes, n).astype(np.int32)
        return tasks.Split(x, y, np.ones((n, length), bool))

    info = tasks.TaskInfo(
        name=f"random-{case.name}",
        kind="classification",
        metric="accuracy",
        channels=case.channels,
        classes=case.classes,
        length=length,
        cases=2 * case.batch + 8,
        source="synthetic",
        available="embedded",
    )
    return tasks.Dataset(info, split(2 * case.batch), split(4), split(4))


def _rss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(case_name: str, scan: str, *, quick: bool, repeats: int) -> dict[str, Any]:
    """Time one (config, scan mode) in this process; return a row of the table."""
    import jax

    from ssmtune import models

    case = next(c for c in CASES if c.name == case_name)
    length = min(case.length, QUICK_LENGTH) if quick else case.length
    blocks = min(case.blocks, QUICK_BLOCKS) if quick else case.blocks
    steps = 2 if quick else case.steps
    data = _dataset(case, length)
    config = models.fit_config(
        models.config(
            "linoss",
            hidden=case.hidden,
            state=case.state,
            blocks=blocks,
            discretization="IM",
            scan=scan,
        ),
        data.info,
        case.include_time,
    )
    options = models.TrainOptions(
        lr=case.lr,
        batch_size=case.batch,
        max_steps=steps,
        eval_every=steps,
        include_time=case.include_time,
    )
    jax.block_until_ready(jax.numpy.zeros(1))
    base_rss = _rss()
    rates, compile_s, peaks = [], None, []
    for i in range(repeats):
        result = models.train(config, data, options, seed=i)
        if i == 0:
            compile_s = result.compile_s
        rates.append(result.examples_per_s / case.batch)
        peaks.append(result.peak_mem)
    steps_per_s = median(rates)
    peak = max((p for p in peaks if p is not None), default=None)
    on_cpu = jax.default_backend() == "cpu"
    return {
        "config": case.name,
        "scan": scan,
        "resolved": models.resolve_scan(scan, length),
        "batch": case.batch,
        "length": length,
        "channels": case.channels + int(case.include_time),
        "hidden": case.hidden,
        "state": case.state,
        "blocks": blocks,
        "steps_per_s": steps_per_s,
        "s_per_1000_steps": 1000.0 / steps_per_s if steps_per_s else None,
        "compile_s": compile_s,
        "peak_mem_mb": peak / 2**20 if peak is not None else None,
        "peak_over_start_mb": (peak - base_rss) / 2**20 if (peak and on_cpu) else None,
        "timed_steps": steps * repeats,
        "repeats": repeats,
    }


def _measure_in_subprocess(case: str, scan: str, *, quick: bool, repeats: int) -> dict[str, Any]:
    env = dict(os.environ, JAX_ENABLE_COMPILATION_CACHE="false")
    args = json.dumps({"case": case, "scan": scan, "quick": quick, "repeats": repeats})
    proc = subprocess.run(
        [sys.executable, "-m", "ssmtune.benchmarks._train_throughput", args],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.strip().splitlines()[-3:])[:300]
        return {"config": case, "scan": scan, "error": tail}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(
    *,
    quick: bool = False,
    out: Path | None = None,
    repeats: int | None = None,
    cases: tuple[str, ...] | None = None,
    scans: tuple[str, ...] = SCANS,
) -> dict:
    """Measure every (config, scan mode) and write ``throughput-*.json/.md``; return the JSON.

    Full mode: one fresh process per row, 3 timed runs each. --quick: length 48, at most 2
    blocks, 2 steps, 1 run, all in a fresh process per row as well. `cases` and `scans`
    restrict the rows (the smoke tests).
    """
    repeats = repeats or (1 if quick else 3)
    rows = []
    t0 = time.perf_counter()
    for case in CASES:
        if cases is not None and case.name not in cases:
            continue
        for scan in scans:
            row = _measure_in_subprocess(case.name, scan, quick=quick, repeats=repeats)
            rows.append(row)
            print(f"  throughput {case.name} {scan}: {row.get('steps_per_s')}", file=sys.stderr)
    notes = [
        "LinOSS-IM, the official repo's best configs (tk-rusch/linoss), random data of the real shapes "
        "(include_time adds one channel); `models.train` with Adam, one process per row.",
        "steps_per_s: median over the repeats of the routine's own rate (compilation and "
        "evaluation excluded); compile_s: the first run's cold compile (persistent cache off).",
        "peak_mem_mb: on the CPU the process's peak resident set (JAX runtime included); "
        "peak_over_start_mb: its growth over the resident set before training.",
        "scan auto resolves to sequential on the CPU (models.resolve_scan): auto and sequential "
        "rows run the same program, so their gap is the run-to-run noise of the machine.",
        "LinOSS paper Table 5 (RTX 4090, LinOSS-IM, s/1000 steps): Heartbeat 7, SCP1 38, "
        "EigenWorms 90.",
    ]
    if quick:
        notes.insert(0, f"--quick: length capped at {QUICK_LENGTH}, blocks at {QUICK_BLOCKS}.")
    write_table(
        "throughput",
        title="Training-step throughput of the LinOSS paper's best configurations",
        columns=[
            "config",
            "scan",
            "resolved",
            "batch",
            "length",
            "hidden",
            "state",
            "blocks",
            "steps_per_s",
            "s_per_1000_steps",
            "compile_s",
            "peak_mem_mb",
            "peak_over_start_mb",
            "error",
        ],
        rows=rows,
        notes=notes,
        summary={"wall_s": time.perf_counter() - t0},
        out=out,
        quick=quick,
    )
    return {"rows": rows}


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    row = measure(spec["case"], spec["scan"], quick=spec["quick"], repeats=spec["repeats"])
    print(json.dumps(row))
