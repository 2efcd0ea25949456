"""Every validation error: one `SpaceError` line that says what is allowed."""

import pytest

from ssmtune import spaces
from ssmtune.spaces import Categorical, Constant, FloatRange, IntRange, Space, SpaceError


def _raises(match, make):
    with pytest.raises(SpaceError, match=match) as info:
        make()
    message = str(info.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------ parameters
@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: Categorical("lr", ()), "no choices"),
        (lambda: Categorical("lr", (1e-3, 1e-3)), "repeats the choice"),
        (lambda: Categorical("lr", ([1],)), "not a number, string or boolean"),
        (lambda: Categorical("lr", "abc"), "must be a list"),
        (lambda: Constant("lr", None), "not a number, string or boolean"),
        (lambda: IntRange("hidden", 64, 16), r"inverted \(low 64 > high 16\)"),
        (lambda: FloatRange("lr", 1e-2, 1e-5), "inverted"),
        (lambda: FloatRange("lr", 0.0, 1.0, log=True), "log range needs low > 0"),
        (lambda: FloatRange("lr", 0.0, float("inf")), "not finite"),
        (lambda: IntRange("hidden", 1.5, 4), "not a number"),
        (lambda: IntRange("hidden", 1, 4, step=0), "step must be a positive integer"),
        (lambda: IntRange("hidden", 1, 4, step=2, log=True), "log int range takes step 1"),
        (lambda: Categorical("", (1,)), "non-empty string"),
        (lambda: Categorical("lr", (1,), when={"model": []}), "lists no values"),
    ],
)
def test_parameter_errors(make, match):
    _raises(match, make)


# ------------------------------------------------------------------ spaces
def _space(*params, model="linoss"):
    return lambda: Space("t", model, tuple(params))


@pytest.mark.parametrize(
    "make,match",
    [
        (
            _space(Categorical("lr", (1e-3,)), model="transformer"),
            "unknown model 'transformer'; known models: linoss, ",
        ),
        (_space(), "no parameters"),
        (
            _space(Categorical("hidden_size", (1, 2))),
            "unknown parameter 'hidden_size' for model linoss; allowed: model fields .*hidden.*training options .*lr",
        ),
        (_space(Categorical("r_min", (0.5,))), "unknown parameter 'r_min' for model linoss"),
        (_space(Categorical("in_channels", (3,))), "comes from the task"),
        (
            _space(Categorical("blocks", ("two", 4))),
            "value 'two' of type str, but 'blocks' takes int",
        ),
        (_space(Categorical("blocks", (2.0, 4))), "value 2 of type float, but 'blocks' takes int"),
        (_space(Categorical("blocks", (True,))), "but 'blocks' takes int"),
        (_space(Categorical("discretization", ("IM", "EX"))), "takes one of 'IM', 'IMEX'"),
        (_space(Categorical("include_time", (1, 0))), "'include_time' takes bool"),
        (_space(Constant("optimizer", "sgd")), "one of 'adam', 'adamw'"),
        (
            _space(FloatRange("blocks", 1.0, 4.0)),
            "float range but 'blocks' takes int; use an int range",
        ),
        (
            _space(IntRange("dropout", 0, 1)),
            "int range but 'dropout' takes float; use a float range",
        ),
        (_space(IntRange("discretization", 0, 1)), "use a list of choices"),
        (
            _space(Categorical("lr", (1e-3,)), Categorical("lr", (1e-4,))),
            "defines parameter 'lr' twice",
        ),
        (
            _space(Categorical("lr", (1e-3,), when={"blocks": [2]}), Categorical("blocks", (2,))),
            "depends on 'blocks', which is not an earlier parameter",
        ),
        (
            _space(IntRange("blocks", 2, 4), Categorical("lr", (1e-3,), when={"blocks": [2]})),
            "conditions may only use categorical or constant",
        ),
        (
            _space(Categorical("blocks", (2, 4)), Categorical("lr", (1e-3,), when={"blocks": [6]})),
            r"'blocks' never takes; its values: \{2, 4\}",
        ),
        (_space(Categorical("model", ("linoss",))), "only an auto space has a parameter 'model'"),
        (_space(Categorical("lr", (1e-3,)), Categorical("x.lr", (1e-4,))), "both set 'lr'"),
        (
            _space(Categorical("lr", (1e-3,)), model=None),
            "auto space starts with a categorical parameter 'model'",
        ),
        (_space(Categorical("model", ("linoss", "gpt"))), "only an auto space"),
        (
            _space(Categorical("model", ("linoss", "gpt")), model=None),
            "unknown model 'gpt' in parameter 'model'; known models",
        ),
        (
            _space(
                Categorical("model", ("linoss",)),
                Categorical("s4.dt_min", (1e-3,), when={"model": ["linoss"]}),
                model=None,
            ),
            "unknown parameter 'dt_min' for model linoss",
        ),
        (
            _space(
                Categorical("model", ("linoss", "s4")), Categorical("dt_min", (1e-3,)), model=None
            ),
            "unknown parameter 'dt_min' for model linoss",
        ),
        (
            _space(
                Categorical("model", ("linoss",)),
                Categorical("x", (1,), when={"model": ["s4"]}),
                model=None,
            ),
            r"'model' never takes",
        ),
        (lambda: Space("t", "linoss", ("lr",)), "is not a parameter"),
    ],
)
def test_space_errors(make, match):
    _raises(match, make)


