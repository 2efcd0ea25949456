"""The `ssmtune` command line: thin, parses, calls, prints; holds no logic.

Each group of commands lives in its own module (`_cli_train`, `_cli_spaces`, `_cli_study`,
`_cli_report`), which registers its commands on the one Typer app.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version

import typer

from search import _cli_report, _cli_spaces, _cli_study, _cli_tasks, _cli_train
from search._cli_common import USER_ERRORS, err_console

__all__ = ["app", "main", "ssmtune_version"]

app = typer.Typer(
    name="ssmtune",
    help="Hyperparameter search and AutoML for state-space sequence models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def ssmtune_version() -> str:
    """The installed version of the `ssmtune` distribution."""
    try:
        return _dist_version("ssmtune")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0+unknown"


@app.callback()
def _root() -> None:
    """Hyperparameter search and AutoML for state-space sequence models."""


@app.command()
def version() -> None:
    """Print the ssmtune version."""
    typer.echo(ssmtune_version())


for _module in (_cli_train, _cli_tasks, _cli_spaces, _cli_study, _cli_report):
    _module.register(app)


def main() -> None:
    """Console entry point: run the app, turning bad input into one line and exit code 2."""
    try:
        app(standalone_mode=True)
    except USER_ERRORS as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
