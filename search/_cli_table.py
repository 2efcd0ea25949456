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


def register(app: typer.Typer) -> None:
    """Add the `table` group to the app."""
    app.add_typer(table_app, name="table")
