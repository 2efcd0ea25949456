"""User spaces from TOML: the example, the format, and every error of the format."""

from pathlib import Path

import pytest

from ssmtune import spaces
from ssmtune.spaces import SpaceError

EXAMPLES = sorted((Path(spaces.__file__).parent / "examples").glob("*.toml"))


def test_examples_exist():
    assert EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_load_and_build_configs(path):
    space = spaces.get(str(path))
    points = space.grid()
    assert len(points) == space.size
    for point in points:
        space.to_config(point)


def test_small_linoss_example():
    space = spaces.get(str(EXAMPLES[0].parent / "small-linoss.toml"))
    assert space.name == "small-linoss"
    assert space.model == "linoss"
    assert space.size == 12  # IM: 2 lr x 2 hidden x 2 time; IMEX: 2 lr x 2 hidden
    config, options = space.to_config(space.grid()[-1])
    assert (config.blocks, config.state, config.dropout) == (2, 16, 0.05)


FULL = """
model = "linoss"
[params]
discretization = ["IM", "IMEX"]
lr = { low = 1e-5, high = 1e-2, log = true }
blocks = { low = 2, high = 6, step = 2 }
hidden = 16
state = { value = 32 }
include_time = { choices = [true, false], when = { discretization = ["IM"] } }
dropout = { low = 0, high = 0.5 }
"""


def test_every_form(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(FULL)
    space = spaces.get(path)
    kinds = {p.name: p.kind for p in space.params}
    assert kinds == {
        "discretization": "categorical",
        "lr": "float",
        "blocks": "int",
        "hidden": "constant",
        "state": "constant",
        "include_time": "categorical",
        "dropout": "float",
    }
    assert space.name == "mine" and space.size is None and space.dims == 5
    assert space.params[1].log and space.params[2].values() == (2, 4, 6)


def test_auto_toml():
    text = """
    model = "auto"
    [params]
    model = ["linoss", "s4"]
    "linoss.lr" = { choices = [1e-3, 1e-4], when = { model = ["linoss"] } }
    "s4.lr" = { choices = [1e-2], when = { model = ["s4"] } }
    "s4.dt" = { field = "dt_min", choices = [1e-4, 1e-3], when = { model = ["s4"] } }
    """
    space = spaces.loads(text)
    assert space.model is None and space.size == 4
    config, options = space.to_config({"model": "s4", "s4.lr": 1e-2, "s4.dt": 1e-4})
    assert (config.name, config.dt_min, options.lr) == ("s4", 1e-4, 1e-2)


@pytest.mark.parametrize(
    "text,match",
    [
        ("model = ", "invalid TOML"),
        (
            'model = "linoss"\nsize = 3\n[params]\nlr = [1e-3]',
            "unknown key 'size'; allowed top-level keys: name, model",
        ),
        ("[params]\nlr = [1e-3]", "missing or invalid 'model'"),
        ('model = "gpt"\n[params]\nlr = [1e-3]', "unknown model 'gpt'; known models"),
        ('model = "linoss"', r"no \[params\] table"),
        ('model = "linoss"\nname = 3\n[params]\nlr = [1e-3]', "name must be a non-empty string"),
        (
            'model = "linoss"\ndescription = 3\n[params]\nlr = [1e-3]',
            "description must be a string",
        ),
        (
            'model = "linoss"\n[params]\nlr = { choise = [1e-3] }',
            "unknown key 'choise'; allowed keys: choices, value, low",
        ),
        ('model = "linoss"\n[params]\nlr = { choices = [1e-3], low = 1e-4 }', "exactly one of"),
        (
            'model = "linoss"\n[params]\nlr = { when = { discretization = ["IM"] } }',
            "exactly one of",
        ),
        ('model = "linoss"\n[params]\nlr = { low = 1e-4 }', "needs both low and high"),
        ('model = "linoss"\n[params]\nlr = { high = 1e-4 }', "needs both low and high"),
        (
            'model = "linoss"\n[params]\nlr = { choices = [1e-3], step = 2 }',
            "'step' does not go with 'choices'",
        ),
        (
            'model = "linoss"\n[params]\nlr = { value = 1e-3, log = true }',
            "'log' does not go with 'value'",
        ),
        ('model = "linoss"\n[params]\nlr = { choices = 1e-3 }', "choices must be a list"),
        (
            'model = "linoss"\n[params]\nlr = { low = 1e-5, high = 1e-2, step = 1 }',
            "step is for int ranges",
        ),
        (
            'model = "linoss"\n[params]\nlr = { low = 1e-5, high = 1e-2, log = "yes" }',
            "log must be true or false",
        ),
        (
            'model = "linoss"\n[params]\nlr = { choices = [1e-3], when = "IM" }',
            "when must be a table",
        ),
        (
            'model = "linoss"\n[params]\nlr = { choices = [1e-3], field = 3 }',
            "field must be a string",
        ),
        ('model = "linoss"\n[params]\nlr = []', "has no choices"),
        ('model = "linoss"\n[params]\nlr = { low = 1e-2, high = 1e-5 }', "inverted"),
        ('model = "linoss"\n[params]\nhidden = ["wide"]', "'hidden' takes int"),
        ('model = "linoss"\n[params]\nwidth = [16]', "unknown parameter 'width' for model linoss"),
        (
            'model = "linoss"\n[params]\nlr = { choices = [1e-3], when = { blocks = [2] } }',
            "not an earlier parameter",
        ),
        ('model = "linoss"\n[params]\nlr = { value = [1, 2] }', "not a number, string or boolean"),
        (
            'model = "linoss"\n[params]\nlr = { choices = [1e-3], when = { blocks = [] } }',
            "lists no values",
        ),
    ],
)
def test_toml_errors(text, match):
    with pytest.raises(SpaceError, match=match) as info:
        spaces.loads(text, source="t.toml")
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(SpaceError, match="cannot read space file .*missing.toml"):
        spaces.get(tmp_path / "missing.toml")
