"""Enumeration: deterministic, each point once, the union of the branches of a condition."""

import pytest

from ssmtune import spaces
from ssmtune.spaces import Categorical, Constant, IntRange, Space

FINITE = [name for name in spaces.names() if spaces.get(name).finite]


def _key(point):
    return tuple(sorted(point.items()))


@pytest.mark.parametrize("name", FINITE)
def test_grid_is_deterministic_and_duplicate_free(catalog, name):
    space = catalog[name]
    first = space.grid()
    assert first == space.grid() == spaces.get(name).grid()
    assert len({_key(p) for p in first}) == len(first) == space.size
    searched = {p.name for p in space.searched}
    for point in first:
        assert set(point) <= searched
        assert all(type(v) in (bool, int, float, str) for v in point.values())


def test_order_is_row_major_last_parameter_fastest():
    space = Space(
        "order",
        "linoss",
        (Categorical("lr", (1e-3, 1e-4)), Constant("blocks", 2), IntRange("hidden", 8, 24, step=8)),
    )
    assert space.grid() == [
        {"lr": 1e-3, "hidden": 8},
        {"lr": 1e-3, "hidden": 16},
        {"lr": 1e-3, "hidden": 24},
        {"lr": 1e-4, "hidden": 8},
        {"lr": 1e-4, "hidden": 16},
        {"lr": 1e-4, "hidden": 24},
    ]
    assert space.size == 6 and space.dims == 2


def test_conditional_grid_is_the_union_of_branches():
    space = Space(
        "cond",
        "linoss",
        (
            Categorical("discretization", ("IM", "IMEX")),
            Categorical("lr", (1e-3, 1e-4), when={"discretization": ["IM"]}),
            Constant("state", 32, when={"discretization": ["IMEX"]}),
            Categorical("hidden", (8, 16), when={"state": [32]}),
        ),
    )
    assert space.grid() == [
        {"discretization": "IM", "lr": 1e-3},
        {"discretization": "IM", "lr": 1e-4},
        {"discretization": "IMEX", "hidden": 8},
        {"discretization": "IMEX", "hidden": 16},
    ]
    assert space.size == 4
    assert space.conditional
    # constants and inactive parameters are resolved into the config
    config, _ = space.to_config({"discretization": "IMEX", "hidden": 16})
    assert (config.state, config.hidden) == (32, 16)
    config, options = space.to_config({"discretization": "IM", "lr": 1e-4})
    assert options.lr == 1e-4 and config.discretization == "IM"


def test_int_ranges_enumerate_every_step():
    space = Space(
        "ints", "lru", (IntRange("blocks", 1, 7, step=3), IntRange("state", 2, 4, log=True))
    )
    assert space.size == 9
    assert [p["blocks"] for p in space.grid()[::3]] == [1, 4, 7]
