"""Commands that answer from the study database: `best`, `report`, `compare`, `evaluate`,
`dashboard`. Thin: the figures are computed in `studies`; `evaluate`'s retraining is
`search.evaluate_study`.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Any

import typer

from ssmtune.search._cli_common import (
    command,
    console,
    err_console,
    fail,
    print_json,
    stdout_to_stderr,
)
from ssmtune.studies import DEFAULT_STORAGE, STORAGE_ENV

__all__ = ["register"]

_STORAGE_HELP = "Study storage URL, e.g. sqlite:///ssmtune.db or postgresql://user@host/db."


def _storage_option() -> Any:
    return typer.Option(DEFAULT_STORAGE, "--storage", envvar=STORAGE_ENV, help=_STORAGE_HELP)


def best(
    task: list[str] | None = typer.Option(None, "--task", help="Only these tasks (repeatable)."),
    model: list[str] | None = typer.Option(None, "--model", help="Only these models."),
    study: list[str] | None = typer.Option(None, "--study", help="Only these studies."),
    top: int = typer.Option(1, "--top", help="How many trials per task."),
    storage: str = _storage_option(),
    as_json: bool = typer.Option(False, "--json", help="Print JSON records."),
) -> None:
    """The best trials per task: parameters, validation value, test at best, cost."""
    from ssmtune import studies

    if top < 1:
        fail(f"--top must be an integer >= 1, got {top}")
    records = studies.best_trials(storage, task=task, model=model, study=study, top=top)
    if as_json:
        print_json(records)
        return
    from rich.table import Table

    table = Table(title="best trials")
    for col in ("task", "#", "study", "trial", "val", "test", "device-h", "params"):
        table.add_column(col, overflow="fold")
    for r in records:
        table.add_row(
            str(r["task"]),
            str(r["rank"]),
            r["study"],
            str(r["trial"]),
            _fmt(r["value"], r["metric"]),
            _fmt(r["test"], r["metric"]),
            f"{r['device_s'] / 3600:.3f}",
            " ".join(f"{k}={v}" for k, v in r["params"].items()),
        )
    console.print(table)


def report(
    task: list[str] | None = typer.Option(None, "--task", help="Only these tasks (repeatable)."),
    model: list[str] | None = typer.Option(None, "--model", help="Only these models."),
    study: list[str] | None = typer.Option(None, "--study", help="Only these studies."),
    k: list[int] | None = typer.Option(
        None, "--k", help="Trials for the expected best (repeatable; default 1 5 10 20 50)."
    ),
    estimator: str = typer.Option("tang", "--estimator", help="tang (unbiased) or dodge."),
    within: float = typer.Option(
        0.01, "--within", help="Tolerance of 'near the best', in metric units (0.01 = 1 point)."
    ),
    storage: str = _storage_option(),
    out: str | None = typer.Option(None, "--out", help="Write markdown, CSV and plots here."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON rows."),
) -> None:
    """One row per (task, study): trials, cost, best value, expected best after k trials."""
    from ssmtune import studies
    from ssmtune.studies import fmt_evaluation, fmt_value

    bad_k = [x for x in k or () if x < 1]
    if bad_k:
        fail(f"--k must be an integer >= 1, got {bad_k[0]}")
    if not (math.isfinite(within) and within >= 0):
        fail(
            f"--within: tolerance must be >= 0, in the metric's units (0.01 = 1 point); got {within}"
        )
    if out is not None:
        _check_out_folder(out)
    ks = list(k) if k else None
    rows = studies.report(
        storage,
        task=task,
        model=model,
        study=study,
        ks=ks,
        estimator=estimator,
        within=within,
        curve=out is not None,
    )
    shown_ks = ks or list(studies.REPORT_KS)
    if out is not None:
        selected = studies.load_studies(storage, study=[r["study"] for r in rows])
        try:
            paths = studies.write_report(rows, out, studies=selected, ks=shown_ks)
        except OSError as exc:
            fail(f"cannot write the report under {out}: {exc.strerror or exc} ({exc.filename})")
        err_console.print(f"wrote {len(paths)} files under {out}", highlight=False)
    for r in rows:
        r.pop("curve", None)
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    # only the columns that hold something, so the table fits a terminal
    ks_shown = [x for x in shown_ks if any(str(x) in r["expected_best"] for r in rows)]
    with_eval = any(r.get("evaluation") for r in rows)
    table = Table(title=f"studies (expected best after k trials: {estimator})")
    cols = ["task", "study", "space (size)", "C/P/F", "device-h", "wall-h", "best val / test"]
    cols += [f"k={x}" for x in ks_shown] + (["evaluation"] if with_eval else [])
    for col in cols:
        table.add_column(col, overflow="fold")
    for r in rows:
        size = "∞" if r["space_size"] is None else r["space_size"]
        m = r["metric"]
        cells = [
            str(r["task"]),
            r["study"],
            f"{r['space']} ({size})",
            f"{r['n_complete']}/{r['n_pruned']}/{r['n_fail']}",
            f"{r['device_hours']:.2f}",
            f"{r['wall_hours']:.2f}",
            f"{fmt_value(r['best_value'], m)} / {fmt_value(r['test_at_best'], m)}",
            *[fmt_value(r["expected_best"].get(str(x)), m) for x in ks_shown],
        ]
        table.add_row(*cells, *([fmt_evaluation(r)] if with_eval else []))
    console.print(table)


def _check_out_folder(out: str) -> None:
    """Refuse an ``--out`` that is not a folder and cannot become one, before any work."""
    path = Path(out).expanduser()
    for p in (path, *path.parents):
        if not p.exists():
            continue
        if not p.is_dir():
            where = "is a file" if p == path else f"is inside {p}, which is a file"
            fail(f"--out {out} {where}; name a folder (it is created if missing)")
        if not os.access(p, os.W_OK | os.X_OK):
            fail(f"--out {out}: cannot write in {p} (permission denied); name another folder")
        return


def compare(
    space_a: str = typer.Argument(..., help="Space (or study) A, e.g. linoss-full."),
    space_b: str = typer.Argument(..., help="Space (or study) B, e.g. d-linoss-reduced."),
    task: str = typer.Option(..., "--task", help="The task both studies searched."),
    estimator: str = typer.Option("tang", "--estimator", help="tang (unbiased) or dodge."),
    target: float | None = typer.Option(
        None,
        "--target",
        help="Validation value to reach, in metric units (accuracy as a fraction: 0.85 = 85%; "
        "MSE >= 0). Default: the better study's best minus 1 point of accuracy, or plus 1% "
        "of MSE.",
    ),
    resamples: int = typer.Option(
        2000, "--resamples", help="Bootstrap resamples of each study's trials (1..100000)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap (>= 0)."),
    storage: str = _storage_option(),
    out: str | None = typer.Option(
        None,
        "--out",
        help="Write the figures here (PNG and HTML): expected best against trials and "
        "device-hours, cost to reach against the target, with 90% bands.",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print every figure as JSON (with --out, the plotted curves too)."
    ),
    no_note: bool = typer.Option(
        False,
        "--no-note",
        help="Write nothing: leave both studies' dashboard notes as they are.",
    ),
) -> None:
    """Compare two searches of one task: points, cost, best value, expected best, cost to reach.

    For random and grid studies without a pruner, every figure has a 90% percentile-bootstrap
    interval over each study's trials; a study of TPE/GP or with a pruner gets its point
    figures and one line saying why no interval is given (its trials depend on each other).
    The verdict
    gives B/A, the ratio of the device-hours each space needs to reach the target, and says
    INCONCLUSIVE when its 90% interval contains both 0.5 and 1 (cannot tell "B halves the
    cost" from "no saving"), when neither study reaches the target in more than 10% of the
    resamples, or when a study has fewer than 5 complete trials. An unfinished study is named
    in a note; it does not by itself make the verdict inconclusive.

    It writes the verdict, with its date and the other study's name, into both studies' notes,
    which optuna-dashboard shows on each study's page (ssmtune dashboard); that is its only
    write to the database, and --no-note skips it.
    """
    from ssmtune import studies
    from ssmtune.studies import fmt_interval, fmt_value

    if not 1 <= resamples <= studies.MAX_RESAMPLES:
        fail(f"--resamples must be an integer 1..{studies.MAX_RESAMPLES}, got {resamples}")
    if seed < 0:
        fail(f"--seed must be an integer >= 0, got {seed}")
    if target is not None and not (math.isfinite(target) and target >= 0):
        fail(
            f"--target must be a finite number >= 0 in the metric's units "
            f"(accuracy as a fraction: 0.85 = 85%), got {target}"
        )
    if out is not None:
        _check_out_folder(out)
    if "," in space_a or "," in space_b:  # replicate studies per side
        _compare_replicates(space_a, space_b, task, target, resamples, seed, storage, as_json)
        return
    c = studies.compare(
        storage,
        task,
        space_a,
        space_b,
        estimator=estimator,
        target=target,
        resamples=resamples,
        seed=seed,
        curves=out is not None,
        note=not no_note,
    )
    if out is not None and "curves" not in c:
        err_console.print(
            "no figures: " + "; ".join(c["problems"]) + " (no band to draw)", highlight=False
        )
        out = None
    if out is not None:
        from ssmtune.studies import write_compare_plots

        try:
            paths = write_compare_plots(c, Path(out).expanduser())
        except OSError as exc:
            fail(f"cannot write the figures under {out}: {exc.strerror or exc} ({exc.filename})")
        err_console.print(f"wrote {len(paths)} files under {out}", highlight=False)
    if as_json:
        print_json(c)
        return
    from rich.table import Table

    a, b, m = c["a"], c["b"], c["metric"]

    def val(x: float | None) -> str:
        return fmt_value(x, m)

    def with_iv(x: float | None, iv: list | None, fmt: Any = val) -> str:
        return f"{fmt(x) if x is not None else '—'} {fmt_interval(iv, fmt)}"

    def hours(x: float) -> str:
        return f"{x:.3g}"

    how = "90% intervals" if c["resampling"]["method"] else "single runs: no intervals"
    table = Table(title=f"{c['task']}: A = {a['study']}, B = {b['study']} ({how})")
    for col in ("", "A", "B"):
        table.add_column(col)
    table.add_row("space", str(a["space"]), str(b["space"]))
    table.add_row("points", str(a["space_size"]), str(b["space_size"]))
    table.add_row(
        "complete/pruned/failed",
        f"{a['n_complete']}/{a['n_pruned']}/{a['n_fail']}",
        f"{b['n_complete']}/{b['n_pruned']}/{b['n_fail']}",
    )
    table.add_row("finished", str(a["finished"]), str(b["finished"]))
    table.add_row("device-hours", f"{a['device_hours']:.3f}", f"{b['device_hours']:.3f}")
    table.add_row("best val", val(a["best_value"]), val(b["best_value"]))
    tv = c["test_at_best"]
    table.add_row(
        "test at best val",
        with_iv(tv["a"], tv["a_interval"]),
        with_iv(tv["b"], tv["b_interval"]),
    )
    for e in c["equal_trials"]:
        table.add_row(
            f"expected best, {e['k']} trials",
            with_iv(e["a"], e["a_interval"]),
            with_iv(e["b"], e["b_interval"]),
        )
    for e in c["equal_device_hours"]:
        table.add_row(
            f"expected best, {e['device_hours']:.3g} device-h",
            with_iv(e["a"], e["a_interval"]),
            with_iv(e["b"], e["b_interval"]),
        )
    reach = c["cost_to_reach"]
    table.add_row(
        f"device-h to reach {val(c['target']['value'])}",
        *(
            with_iv(reach[k]["device_hours"], reach[k]["interval"], hours)
            if reach[k]["device_hours"] is not None
            else f"not reached {fmt_interval(reach[k]['interval'], hours)}"
            for k in ("a", "b")
        ),
    )
    console.print(table)
    console.print(c["verdict"], highlight=False, markup=False)


def _compare_replicates(
    group_a: str,
    group_b: str,
    task: str,
    target: float | None,
    resamples: int,
    seed: int,
    storage: str,
    as_json: bool,
) -> None:
    """`compare --task T A1,A2,A3 B1,B2,B3`: `studies.compare_replicates`, printed."""
    from rich.table import Table

    from ssmtune import studies
    from ssmtune.studies import fmt_value

    names_a = [n for n in group_a.split(",") if n]
    names_b = [n for n in group_b.split(",") if n]
    c = studies.compare_replicates(
        storage, task, names_a, names_b, target=target, resamples=resamples, seed=seed
    )
    if as_json:
        print_json(c)
        return
    m = c["metric"]
    table = Table(title=f"{task}: replicate studies, target {fmt_value(c['target'], m)}")
    for col in ("side", "study", "sampler", "pruner", "best val", "device-h", "device-h to reach"):
        table.add_column(col)
    for label, key in (("A", "a"), ("B", "b")):
        for r in c[key]["studies"]:
            reach = r["reach_device_hours"]
            table.add_row(
                label, r["study"], str(r["sampler"]), str(r["pruner"]),
                fmt_value(r["best_value"], m), f"{r['device_hours']:.3g}",
                "not reached" if reach is None else f"{reach:.3g}",
            )  # fmt: skip
    console.print(table)
    for label, key in (("A", "a"), ("B", "b")):
        s = c[key]
        km = s["km_median_device_hours"]
        console.print(
            f"{label}: {s['replicates']} studies, mean best {fmt_value(s['mean_best'], m)}, "
            f"{s['reached_fraction']:.0%} reached the target, Kaplan-Meier median cost "
            + ("not reached" if km is None else f"{km:.3g} device-hours"),
            highlight=False,
        )
    r = c["ratio"]
    iv = r["interval"]
    console.print(
        f"P(B reaches the target for less than A) = {c['p_b_less']:.2f}; B/A of the mean costs "
        + ("—" if r["value"] is None else f"{r['value']:.3g}")
        + (f", 90% interval [{iv[0]:.3g}, {iv[1]:.3g}] over replicates" if iv else "")
        + f": {r['says']}",
        highlight=False,
    )


def evaluate(
    name: str = typer.Argument(..., help="The study whose best config is retrained."),
    seeds: int = typer.Option(5, "--seeds", help="How many of the benchmark's seeds (1..5)."),
    workers: int | None = typer.Option(
        None, "--workers", help="Parallel Ray workers (default: one per seed)."
    ),
    protocol: str = typer.Option(
        "full",
        "--protocol",
        help="full: the benchmark's protocol (100,000 steps at most, evaluation every 1,000, "
        "patience 10); study: the shorter protocol the study was tuned with.",
    ),
    top: int = typer.Option(
        1, "--top", help="Retrain the K best points (distinct configs), best first."
    ),
    storage: str = _storage_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the evaluation as JSON."),
) -> None:
    """Retrain a study's best config over several seeds; store mean ± std with the study."""
    from ssmtune.search import EvaluationError, evaluate_top
    from ssmtune.studies import fmt_evaluation

    if top < 1:
        fail(f"--top must be an integer >= 1, got {top}")
    # with --json, stdout is the JSON alone, whatever Ray prints meanwhile
    with stdout_to_stderr() if as_json else contextlib.nullcontext():
        try:
            done = evaluate_top(
                name, storage=storage, top=top, seeds=seeds, workers=workers, protocol=protocol
            )
        except EvaluationError as exc:
            err_console.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(1) from None
    e = done[0]
    stored = {"seeds": e.seeds, "tests": e.tests, "mean": e.mean, "std": e.std}
    if as_json:
        out: dict[str, Any] = {"study": e.study, "best_trial": e.best_trial, **stored}
        if top > 1:
            out["top"] = [x.record() for x in done]
        print_json(out)
        return
    for x in done:
        s = {"seeds": x.seeds, "tests": x.tests, "mean": x.mean, "std": x.std}
        row = {"metric": x.metric, "evaluation": s, **_mean_std(s)}
        which = "best trial" if x.rank == 1 else f"rank {x.rank}, trial"
        console.print(
            f"{name}: {which} {x.best_trial} retrained, test {x.metric} {fmt_evaluation(row)}",
            highlight=False,
        )
    console.print(
        "stored as the study's `evaluation`" + (" and `evaluations`" if top > 1 else ""),
        highlight=False,
    )


def dashboard(
    storage: str = _storage_option(),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (localhost default)."),
    port: int = typer.Option(8080, "--port", help="Port, 0 to 65535 (0 picks a free one)."),
    allow_host: list[str] | None = typer.Option(
        None,
        "--allow-host",
        help="Also answer requests addressed to this host name (repeatable), e.g. my-box.lab.",
    ),
) -> None:
    """Serve optuna-dashboard on the study storage and print its URL (Ctrl-C stops it).

    The dashboard has no authentication and can change studies; it listens on 127.0.0.1.

    Requests for hosts other than localhost, 127.0.0.1, ::1, --host, --allow-host get 403.

    From another machine, prefer an SSH tunnel: ssh -L 8080:127.0.0.1:8080 HOST.

    To expose it deliberately (all who reach it can use it): --host 0.0.0.0 --allow-host NAME.
    """
    from ssmtune import studies

    shown = studies.mask_url(storage)

    def ready(url: str) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            err_console.print(
                f"warning: bound to {host}: the dashboard has no authentication and can change "
                "studies; anyone who reaches this address can use it",
                highlight=False,
                soft_wrap=True,
            )
        print(f"optuna-dashboard on {shown}: {url}", flush=True)

    studies.serve_dashboard(
        storage, host=host, port=port, allow_hosts=allow_host or (), ready=ready
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    for function in (best, report, compare, evaluate, dashboard):
        app.command()(command(function))


def _fmt(v: float | None, metric: str) -> str:
    from ssmtune.studies import fmt_value

    return fmt_value(v, metric)


def _mean_std(evaluation: dict[str, Any]) -> dict[str, Any]:
    return {"evaluation_mean": evaluation["mean"], "evaluation_std": evaluation["std"]}