def test_exclusive_conditions_may_set_one_field_twice():
    space = Space(
        "t",
        "linoss",
        (
            Categorical("discretization", ("IM", "IMEX")),
            Categorical("im.lr", (1e-3,), when={"discretization": ["IM"]}),
            Categorical("imex.lr", (1e-4, 1e-5), when={"discretization": ["IMEX"]}),
        ),
    )
    assert space.size == 3
    assert space.to_config({"discretization": "IMEX", "imex.lr": 1e-5})[1].lr == 1e-5


def test_ints_become_floats_for_float_fields():
    space = Space("t", "linoss", (Categorical("dropout", (0, 0.1)), Constant("weight_decay", 0)))
    assert space.params[0].values() == (0.0, 0.1)
    assert type(space.grid()[0]["dropout"]) is float
    assert space.to_config({"dropout": 0.1})[1].weight_decay == 0.0


# ------------------------------------------------------------------ points
@pytest.mark.parametrize(
    "point,match",
    [
        ({"linoss.lr": 1e-3, "blocks": 2}, "has no parameter 'linoss.lr'; parameters: blocks, "),
        ({"discretization": "IM"}, "lacks parameter 'lr'"),
        (
            {
                "discretization": "IM",
                "lr": 0.5,
                "blocks": 2,
                "hidden": 16,
                "state": 16,
                "include_time": True,
            },
            r"'lr' = 0.5 is outside its values \{1e-05, 0.0001, 0.001\}",
        ),
    ],
)
def test_point_errors(catalog, point, match):
    _raises(match, lambda: catalog["linoss-full"].to_config(point))


def test_inactive_parameter_in_a_point(catalog):
    point = {"model": "s4", "linoss.lr": 1e-3}
    _raises("'linoss.lr' is inactive for this point", lambda: catalog["auto"].resolve(point))


def test_continuous_point_outside_range(catalog):
    space = catalog["linoss-continuous"]
    point = {
        "discretization": "IM",
        "lr": 1.0,
        "blocks": 2,
        "hidden": 16,
        "state": 16,
        "include_time": True,
    }
    _raises(
        r"'lr' = 1 is outside its values float \[1e-05, 0.01\] log", lambda: space.to_config(point)
    )


def test_unknown_space_lists_the_catalog():
    message = _raises(
        "unknown space 'nope'; known spaces: linoss-full, d-linoss-reduced",
        lambda: spaces.get("nope"),
    )
    assert "auto-continuous" in message


def test_names_are_case_insensitive():
    assert spaces.get("LinOSS-Full").size == 324


def test_cost_rejects_bad_lengths(catalog):
    _raises("positive integer", lambda: catalog["lru"].cost(0))
    _raises("positive integer", lambda: catalog["lru"].cost(1.5))
