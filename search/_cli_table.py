"""`ssmtune table export` and `ssmtune table show`: a grid study as a table file, and what one
holds (the format: `studies._table`). Thin: the table is built and read in `studies`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ssmtune.search._cli_common import command, console, print_json
from ssmtune.studies import DEFAULT_STORAGE, STORAGE_ENV

__all__ = ["register"]

table_app = typer.Typer(
    help="Complete grids as table files (JSON lines) that a replay reads.", no_args_is_help=True
)


def _data_identity(task: str, seed: int) -> dict[str, Any]:
    """The data the study's trials trained on: the task's file identity (a user's file) and
    the SHA-256 of its arrays under the study's seed; None where the data is not here."""
    from ssmtune import tasks

    identity: dict[str, Any] = {"task": task, "seed": seed}
    user = tasks.data_identity(task)
    if user is not None:
        identity["file"] = user
    try:
        identity["arrays_sha256"] = tasks.load(task, seed=seed).sha256()
    except tasks.TaskError as exc:
        identity["arrays_sha256"] = None
        identity["missing"] = str(exc)
    return identity


@table_app.command("export")
@command
def export(
    study: str = typer.Argument(..., help="The grid study."),
    out: Path = typer.Option(..., "--out", help="The table file to write (.jsonl)."),
    storage: str = typer.Option(
        DEFAULT_STORAGE, "--storage", envvar=STORAGE_ENV, help="Study storage URL."
    ),
) -> None:
    """Write a grid study's table: one line per grid point with its evaluations and cost."""
    from ssmtune import studies

    if out.exists() and out.is_dir():
        raise studies.StudyError(f"`out` {out} is a folder; give the table file's path")
    if not out.parent.is_dir():
        raise studies.StudyError(f"`out`: no folder {out.parent}")
    opened = studies.open_storage(storage, create=False)
    settings = studies.load_settings(studies.load_study(opened, study))
    data = _data_identity(settings.task, settings.seed)
    table = studies.export_table(opened, study, out, extra={"data": data})
    s = table.summary()
    size = out.stat().st_size
    console.print(
        f"wrote {out}: {s['points']}/{s['space_size']} points of {s['space']} on {s['task']}, "
        f"{s['device_hours']:.3f} device-hours, {size / 1e3:.0f} kB",
        highlight=False,
    )


@table_app.command("show")
@command
def show(
    table: Path = typer.Argument(..., help="A table file."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the table as JSON: provenance and points."
    ),
) -> None:
    """Summarise a table: task, space, protocol, best point, cost, provenance."""
    from ssmtune import studies
    from ssmtune.search._progress import format_value

    t = studies.read_table(table)
    if as_json:
        print_json({**t.to_json(), "summary": t.summary()})
        return
    s = t.summary()
    p = t.header["provenance"]
    lines = [
        f"{table}: study {s['study']}, task {s['task']}, space {s['space']} ({s['metric']}, "
        f"{s['direction']})",
        f"protocol {s['protocol']}",
        f"points {s['points']}/{s['space_size']}" + ("" if s["complete"] else " (incomplete)"),
        f"best {format_value(s['best_value'])}, test there {format_value(s['best_test'])}: "
        f"{s['best_params']}",
        f"median point {format_value(s['median_value'])}; whole grid "
        f"{s['device_hours']:.3f} device-hours" + ("" if s["timed"] else " (evaluations untimed)"),
        f"ran with ssmtune {p.get('ssmtune_version')} on {', '.join(p.get('devices') or ['?'])}, "
        f"{p.get('started')} to {p.get('finished')}; exported {p.get('exported')}",
    ]
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)


def _load_table(source: str, storage: str) -> Any:
    """The table in file `source`, else the table of the grid study named `source`."""
    from ssmtune import studies

    if Path(source).is_file() or source.endswith((".jsonl", ".json")):
        return studies.read_table(source)
    study = studies.load_study(studies.open_storage(storage, create=False), source)
    if study.user_attrs.get("sampler") != "grid":
        raise studies.StudyError(f"study {source!r} is not a grid study; replay reads grids")
    return studies.table_of_study(study)


@command
def replay(
    table: str = typer.Argument(..., help="A table file, or a grid study in --storage."),
    sampler: str = typer.Option("tpe", "--sampler", help="grid | shuffled | random | tpe | gp."),
    pruner: str = typer.Option("none", "--pruner", help="none | median | hyperband."),
    workers: int = typer.Option(1, "--workers", help="Simulated workers."),
    replicates: int = typer.Option(20, "--replicates", help="Independent replays."),
    budget_hours: float | None = typer.Option(
        None, "--budget-hours", help="Device-hours per replicate (default: the grid's total)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the first replicate (then +1, +2...)."),
    target: list[float] | None = typer.Option(
        None, "--target", help="Values to reach (default: best - 0, 1, 3, 5 points)."
    ),
    out: Path | None = typer.Option(None, "--out", help="Folder for md, csv, json, png, html."),
    storage: str = typer.Option(
        DEFAULT_STORAGE, "--storage", envvar=STORAGE_ENV, help="Study storage URL."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Replay a search strategy against a complete grid's table: no training, seconds."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ssmtune.search._cli_common import err_console, fail
    from ssmtune.search._policy import make_pruner
    from ssmtune.search._replay import check_replay
    from ssmtune.search._replay import replay as replay_runs
    from ssmtune.search._replay_summary import markdown, summarize_replay, write_replay

    if workers < 1:
        fail(f"--workers must be an integer >= 1, got {workers}")
    if replicates < 1:
        fail(f"--replicates must be an integer >= 1, got {replicates}")
    if budget_hours is not None and not budget_hours > 0:
        fail(f"--budget-hours must be > 0, got {budget_hours}")
    loaded = _load_table(table, storage)
    check_replay(loaded, sampler)
    make_pruner(pruner, dict(loaded.header["protocol"]))  # an unknown pruner: one line
    budget_s = (budget_hours * 3600) if budget_hours is not None else None
    if budget_s is None and sampler not in ("grid", "shuffled"):
        budget_s = loaded.total_device_s()
    with Progress(
        TextColumn("replay"), BarColumn(), MofNCompleteColumn(), console=err_console,
        transient=True, disable=as_json,
    ) as bar:  # fmt: skip
        task = bar.add_task("replay", total=replicates)
        runs = replay_runs(
            loaded, sampler=sampler, pruner=pruner, workers=workers, replicates=replicates,
            budget_s=budget_s, seed=seed, progress=lambda _: bar.advance(task),
        )  # fmt: skip
    strategy = {
        "sampler": sampler,
        "pruner": pruner,
        "workers": workers,
        "seed": seed,
        "budget_hours": None if budget_s is None else budget_s / 3600,
    }
    targets = None if not target else [(float(v), f"{v:g}") for v in target]
    summary = summarize_replay(loaded, runs, strategy, targets)
    if out is not None:
        stem = f"replay-{loaded.header.get('study') or 'table'}-{sampler}-{pruner}-w{workers}"
        write_replay(summary, out, stem)
    if as_json:
        print_json(summary.to_json())
    else:
        console.print(markdown(summary), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the `table` group and `replay` to the app."""
    app.add_typer(table_app, name="table")
    app.command("replay")(replay)
