"""``python -m ssmtune.benchmarks [--quick] [--only NAME ...] [--out DIR]``: run the benchmarks of
issues 7 and 16 and write their tables (JSON + markdown, named by backend and device) under
``benchmarks/results/``.

- ``throughput``: training steps per second and peak memory of the LinOSS paper's best
  configurations, for each scan mode (`benchmarks._train_throughput`);
- ``tuning``: device-seconds per trial of an 18-point grid, one process per point against
  ``ssmtune study start`` (`benchmarks._tuning`);
- ``overhead``: orchestration overhead per trial against plain Optuna on SQLite, the journal
  file and PostgreSQL (`benchmarks._overhead`);
- ``vectorized``: K = 3 learning-rate-only trials in one program against one trial
  (`benchmarks._vectorized`);
- ``checkpoint``: what a trial checkpoint costs per evaluation, blocked and background
  seconds (`benchmarks.checkpoint`, issue 16; about 10 minutes on the shared 2-core CPU,
  mostly the training between its checkpoints).

Not here, each with its own command: ``python -m ssmtune.benchmarks.layers`` (one layer per model x
scan mode x length) and ``python -m ssmtune.benchmarks.spaces`` (two search spaces under equal budgets:
hours).

``--quick`` runs every benchmark small (a smoke run; tables named ``...-quick``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

BENCHMARKS = {
    "throughput": "ssmtune.benchmarks._train_throughput",
    "tuning": "ssmtune.benchmarks._tuning",
    "overhead": "ssmtune.benchmarks._overhead",
    "vectorized": "ssmtune.benchmarks._vectorized",
    "checkpoint": "ssmtune.benchmarks.checkpoint",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ssmtune.benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHMARKS),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--out", type=Path, default=None, help="folder of the tables")
    args = parser.parse_args(argv)
    from ssmtune.benchmarks._tables import RESULTS_DIR

    chosen = args.only or list(BENCHMARKS)
    for name in BENCHMARKS:
        if name not in chosen:
            continue
        t0 = time.perf_counter()
        print(f"{name} ...", file=sys.stderr)
        importlib.import_module(BENCHMARKS[name]).run(quick=args.quick, out=args.out)
        print(f"{name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    print(f"tables in {args.out or RESULTS_DIR}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
