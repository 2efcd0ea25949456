"""`Space`: an ordered, validated tuple of parameters for one model (or for `auto`).

A point of a space is a dict of its *searched* parameters that are active, keyed by
parameter name (constants are not in it; `to_config` adds them). That dict is what
`grid()` yields, what `suggest(trial)` returns and what `optuna.Study.enqueue_trial`
takes, so a grid study can enqueue every `grid()` point and have `suggest` reproduce it.

In an `auto` space (`model=None`) the first parameter is `model` (a categorical of model
names) and each model's parameters are conditional on it. Their names are qualified with
the model (`"s4.lr"`, field `lr`): Optuna requires one fixed distribution per parameter
name across a study, and the value sets differ from model to model.

Example:
    >>> space = Space("tiny", "linoss", (Categorical("lr", (1e-4, 1e-3)), Constant("blocks", 2)))
    >>> space.size, space.grid()
    (2, [{'lr': 0.0001}, {'lr': 0.001}])
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ssmtune.spaces import _fields
from ssmtune.spaces._cost import point_cost
from ssmtune.spaces._errors import SpaceError
from ssmtune.spaces._params import Categorical, Constant, FloatRange, IntRange, Parameter, _fmt

__all__ = ["Space", "MAX_GRID"]

#: The most points `grid()` will enumerate.
MAX_GRID = 1_000_000


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


@dataclass(frozen=True)
class Space:
    """A search space for one model (or several, for `auto`); validated on construction.

    Args:
        name: the space's name (catalog name or TOML file stem).
        model: the model name (`models.names()`), or `None` for an `auto` space whose first
            parameter is `model`.
        params: the parameters, in order; a condition may only refer to an earlier
            categorical or constant parameter.
        description: one paragraph, citing the source of the values.

    Raises:
        SpaceError: unknown model or parameter names, wrong value types, empty choices,
            inverted ranges, bad conditions, or two parameters setting the same field.
    """

    name: str
    model: str | None
    params: tuple[Parameter, ...]
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(self.params))
        self._check_structure()
        object.__setattr__(self, "params", tuple(self._typed_params()))
        self._check_overlaps()

    # ---------------------------------------------------------------- validation
    def _check_structure(self) -> None:
        where = f"space {self.name!r}"
        if not self.params:
            raise SpaceError(f"{where} has no parameters; give at least one")
        for p in self.params:
            if not isinstance(p, Parameter):
                raise SpaceError(
                    f"{where}: {p!r} is not a parameter; use Categorical, IntRange, FloatRange or Constant"
                )
        seen: dict[str, Parameter] = {}
        for p in self.params:
            if p.name in seen:
                raise SpaceError(
                    f"{where} defines parameter {p.name!r} twice; give each parameter once (conditional variants need distinct names such as 'linoss.lr')"
                )
            for parent, values in p.when:
                if parent not in seen:
                    before = ", ".join(seen) or "none"
                    raise SpaceError(
                        f"{where}: parameter {p.name!r} depends on {parent!r}, which is not an earlier parameter; earlier parameters: {before}"
                    )
                q = seen[parent]
                if not isinstance(q, Categorical | Constant):
                    raise SpaceError(
                        f"{where}: parameter {p.name!r} depends on {parent!r}, a {q.kind} range; conditions may only use categorical or constant parameters"
                    )
                for v in values:
                    if not q.contains(v) and not (
                        isinstance(v, int) and not isinstance(v, bool) and q.contains(float(v))
                    ):
                        raise SpaceError(
                            f"{where}: parameter {p.name!r} depends on {parent!r} = {_fmt(v)}, which {parent!r} never takes; its values: {q.describe()}"
                        )
            seen[p.name] = p
        known = _fields.model_names()
        if self.model is None:
            first = self.params[0]
            if first.name != "model" or not isinstance(first, Categorical | Constant):
                raise SpaceError(
                    f"{where}: an auto space starts with a categorical parameter 'model' (choices from: {', '.join(known)})"
                )
            for m in first.values():
                if m not in known:
                    raise SpaceError(
                        f"{where}: unknown model {m!r} in parameter 'model'; known models: {', '.join(known)}"
                    )
        else:
            _fields.check_model(self.model)
            if "model" in seen:
                raise SpaceError(
                    f"{where}: only an auto space has a parameter 'model'; set model = 'auto' or drop the parameter"
                )

    def _models_of(self, p: Parameter, by_name: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
        if self.model is not None:
            return (self.model,)
        models = tuple(self.params[0].values())
        for parent, values in p.when:
            allowed = values if parent == "model" else by_name[parent]
            models = tuple(m for m in models if m in allowed)
        return models

    def _typed_params(self) -> Iterator[Parameter]:
        where = f"space {self.name!r}"
        train = _fields.train_fields()
        by_name: dict[str, tuple[str, ...]] = {}
        for i, p in enumerate(self.params):
            if self.model is None and i == 0:
                by_name[p.name] = tuple(p.values())
                yield p
                continue
            models = self._models_of(p, by_name)
            by_name[p.name] = models
            if not models:
                raise SpaceError(
                    f"{where}: parameter {p.name!r} can never be active (its conditions exclude every model)"
                )
            if p.field == "model":
                raise SpaceError(
                    f"{where}: 'model' may only be the first parameter of an auto space"
                )
            ftypes = []
            for m in models:
                fields = _fields.model_fields(m)
                if p.field in fields:
                    ftypes.append(fields[p.field])
                elif p.field in train:
                    ftypes.append(train[p.field])
                elif p.field in _fields.TASK_FIELDS:
                    raise SpaceError(
                        f"{where}: parameter {p.name!r} sets {p.field!r}, which comes from the task; searchable fields of {m}: {', '.join(fields)}; training options: {', '.join(train)}"
                    )
                else:
                    raise SpaceError(
                        f"{where}: unknown parameter {p.field!r} for model {m}; allowed: model fields {', '.join(fields)}; training options {', '.join(train)}"
                    )
            ftype = ftypes[0]
            if isinstance(p, IntRange) and ftype.base is not int:
                raise SpaceError(
                    f"{where}: parameter {p.name!r} is an int range but {p.field!r} takes {ftype.describe()}; use a {'float range' if ftype.base is float else 'list of choices'}"
                )
            if isinstance(p, FloatRange) and ftype.base is not float:
                raise SpaceError(
                    f"{where}: parameter {p.name!r} is a float range but {p.field!r} takes {ftype.describe()}; use {'an int range' if ftype.base is int else 'a list of choices'}"
                )
            coerced = []
            for v in p.endpoints():
                try:
                    coerced.append(ftype.coerce(v))
                except TypeError:
                    raise SpaceError(
                        f"{where}: parameter {p.name!r} has value {_fmt(v)} of type {type(v).__name__}, but {p.field!r} takes {ftype.describe()}"
                    ) from None
            yield p.with_values(tuple(coerced)) if isinstance(p, Categorical | Constant) else p

    def _check_overlaps(self) -> None:
        """Two parameters may set the same field only under mutually exclusive conditions."""
        for p, q in itertools.combinations(self.params[1 if self.model is None else 0 :], 2):
            if p.field != q.field:
                continue
            wp, wq = dict(p.when), dict(q.when)
            exclusive = any(
                parent in wq and not any(_same(a, b) for a in vals for b in wq[parent])
                for parent, vals in wp.items()
            )
            if not exclusive:
                raise SpaceError(
                    f"space {self.name!r}: parameters {p.name!r} and {q.name!r} both set {p.field!r}; give them conditions on one parameter with disjoint values, or keep one"
                )

    # ---------------------------------------------------------------- structure
    @property
    def searched(self) -> tuple[Parameter, ...]:
        """The parameters Optuna suggests (every kind except constants)."""
        return tuple(p for p in self.params if p.searched)

    @property
    def dims(self) -> int:
        """The number of searched parameters (in an auto space, `model` and every branch's)."""
        return len(self.searched)

    @property
    def finite(self) -> bool:
        """Whether every parameter takes finitely many values (no float range)."""
        return all(p.finite for p in self.params)

    @property
    def conditional(self) -> bool:
        """Whether some parameter is active only for some values of another."""
        return any(p.when for p in self.params)

    @property
    def models(self) -> tuple[str, ...]:
        """The models this space may produce."""
        return (self.model,) if self.model is not None else tuple(self.params[0].values())

    @staticmethod
    def _active(p: Parameter, assignment: Mapping[str, Any]) -> bool:
        return all(
            parent in assignment and any(_same(assignment[parent], v) for v in values)
            for parent, values in p.when
        )

    @property
    def size(self) -> int | None:
        """The number of grid points (the union of the branches), or `None` if continuous."""
        if not self.finite:
            return None
        controllers = {parent for p in self.params for parent, _ in p.when}

        def count(i: int, assignment: dict[str, Any]) -> int:
            if i == len(self.params):
                return 1
            p = self.params[i]
            if not self._active(p, assignment):
                return count(i + 1, assignment)
            if p.name in controllers:
                return sum(count(i + 1, {**assignment, p.name: v}) for v in p.values())
            return p.count() * count(i + 1, assignment)

        return count(0, {})

    # ---------------------------------------------------------------- enumeration
    def grid(self) -> list[dict[str, Any]]:
        """Every point, once, in a deterministic order (the last parameter varies fastest).

        Raises:
            SpaceError: if the space has a continuous parameter or more than `MAX_GRID` points.
        """
        size = self.size
        if size is None:
            cont = ", ".join(p.name for p in self.params if not p.finite)
            raise SpaceError(
                f"space {self.name!r} is continuous ({cont}) and has no grid; use a finite space for grid search"
            )
        if size > MAX_GRID:
            raise SpaceError(
                f"space {self.name!r} has {size} points, more than {MAX_GRID} the grid enumerates; use a sampler instead"
            )
        points: list[dict[str, Any]] = []

        def walk(i: int, assignment: dict[str, Any], point: dict[str, Any]) -> None:
            if i == len(self.params):
                points.append(dict(point))
                return
            p = self.params[i]
            if not self._active(p, assignment):
                walk(i + 1, assignment, point)
                return
            for v in p.values():
                assignment[p.name] = v
                if p.searched:
                    point[p.name] = v
                walk(i + 1, assignment, point)
                point.pop(p.name, None)
                del assignment[p.name]

        walk(0, {}, {})
        return points

    # ---------------------------------------------------------------- optuna
    def suggest(self, trial: Any) -> dict[str, Any]:
        """Suggest a point through `trial` (an `optuna.Trial`): only active parameters.

        Reproduces enqueued grid points exactly (`study.enqueue_trial(point)`).
        """
        assignment: dict[str, Any] = {}
        point: dict[str, Any] = {}
        for p in self.params:
            if not self._active(p, assignment):
                continue
            value = p.suggest(trial)
            assignment[p.name] = value
            if p.searched:
                point[p.name] = value
        return point

    def distributions(self) -> dict[str, Any]:
        """The Optuna distribution of every searched parameter (for TPE/GP, `ask(...)`)."""
        return {p.name: p.distribution() for p in self.searched}

    def grid_search_space(self) -> dict[str, list[Any]]:
        """The search space of `optuna.samplers.GridSampler` (finite unconditional spaces).

        Raises:
            SpaceError: for continuous or conditional spaces (enqueue `grid()` instead).
        """
        if not self.finite or self.conditional:
            what = "continuous" if not self.finite else "conditional"
            raise SpaceError(
                f"space {self.name!r} is {what}; GridSampler takes only finite unconditional spaces: enqueue the grid() points instead"
            )
        return {p.name: list(p.values()) for p in self.searched}

    # ---------------------------------------------------------------- configs
    def resolve(self, params: Mapping[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """Check a point and split it into (model, config fields, training options).

        Constants are added; parameters are mapped to their fields.

        Raises:
            SpaceError: unknown or missing parameters, or values outside the space.
        """
        names = {p.name for p in self.searched}
        unknown = [k for k in params if k not in names]
        if unknown:
            raise SpaceError(
                f"space {self.name!r} has no parameter {unknown[0]!r}; parameters: {', '.join(sorted(names))}"
            )
        assignment: dict[str, Any] = {}
        for p in self.params:
            active = self._active(p, assignment)
            if not p.searched:
                if active:
                    assignment[p.name] = p.values()[0]  # a constant's one value
                continue
            if not active:
                if p.name in params:
                    cond = " and ".join(f"{k} in {list(v)}" for k, v in p.when)
                    raise SpaceError(
                        f"space {self.name!r}: parameter {p.name!r} is inactive for this point (it needs {cond}); drop it"
                    )
                continue
            if p.name not in params:
                raise SpaceError(
                    f"space {self.name!r}: the point lacks parameter {p.name!r} ({p.describe()})"
                )
            value = params[p.name]
            if not p.contains(value):
                if (
                    isinstance(p, FloatRange | Categorical)
                    and isinstance(value, int)
                    and not isinstance(value, bool)
                    and p.contains(float(value))
                ):
                    value = float(value)
                else:
                    raise SpaceError(
                        f"space {self.name!r}: parameter {p.name!r} = {_fmt(value)} is outside its values {p.describe()}"
                    )
            assignment[p.name] = value
        model = assignment.pop("model") if self.model is None else self.model
        fields = _fields.model_fields(model)
        config: dict[str, Any] = {}
        options: dict[str, Any] = {}
        for p in self.params:
            if p.name in assignment:
                (config if p.field in fields else options)[p.field] = assignment[p.name]
        return model, config, options

    def to_config(self, params: Mapping[str, Any], *, task_info: Any = None) -> tuple[Any, Any]:
        """Map a point to `(models.ModelConfig, models.TrainOptions)`.

        Args:
            params: a point (from `grid()` or `suggest`).
            task_info: a `tasks.TaskInfo`; when given, the input width, output size and head
                are set from it (`models.fit_config`).

        Returns:
            The validated model config (it builds) and the training options.
        """
        from ssmtune import models

        model, config_fields, option_fields = self.resolve(params)
        config = models.config(model, **config_fields)
        options = models.TrainOptions(**option_fields)
        if task_info is not None:
            config = models.fit_config(config, task_info, options.include_time)
        return config, options

    # ---------------------------------------------------------------- sizes
    def point_cost(self, params: Mapping[str, Any], length: int) -> float:
        """The estimated training cost of one point for sequences of `length` (`spaces._cost`)."""
        model, config, _ = self.resolve(params)
        defaults = _fields.model_defaults(model)
        dims = {k: config.get(k, defaults[k]) for k in ("blocks", "hidden", "state")}
        return point_cost(model, length=length, **dims)

    def cost(self, length: int) -> float:
        """The compute-weighted size: the sum of `point_cost` over the grid.

        Raises:
            SpaceError: for continuous spaces (no finite sum) or a non-positive length.
        """
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise SpaceError(f"the sequence length must be a positive integer, got {length!r}")
        return sum(self.point_cost(point, length) for point in self.grid())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: name, model, size, dims and the parameters."""
        return {
            "name": self.name,
            "model": self.model or "auto",
            "models": list(self.models),
            "size": self.size,
            "dims": self.dims,
            "finite": self.finite,
            "conditional": self.conditional,
            "description": self.description,
            "params": [p.to_dict() for p in self.params],
        }
