"""The one exception type of `spaces`."""

__all__ = ["SpaceError"]


class SpaceError(ValueError):
    """Bad input to a search space (unknown space, invalid parameter, TOML errors).

    The message is one line that says what was wrong and what is allowed; the CLI turns this
    exception into exit code 2 without a traceback.
    """
