"""Shared pieces of the command line: the console, the user-error types and JSON output.

Every command module imports heavy libraries (jax, optuna, ray) inside its command functions,
so that `ssmtune --help` stays fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import Any, NoReturn

from rich.console import Console

from models import ConfigError
from spaces import SpaceError
from studies import StudyError
from tasks import TaskError

__all__ = ["USER_ERRORS", "console", "err_console", "print_json", "fail", "stdout_to_stderr"]

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
