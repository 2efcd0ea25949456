"""What a space may set: the model config fields and training options, read from `models`.

The names come from the registries (`models.field_names(name)`,
`models.train_option_names()`), the types from the config dataclasses' annotations, so a
new field or option becomes searchable without touching `spaces`. `models` is imported
inside the functions: importing `spaces` stays light.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from ssmtune.spaces._errors import SpaceError

__all__ = ["FieldType", "model_names", "model_fields", "train_fields", "TASK_FIELDS"]

#: Config fields set from the task (`Space.to_config(..., task_info=...)`), never searched.
TASK_FIELDS = ("in_channels", "out_dim", "head")


@dataclass(frozen=True)
class FieldType:
    """The values a field accepts: a base type (`int`, `float`, `bool`, `str`), optionally a
    finite set of allowed values (a `Literal`) and whether `None` is allowed."""

    base: type | None
    literals: tuple[Any, ...] | None = None
    optional: bool = False

    def describe(self) -> str:
        if self.literals is not None:
            return "one of " + ", ".join(repr(v) for v in self.literals)
        return self.base.__name__ if self.base is not None else "any value"

    def coerce(self, value: Any) -> Any:
        """`value` as this field's type (an int for a float field becomes a float).

        Raises:
            TypeError: when the value does not fit (the caller words the message).
        """
        if value is None and self.optional:
            return value
        if self.literals is not None:
            if any(type(value) is type(v) and value == v for v in self.literals):
                return value
            raise TypeError
        if self.base is None:
            return value
        if self.base is bool:
            if isinstance(value, bool):
                return value
            raise TypeError
        if self.base is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            raise TypeError
        if self.base is float:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
            raise TypeError
        if isinstance(value, self.base):
            return value
        raise TypeError


def _field_type(annotation: Any, default: Any) -> FieldType:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        lits = typing.get_args(annotation)
        base = type(lits[0]) if lits and all(type(v) is type(lits[0]) for v in lits) else None
        return FieldType(base, lits)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) == 1:
            inner = _field_type(args[0], default)
            return FieldType(inner.base, inner.literals, optional or inner.optional)
        if set(args) <= {int, float}:
            return FieldType(float, None, optional)
        return FieldType(None, None, optional)
    if annotation in (bool, int, float, str):
        return FieldType(annotation)
    if default is not None and type(default) in (bool, int, float, str):
        return FieldType(type(default))
    return FieldType(None)


def _dataclass_types(cls: type) -> dict[str, FieldType]:
    try:
        hints = typing.get_type_hints(cls, include_extras=False)
    except Exception:  # unresolvable annotations: fall back to the defaults' types
        hints = {}
    out = {}
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else None
        out[f.name] = _field_type(hints.get(f.name, f.type), default)
    return out


def model_names() -> tuple[str, ...]:
    """The registered model names (`models.names()`)."""
    from ssmtune import models

    return tuple(models.names())


@functools.cache
def model_fields(model: str) -> dict[str, FieldType]:
    """The searchable config fields of `model` (its registry field names less `TASK_FIELDS`)."""
    from ssmtune import models

    names = tuple(models.field_names(model))
    cls = type(models.config(model))
    typed = _dataclass_types(cls) if dataclasses.is_dataclass(cls) else {}
    return {n: typed.get(n, FieldType(None)) for n in names if n not in TASK_FIELDS and n != "name"}


@functools.cache
def model_defaults(model: str) -> dict[str, Any]:
    """The default value of every config field of `model` (from `models.config(model)`)."""
    from ssmtune import models

    cfg = models.config(model)
    return {n: getattr(cfg, n) for n in models.field_names(model) if hasattr(cfg, n)}


@functools.cache
def train_fields() -> dict[str, FieldType]:
    """The training options (`models.train_option_names()`) and their types."""
    from ssmtune import models

    names = tuple(models.train_option_names())
    cls = models.TrainOptions
    typed = _dataclass_types(cls) if dataclasses.is_dataclass(cls) else {}
    return {n: typed.get(n, FieldType(None)) for n in names}


def check_model(model: str) -> None:
    """Raise `SpaceError` unless `model` is a registered model name."""
    known = model_names()
    if model not in known:
        raise SpaceError(f"unknown model {model!r}; known models: {', '.join(known)} (or 'auto')")
