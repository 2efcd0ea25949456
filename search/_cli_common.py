"""Shared pieces of the command line: the console, the user-error types, JSON output and the
flags in error messages.

Every command module imports heavy libraries (jax, optuna, ray) inside its command functions,
so that `ssmtune --help` stays fast.

The library names the argument an error is about in backticks (a message that begins
"`budget_hours` must be a finite number > 0"); a command registered through `command` writes
its own flag in its place ("--budget-hours must be ..."), so that the library never names a
flag.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from ssmtune.models import ConfigError
from ssmtune.spaces import SpaceError
from ssmtune.studies import StudyError
from ssmtune.tasks import TaskError

__all__ = [
    "USER_ERRORS",
    "console",
    "err_console",
    "print_json",
    "fail",
    "stdout_to_stderr",
    "flags_of",
    "with_flags",
    "command",
]

#: Exceptions that mean "the user asked for something invalid": exit code 2, one line, no traceback.
USER_ERRORS: tuple[type[Exception], ...] = (ConfigError, TaskError, SpaceError, StudyError)


def _width() -> int | None:
    """Rich's own width on a terminal or with $COLUMNS; else wide enough that piped tables
    keep whole names instead of rich's 80-column default."""
    return None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160


console = Console(width=_width())
err_console = Console(stderr=True)


def print_json(obj: Any) -> None:
    """Print `obj` as JSON on stdout (plain, no rich markup), for scripts."""
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")
    sys.stdout.flush()


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send whatever is written to stdout inside the block to stderr, so that stdout holds
    only the result printed after it (``--json``).

    Both levels are redirected: `sys.stdout` (Python prints, such as Ray's "(raylet) A worker
    died ..." lines) and file descriptor 1 (prints of C/C++ code and of child processes
    started meanwhile, which keep writing to stderr).
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        try:
            sys.stdout.flush()  # text buffered meanwhile goes to stderr too
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def fail(message: str) -> NoReturn:
    """Stop the command with a one-line error and exit code 2."""
    raise _UsageError(message)


class _UsageError(Exception):
    pass


USER_ERRORS = (*USER_ERRORS, _UsageError)


_Command = TypeVar("_Command", bound=Callable[..., Any])
#: An argument named in a library message: an identifier in backticks.
_ARGUMENT = re.compile(r"`([a-z][a-z0-9_]*)`")


def flags_of(command: Callable[..., Any]) -> dict[str, str]:
    """The flag of each parameter of a Typer command: its first long option (``--budget-hours``;
    ``--compile-ahead`` of ``--compile-ahead/--no-compile-ahead``), or an argument's name in
    capitals (``NAME``).

    Example:
        >>> def start(budget_hours: float = typer.Option(1.0, "--budget-hours"),
        ...           name: str = typer.Argument(...)) -> None: ...
        >>> flags_of(start)
        {'budget_hours': '--budget-hours', 'name': 'NAME'}
    """
    flags = {}
    for name, parameter in inspect.signature(command).parameters.items():
        default = parameter.default
        if isinstance(default, typer.models.ArgumentInfo):
            flags[name] = name.upper()
            continue
        decls = [d.split("/")[0] for d in getattr(default, "param_decls", None) or ()]
        long = [d for d in decls if d.startswith("--")]
        if long:
            flags[name] = long[0]
    return flags


def with_flags(message: str, flags: Mapping[str, str]) -> str:
    """`message` with each argument in backticks that is in `flags` written as its flag.

    Example:
        >>> with_flags("`budget_hours` must be > 0, got -1", {"budget_hours": "--budget-hours"})
        '--budget-hours must be > 0, got -1'
    """
    return _ARGUMENT.sub(lambda m: flags.get(m.group(1), m.group(0)), message)


def command(function: _Command) -> _Command:
    """`function`, a Typer command, whose user errors name its flags where the library named
    its arguments (`with_flags`); register the result on the app."""
    flags = flags_of(function)

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except USER_ERRORS as exc:
            message = with_flags(str(exc), flags)
            if message == str(exc):
                raise
            raise type(exc)(message) from None

    return run  # type: ignore[return-value]
