"""Result tables of the benchmarks: one JSON file and one markdown file per benchmark, named by
backend and device (``throughput-cpu.json``, ``throughput-gpu-nvidia-h100-80gb-hbm3.md``).

A table is a title, notes (machine, versions, what a column means, what is missing) and rows
of plain values; `write_table` renders the same rows to both files, so the markdown is never
edited by hand.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import re
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["RESULTS_DIR", "machine", "table_stem", "write_table", "median", "fmt"]

#: Where `python -m ssmtune.benchmarks` writes its tables (``--out`` changes it).
RESULTS_DIR = Path(__file__).resolve().parent / "results"

NO_GPU_NOTE = (
    "No GPU was available to this run: GPU figures are missing (not estimated). "
    "Run `python -m ssmtune.benchmarks` on a GPU machine to add its tables."
)


def machine() -> dict[str, Any]:
    """The backend, device and versions this process runs on (imports jax)."""
    import jax

    device = jax.devices()[0]
    try:
        from importlib.metadata import version

        versions = {p: version(p) for p in ("jax", "equinox", "optax", "optuna", "ray")}
    except Exception:  # pragma: no cover - a broken install
        versions = {}
    return {
        "backend": jax.default_backend(),
        "device": str(device.device_kind),
        "device_count": jax.device_count(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def table_stem(name: str, info: dict[str, Any], *, quick: bool = False) -> str:
    """File name without suffix: ``NAME-BACKEND`` on the CPU, ``NAME-BACKEND-DEVICE`` elsewhere,
    with ``-quick`` for --quick runs (so a smoke run never overwrites a real table).

    Example:
        >>> table_stem("throughput", {"backend": "gpu", "device": "NVIDIA H100 80GB HBM3"})
        'throughput-gpu-nvidia-h100-80gb-hbm3'
    """
    stem = f"{name}-{info['backend']}"
    if info["backend"] != "cpu":
        stem += "-" + re.sub(r"[^a-z0-9]+", "-", info["device"].lower()).strip("-")
    return stem + ("-quick" if quick else "")


def median(values: Sequence[float | None]) -> float | None:
    """The median of the finite values, or None when there are none."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    return statistics.median(finite) if finite else None


def fmt(value: Any) -> str:
    """A cell of the markdown table."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == 0 or 0.01 <= abs(value) < 10_000:
            return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
        return f"{value:.3g}"
    return str(value)


def _markdown(
    title: str,
    info: dict[str, Any],
    columns: Sequence[str],
    rows: Sequence[dict],
    notes: Sequence[str],
) -> str:
    lines = [f"# {title}", ""]
    versions = ", ".join(f"{k} {v}" for k, v in info.get("versions", {}).items())
    lines.append(
        f"Backend {info['backend']}, device {info['device']} x{info['device_count']}, "
        f"{info['cpu_count']} CPU cores; {versions}; {info['date']}."
    )
    lines.append("")
    for note in notes:
        lines.append(f"- {note}")
    if notes:
        lines.append("")
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    for row in rows:
        lines.append("| " + " | ".join(fmt(row.get(c)) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def write_table(
    name: str,
    *,
    title: str,
    columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
    notes: Sequence[str] = (),
    summary: dict[str, Any] | None = None,
    out: Path | None = None,
    quick: bool = False,
) -> tuple[Path, Path]:
    """Write ``NAME-...json`` and ``.md`` under `out` (default `RESULTS_DIR`); return both paths.

    Args:
        name: the benchmark's name (first part of the file name).
        title: the markdown heading.
        columns: the row keys shown in the markdown table, in order (the JSON keeps every key).
        rows: one dict per row.
        notes: lines printed above the table (and stored in the JSON).
        summary: figures about the whole benchmark (targets and whether they were met).
        quick: a --quick run (named ``...-quick``).
    """
    info = machine()
    if info["backend"] == "cpu":
        notes = [*notes, NO_GPU_NOTE]
    info["date"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = Path(out) if out is not None else RESULTS_DIR
    out.mkdir(parents=True, exist_ok=True)
    stem = table_stem(name, info, quick=quick)
    payload = {
        "benchmark": name,
        "title": title,
        "quick": quick,
        "machine": info,
        "notes": list(notes),
        "columns": list(columns),
        "rows": list(rows),
        "summary": summary or {},
    }
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    json_path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    md = _markdown(title, info, columns, rows, notes)
    if summary:
        md += "\n" + "\n".join(f"- **{k}**: {fmt(v)}" for k, v in summary.items()) + "\n"
    md_path.write_text(md)
    return json_path, md_path
