"""What a trial checkpoint costs: its size and the seconds it adds per evaluation.

    python -m benchmarks.checkpoint [--quick] [--out DIR]

For each case, `models.train` runs a few evaluation periods with a `models.Checkpoint`
(`models/_checkpoint.py`: written after every evaluation the run goes on from) and reports:

- ``checkpoint_kb``: the size of one checkpoint (arrays + manifest) on disk;
- ``checkpoint_ms``: the median seconds one checkpoint took (`TrainResult.checkpoint_s`);
- ``step_ms``: the median seconds per training step (the routine's own rate: compilation and
  evaluation excluded);
- ``overhead_pct``: ``checkpoint_ms`` over the training time between two evaluations at the
  benchmark protocol's cadence (1,000 steps, tk-rusch/linoss ``run_experiment.py``), in
  per cent; the target is under 2 %. ``overhead_here_pct``: the same at this run's own short
  cadence (an upper bound).

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

from benchmarks._tables import median, write_table

__all__ = ["CASES", "run", "measure"]

#: Steps between two evaluations in the LinOSS benchmark protocol.
PROTOCOL_EVAL_EVERY = 1_000
TARGET_PCT = 2.0
COLUMNS = ("case", "length", "params", "checkpoints", "checkpoint_kb", "checkpoint_ms", "step_ms",
           "period_s", "overhead_pct", "overhead_here_pct", "error")  # fmt: skip


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
    import models
    import tasks

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
    ckpt_s = median(list(result.checkpoint_s))
    period_s = None if step_s is None else step_s * PROTOCOL_EVAL_EVERY
    here_s = None if step_s is None else step_s * case.eval_every
    return {
        "case": case.name,
        "length": data.info.length,
        "params": f"h{hidden} s{state} b{blocks}",
        "checkpoints": len(result.checkpoint_s),
        "checkpoint_kb": None if size is None else size / 1024,
        "checkpoint_ms": None if ckpt_s is None else ckpt_s * 1e3,
        "step_ms": None if step_s is None else step_s * 1e3,
        "period_s": period_s,
        "overhead_pct": None if ckpt_s is None or not period_s else 100 * ckpt_s / period_s,
        "overhead_here_pct": None if ckpt_s is None or not here_s else 100 * ckpt_s / here_s,
    }


def _in_subprocess(case: Case, quick: bool) -> dict[str, Any]:
    args = [sys.executable, "-m", "benchmarks.checkpoint", "--case", case.name]
    done = subprocess.run(
        args + (["--quick"] if quick else []), capture_output=True, text=True, timeout=3600
    )
    if done.returncode != 0:
        return {"case": case.name, "error": done.stderr.strip().splitlines()[-1][:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(*, quick: bool = False, out: Path | None = None) -> list[dict[str, Any]]:
    """Measure every case, each in its own process; write the table."""
    load = os.getloadavg()[0]
    rows = [_in_subprocess(case, quick) for case in CASES]
    _write(rows, load, quick=quick, out=out)
    return rows


def _write(rows: list[dict[str, Any]], load: float, *, quick: bool, out: Path | None) -> None:
    slowest = max((r["checkpoint_ms"] for r in rows if r.get("checkpoint_ms")), default=0.0)
    worst = max(
        (r["overhead_pct"] for r in rows if r.get("overhead_pct") is not None), default=None
    )
    write_table(
        "checkpoint",
        title="What a trial checkpoint costs per evaluation",
        columns=COLUMNS,
        rows=rows,
        notes=[
            "models.train with a models.Checkpoint: parameters, optimiser and batch-norm "
            "states (equinox tree_serialise_leaves) and a JSON manifest, written to a "
            "temporary folder, fsynced and renamed, after every evaluation the run goes on from.",
            "checkpoint_ms and step_ms are medians (over the run's checkpoints; the routine's "
            "own training rate, compilation and evaluation excluded); period_s: the training "
            f"time of {PROTOCOL_EVAL_EVERY:,} steps, the protocol's evaluation cadence "
            "(tk-rusch/linoss run_experiment.py).",
            "overhead_pct = checkpoint_ms / period_s: what a checkpoint adds per evaluation at "
            "the protocol's cadence; overhead_here_pct: at this run's own short cadence.",
            "A kill costs the steps since the last evaluation (at most eval_every) plus the "
            "restart: a new worker, data loading, compilation (or the persistent cache).",
            f"Load average {load:.1f} when the run started (a shared machine): busy cores "
            "slow the training steps more than the checkpoint's disk writes, so the overheads "
            "of an idle CPU are higher than these.",
            "On a GPU a step is far shorter: at the LinOSS paper's Table 5 rate for Heartbeat "
            f"(7 s per 1,000 steps, RTX 4090), the slowest checkpoint here ({slowest:.0f} ms) "
            f"would be {slowest / 70:.1f} % of the period; GPU checkpoints are not measured "
            "here.",
        ],
        summary={
            "worst overhead at the protocol's cadence (%)": worst,
            f"target < {TARGET_PCT:g} % met": None if worst is None else worst < TARGET_PCT,
        },
        out=out,
        quick=quick,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.checkpoint")
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
