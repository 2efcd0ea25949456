"""The four kinds of search parameter: categorical, integer range, float range, constant.

Each parameter has a `name` (its Optuna parameter name, unique within a space), the `field`
it sets (a model config field or a `models.TrainOptions` field; by default the part of the
name after the last ".", so the `auto` space's `"s4.lr"` sets `lr`) and an optional condition
`when`: a tuple of `(parent, values)` pairs, all of which must hold for the parameter to be
active (the parent must have one of `values`).

Structural checks (empty choices, repeated choices, inverted ranges, bad log bounds) happen
here, without the models; names and value types are checked against the model registries by
`spaces.Space`.

Example:
    >>> lr = FloatRange("lr", 1e-5, 1e-2, log=True)
    >>> Categorical("discretization", ("IM", "IMEX")).values()
    ('IM', 'IMEX')
"""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, ClassVar

from ssmtune.spaces._errors import SpaceError

__all__ = ["Parameter", "Categorical", "IntRange", "FloatRange", "Constant", "Condition"]

#: `(parent name, allowed parent values)` pairs; all must hold for the parameter to be active.
Condition = tuple[tuple[str, tuple[Any, ...]], ...]

#: Value types Optuna can store in a categorical distribution.
_SCALARS = (bool, int, float, str)


def _fmt(value: Any) -> str:
    """A value as the user would write it (TOML-like)."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _normalise_when(name: str, when: Mapping[str, Any] | Condition | None) -> Condition:
    if not when:
        return ()
    pairs = when.items() if isinstance(when, Mapping) else when
    out = []
    for parent, values in pairs:
        if not isinstance(parent, str):
            raise SpaceError(
                f"parameter {name!r}: a condition names a parent parameter (a string), got {parent!r}"
            )
        vals = tuple(values) if isinstance(values, list | tuple) else (values,)
        if not vals:
            raise SpaceError(
                f"parameter {name!r}: the condition on {parent!r} lists no values; give at least one value of {parent!r}"
            )
        out.append((parent, vals))
    return tuple(out)


@dataclass(frozen=True)
class Parameter(abc.ABC):
    """A searched (or fixed) quantity of a space; see the module docstring."""

    name: str
    when: Condition = dc_field(default=(), kw_only=True)
    field_name: str | None = dc_field(default=None, kw_only=True)

    #: `kind`, set by each final class.
    _kind: ClassVar[str]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SpaceError(f"a parameter name must be a non-empty string, got {self.name!r}")
        object.__setattr__(self, "when", _normalise_when(self.name, self.when))

    @property
    def field(self) -> str:
        """The config or training-option field this parameter sets."""
        return self.field_name or self.name.rsplit(".", 1)[-1]

    @property
    def kind(self) -> str:
        """`"categorical"`, `"int"`, `"float"` or `"constant"`."""
        return self._kind

    @property
    @abc.abstractmethod
    def finite(self) -> bool:
        """Whether the parameter takes finitely many values (it can be enumerated)."""

    @property
    def searched(self) -> bool:
        """Whether Optuna suggests it (constants are not searched)."""
        return True

    @abc.abstractmethod
    def values(self) -> tuple[Any, ...]:
        """Every value, in order (finite parameters only)."""

    @abc.abstractmethod
    def count(self) -> int:
        """The number of values (finite parameters only)."""

    @abc.abstractmethod
    def contains(self, value: Any) -> bool:
        """Whether `value` is one of this parameter's values."""

    @abc.abstractmethod
    def suggest(self, trial: Any) -> Any:
        """The Optuna suggest call for this parameter."""

    @abc.abstractmethod
    def distribution(self) -> Any:
        """The `optuna.distributions` object for this parameter."""

    @abc.abstractmethod
    def describe(self) -> str:
        """The values, in a short human-readable form."""

    def endpoints(self) -> tuple[Any, ...]:
        """The values to type-check: every value for finite sets, the bounds for ranges."""
        return self.values()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description."""
        out: dict[str, Any] = {"name": self.name, "field": self.field, "kind": self._kind}
        out.update(self._json())
        if self.when:
            out["when"] = {parent: list(vals) for parent, vals in self.when}
        return out

    @abc.abstractmethod
    def _json(self) -> dict[str, Any]: ...

    def with_values(self, values: tuple[Any, ...]) -> Parameter:
        """A copy whose values were coerced to the field's type (same order)."""
        return self


@dataclass(frozen=True)
class Categorical(Parameter):
    """One of a fixed tuple of choices (numbers, strings or booleans), in the given order.

    Grids of floats (learning rates) are categorical, so that Optuna reproduces an enqueued
    grid point exactly.
    """

    choices: tuple[Any, ...] = ()
    _kind = "categorical"

    def __post_init__(self) -> None:
        super().__post_init__()
        choices = tuple(self.choices) if isinstance(self.choices, list | tuple) else self.choices
        if not isinstance(choices, tuple):
            raise SpaceError(
                f"parameter {self.name!r}: choices must be a list of values, got {self.choices!r}"
            )
        if not choices:
            raise SpaceError(
                f"parameter {self.name!r} has no choices; give at least one value (a list such as [1, 2])"
            )
        for c in choices:
            if not isinstance(c, _SCALARS):
                raise SpaceError(
                    f"parameter {self.name!r}: choice {c!r} is not a number, string or boolean; allowed choice types: int, float, str, bool"
                )
        seen: list[Any] = []
        for c in choices:
            if any(type(c) is type(s) and c == s for s in seen):
                raise SpaceError(
                    f"parameter {self.name!r} repeats the choice {_fmt(c)}; list each value once"
                )
            seen.append(c)
        object.__setattr__(self, "choices", choices)

    @property
    def finite(self) -> bool:
        return True

    def values(self) -> tuple[Any, ...]:
        return self.choices

    def count(self) -> int:
        return len(self.choices)

    def contains(self, value: Any) -> bool:
        return any(type(value) is type(c) and value == c for c in self.choices)

    def suggest(self, trial: Any) -> Any:
        return trial.suggest_categorical(self.name, self.choices)

    def distribution(self) -> Any:
        from optuna.distributions import CategoricalDistribution

        return CategoricalDistribution(self.choices)

    def describe(self) -> str:
        return "{" + ", ".join(_fmt(c) for c in self.choices) + "}"

    def _json(self) -> dict[str, Any]:
        return {"choices": list(self.choices)}

    def with_values(self, values: tuple[Any, ...]) -> Categorical:
        return Categorical(self.name, values, when=self.when, field_name=self.field_name)


