"""The one exception type of `tasks`."""

__all__ = ["TaskError"]


class TaskError(ValueError):
    """Bad input to a task or its data (unknown task, missing or corrupt data, bad options).

    The message is one line that says what was wrong and what is allowed; the CLI turns this
    exception into exit code 2 without a traceback.
    """
