"""The one exception type of `studies`."""

__all__ = ["StudyError"]


class StudyError(ValueError):
    """Bad input to a study or its storage (unknown study, bad storage URL, conflicting settings).

    The message is one line that says what was wrong and what is allowed; the CLI turns this
    exception into exit code 2 without a traceback.
    """
