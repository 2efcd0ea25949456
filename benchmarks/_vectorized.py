"""Benchmark 4: K = 3 learning-rate-only trials in one vmapped program against one trial.

`models.train_batch` (models/_vtrain.py) trains K members that differ only in traced values in
one program. The figure of merit is the device time of the K-member call over the device time
of one `models.train` call with the same config and steps: K separate trials would cost K
times one, so anything below K is saved. Timed warm (executables in the in-process cache:
what every trial after the first pays) and cold (including the compilation, in a fresh
process-level cache, persistent cache off).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

from ssmtune.benchmarks._tables import write_table

__all__ = ["run"]

LRS = (1e-4, 1e-3, 1e-2)


def run(*, quick: bool = False, out: Path | None = None, repeats: int | None = None) -> dict:
    """Time one trial and K = 3 vectorized trials; write ``vectorized-*.json/.md``."""
    import jax

    from ssmtune import models, tasks

    jax.config.update("jax_enable_compilation_cache", False)
    repeats = repeats or (1 if quick else 3)
    steps = 10 if quick else 100
    k = len(LRS)
    data = tasks.load("basicmotions", seed=2345)
    rows: list[dict[str, Any]] = []
    for hidden in (16,) if quick else (16, 64):
        config = models.fit_config(
            models.config("d-linoss", hidden=hidden, state=16, blocks=2), data.info, False
        )
        one = models.TrainOptions(lr=1e-3, max_steps=steps, eval_every=steps // 2)
        many = [one.replace(lr=lr) for lr in LRS]

        def single(seed: int, config: Any = config, one: Any = one) -> float:
            t0 = time.perf_counter()
            models.train(config, data, one, seed=seed)
            return time.perf_counter() - t0

        def batched(seed: int, config: Any = config, many: Any = many) -> float:
            t0 = time.perf_counter()
            models.train_batch([config] * k, data, many, seeds=[seed] * k)
            return time.perf_counter() - t0

        cold_one, cold_k = single(0), batched(0)
        # timings are finite: statistics.median, not the table's None-aware median
        warm_one = statistics.median([single(i + 1) for i in range(repeats)])
        warm_k = statistics.median([batched(i + 1) for i in range(repeats)])
        rows.append(
            {
                "config": f"d-linoss H{hidden} P16 2 blocks",
                "K": k,
                "steps": steps,
                "one_trial_s": warm_one,
                "k_trials_s": warm_k,
                "ratio_warm": warm_k / warm_one,
                "one_trial_cold_s": cold_one,
                "k_trials_cold_s": cold_k,
                "ratio_cold": cold_k / cold_one,
                "k_separate_over_batched": k * warm_one / warm_k,
            }
        )
        print(f"  vectorized H{hidden}: ratio {rows[-1]['ratio_warm']:.2f}", file=sys.stderr)
    on_gpu = jax.default_backend() != "cpu"
    worst = max(r["ratio_warm"] for r in rows)
    summary = {
        "target": "K=3 lr-only trials <= 1.5x the device time of one trial (on a GPU)",
        "worst warm ratio": worst,
        "target met": (worst <= 1.5) if on_gpu else "not applicable on the CPU (GPU target)",
    }
    notes = [
        f"BasicMotions, lrs {', '.join(map(str, LRS))}, {steps} steps, an evaluation every "
        f"{steps // 2}; warm: median of {repeats} runs with compiled steps cached; cold: the "
        "first run, compilation included (persistent cache off).",
        "ratio = K-member call / one trial (K separate trials: K x one trial).",
    ]
    if not on_gpu:
        notes.append(
            "On this 2-core CPU a vmapped training step grows faster than K (D-LinOSS H64, "
            "dropout 0, chunk time per step measured by hand on 2026-11-22: K=1 9.9 ms, the "
            "plain step 9.5 ms, K=2 22.3 ms, K=3 39.2 ms; the same with the parallel scan). "
            "vmap adds no work: XLA's cost analysis of the vmapped gradient gives exactly K "
            "times the flops and bytes of one member (2 blocks: 5.0e8 flops and 131 MB for K=1, "
            "1.5e9 and 403 MB for K=3), which run at 13 and 10 GB/s: the step is memory-bound "
            "here, and the CPU figure says nothing about the GPU target."
        )
    if quick:
        notes.insert(0, "--quick: 10 steps, one config, one repeat.")
    write_table(
        "vectorized",
        title="Vectorized trials: K = 3 learning rates in one program vs one trial",
        columns=[
            "config",
            "K",
            "steps",
            "one_trial_s",
            "k_trials_s",
            "ratio_warm",
            "one_trial_cold_s",
            "k_trials_cold_s",
            "ratio_cold",
            "k_separate_over_batched",
        ],
        rows=rows,
        notes=notes,
        summary=summary,
        out=out,
        quick=quick,
    )
    return summary
