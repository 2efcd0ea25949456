"""User search spaces from TOML files (`ssmtune study start --space path/to/space.toml`).

Format (an example: `spaces/examples/small-linoss.toml`)::

    name = "small-linoss"      # optional; default: the file name without .toml
    model = "linoss"           # a model of `models.names()`, or "auto"
    description = "..."        # optional

    [params]                   # in order; a condition may only name an earlier parameter
    lr = [1e-4, 1e-3]                              # a list: categorical choices
    blocks = 2                                     # a scalar: a constant (not searched)
    hidden = { low = 16, high = 64, step = 16 }    # integer bounds: an int range
    state = { low = 16, high = 256, log = true }   # log-uniform int range
    dropout = { low = 0.0, high = 0.2 }            # float bounds: a continuous float range
    discretization = ["IM", "IMEX"]
    include_time = { choices = [true, false], when = { discretization = ["IM"] } }

A parameter table takes exactly one of `choices` (categorical), `value` (constant) or
`low` + `high` (a range: int when both bounds are integers, else float; optional `log`,
and `step` for ints), plus optional `when = { parent = [values] }` (active only when every
named parent has one of the values) and `field` (the config field or training option it
sets; default: the name after its last "."). Names are model config fields
(`models.field_names(model)`) or training options (`models.train_option_names()`).

In an `auto` space the first parameter is `model = ["linoss", "s4", ...]` and each model's
parameters carry `when = { model = [...] }`; give them distinct names (`"linoss.lr"`), since
Optuna keeps one distribution per name. The same validation as the catalog applies, and
every error is one `SpaceError` line.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from ssmtune.spaces._errors import SpaceError
from ssmtune.spaces._params import Categorical, Constant, FloatRange, IntRange, Parameter
from ssmtune.spaces._space import Space

__all__ = ["load", "loads"]

_TOP = ("name", "model", "description", "params")
_PARAM = ("choices", "value", "low", "high", "step", "log", "when", "field")


def load(path: str | Path) -> Space:
    """Read a space from a TOML file (format in the module docstring).

    Raises:
        SpaceError: missing or unreadable file, bad TOML, or an invalid space.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpaceError(
            f"cannot read space file {str(path)!r}: {exc.strerror or exc}; give the path of a .toml file or a catalog name"
        ) from None
    return loads(text, default_name=path.stem, source=str(path))


def loads(text: str, *, default_name: str = "space", source: str = "<string>") -> Space:
    """Parse a space from TOML text (see `load`)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpaceError(f"{source}: invalid TOML: {exc}") from None
    unknown = [k for k in doc if k not in _TOP]
    if unknown:
        raise SpaceError(
            f"{source}: unknown key {unknown[0]!r}; allowed top-level keys: {', '.join(_TOP)}"
        )
    name = doc.get("name", default_name)
    model = doc.get("model")
    if not isinstance(name, str) or not name:
        raise SpaceError(f"{source}: name must be a non-empty string, got {name!r}")
    if not isinstance(model, str):
        raise SpaceError(f"{source}: missing or invalid 'model'; give a model name or 'auto'")
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise SpaceError(f"{source}: description must be a string, got {description!r}")
    params = doc.get("params")
    if not isinstance(params, dict) or not params:
        raise SpaceError(
            f"{source}: no [params] table; give at least one parameter (see spaces/examples/)"
        )
    parsed = tuple(_param(source, key, spec) for key, spec in params.items())
    return Space(name, None if model == "auto" else model, parsed, description)


def _param(source: str, name: str, spec: Any) -> Parameter:
    where = f"{source}: parameter {name!r}"
    if isinstance(spec, list):
        return Categorical(name, tuple(spec))
    if not isinstance(spec, dict):
        return Constant(name, spec)
    unknown = [k for k in spec if k not in _PARAM]
    if unknown:
        raise SpaceError(f"{where}: unknown key {unknown[0]!r}; allowed keys: {', '.join(_PARAM)}")
    kinds = [k for k in ("choices", "value", "low") if k in spec]
    if "high" in spec and "low" not in spec:
        kinds.append("low")
    if len(kinds) != 1:
        raise SpaceError(
            f"{where}: give exactly one of choices = [...], value = ..., or low + high"
        )
    when = spec.get("when", ())
    if not isinstance(when, dict | tuple):
        raise SpaceError(
            f'{where}: when must be a table such as {{ model = ["linoss"] }}, got {when!r}'
        )
    extra: dict[str, Any] = {"when": when, "field_name": spec.get("field")}
    if extra["field_name"] is not None and not isinstance(extra["field_name"], str):
        raise SpaceError(f"{where}: field must be a string, got {extra['field_name']!r}")
    if "choices" in spec:
        _only(where, spec, ("choices", "when", "field"))
        if not isinstance(spec["choices"], list):
            raise SpaceError(f"{where}: choices must be a list, got {spec['choices']!r}")
        return Categorical(name, tuple(spec["choices"]), **extra)
    if "value" in spec:
        _only(where, spec, ("value", "when", "field"))
        return Constant(name, spec["value"], **extra)
    if "low" not in spec or "high" not in spec:
        raise SpaceError(f"{where}: a range needs both low and high")
    low, high, log = spec["low"], spec["high"], spec.get("log", False)
    if not isinstance(log, bool):
        raise SpaceError(f"{where}: log must be true or false, got {log!r}")
    integer = all(isinstance(b, int) and not isinstance(b, bool) for b in (low, high))
    if integer:
        return IntRange(name, low, high, step=spec.get("step", 1), log=log, **extra)
    if "step" in spec:
        raise SpaceError(
            f"{where}: step is for int ranges; give integer low and high, or drop step"
        )
    return FloatRange(name, low, high, log=log, **extra)


def _only(where: str, spec: dict[str, Any], allowed: tuple[str, ...]) -> None:
    extra = [k for k in spec if k not in allowed]
    if extra:
        raise SpaceError(
            f"{where}: {extra[0]!r} does not go with {allowed[0]!r}; allowed keys here: {', '.join(allowed)}"
        )
