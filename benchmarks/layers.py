"""Benchmark of one SSM layer per model x scan mode x length on the current JAX backend.

    python -m ssmtune.benchmarks.layers [--quick] [--lengths 1000 5000] [--models linoss lru]

Per case (batch B=16, hidden H=64, state P=64): median forward time, median forward+backward
time (gradient of a scalar loss with respect to the layer's parameters and the input),
compile time of both, and peak memory: the backend's peak bytes where it reports them (GPU),
else the peak RSS of a fresh subprocess above its RSS just before compiling. Each case runs
in its own subprocess so that peaks do not mix. Writes
benchmarks/results/layers-<backend>-<device>.json and .md.

Convolutional models (s4, s4d, hope) have no scan mode: their mode is reported as "conv".
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
RECURRENT = ("linoss", "d-linoss", "lru")
MODES = ("auto", "parallel", "sequential")


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_case(
    model: str, mode: str, length: int, batch: int, hidden: int, state: int, repeats: int
) -> dict:
    """Measure one case in this process (called in a fresh subprocess)."""
    import resource

    import equinox as eqx
    import jax
    import jax.numpy as jnp

    from ssmtune import models

    fields: dict[str, Any] = dict(hidden=hidden, state=state)
    if model in RECURRENT:
        fields["scan"] = mode
    layer = models.layer(models.config(model, **fields), key=jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (batch, length, hidden))

    @eqx.filter_jit
    def forward(layer, x):
        return jax.vmap(layer)(x)

    @eqx.filter_jit
    def forward_backward(layer, x):
        def loss(layer, x):
            return jnp.mean(jnp.square(jax.vmap(layer)(x)))

        return eqx.filter_grad(loss)(layer, x)

    device = jax.devices()[0]
    base_kb = _rss_kb()
    out: dict[str, Any] = {}
    for label, fn in (("fwd", forward), ("fwd_bwd", forward_backward)):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(layer, x))
        out[f"{label}_compile_s"] = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            jax.block_until_ready(fn(layer, x))
            times.append(time.perf_counter() - t0)
        out[f"{label}_s"] = statistics.median(times)
    stats = device.memory_stats() if hasattr(device, "memory_stats") else None
    if stats and "peak_bytes_in_use" in stats:
        out["peak_mem_bytes"] = int(stats["peak_bytes_in_use"])
        out["peak_mem_source"] = "backend"
    else:
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out["peak_mem_bytes"] = max(peak_kb - base_kb, 0) * 1024
        out["peak_mem_source"] = "rss_above_baseline"
    out["resolved_mode"] = models.resolve_scan(mode, length) if model in RECURRENT else "conv"
    out["backend"] = jax.default_backend()
    out["device"] = getattr(device, "device_kind", str(device))
    return out


def _cases(names: list[str], lengths: list[int]) -> list[tuple[str, str, int]]:
    cases = []
    for length in lengths:
        for name in names:
            for mode in MODES if name in RECURRENT else ("conv",):
                cases.append((name, mode, length))
    return cases


def _table(rows: list[dict]) -> str:
    lines = [
        "| model | mode | L | fwd ms | fwd+bwd ms | compile s (fwd / fwd+bwd) | peak MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(
                f"| {r['model']} | {r['mode']} | {r['length']} | error: {r['error']} | | | |"
            )
            continue
        lines.append(
            f"| {r['model']} | {r['mode']} | {r['length']:,} | {1e3 * r['fwd_s']:.1f} | "
            f"{1e3 * r['fwd_bwd_s']:.1f} | {r['fwd_compile_s']:.1f} / {r['fwd_bwd_compile_s']:.1f} | "
            f"{r['peak_mem_bytes'] / 2**20:.0f} |"
        )
    return "\n".join(lines)


def _targets(rows: list[dict]) -> list[str]:
    """The CPU targets of issue 2: auto fwd+bwd >= 2x faster than parallel at L >= 5000 and never
    slower; auto peak memory at L = 20000 <= 0.6x parallel."""
    by = {(r["model"], r["mode"], r["length"]): r for r in rows if "error" not in r}
    lines = []
    for (model, mode, length), r in sorted(by.items()):
        if mode != "auto" or (model, "parallel", length) not in by:
            continue
        p = by[(model, "parallel", length)]
        speedup = p["fwd_bwd_s"] / r["fwd_bwd_s"]
        need = 2.0 if length >= 5000 else 1.0
        line = f"- {model} L={length:,}: auto fwd+bwd {speedup:.2f}x faster than parallel (target >= {need:g}x): {'met' if speedup >= need else 'NOT met'}"
        if length == 20000:
            ratio = r["peak_mem_bytes"] / max(p["peak_mem_bytes"], 1)
            line += f"; peak memory {ratio:.2f}x of parallel (target <= 0.6x): {'met' if ratio <= 0.6 else 'NOT met'}"
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="L=1000 only, 3 repeats")
    parser.add_argument("--lengths", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--state", type=int, default=64)
    parser.add_argument(
        "--update",
        action="store_true",
        help="re-measure only the given --models/--lengths and merge into the existing tables",
    )
    parser.add_argument("--case", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.case:  # child process: one case, JSON on the last stdout line
        model, mode, length = args.case[0], args.case[1], int(args.case[2])
        result = run_case(model, mode, length, args.batch, args.hidden, args.state, args.repeats)
        print(json.dumps(result))
        return

    from ssmtune import models

    lengths = [1000] if args.quick else args.lengths
    repeats = 3 if args.quick else args.repeats
    names = args.models or models.names()
    rows = []
    for model, mode, length in _cases(names, lengths):
        cmd = [
            sys.executable, "-m", "ssmtune.benchmarks.layers", "--case", model, mode, str(length),
            "--repeats", str(repeats), "--batch", str(args.batch),
            "--hidden", str(args.hidden), "--state", str(args.state),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
        row = dict(
            model=model,
            mode=mode,
            length=length,
            batch=args.batch,
            hidden=args.hidden,
            state=args.state,
        )
        if proc.returncode == 0:
            row.update(json.loads(proc.stdout.strip().splitlines()[-1]))
        else:
            row["error"] = (proc.stderr.strip().splitlines() or ["?"])[-1][:200]
        rows.append(row)
        print(json.dumps(row), flush=True)

    ok = [r for r in rows if "error" not in r]
    backend = ok[0]["backend"] if ok else "unknown"
    device = ok[0]["device"] if ok else "unknown"
    slug = re.sub(r"[^a-z0-9]+", "-", f"{backend}-{device}".lower()).strip("-")
    if backend == "cpu":
        slug = "cpu"
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if args.quick else ""
    previous = RESULTS / f"layers-{slug}{suffix}.json"
    if args.update and previous.exists():
        fresh = {(r["model"], r["mode"], r["length"]) for r in rows}
        old = json.loads(previous.read_text())["rows"]
        rows = [r for r in old if (r["model"], r["mode"], r["length"]) not in fresh] + rows
        order = {key: i for i, key in enumerate(_cases(models.names(), [1000, 5000, 20000]))}
        rows.sort(key=lambda r: order.get((r["model"], r["mode"], r["length"]), len(order)))
        ok = [r for r in rows if "error" not in r]
    meta = dict(
        backend=backend,
        device=device,
        cpu_count=os.cpu_count(),
        machine=platform.machine(),
        repeats=repeats,
        date=time.strftime("%Y-%m-%d %H:%M"),
    )
    (RESULTS / f"layers-{slug}{suffix}.json").write_text(
        json.dumps(dict(meta=meta, rows=rows), indent=1)
    )
    md = (
        f"# Layer benchmark: {backend} ({device}), B={args.batch} H={args.hidden} P={args.state}\n\n"
        f"Regenerate with `python -m ssmtune.benchmarks.layers`. Median of {repeats} runs; compile time of "
        "the first call; peak memory: "
        + (
            "backend peak bytes"
            if ok and ok[0]["peak_mem_source"] == "backend"
            else "peak RSS of a fresh process above its RSS before compiling"
        )
        + ". On this backend `auto` resolves to: "
        + ", ".join(
            sorted({f"L={r['length']}: {r['resolved_mode']}" for r in ok if r["mode"] == "auto"})
        )
        + "\n\n"
        + _table(rows)
        + "\n\n## Targets (issue 2)\n\n"
        + "\n".join(_targets(rows))
        + "\n"
    )
    (RESULTS / f"layers-{slug}{suffix}.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
