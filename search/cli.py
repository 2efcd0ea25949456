"""The `ssmtune` command line: thin, parses, calls, prints; holds no logic.

Each group of commands lives in its own module (`_cli_train`, `_cli_spaces`, `_cli_study`,
`_cli_report`, `_cli_table`), which registers its commands on the one Typer app.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from typing import Any, NoReturn

import typer

from ssmtune.search import _cli_report, _cli_spaces, _cli_study, _cli_table, _cli_tasks, _cli_train
from ssmtune.search._cli_common import USER_ERRORS, command, err_console

__all__ = ["app", "main", "ssmtune_version"]

#: Click's exceptions: typer vendors click (``typer._click``) from 0.22 on, plain click before.
_click = sys.modules[typer.BadParameter.__module__]

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
@command
def version() -> None:
    """Print the ssmtune version."""
    typer.echo(ssmtune_version())


for _module in (_cli_train, _cli_tasks, _cli_spaces, _cli_study, _cli_report, _cli_table):
    _module.register(app)


def _error(message: str, code: int) -> NoReturn:
    """Print `message` as one ``error:`` line on stderr and exit with `code`."""
    from rich.markup import escape

    line = escape(" ".join(str(message).split()))
    err_console.print(f"[red]error:[/red] {line}", highlight=False, soft_wrap=True)
    sys.exit(code)


def _usage_message(exc: Any) -> str:
    """Click's message for a parse error (`exc`, a ClickException of whichever click `_click`
    is), with the command's --help to look at."""
    message = exc.format_message().rstrip(".")
    if not isinstance(exc, _click.UsageError):
        return message
    ctx = getattr(exc, "ctx", None)
    return f"{message}; see `{ctx.command_path if ctx else 'ssmtune'} --help`"


def main() -> None:
    """Console entry point: run the app, turning bad input into one line and exit code 2.

    Click runs outside its standalone mode, so that its parse errors (a wrongly typed value, a
    missing or unknown option, an unknown command) become the same one line as ours instead of
    a usage panel; a command's own exit code (``typer.Exit``, Ctrl+C: 130) is kept.
    """
    try:
        code = app(standalone_mode=False, prog_name="ssmtune")
    except USER_ERRORS as exc:
        _error(str(exc), 2)
    except _click.ClickException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # no_args_is_help: the help is printed
            sys.exit(exc.exit_code)
        _error(_usage_message(exc), exc.exit_code)
    except typer.Abort:  # end of input at a prompt, as in standalone mode
        err_console.print("Aborted!", highlight=False)
        sys.exit(1)
    # as in standalone mode, always end with SystemExit (0 when the command returned)
    sys.exit(code if isinstance(code, int) and not isinstance(code, bool) else 0)


if __name__ == "__main__":
    main()
