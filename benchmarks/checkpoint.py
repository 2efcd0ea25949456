"""What a trial checkpoint costs: its size and the seconds it adds per evaluation.

    python -m ssmtune.benchmarks.checkpoint [--quick] [--out DIR]

For each case, `models.train` runs a few evaluation periods with a `models.Checkpoint`
(`models/_checkpoint.py`: at every evaluation the run goes on from, the arrays are copied to
host memory and a background thread writes them while training goes on) and reports:

- ``checkpoint_kb``: the size of one checkpoint (arrays + manifest) on disk;
- ``blocked_ms``: the median seconds the training loop was blocked per checkpoint (host copy,
  hand-off, waiting for a previous write: `TrainResult.checkpoint_s`); ``blocked_min_ms``:
  the least of them (the one a busy machine disturbed least; the JSON keeps each);
- ``write_ms``: the median seconds of one background write (serialise, fsync, rename:
  `TrainResult.checkpoint_write_s`);
- ``step_ms``: the median seconds per training step (the routine's own rate: compilation and
  evaluation excluded);
- ``overhead_pct``: ``blocked_ms`` over the training time between two evaluations at the
  benchmark protocol's cadence (1,000 steps, tk-rusch/linoss ``run_experiment.py``), in
  per cent; the target is under 2 %. ``overhead_here_pct``: the same at this run's own short
  cadence (an upper bound). ``write_pct``: ``write_ms`` over that period (the share of it the
  background write is busy; it must stay under 100 % or saves wait);
- ``load``: the load average (1 min) when the case ended.

Cases: BasicMotions with the largest LinOSS of the ``linoss-full`` space (6 blocks, hidden
128, state 256; the checkpoint grows with the parameters, not with the data), and the
synthetic long-range task ``recall@5000`` (5,000 steps per sequence) with a mid-size LinOSS.
Each case runs in its own process, after a warm-up run that compiles.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssmtune.benchmarks._tables import median, write_table

__all__ = ["CASES", "run", "measure"]

#: Steps between two evaluations in the LinOSS benchmark protocol.
PROTOCOL_EVAL_EVERY = 1_000
TARGET_PCT = 2.0
#: Device-to-host bandwidth assumed for the GPU estimate (pageable memory over PCIe 4).
GPU_COPY_GB_S = 10.0
#: The LinOSS paper's Table 5 rate for Heartbeat: seconds per 1,000 steps (RTX 4090).
GPU_PERIOD_S = 7.0
COLUMNS = ("case", "length", "params", "checkpoints", "checkpoint_kb", "blocked_ms",
           "blocked_min_ms", "write_ms",
           "step_ms", "period_s", "overhead_pct", "overhead_here_pct", "write_pct",
           "load", "error")  # fmt: skip


@dataclass(frozen=True)
class Case:
    """One task and model size."""

    name: str
    task: str
    hidden: int
    state: int
    blocks: int
    batch: int
    eval_every: int  # steps between evaluations in this run
    periods: int  # evaluation periods timed (checkpoints written: periods - 1)


CASES = (
    Case("basicmotions", "basicmotions", 128, 256, 6, 32, 20, 6),
    Case("recall@5000", "recall@5000", 64, 64, 2, 32, 4, 5),
)


def measure(case: Case, *, quick: bool = False) -> dict[str, Any]:
    """Train `case` with a checkpoint folder and measure it (in this process)."""
    from ssmtune import models, tasks

    data = tasks.load(case.task, seed=2345)
    hidden, state, blocks = (16, 16, 2) if quick else (case.hidden, case.state, case.blocks)
    config = models.fit_config(
        models.config("linoss", hidden=hidden, state=state, blocks=blocks),
        data.info,
        include_time=False,
    )
    periods = 3 if quick else case.periods
    options = models.TrainOptions(
        max_steps=case.eval_every * periods,
        eval_every=case.eval_every,
        batch_size=case.batch,
        patience=periods,
    )
    models.train(config, data, options.replace(max_steps=case.eval_every), seed=1)  # compile
    with tempfile.TemporaryDirectory() as folder:
        result = models.train(
            config, data, options, seed=1, checkpoint=models.Checkpoint(Path(folder) / "run")
        )
        latest = models.latest_checkpoint(Path(folder) / "run")
        size = sum(f.stat().st_size for f in latest.iterdir()) if latest else None
    step_s = case.batch / result.examples_per_s if result.examples_per_s > 0 else None
    blocked_s = median(list(result.checkpoint_s))
    write_s = median(list(result.checkpoint_write_s))
    period_s = None if step_s is None else step_s * PROTOCOL_EVAL_EVERY
    here_s = None if step_s is None else step_s * case.eval_every

    def pct(part: float | None, whole: float | None) -> float | None:
        return None if part is None or not whole else 100 * part / whole

    return {
        "case": case.name,
        "length": data.info.length,
        "params": f"h{hidden} s{state} b{blocks}",
        "checkpoints": len(result.checkpoint_s),
        "checkpoint_kb": None if size is None else size / 1024,
        "blocked_ms": None if blocked_s is None else blocked_s * 1e3,
        "blocked_min_ms": min(result.checkpoint_s) * 1e3 if result.checkpoint_s else None,
        "blocked_each_ms": [s * 1e3 for s in result.checkpoint_s],
        "write_each_ms": [s * 1e3 for s in result.checkpoint_write_s],
        "write_ms": None if write_s is None else write_s * 1e3,
        "step_ms": None if step_s is None else step_s * 1e3,
        "period_s": period_s,
        "overhead_pct": pct(blocked_s, period_s),
        "overhead_here_pct": pct(blocked_s, here_s),
        "write_pct": pct(write_s, period_s),
        "load": os.getloadavg()[0],
    }


def _in_subprocess(case: Case, quick: bool) -> dict[str, Any]:
    args = [sys.executable, "-m", "ssmtune.benchmarks.checkpoint", "--case", case.name]
    done = subprocess.run(
        args + (["--quick"] if quick else []), capture_output=True, text=True, timeout=3600
    )
    if done.returncode != 0:
        return {"case": case.name, "error": done.stderr.strip().splitlines()[-1][:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(
    *, quick: bool = False, out: Path | None = None, cases: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """Measure every case (or those named in `cases`), each in its own process; write the
    table."""
    load = os.getloadavg()[0]
    rows = [_in_subprocess(c, quick) for c in CASES if cases is None or c.name in cases]
    _write(rows, load, quick=quick, out=out)
    return rows


def gpu_estimate_ms(row: dict[str, Any], key: str = "blocked_ms") -> float | None:
    """An estimate, not a measurement, of the blocked time of `row`'s checkpoint on a GPU:
    the blocked time measured here (`key`: host copy, hand-off) plus a device-to-host copy of
    the checkpoint at `GPU_COPY_GB_S`.

    Example:
        >>> round(gpu_estimate_ms({"blocked_ms": 5.0, "checkpoint_kb": 10_000.0}), 2)
        6.02
    """
    if row.get(key) is None or row.get("checkpoint_kb") is None:
        return None
    return float(row[key] + row["checkpoint_kb"] * 1024 / (GPU_COPY_GB_S * 1e9) * 1e3)


def _write(rows: list[dict[str, Any]], load: float, *, quick: bool, out: Path | None) -> None:
    worst = max(
        (r["overhead_pct"] for r in rows if r.get("overhead_pct") is not None), default=None
    )
    # the largest model's checkpoint (the most bytes to copy off the device)
    big = max((r for r in rows if r.get("checkpoint_kb")), key=lambda r: r["checkpoint_kb"],
              default=None)  # fmt: skip
    low = None if big is None else gpu_estimate_ms(big, "blocked_min_ms")
    high = None if big is None else gpu_estimate_ms(big, "blocked_ms")
    loads = ", ".join(f"{r['case']} {r['load']:.1f}" for r in rows if r.get("load") is not None)
    loads = f"when each case ended: {loads}" if loads else "none known when the cases ended"
    period_ms = GPU_PERIOD_S * 1e3
    gpu_note = (
        "GPU: not measured (no GPU here; what follows is an estimate from this run's figures, "
        "not a GPU measurement). The training loop's blocked time there is the "
        f"device-to-host copy (at an assumed {GPU_COPY_GB_S:g} GB/s) plus the host copy and "
        f"hand-off measured here (least to median): about {low:.0f} to {high:.0f} ms for "
        f"{big['case']}'s {big['checkpoint_kb'] / 1024:.1f} MB, {100 * low / period_ms:.2f} to "
        f"{100 * high / period_ms:.2f} % of the LinOSS paper's Table 5 rate for Heartbeat "
        f"({GPU_PERIOD_S:g} s per 1,000 steps, RTX 4090; target < {TARGET_PCT:g} %). The "
        "background write costs host CPU time, not device time."
        if big is not None and low is not None and high is not None
        else "GPU: not measured (no GPU here), and no CPU figure to estimate from."
    )
    write_table(
        "checkpoint",
        title="What a trial checkpoint costs per evaluation",
        columns=COLUMNS,
        rows=rows,
        notes=[
            "models.train with a models.Checkpoint: at every evaluation the run goes on from, "
            "the parameters, optimiser and batch-norm states are copied to host memory; a "
            "background thread (one write at a time) serialises them (equinox "
            "tree_serialise_leaves) with a JSON manifest into a temporary folder, fsyncs and "
            "renames it while training goes on.",
            "blocked_ms, write_ms and step_ms are medians (over the run's checkpoints; the "
            "routine's own training rate, compilation and evaluation excluded); period_s: the "
            f"training time of {PROTOCOL_EVAL_EVERY:,} steps, the protocol's evaluation cadence "
            "(tk-rusch/linoss run_experiment.py).",
            "overhead_pct = blocked_ms / period_s: what a checkpoint adds to the training "
            "path per evaluation at the protocol's cadence; overhead_here_pct: at this run's "
            "own short cadence; write_pct = write_ms / period_s: how busy the background "
            "writer is (over 100 % a save would wait for the previous write).",
            "On this CPU backend the writer shares the 2 cores with XLA's training threads, so "
            "part of write_ms can show up as slower steps (in step_ms); this run does not "
            "separate that out.",
            "A kill costs the steps since the last checkpoint on disk (at most eval_every, plus "
            "one more period when it falls in the write_ms after an evaluation, before that "
            "write lands) plus the restart: a new worker, data loading, compilation (or the "
            "persistent cache).",
            f"Load average (1 min) {load:.1f} when the run started, {loads} (a shared "
            "machine, 2 cores): busy cores slow the training steps more than the host copy, so "
            "the overheads of an idle CPU are higher than these.",
            gpu_note,
        ],
        summary={
            "worst overhead at the protocol's cadence (%)": worst,
            f"target < {TARGET_PCT:g} % met": None if worst is None else worst < TARGET_PCT,
            "GPU estimate at Heartbeat's rate, median blocked (%, not measured)": (
                None if high is None else 100 * high / period_ms
            ),
        },
        out=out,
        quick=quick,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ssmtune.benchmarks.checkpoint")
    parser.add_argument("--quick", action="store_true", help="small models (a smoke run)")
    parser.add_argument("--case", choices=[c.name for c in CASES], help="one case, as JSON")
    parser.add_argument("--out", type=Path, default=None, help="folder of the tables")
    args = parser.parse_args(argv)
    if args.case:
        case = next(c for c in CASES if c.name == args.case)
        print(json.dumps(measure(case, quick=args.quick)))
        return 0
    for row in run(quick=args.quick, out=args.out):
        print(row, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
