"""What replicate replays of one strategy say (`search._replay`): best so far against
device-hours, the cost to reach each target, and the test value at the chosen best.

Over replicates (each an independent search: its own sampler seed, shuffle or bracket draw):

- best so far: on a common grid of device-hours, each replicate's best complete value among
  the trials it had started by then (dispatch order, `ReplayRun.curve`); the median and the
  10 % and 90 % quantiles over the replicates that have one, and the share that has one;
- per target: the share of replicates that reached it (``reached_fraction``), the mean and
  quantiles of the cost to reach over those that did (``mean_device_hours``: conditional on
  reaching, so read it with the share), and the Kaplan–Meier quantiles
  (`studies.km_quantiles`) that count the replicates censored at their total spend;
- the test value of each replicate's final best: its median and 10 %–90 % quantiles.

Default targets: the table's best minus 0, 1, 3 and 5 points of accuracy, or plus 0, 1, 3 and
5 % of MSE.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ssmtune.studies import km_quantiles

if TYPE_CHECKING:
    from ssmtune.search._replay import ReplayRun
    from ssmtune.studies import Table

__all__ = ["TargetFigures", "ReplaySummary", "default_targets", "summarize_replay", "write_replay"]

#: Default targets: points of accuracy below the best, or per cent of MSE above it.
TARGET_OFFSETS = (0, 1, 3, 5)
QUANTILES = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class TargetFigures:
    """The figures of one target over the replicates (module docstring)."""

    target: float
    label: str
    reached_fraction: float
    mean_device_hours: float | None
    quantiles_device_hours: dict[str, float | None]
    km_quantiles_device_hours: dict[str, float | None]


@dataclass(frozen=True)
class ReplaySummary:
    """A strategy's replay on one table (module docstring)."""

    table: dict[str, Any]
    strategy: dict[str, Any]
    replicates: int
    grid_device_hours: float
    best_value: float | None
    targets: tuple[TargetFigures, ...]
    curve: dict[str, list[float | None]]
    test_at_best: dict[str, float | None]
    spent_device_hours: dict[str, float | None]
    makespan_hours: dict[str, float | None]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def default_targets(table: Table) -> list[tuple[float, str]]:
    """(target, label) for the table's best minus 0, 1, 3, 5 points (or plus 0-5 % MSE)."""
    best = table.best()
    if best is None or best.value is None:
        return []
    if table.maximize:
        return [(best.value - k / 100, f"best - {k}") for k in TARGET_OFFSETS]
    return [(best.value * (1 + k / 100), f"best + {k} %") for k in TARGET_OFFSETS]


def _quantiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {f"q{int(q * 100)}": None for q in QUANTILES}
    found = np.quantile(np.asarray(values, float), QUANTILES)
    return {f"q{int(q * 100)}": float(v) for q, v in zip(QUANTILES, found, strict=True)}


def summarize_replay(
    table: Table,
    runs: list[ReplayRun],
    strategy: dict[str, Any],
    targets: list[tuple[float, str]] | None = None,
    *,
    points: int = 60,
) -> ReplaySummary:
    """The summary of `runs` (replicates of one strategy on `table`) at `targets` (default:
    `default_targets`); the best-so-far band on `points` device-hour values."""
    if not runs:
        raise ValueError("no replicate to summarise")
    targets = default_targets(table) if targets is None else targets
    spent = [r.total_s() / 3600 for r in runs]
    figures = []
    for target, label in targets:
        costs = [r.cost_to_reach(target) for r in runs]
        hours = [c / 3600 for c in costs if c is not None]
        km = km_quantiles([None if c is None else c / 3600 for c in costs], spent, QUANTILES)
        figures.append(
            TargetFigures(
                target=float(target),
                label=label,
                reached_fraction=len(hours) / len(runs),
                mean_device_hours=float(np.mean(hours)) if hours else None,
                quantiles_device_hours=_quantiles(hours),
                km_quantiles_device_hours={
                    f"q{int(q * 100)}": v for q, v in zip(QUANTILES, km, strict=True)
                },
            )
        )
    grid = np.linspace(0.0, max(spent), points)
    median: list[float | None] = []
    low: list[float | None] = []
    high: list[float | None] = []
    share: list[float | None] = []
    curves = [r.curve() for r in runs]
    for x in grid * 3600:
        at = []
        for curve in curves:
            seen = [best for cost, best, _ in curve if cost <= x + 1e-9 and best is not None]
            if seen:
                at.append(seen[-1])
        share.append(len(at) / len(runs))
        q = _quantiles(at)
        low.append(q["q10"])
        median.append(q["q50"])
        high.append(q["q90"])
    finals = [c[-1][2] for c in curves if c and c[-1][2] is not None]
    best = table.best()
    return ReplaySummary(
        table={k: table.header.get(k) for k in ("study", "task", "space", "metric", "protocol")},
        strategy=strategy,
        replicates=len(runs),
        grid_device_hours=table.total_device_s() / 3600,
        best_value=None if best is None else best.value,
        targets=tuple(figures),
        curve={
            "device_hours": [float(x) for x in grid],
            "median": median,
            "q10": low,
            "q90": high,
            "share_with_a_value": share,
        },
        test_at_best=_quantiles(finals),
        spent_device_hours=_quantiles(spent),
        makespan_hours=_quantiles([r.makespan_s / 3600 for r in runs]),
    )


