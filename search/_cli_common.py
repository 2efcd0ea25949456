"""Shared pieces of the command line: the console, the user-error types and JSON output.

Every command module imports heavy libraries (jax, optuna, ray) inside its command functions,
so that `ssmtune --help` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console

from models._errors import ConfigError
from spaces._errors import SpaceError
from studies._errors import StudyError
from tasks._errors import TaskError

__all__ = ["USER_ERRORS", "console", "err_console", "print_json", "fail"]

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


def fail(message: str) -> None:
    """Stop the command with a one-line error and exit code 2."""
    raise _UsageError(message)


class _UsageError(Exception):
    pass


USER_ERRORS = (*USER_ERRORS, _UsageError)
