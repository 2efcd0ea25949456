"""Sizes of the catalog: the published grids, exactly (LinOSS App. B.1; Walker et al.)."""

import math

import pytest

from ssmtune import spaces

GRID_SIZES = {
    "linoss-full": 324,  # LinOSS App. B.1: 2 discretizations x 162
    "d-linoss-reduced": 162,  # D-LinOSS: one discretization, "50% smaller"
    "linoss-im": 162,
    "linoss-imex": 162,
    "lru": 162,  # Walker et al., log-neural-cdes hyperparam_info_for_table.json
    "s4": 108,
    "s4d": 216,
    "hope": 48,
}
CONTINUOUS = [
    "auto-continuous",
    "linoss-continuous",
    "d-linoss-continuous",
    "lru-continuous",
    "s4-continuous",
    "s4d-continuous",
    "hope-continuous",
]


def test_every_catalog_entry_is_sized_here():
    assert set(spaces.names()) == {*GRID_SIZES, *CONTINUOUS, "auto"}


@pytest.mark.parametrize("name,size", GRID_SIZES.items())
def test_grid_sizes(catalog, name, size):
    space = catalog[name]
    assert space.size == size
    assert len(space.grid()) == size
    assert space.finite


def test_published_value_sets(catalog):
    full = catalog["linoss-full"]
    values = {p.name: p.values() for p in full.params}
    assert values == {
        "discretization": ("IM", "IMEX"),
        "lr": (1e-5, 1e-4, 1e-3),
        "blocks": (2, 4, 6),
        "hidden": (16, 64, 128),
        "state": (16, 64, 256),
        "include_time": (True, False),
    }
    reduced = {p.name: p.values() for p in catalog["d-linoss-reduced"].params}
    assert reduced == {k: v for k, v in values.items() if k != "discretization"}
    assert catalog["linoss-full"].model == "linoss"
    assert catalog["d-linoss-reduced"].model == "d-linoss"


def test_d_linoss_halves_the_points_and_the_compute(catalog):
    full, reduced = catalog["linoss-full"], catalog["d-linoss-reduced"]
    assert reduced.size / full.size == 0.5
    assert reduced.dims == full.dims - 1 == 5
    # nothing else in the grid shrinks, so the compute halves too (same per-point formula)
    for length in (405, 17_984):
        assert reduced.cost(length) / full.cost(length) == pytest.approx(0.5)


def test_im_and_imex_partition_the_full_grid(catalog):
    def key(point):
        return tuple(sorted(point.items()))

    im = {key({**p, "discretization": "IM"}) for p in catalog["linoss-im"].grid()}
    imex = {key({**p, "discretization": "IMEX"}) for p in catalog["linoss-imex"].grid()}
    assert im.isdisjoint(imex)
    assert im | imex == {key(p) for p in catalog["linoss-full"].grid()}


def test_auto_is_the_union_of_the_model_grids(catalog):
    auto = catalog["auto"]
    assert auto.model is None
    assert auto.params[0].name == "model"
    assert auto.models == ("linoss", "d-linoss", "lru", "s4", "s4d", "hope")
    per_model = {"linoss": "linoss-full", "d-linoss": "d-linoss-reduced"}
    expected = sum(catalog[per_model.get(m, m)].size for m in auto.models)
    assert auto.size == expected == 1020
    counts = {}
    for point in auto.grid():
        counts[point["model"]] = counts.get(point["model"], 0) + 1
        # only the chosen model's parameters are active
        assert all(k == "model" or k.startswith(point["model"] + ".") for k in point)
    assert counts == {m: catalog[per_model.get(m, m)].size for m in auto.models}


@pytest.mark.parametrize("name", CONTINUOUS)
def test_continuous_spaces_have_no_count(catalog, name):
    space = catalog[name]
    assert space.size is None
    assert not space.finite
    with pytest.raises(spaces.SpaceError, match="continuous"):
        space.grid()


def test_linoss_continuous_ranges(catalog):
    space = catalog["linoss-continuous"]
    by = {p.name: p for p in space.params}
    assert (by["lr"].low, by["lr"].high, by["lr"].log) == (1e-5, 1e-2, True)
    assert (by["blocks"].low, by["blocks"].high) == (2, 6)
    assert (by["hidden"].low, by["hidden"].high) == (16, 128)
    assert (by["state"].low, by["state"].high) == (16, 256)
    d = {p.name: p for p in catalog["d-linoss-continuous"].params}
    assert {"r_min", "r_max", "theta_min", "theta_max"} <= set(d)
    assert d["theta_max"].high == pytest.approx(math.pi)
    assert "discretization" not in d


def test_every_entry_cites_a_source(catalog):
    for name, space in catalog.items():
        assert space.description, name
        assert any(w in space.description for w in ("Source", "App.", "counterpart")), name
