"""One row of figures per (task, study): what the search found and what finding it cost.

`study_summary` is the single place where a study's figures are computed; `report` selects
studies and `write_report` turns the rows into markdown and CSV tables (and plots, through
`studies._plots`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssmtune.studies._cost import carried_s
from ssmtune.studies._errors import StudyError
from ssmtune.studies._expected import (
    REPORT_KS,
    check_estimator,
    expected_best_curve,
    trials_to_within,
)
from ssmtune.studies._format import fmt_value
from ssmtune.studies._query import (
    complete_trials,
    direction_of,
    load_studies,
    metric_of,
    study_counts,
    study_device_s,
    study_wall_s,
    trial_device_s,
    value_of,
)

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage

__all__ = ["DEFAULT_WITHIN", "report", "study_summary", "grid_progress", "write_report"]

#: Default tolerance of "within one point of the best", in the metric's units (accuracy is a
#: fraction, so 0.01 is one percentage point).
DEFAULT_WITHIN = 0.01


def report(
    storage: str | BaseStorage,
    *,
    task: str | Iterable[str] | None = None,
    model: str | Iterable[str] | None = None,
    study: str | Iterable[str] | None = None,
    ks: Sequence[int] | None = None,
    estimator: str = "tang",
    within: float = DEFAULT_WITHIN,
    curve: bool = False,
) -> list[dict[str, Any]]:
    """One summary per selected study (see `study_summary`), sorted by (task, study).

    Args:
        ks: numbers of trials for the expected best (default 1, 5, 10, 20, 50); each k is
            reported for the studies with at least k complete trials. Asking for a k that no
            selected study reaches raises `StudyError`.
        estimator: "tang" (default) or "dodge".
        within: tolerance of "within one point of the best", in the metric's units.
        curve: also return the expected best for every k (``curve``), for plots.

    Example:
        >>> report("sqlite:///ssmtune.db", task="BasicMotions")  # doctest: +SKIP
        [{'task': 'BasicMotions', 'study': 'bm-linoss', 'expected_best': {'1': 0.61, ...}, ...}]
    """
    explicit = ks is not None
    ks = tuple(REPORT_KS if ks is None else ks)
    bad = [k for k in ks if not (isinstance(k, int) and k >= 1)]
    if bad:
        raise StudyError(f"k must be an integer >= 1, got {bad[0]!r}")
    studies = load_studies(storage, task=task, model=model, study=study)
    rows = [
        study_summary(s, ks=ks, estimator=estimator, within=within, curve=curve) for s in studies
    ]
    if explicit and rows:
        n_max = max(r["n_complete"] for r in rows)
        too_big = [k for k in ks if k > n_max]
        if too_big:
            raise StudyError(
                f"k={too_big[0]} is larger than the complete trials of every selected study "
                f"(at most {n_max}); allowed k <= {n_max}"
            )
    return rows


def study_summary(
    study: optuna.Study,
    *,
    ks: Sequence[int] = REPORT_KS,
    estimator: str = "tang",
    within: float = DEFAULT_WITHIN,
    curve: bool = False,
) -> dict[str, Any]:
    """The figures of one study, as a JSON-ready dict.

    Keys: ``task``, ``study``, ``model``, ``space``, ``space_size``, ``sampler``, ``metric``,
    ``direction``, ``n_complete``, ``n_pruned``, ``n_fail``, ``n_running``, ``grid_done``
    (distinct points complete or pruned), ``device_hours`` (all trials), ``wall_hours`` (time
    with a trial running), ``best_trial``, ``best_value``, ``test_at_best``, ``best_params``,
    ``expected_best`` (k as a string -> expected best validation after k trials, k <= N),
    ``device_hours_per_trial`` (the study's device-hours over its complete trials: what one
    finished trial costs, pruned and failed trials included), ``expected_best_device_hours``
    (k -> device-hours of k trials), ``within`` (trials and device-hours to come within the
    tolerance of the best: ``expected`` from the estimator, ``observed`` in trial order),
    ``estimator``, and ``evaluation`` / ``evaluation_mean`` / ``evaluation_std`` when
    `ssmtune evaluate` has run. With ``curve=True`` also ``curve``: the expected best for
    every k = 1..N (for plots).
    """
    checked = check_estimator(estimator)
    if not (isinstance(within, int | float) and within >= 0):
        raise StudyError(f"tolerance must be >= 0 (in the metric's units), got {within!r}")
    ua = study.user_attrs
    direction = direction_of(study)
    counts = study_counts(study)
    done = complete_trials(study)
    values = [value_of(t) for t in done]
    device_s = study_device_s(study)
    row: dict[str, Any] = {
        "task": ua.get("task"),
        "study": study.study_name,
        "model": ua.get("model"),
        "space": ua.get("space"),
        "space_size": ua.get("space_size"),
        "sampler": ua.get("sampler"),
        "metric": metric_of(study),
        "direction": direction,
        "n_complete": counts["complete"],
        "n_pruned": counts["pruned"],
        "n_fail": counts["fail"],
        "n_running": counts["running"],
        "grid_done": grid_progress(study),
        "device_hours": device_s / 3600,
        "wall_hours": study_wall_s(study) / 3600,
        "best_trial": None,
        "best_value": None,
        "test_at_best": None,
        "best_params": None,
        "expected_best": {},
        "device_hours_per_trial": None,
        "expected_best_device_hours": {},
        "within": None,
        "estimator": estimator,
    }
    if done:
        sign = -1.0 if direction == "maximize" else 1.0
        best = min(done, key=lambda t: (sign * value_of(t), t.number))
        per_trial_h = device_s / 3600 / len(done)
        exp = expected_best_curve(values, ks, direction=direction, estimator=checked)
        k_within = trials_to_within(values, within, direction=direction, estimator=checked)
        row.update(
            best_trial=best.number,
            best_value=best.value,
            test_at_best=best.user_attrs.get("test"),
            best_params=dict(best.params),
            expected_best={str(k): v for k, v in exp.items()},
            device_hours_per_trial=per_trial_h,
            expected_best_device_hours={str(k): k * per_trial_h for k in exp},
            within={
                "tolerance": within,
                "expected": {"trials": k_within, "device_hours": k_within * per_trial_h},
                "observed": _observed_within(study, value_of(best), within, direction),
            },
        )
        if curve:
            row["curve"] = expected_best_curve(values, direction=direction, estimator=checked)
    evaluation = ua.get("evaluation")
    if isinstance(evaluation, dict):
        row["evaluation"] = evaluation
        row["evaluation_mean"] = evaluation.get("mean")
        row["evaluation_std"] = evaluation.get("std")
    return row


def grid_progress(study: optuna.Study) -> int:
    """Distinct parameter points whose trial completed or was pruned (a grid's progress)."""
    from optuna.trial import TrialState

    points = {
        tuple(sorted((k, repr(v)) for k, v in t.params.items()))
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    }
    return len(points)


def _observed_within(
    study: optuna.Study, best: float, tol: float, direction: str
) -> dict[str, float | int]:
    """Trials (all states, in trial order) and device-hours until the running best came within
    `tol` of the final best."""
    from optuna.trial import TrialState

    spent = 0.0
    for i, t in enumerate(study.get_trials(deepcopy=False), start=1):
        spent += trial_device_s(t) - carried_s(t)  # a resumed trial's carry is counted once
        if t.state == TrialState.COMPLETE and t.value is not None and math.isfinite(t.value):
            gap = best - t.value if direction == "maximize" else t.value - best
            if gap <= tol + 1e-12:
                return {"trials": i, "device_hours": spent / 3600}
    raise AssertionError("the best trial is always within the tolerance of itself")


# ----------------------------------------------------------------------------- tables


def _flat(row: dict[str, Any], ks: Sequence[int]) -> dict[str, Any]:
    """A row as the flat columns of the CSV table."""
    within = row.get("within") or {}
    exp_w = within.get("expected", {})
    obs_w = within.get("observed", {})
    flat = {
        "task": row["task"],
        "study": row["study"],
        "model": row["model"],
        "space": row["space"],
        "space_size": row["space_size"],
        "metric": row["metric"],
        "n_complete": row["n_complete"],
        "n_pruned": row["n_pruned"],
        "n_fail": row["n_fail"],
        "n_running": row["n_running"],
        "device_hours": row["device_hours"],
        "wall_hours": row["wall_hours"],
        "best_trial": row["best_trial"],
        "best_value": row["best_value"],
        "test_at_best": row["test_at_best"],
    }
    for k in ks:
        flat[f"expected_best_k{k}"] = row["expected_best"].get(str(k))
    flat["within_tolerance"] = within.get("tolerance")
    flat["within_trials_expected"] = exp_w.get("trials")
    flat["within_device_hours_expected"] = exp_w.get("device_hours")
    flat["within_trials_observed"] = obs_w.get("trials")
    flat["within_device_hours_observed"] = obs_w.get("device_hours")
    flat["evaluation_mean"] = row.get("evaluation_mean")
    flat["evaluation_std"] = row.get("evaluation_std")
    return flat


def to_csv(rows: Sequence[dict[str, Any]], ks: Sequence[int] = REPORT_KS) -> str:
    """The rows as CSV text (one line per study, nested figures flattened)."""
    flats = [_flat(r, ks) for r in rows]
    out = io.StringIO()
    if flats:
        writer = csv.DictWriter(out, fieldnames=list(flats[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(flats)
    return out.getvalue()


def fmt_evaluation(row: dict[str, Any]) -> str:
    """'mean ± std (n seeds)' of the multi-seed evaluation, or '—'."""
    m, s = row.get("evaluation_mean"), row.get("evaluation_std")
    if m is None or s is None:
        return "—"
    n = len(row.get("evaluation", {}).get("seeds", []))
    if row["metric"] == "accuracy":
        return f"{100 * m:.1f} ± {100 * s:.1f} ({n} seeds)"
    return f"{m:.4g} ± {s:.2g} ({n} seeds)"


def to_markdown(rows: Sequence[dict[str, Any]], ks: Sequence[int] = REPORT_KS) -> str:
    """The rows as a markdown table, with a legend."""
    head = [
        "task",
        "study",
        "space (size)",
        "complete / pruned / failed",
        "device-h",
        "wall-h",
        "best val",
        "test at best",
        *[f"E[best] k={k}" for k in ks],
        "to within tol: trials (device-h)",
        "evaluation test",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        metric = r["metric"]
        w = r.get("within")
        within = (
            "—"
            if w is None
            else f"{w['expected']['trials']} ({w['expected']['device_hours']:.2f}) expected, "
            f"{w['observed']['trials']} ({w['observed']['device_hours']:.2f}) observed"
        )
        size = "∞" if r["space_size"] is None else str(r["space_size"])
        cells = [
            str(r["task"]),
            str(r["study"]),
            f"{r['space']} ({size})",
            f"{r['n_complete']} / {r['n_pruned']} / {r['n_fail']}",
            f"{r['device_hours']:.2f}",
            f"{r['wall_hours']:.2f}",
            fmt_value(r["best_value"], metric),
            fmt_value(r["test_at_best"], metric),
            *[fmt_value(r["expected_best"].get(str(k)), metric) for k in ks],
            within,
            fmt_evaluation(r),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    est = rows[0]["estimator"] if rows else "tang"
    name = {"tang": "Tang et al. 2020 (unbiased)", "dodge": "Dodge et al. 2019"}[est]
    tol = next((r["within"]["tolerance"] for r in rows if r.get("within")), DEFAULT_WITHIN)
    lines += [
        "",
        f"E[best] k: expected best validation after k trials, estimator of {name}; "
        "— where the study has fewer than k complete trials. "
        f"To within tol: trials and device-hours to come within {tol:g} (metric units) of the "
        "study's best, expected (estimator) and observed (in trial order, all trials counted). "
        "Device-hours count every trial, pruned and failed included; wall-hours count the time "
        "during which at least one trial ran.",
    ]
    return "\n".join(lines) + "\n"


def write_report(
    rows: Sequence[dict[str, Any]],
    out: str | Path,
    *,
    studies: Sequence[optuna.Study] = (),
    ks: Sequence[int] = REPORT_KS,
    plots: bool = True,
) -> list[Path]:
    """Write ``report.md``, ``report.csv`` and (with `plots`) the figures under `out`.

    Returns:
        The paths written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    md, csv_path = out / "report.md", out / "report.csv"
    written = [md, csv_path]
    text = "# ssmtune report\n\n" + to_markdown(rows, ks)
    if plots:
        from ssmtune.studies._plots import write_plots

        figures, notes = write_plots(rows, studies, out)
        written += figures
        if figures:
            text += "\n## Figures\n\n" + "".join(
                f"- [{p.name}]({p.name})\n" for p in figures if p.suffix == ".html"
            )
            text += "".join(f"\n![{p.stem}]({p.name})\n" for p in figures if p.suffix == ".png")
        if notes:
            text += "\n## Notes\n\n" + "".join(f"- {n}\n" for n in notes)
    md.write_text(text)
    csv_path.write_text(to_csv(rows, ks))
    return written