def _fmt(value: float | None, digits: int = 3) -> str:
    return "not reached" if value is None else f"{value:.{digits}f}"


def markdown(summary: ReplaySummary) -> str:
    """The summary as a markdown page: the strategy, the targets' table, the test at best."""
    s, t = summary.strategy, summary.table
    lines = [
        f"# Replay of {s['sampler']}" + (f" + {s['pruner']}" if s["pruner"] != "none" else ""),
        "",
        f"Table: study {t['study']}, task {t['task']}, space {t['space']}, protocol "
        f"{t['protocol']}; the whole grid costs {summary.grid_device_hours:.3f} device-hours, "
        f"best {_fmt(summary.best_value, 4)}.",
        f"{summary.replicates} replicates on {s['workers']} simulated workers, seed {s['seed']}, "
        f"budget {_fmt(s['budget_hours'])} device-hours; spent per replicate (median) "
        f"{_fmt(summary.spent_device_hours['q50'])}.",
        "",
        "| target | value | reached | mean device-hours (reached) | q10 / q50 / q90 "
        "(reached) | Kaplan–Meier q10 / q50 / q90 |",
        "|---|---|---|---|---|---|",
    ]
    for f in summary.targets:
        q, km = f.quantiles_device_hours, f.km_quantiles_device_hours
        lines.append(
            f"| {f.label} | {f.target:.4f} | {f.reached_fraction:.0%} | "
            f"{_fmt(f.mean_device_hours)} | {_fmt(q['q10'])} / {_fmt(q['q50'])} / "
            f"{_fmt(q['q90'])} | {_fmt(km['q10'])} / {_fmt(km['q50'])} / {_fmt(km['q90'])} |"
        )
    tb = summary.test_at_best
    lines += [
        "",
        f"Test value at each replicate's final best: median {_fmt(tb['q50'], 4)} "
        f"(10–90 %: {_fmt(tb['q10'], 4)} to {_fmt(tb['q90'], 4)}).",
        "",
        "Costs are counted in the order the strategy started its trials (`search._replay`); "
        "a replicate that never reached a target is censored at its spend (Kaplan–Meier "
        "columns). These are figures of the table's protocol on the machine that ran it.",
    ]
    return "\n".join(lines) + "\n"


def write_replay(summary: ReplaySummary, out: Path, stem: str) -> list[Path]:
    """Write ``STEM.md``, ``.csv`` (one row per target), ``.json``, ``.png`` and ``.html``
    (best so far against device-hours with its 10–90 % band) under `out`; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.{ext}" for ext in ("md", "csv", "json", "png", "html")]
    paths[0].write_text(markdown(summary))
    with paths[1].open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["target", "label", "reached_fraction", "mean_device_hours",
                         "q10", "q50", "q90", "km_q10", "km_q50", "km_q90"])  # fmt: skip
        for f in summary.targets:
            q, km = f.quantiles_device_hours, f.km_quantiles_device_hours
            writer.writerow([f.target, f.label, f.reached_fraction, f.mean_device_hours,
                             q["q10"], q["q50"], q["q90"], km["q10"], km["q50"], km["q90"]])  # fmt: skip
    paths[2].write_text(json.dumps(summary.to_json(), indent=2) + "\n")
    _figures(summary, paths[3], paths[4])
    return paths


def _figures(summary: ReplaySummary, png: Path, html: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import plotly.graph_objects as go

    c = summary.curve
    nan = float("nan")

    def clean(values: list[float | None]) -> list[float]:
        return [nan if v is None else v for v in values]

    x = clean(c["device_hours"])

    title = (
        f"{summary.strategy['sampler']} + {summary.strategy['pruner']} on {summary.table['task']}"
    )
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.fill_between(x, clean(c["q10"]), clean(c["q90"]), alpha=0.25, label="10–90 %")
    ax.plot(x, clean(c["median"]), label="median")
    for f in summary.targets:
        ax.axhline(f.target, linestyle=":", linewidth=0.8, color="gray")
    ax.set_xlabel("device-hours")
    ax.set_ylabel(f"best validation {summary.table['metric']}")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)
    figure = go.Figure(
        [
            go.Scatter(x=x, y=clean(c["q90"]), line={"width": 0}, showlegend=False),
            go.Scatter(x=x, y=clean(c["q10"]), fill="tonexty", line={"width": 0}, name="10–90 %"),
            go.Scatter(x=x, y=clean(c["median"]), name="median"),
        ]
    )
    figure.update_layout(title=title, xaxis_title="device-hours", yaxis_title="best validation")
    figure.write_html(html, include_plotlyjs="directory")  # plotly.min.js beside it: offline
