"""The one exception type of `models`."""

__all__ = ["ConfigError"]


class ConfigError(ValueError):
    """Bad input to a model configuration (unknown model name, invalid field value).

    The message is one line that says what was wrong and what is allowed; the CLI turns this
    exception into exit code 2 without a traceback.
    """