@dataclass(frozen=True)
class Constant(Parameter):
    """A fixed value: not searched, not an Optuna parameter, but set on every config."""

    value: Any = None
    _kind = "constant"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.value, _SCALARS):
            raise SpaceError(
                f"parameter {self.name!r}: constant {self.value!r} is not a number, string or boolean; allowed types: int, float, str, bool"
            )

    @property
    def finite(self) -> bool:
        return True

    @property
    def searched(self) -> bool:
        return False

    def values(self) -> tuple[Any, ...]:
        return (self.value,)

    def count(self) -> int:
        return 1

    def contains(self, value: Any) -> bool:
        return type(value) is type(self.value) and value == self.value

    def suggest(self, trial: Any) -> Any:
        return self.value

    def distribution(self) -> Any:
        from optuna.distributions import CategoricalDistribution

        return CategoricalDistribution((self.value,))

    def describe(self) -> str:
        return _fmt(self.value)

    def _json(self) -> dict[str, Any]:
        return {"value": self.value}

    def with_values(self, values: tuple[Any, ...]) -> Constant:
        return Constant(self.name, values[0], when=self.when, field_name=self.field_name)


def _check_range(
    name: str, low: Any, high: Any, log: bool, types: tuple[type, ...], kind: str
) -> None:
    for bound in (low, high):
        if isinstance(bound, bool) or not isinstance(bound, types):
            raise SpaceError(
                f"parameter {name!r}: {kind} range bound {bound!r} is not a number; give numbers low <= high"
            )
        if isinstance(bound, float) and not math.isfinite(bound):
            raise SpaceError(
                f"parameter {name!r}: range bound {bound!r} is not finite; give finite numbers low <= high"
            )
    if low > high:
        raise SpaceError(
            f"parameter {name!r}: the range is inverted (low {_fmt(low)} > high {_fmt(high)}); give low <= high"
        )
    if log and low <= 0:
        raise SpaceError(
            f"parameter {name!r}: a log range needs low > 0, got low {_fmt(low)}; use a positive low or log = false"
        )


@dataclass(frozen=True)
class IntRange(Parameter):
    """An integer in `[low, high]` (both included), on a `step` grid or log-uniform.

    Finite, so it enumerates in a grid (every `step`-th integer from `low`).
    """

    low: int = 0
    high: int = 0
    step: int = 1
    log: bool = False
    _kind = "int"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_range(self.name, self.low, self.high, self.log, (int,), "int")
        if isinstance(self.step, bool) or not isinstance(self.step, int) or self.step < 1:
            raise SpaceError(
                f"parameter {self.name!r}: step must be a positive integer, got {self.step!r}"
            )
        if self.log and self.step != 1:
            raise SpaceError(
                f"parameter {self.name!r}: a log int range takes step 1, got step {self.step}; drop step or set log = false"
            )

    @property
    def finite(self) -> bool:
        return True

    def values(self) -> tuple[int, ...]:
        return tuple(range(self.low, self.high + 1, self.step))

    def count(self) -> int:
        return (self.high - self.low) // self.step + 1

    def contains(self, value: Any) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
            and (value - self.low) % self.step == 0
        )

    def suggest(self, trial: Any) -> int:
        return trial.suggest_int(self.name, self.low, self.high, step=self.step, log=self.log)

    def distribution(self) -> Any:
        from optuna.distributions import IntDistribution

        return IntDistribution(self.low, self.high, log=self.log, step=self.step)

    def endpoints(self) -> tuple[Any, ...]:
        return (self.low, self.high)

    def describe(self) -> str:
        step = f" step {self.step}" if self.step != 1 else ""
        return f"int [{self.low}, {self.high}]{step}{' log' if self.log else ''}"

    def _json(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "step": self.step, "log": self.log}


@dataclass(frozen=True)
class FloatRange(Parameter):
    """A float in `[low, high]`, uniform or log-uniform: a continuous parameter (no grid)."""

    low: float = 0.0
    high: float = 0.0
    log: bool = False
    _kind = "float"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_range(self.name, self.low, self.high, self.log, (int, float), "float")
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))

    @property
    def finite(self) -> bool:
        return False

    def values(self) -> tuple[Any, ...]:
        raise SpaceError(
            f"parameter {self.name!r} is a continuous float range and has no grid; use categorical choices to grid it"
        )

    def count(self) -> int:
        raise SpaceError(
            f"parameter {self.name!r} is a continuous float range and has no finite count"
        )

    def contains(self, value: Any) -> bool:
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
        )

    def suggest(self, trial: Any) -> float:
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)

    def distribution(self) -> Any:
        from optuna.distributions import FloatDistribution

        return FloatDistribution(self.low, self.high, log=self.log)

    def endpoints(self) -> tuple[Any, ...]:
        return (self.low, self.high)

    def describe(self) -> str:
        return f"float [{_fmt(self.low)}, {_fmt(self.high)}]{' log' if self.log else ''}"

    def _json(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "log": self.log}
