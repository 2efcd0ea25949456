"""The users' door, `ssmtune/__init__.py` (issue 23): `__all__` names what it binds, each name is
the subpackage's own object, and ``import ssmtune`` loads none of Ray, Optuna or JAX."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ssmtune
from ssmtune import models, search, studies, tasks


def test_all_names_every_name_the_door_binds() -> None:
    assert set(ssmtune.__all__) == {"__version__", *ssmtune._DOOR}
    assert len(ssmtune.__all__) == len(set(ssmtune.__all__))
    assert set(ssmtune.__all__) <= set(dir(ssmtune))


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("start_study", search.start_study),
        ("resume_study", search.resume_study),
        ("evaluate_study", search.evaluate_study),
        ("best", studies.best_trials),
        ("report", studies.report),
        ("compare", studies.compare),
        ("train", models.train),
        ("config", models.config),
        ("TrainOptions", models.TrainOptions),
        ("load_task", tasks.load),
    ],
)
def test_each_name_is_its_packages_own(name: str, target: object) -> None:
    assert getattr(ssmtune, name) is target


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ssmtune.nope  # noqa: B018


def test_importing_the_door_is_light() -> None:
    code = (
        "import sys, ssmtune; print(ssmtune.__version__); "
        "print(sorted(m for m in ('ray', 'optuna', 'jax') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split("\n")
    assert out[0] != "" and out[1] == "[]", out
