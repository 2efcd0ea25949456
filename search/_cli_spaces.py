"""`ssmtune spaces list|show|compare`: the catalog, one space's parameters, sizes side by side.

Thin: every number comes from `spaces` (sizes, compute-weighted sizes) and, for `--task`,
the sequence length from `tasks.info`. `spaces` and `tasks` are imported inside the
commands so that `ssmtune --help` stays fast.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ssmtune.search._cli_common import command, console, print_json

__all__ = ["register", "spaces_app", "REFERENCE_LENGTH"]

#: The sequence length of compute-weighted sizes when no `--task` is given.
REFERENCE_LENGTH = 1_000

spaces_app = typer.Typer(
    help="Search spaces: the catalog of published grids, their sizes and compute.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")]


def register(app: typer.Typer) -> None:
    """Add the `spaces` command group to the app."""
    app.add_typer(spaces_app, name="spaces")


def _size(space: Any) -> str:
    return "continuous" if space.size is None else f"{space.size:,}"


def _summary(description: str) -> str:
    first = description.split(". ")[0]
    return first if len(first) <= 70 else first[:67] + "..."


@spaces_app.command("list")
@command
def list_(json: JsonOpt = False) -> None:
    """List the catalog: name, model, points (or continuous) and dimensions."""
    from ssmtune import spaces

    rows = [spaces.get(name) for name in spaces.names()]
    if json:
        print_json(
            [
                {
                    "name": s.name,
                    "model": s.model or "auto",
                    "size": s.size,
                    "dims": s.dims,
                    "finite": s.finite,
                    "description": s.description,
                }
                for s in rows
            ]
        )
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table("space", "model", "points", "dims", "description")
    for s in rows:
        table.add_row(
            s.name, s.model or "auto", _size(s), str(s.dims), escape(_summary(s.description))
        )
    console.print(table)


@spaces_app.command()
@command
def show(
    name: Annotated[str, typer.Argument(help="A catalog name or the path of a .toml space.")],
    json: JsonOpt = False,
) -> None:
    """Show one space: its parameters, their values and conditions, and its size."""
    from ssmtune import spaces

    space = spaces.get(name)
    if json:
        print_json(space.to_dict())
        return
    from rich.markup import escape
    from rich.table import Table

    points = "continuous" if space.size is None else f"{space.size:,} points"
    console.print(
        f"[bold]{escape(space.name)}[/bold] (model {space.model or 'auto'}): {points}, {space.dims} dims"
    )
    if space.description:
        console.print(space.description, markup=False, highlight=False)
    table = Table("parameter", "field", "kind", "values", "when")
    for p in space.params:
        when = "; ".join(f"{k} in {{{', '.join(map(str, v))}}}" for k, v in p.when)
        table.add_row(escape(p.name), p.field, p.kind, escape(p.describe()), escape(when))
    console.print(table)


@spaces_app.command()
@command
def compare(
    names: Annotated[
        list[str], typer.Argument(help="Spaces to compare; the first is the reference.")
    ],
    task: Annotated[
        str | None,
        typer.Option(
            "--task", help=f"Weigh compute at this task's length (default L={REFERENCE_LENGTH:,})."
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Compare spaces: points, dimensions, compute-weighted size and reduction vs the first."""
    from ssmtune import spaces

    chosen = [spaces.get(n) for n in names]
    length = REFERENCE_LENGTH
    if task is not None:
        from ssmtune import tasks

        length = int(tasks.info(task).length)
    rows: list[dict[str, Any]] = []
    for s in chosen:
        rows.append(
            {
                "name": s.name,
                "model": s.model or "auto",
                "size": s.size,
                "dims": s.dims,
                "cost": s.cost(length) if s.finite else None,
            }
        )
    first = rows[0]
    for row in rows:
        row["reduction"] = (
            row["size"] / first["size"] if row["size"] is not None and first["size"] else None
        )
        row["cost_reduction"] = (
            row["cost"] / first["cost"] if row["cost"] is not None and first["cost"] else None
        )
        row["length"] = length
        row["task"] = task
    if json:
        print_json(rows)
        return
    from rich.table import Table

    where = f"task {task}, L={length:,}" if task else f"reference L={length:,}"
    table = Table(
        "space",
        "model",
        "points",
        "dims",
        "compute",
        "points vs first",
        "compute vs first",
        title=f"compute: estimated multiply-adds summed over the grid (spaces._cost, {where})",
    )

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.0%}"

    for r in rows:
        table.add_row(
            r["name"],
            r["model"],
            "continuous" if r["size"] is None else f"{r['size']:,}",
            str(r["dims"]),
            "-" if r["cost"] is None else f"{r['cost']:.3g}",
            pct(r["reduction"]),
            pct(r["cost_reduction"]),
        )
    console.print(table)
