"""Field checks shared by the model configs (`models/_config.py`) and the train options
(`models/_options.py`).

Each check takes the subject of its message (``"linoss: hidden"``, ``"train option lr"``) and
the value, raises `models.ConfigError` with one line naming what is valid, and returns the value
as a plain Python value: a numpy scalar becomes the number or bool it holds, so a config built
from numpy values equals, hashes and serialises like one built from Python values.
"""

import math

import numpy as np

from ssmtune.models._errors import ConfigError

__all__ = ["plain", "check_int", "check_choice", "check_bool", "check_number"]


def plain(value: object) -> object:
    """`value`, or the Python value a numpy scalar holds."""
    return value.item() if isinstance(value, np.generic) else value


def check_int(subject: str, value: object, *, minimum: int) -> int:
    """An integer >= `minimum`."""
    number = plain(value)
    if isinstance(number, bool) or not isinstance(number, int) or number < minimum:
        raise ConfigError(f"{subject} must be an integer >= {minimum}, got {value!r}")
    return number


def check_choice(subject: str, value: object, choices: tuple[str, ...]) -> str:
    """One of `choices`."""
    if value not in choices:
        raise ConfigError(f"{subject} must be one of {', '.join(choices)}; got {value!r}")
    return str(value)


def check_bool(subject: str, value: object) -> bool:
    """True or False."""
    flag = plain(value)
    if not isinstance(flag, bool):
        raise ConfigError(f"{subject} must be true or false, got {value!r}")
    return flag


def check_number(
    subject: str, value: object, *, finite: bool = False, expected: str = "a number"
) -> float:
    """A number (an int or float, not a bool), not NaN, nor infinite with `finite`;
    `expected` words the message (``"a number > 0"``)."""
    number = plain(value)
    if (
        isinstance(number, bool)
        or not isinstance(number, int | float)
        or math.isnan(number)
        or (finite and math.isinf(number))
    ):
        raise ConfigError(f"{subject} must be {expected}, got {value!r}")
    return number
