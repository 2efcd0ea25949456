"""Figures of a report: PNG through matplotlib (Agg backend) and HTML through plotly.

- ``expected_best_trials_<task>``: expected best validation vs number of trials, one line per
  study (space) on one axis per task;
- ``expected_best_device_hours_<task>``: the same against device-hours;
- ``history_<study>``: optimization history (each complete trial and the running best);
- ``importance_<study>``: parameter importance (Optuna's default importance evaluator), left
  out with a note when the study is too small for it.

HTML files share one ``plotly.min.js`` written next to them, so the folder works offline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studies._query import complete_trials, direction_of

if TYPE_CHECKING:
    import optuna

__all__ = ["write_plots", "param_importances"]


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
            written += _expected_best_figure(task, task_rows, x, out)
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


def _expected_best_figure(task: str, rows: list[dict[str, Any]], x: str, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt
    import plotly.graph_objects as go

    stem = f"expected_best_{x}_{_slug(task)}"
    metric = rows[0]["metric"]
    xlabel = "trials" if x == "trials" else "device-hours"
    title = f"{task}: expected best validation {metric} vs {xlabel}"
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    pfig = go.Figure()
    for r in rows:
        ks = sorted(int(k) for k in r["curve"])
        xs = ks if x == "trials" else [k * r["device_hours_per_trial"] for k in ks]
        ys = [r["curve"][k] for k in ks]
        ax.plot(xs, ys, marker="." if len(ks) < 30 else None, label=_label(r))
        pfig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=_label(r)))
    ax.set_xscale("log")
    ax.set_xlabel(xlabel + " (log)")
    ax.set_ylabel(f"expected best validation {metric}")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    pfig.update_layout(title=title, xaxis_title=xlabel, yaxis_title=f"expected best {metric}")
    pfig.update_xaxes(type="log")
    return _save(fig, pfig, out, stem)


def _history_figure(study: optuna.Study, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt
    import optuna

    done = complete_trials(study)
    pick = max if direction_of(study) == "maximize" else min
    xs = [t.number for t in done]
    ys = [t.value for t in done]
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


def _save(fig: Any, pfig: Any, out: Path, stem: str) -> list[Path]:
    import matplotlib.pyplot as plt

    png, html = out / f"{stem}.png", out / f"{stem}.html"
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    pfig.write_html(html, include_plotlyjs="directory")
    return [png, html]
