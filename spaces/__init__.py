"""spaces: what may be tried. Parameters, grids, sizes and the catalog of published grids.

    >>> from ssmtune import spaces
    >>> space = spaces.get("d-linoss-reduced")
    >>> space.size, space.dims
    (162, 5)
    >>> config, options = space.to_config(space.grid()[0])

`spaces.get` also takes the path of a TOML file (format: `spaces._toml`). `point_cost` is a
point's compute in multiply-adds; `predict_seconds` turns it into seconds with what a study's
finished trials measured (`Measured`), for budgets. The package talks only to `models`
(config fields, training options), and imports it lazily.
"""

from ssmtune.spaces._catalog import get, names, register
from ssmtune.spaces._cost import Measured, point_cost, predict_seconds
from ssmtune.spaces._errors import SpaceError
from ssmtune.spaces._params import Categorical, Constant, FloatRange, IntRange, Parameter
from ssmtune.spaces._space import Space
from ssmtune.spaces._toml import load, loads

__all__ = [
    "SpaceError",
    "Space",
    "Parameter",
    "Categorical",
    "IntRange",
    "FloatRange",
    "Constant",
    "names",
    "get",
    "register",
    "load",
    "loads",
    "point_cost",
    "Measured",
    "predict_seconds",
]
