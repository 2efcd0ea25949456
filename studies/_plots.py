"""Figures of a report: PNG through matplotlib (Agg backend) and HTML through plotly.

- ``expected_best_trials_<task>``: expected best validation vs number of trials, one line per
  study (space) on one axis per task, each with its 90 % percentile-bootstrap band;
- ``expected_best_device_hours_<task>``: the same against device-hours;
- ``history_<study>``: optimization history (each complete trial and the running best);
- ``importance_<study>``: parameter importance (Optuna's default importance evaluator), left
  out with a note when the study is too small for it.

`write_compare_plots` draws the figures of `ssmtune compare --out` (`studies.compare` with
``curves=True``), one colour per space and a 90 % percentile-bootstrap band around each line:

- ``compare_expected_best_trials_<task>``: expected best validation value vs trials;
- ``compare_expected_best_device_hours_<task>``: the same vs device-hours;
- ``compare_cost_to_reach_<task>``: expected device-hours to reach a validation value (trials
  in random order), vs that value, with the comparison's target marked.

HTML files share one ``plotly.min.js`` written next to them, so the folder works offline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssmtune.studies._format import fmt_interval
from ssmtune.studies._query import complete_trials, direction_of, trial_sample, value_of

if TYPE_CHECKING:
    import optuna

__all__ = ["write_plots", "write_compare_plots", "param_importances"]


def write_plots(
    rows: Sequence[dict[str, Any]], studies: Sequence[optuna.Study], out: Path
) -> tuple[list[Path], list[str]]:
    """Write every figure of the report under `out`.

    Args:
        rows: study summaries computed with ``curve=True`` (see `studies.study_summary`).
        studies: the same studies, for history and importance.

    Returns:
        (paths written, notes on figures left out).
    """
    import matplotlib

    matplotlib.use("Agg")
    written: list[Path] = []
    notes: list[str] = []
    by_task: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("curve"):
            by_task.setdefault(str(r["task"]), []).append(r)
    for task, task_rows in by_task.items():
        for x in ("trials", "device_hours"):
            written += _expected_best_figure(task, task_rows, x, out, studies)
    for s in studies:
        done = complete_trials(s)
        if not done:
            notes.append(f"{s.study_name}: no complete trials, no history or importance plot")
            continue
        written += _history_figure(s, out)
        importances, why = param_importances(s)
        if importances is None:
            notes.append(f"{s.study_name}: no parameter importance ({why})")
        else:
            written += _importance_figure(s, importances, out)
    return written, notes


def param_importances(study: optuna.Study) -> tuple[dict[str, float] | None, str]:
    """Optuna's parameter importances of a study, or (None, why) when it is too small.

    Needs at least 2 complete trials and a parameter that takes 2 different values among them.
    """
    import optuna

    done = complete_trials(study)
    if len(done) < 2:
        return None, f"{len(done)} complete trial(s), at least 2 needed"
    varying = [
        p for p in done[0].params if len({repr(t.params.get(p)) for t in done if p in t.params}) > 1
    ]
    if not varying:
        return None, "no parameter varies among the complete trials"
    try:
        return optuna.importance.get_param_importances(study), ""
    except (RuntimeError, ValueError, ZeroDivisionError) as exc:
        return None, f"the importance evaluator failed: {exc}"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@-]+", "_", name)


def _label(row: dict[str, Any]) -> str:
    return f"{row['space']} ({row['study']})" if row.get("space") else str(row["study"])


def _expected_best_figure(
    task: str, rows: list[dict[str, Any]], x: str, out: Path, studies: Sequence[optuna.Study]
) -> list[Path]:
    """Expected best vs trials or device-hours, one colour per study, each with its 90 %
    percentile-bootstrap band (`studies._bootstrap`, default resamples and seed)."""
    import matplotlib.pyplot as plt
    import numpy as np
    import plotly.graph_objects as go

    from ssmtune.studies._bootstrap import (
        DEFAULT_RESAMPLES,
        DEFAULT_SEED,
        boot_expected_best,
        boot_expected_best_at_cost,
        percentile_interval,
        resample_indices,
    )

    by_name = {s.study_name: s for s in studies}
    stem = f"expected_best_{x}_{_slug(task)}"
    metric, direction = rows[0]["metric"], rows[0]["direction"]
    scale, ylabel = _metric_axis(metric)
    xlabel = "trials run (log scale)" if x == "trials" else "device-hours spent (log scale)"
    title = f"{task}: expected best {ylabel.split(',')[0]} vs " + (
        "trials" if x == "trials" else "device-hours"
    )
    est = {"tang": "Tang et al. 2020", "dodge": "Dodge et al. 2019"}.get(rows[0]["estimator"])
    subtitle = (
        f"line: estimate ({est}); band: 90% bootstrap interval "
        f"({DEFAULT_RESAMPLES} resamples, seed {DEFAULT_SEED})"
    )
    fig, ax = plt.subplots(figsize=(7.0, 4.6))
    pfig = go.Figure()
    for i, r in enumerate(rows):
        colour = _PALETTE[i % len(_PALETTE)]
        ks = sorted(int(k) for k in r["curve"])
        xs = ks if x == "trials" else [k * r["device_hours_per_trial"] for k in ks]
        ys = [scale * r["curve"][k] for k in ks]
        band_x: list[float] = []
        lo: list[float] = []
        hi: list[float] = []
        study = by_name.get(r["study"])
        sample = None if study is None else trial_sample(study, r["device_hours"])
        if sample is not None:
            n = sample.values.size
            # the band at every k up to 60 trials, then at 60 points evenly spaced on the log axis
            band_k = sorted({int(k) for k in np.geomspace(1, n, 60).round()} if n > 60 else ks)
            per_k = 1.0 if x == "trials" else r["device_hours_per_trial"]
            band_x = [k * per_k for k in band_k]
            idx = resample_indices(n, DEFAULT_RESAMPLES, np.random.default_rng(DEFAULT_SEED))
            boot = dict(direction=direction, estimator=r["estimator"])
            reps = (
                boot_expected_best(sample.values, band_k, idx, **boot)
                if x == "trials"
                else boot_expected_best_at_cost(sample, band_x, idx, **boot)
            )
            bands = [percentile_interval(reps[:, j]) for j in range(len(band_k))]
            lo = [_scaled(b, 0, scale) for b in bands]
            hi = [_scaled(b, 1, scale) for b in bands]
            ax.fill_between(band_x, lo, hi, color=colour, alpha=0.2, linewidth=0)
        ax.plot(xs, ys, color=colour, marker="." if len(ks) < 30 else None, label=_label(r))
        _plotly_band(pfig, go, xs, ys, lo, hi, colour, _label(r), band_x=band_x)
    _finish_expected_best(ax, pfig, xlabel, ylabel, title, subtitle, direction)
    return _save(fig, pfig, out, stem)


def _scaled(interval: tuple[float | None, float | None] | None, i: int, scale: float) -> float:
    """Bound `i` of `interval` times `scale`; NaN for an unbounded bound or no interval."""
    bound = None if interval is None else interval[i]
    return float("nan") if bound is None else scale * bound


def _history_figure(study: optuna.Study, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt
    import optuna

    done = complete_trials(study)
    pick = max if direction_of(study) == "maximize" else min
    xs = [t.number for t in done]
    ys = [value_of(t) for t in done]
    running = [pick(ys[: i + 1]) for i in range(len(ys))]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.scatter(xs, ys, s=12, alpha=0.6, label="complete trial")
    ax.step(xs, running, where="post", color="C3", label="best so far")
    ax.set_xlabel("trial number")
    ax.set_ylabel("validation value")
    ax.set_title(f"{study.study_name}: optimization history", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    pfig = optuna.visualization.plot_optimization_history(study)
    return _save(fig, pfig, out, f"history_{_slug(study.study_name)}")


def _importance_figure(study: optuna.Study, importances: dict[str, float], out: Path) -> list[Path]:
    import matplotlib.pyplot as plt
    import plotly.graph_objects as go

    names = list(importances)[::-1]
    vals = [importances[n] for n in names]
    fig, ax = plt.subplots(figsize=(6.4, 0.8 + 0.35 * len(names)))
    ax.barh(names, vals)
    ax.set_xlabel("importance (Optuna's default evaluator)")
    ax.set_title(f"{study.study_name}: parameter importance", fontsize=10)
    pfig = go.Figure(go.Bar(x=vals, y=names, orientation="h"))
    pfig.update_layout(title=f"{study.study_name}: parameter importance")
    return _save(fig, pfig, out, f"importance_{_slug(study.study_name)}")


#: One colour per study (matplotlib's default cycle); A and B of a comparison take the first two.
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
_SIDE_COLOURS = {"a": _PALETTE[0], "b": _PALETTE[1]}


def write_compare_plots(c: dict[str, Any], out: Path) -> list[Path]:
    """Write the three figures of a comparison under `out` (created if missing).

    Args:
        c: `studies.compare`'s result computed with ``curves=True``.

    Returns:
        The paths written (a PNG and an HTML file per figure); none when neither study has a
        complete trial.
    """
    import matplotlib

    matplotlib.use("Agg")
    curves = c.get("curves") or {}
    sides = {k: v for k, v in curves.items() if v is not None}
    if not sides:
        return []
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for x in ("trials", "device_hours"):
        written += _compare_expected_best_figure(c, sides, x, out)
    written += _cost_to_reach_figure(c, sides, out)
    return written


def _metric_axis(metric: str) -> tuple[float, str]:
    """Scale and unit of a validation value on an axis: accuracy in %, MSE as is."""
    if metric == "accuracy":
        return 100.0, "validation accuracy (%), higher is better"
    return 1.0, "validation MSE, lower is better"


def _band(points: list[dict[str, Any]], key: str, scale: float, top: float | None = None):
    """x, y, low, high of a curve; an unbounded high bound is `top` (or NaN)."""
    xs = [p[key] for p in points]
    ys = [float("nan") if p.get("value") is None else scale * p["value"] for p in points]
    lo, hi = [], []
    for p in points:
        iv = p["interval"] or [None, None]
        lo.append(float("nan") if iv[0] is None else scale * iv[0])
        hi.append((top if top is not None else float("nan")) if iv[1] is None else scale * iv[1])
    return xs, ys, lo, hi


def _side_name(c: dict[str, Any], side: str, curve: dict[str, Any]) -> str:
    return f"{side.upper()}: {curve['label']}"


def _finish_expected_best(
    ax: Any, pfig: Any, xlabel: str, ylabel: str, title: str, subtitle: str, direction: str
) -> None:
    """Axes, title, legend and log x axis of an expected-best figure (matplotlib and plotly)."""
    ax.fill_between([], [], [], color="grey", alpha=0.2, label="90% interval")
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("expected best " + ylabel)
    ax.set_title(f"{title}\n{subtitle}", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right" if direction == "maximize" else "upper right")
    pfig.update_layout(
        title=f"{title}<br><sup>{subtitle}</sup>",
        xaxis_title=xlabel,
        yaxis_title="expected best " + ylabel,
        legend_title_text="space (study)",
    )
    pfig.update_xaxes(type="log")


def _subtitle(c: dict[str, Any]) -> str:
    boot = c["bootstrap"]
    est = {"tang": "Tang et al. 2020", "dodge": "Dodge et al. 2019"}[c["estimator"]]
    return (
        f"line: estimate ({est}); band: 90% bootstrap interval "
        f"({boot['resamples']} resamples, seed {boot['seed']})"
    )


def _compare_expected_best_figure(
    c: dict[str, Any], sides: dict[str, dict[str, Any]], x: str, out: Path
) -> list[Path]:
    import matplotlib.pyplot as plt
    import plotly.graph_objects as go

    scale, ylabel = _metric_axis(c["metric"])
    xlabel = "trials run (log scale)" if x == "trials" else "device-hours spent (log scale)"
    key = "k" if x == "trials" else "device_hours"
    title = f"{c['task']}: expected best {ylabel.split(',')[0]} vs " + (
        "trials" if x == "trials" else "device-hours"
    )
    fig, ax = plt.subplots(figsize=(7.0, 4.6))
    pfig = go.Figure()
    for side, curve in sides.items():
        colour, name = _SIDE_COLOURS[side], _side_name(c, side, curve)
        xs, ys, lo, hi = _band(curve[x], key, scale)
        ax.fill_between(xs, lo, hi, color=colour, alpha=0.2, linewidth=0)
        ax.plot(xs, ys, color=colour, marker="." if len(xs) < 30 else None, label=name)
        _plotly_band(pfig, go, xs, ys, lo, hi, colour, name)
    _finish_expected_best(ax, pfig, xlabel, ylabel, title, _subtitle(c), c["direction"])
    return _save(fig, pfig, out, f"compare_expected_best_{x}_{_slug(str(c['task']))}")


def _cost_to_reach_figure(
    c: dict[str, Any], sides: dict[str, dict[str, Any]], out: Path
) -> list[Path]:
    import matplotlib.pyplot as plt
    import plotly.graph_objects as go

    scale, xlabel = _metric_axis(c["metric"])
    finite = [
        v
        for curve in sides.values()
        for p in curve["cost_to_reach"]
        for v in (p["device_hours"], *(p["interval"] or []))
        if v is not None and v > 0
    ]
    top = 2 * max(finite) if finite else 1.0
    ratio = c["cost_to_reach"]["ratio"]
    goal = c["target"]["value"]

    r_text = "—" if ratio["value"] is None else f"{ratio['value']:.3g}"
    r_text += f", 90% interval {fmt_interval(ratio['interval'], lambda v: f'{v:.3g}')}"
    title = f"{c['task']}: device-hours to reach a validation value, trials in random order"
    note = f"at the target (dashed): B/A = {r_text}"
    fig, ax = plt.subplots(figsize=(7.0, 4.9))
    pfig = go.Figure()
    for side, curve in sides.items():
        colour, name = _SIDE_COLOURS[side], _side_name(c, side, curve)
        points = [{**p, "value": p["device_hours"]} for p in curve["cost_to_reach"]]
        xs, ys, lo, hi = _band(points, "target", 1.0, top=top)
        xs = [scale * v for v in xs]
        lo = [top if v != v else v for v in lo]  # not reached in 95% of resamples: off the top
        ax.fill_between(xs, lo, hi, color=colour, alpha=0.2, linewidth=0)
        ax.plot(xs, ys, color=colour, marker=".", label=name)
        _plotly_band(pfig, go, xs, ys, lo, hi, colour, name)
    ax.fill_between(
        [],
        [],
        [],
        color="grey",
        alpha=0.2,
        label="90% interval (up to the top edge:\nnot reached in over 5% of resamples)",
    )
    if goal is not None:
        ax.axvline(scale * goal, color="k", linestyle="--", linewidth=1, label="target")
        pfig.add_vline(x=scale * goal, line_dash="dash", annotation_text="target")
    ax.set_yscale("log")
    ax.set_ylim(top=top)
    ax.set_xlabel("target " + xlabel.split(",")[0])
    ax.set_ylabel("expected device-hours to reach it (log scale)")
    ax.set_title(
        f"{title}\n{note}\n{_subtitle(c)}",
        fontsize=9,
    )
    if c["direction"] == "minimize":
        ax.invert_xaxis()  # harder targets to the right, as for accuracy
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    pfig.update_layout(
        title=f"{title}<br><sup>{note}; {_subtitle(c)}</sup>",
        xaxis_title="target " + xlabel.split(",")[0],
        yaxis_title="expected device-hours to reach it",
        legend_title_text="space (study)",
    )
    pfig.update_yaxes(type="log")
    if c["direction"] == "minimize":
        pfig.update_xaxes(autorange="reversed")
    return _save(fig, pfig, out, f"compare_cost_to_reach_{_slug(str(c['task']))}")


def _plotly_band(pfig: Any, go: Any, xs, ys, lo, hi, colour: str, name: str, band_x=None) -> None:
    """A line and its band (low, then high filled to it) in one legend group; the band at
    `band_x` (default: the line's x)."""
    group = dict(legendgroup=name, line=dict(color=colour))
    bx = xs if band_x is None else band_x
    pfig.add_trace(go.Scatter(x=bx, y=lo, mode="lines", line_width=0, showlegend=False,
                              legendgroup=name, hoverinfo="skip"))  # fmt: skip
    pfig.add_trace(
        go.Scatter(
            x=bx, y=hi, mode="lines", fill="tonexty", line_width=0, fillcolor=_rgba(colour, 0.2),
            name=f"{name}: 90% interval", legendgroup=name, hoverinfo="skip",
        )
    )  # fmt: skip
    pfig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=name, **group))


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _save(fig: Any, pfig: Any, out: Path, stem: str) -> list[Path]:
    import matplotlib.pyplot as plt

    png, html = out / f"{stem}.png", out / f"{stem}.html"
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    pfig.write_html(html, include_plotlyjs="directory")
    return [png, html]
