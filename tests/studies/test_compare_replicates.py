"""`compare` across replicate studies (`studies._replicates`, issue 24): TPE + Hyperband studies
of two spaces, three per side, compared by whole studies."""

from __future__ import annotations

import doctest
import json

import optuna
import pytest

from ssmtune.studies import StudyError, _replicates, compare_replicates
from tests.studies.conftest import add_trials, study_attrs

P = {"lr": 1e-3, "hidden": 16, "include_time": True}


def _study(url: str, name: str, space: str, trials: list[tuple[float, float]]) -> None:
    s = optuna.create_study(study_name=name, storage=url, direction="maximize")
    for k, v in {**study_attrs("BasicMotions", "linoss", space, None, "tpe"),
                 "pruner": "hyperband"}.items():  # fmt: skip
        s.set_user_attr(k, v)
    add_trials(s, [(P, "COMPLETE", v, v - 0.05, d) for v, d in trials])


@pytest.fixture
def replicates(tmp_path) -> str:
    """A side: three studies reaching 0.9 after 3600 s; B: after 1200 s, one never."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for i in range(3):
        _study(url, f"a{i}", "linoss-full", [(0.5, 1800.0), (0.95, 1800.0 + 600 * i)])
    for i in range(3):
        _study(url, f"b{i}", "d-linoss-reduced", [(0.5, 600.0), (0.92, 600.0 + 300 * i)])
    _study(url, "b3", "d-linoss-reduced", [(0.5, 600.0), (0.6, 600.0)])
    return url


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(_replicates).failed == 0


def test_three_replicates_a_side_give_an_interval_over_studies(replicates: str) -> None:
    c = compare_replicates(replicates, "BasicMotions", ["a0", "a1", "a2"], ["b0", "b1", "b2"],
                           target=0.9)  # fmt: skip
    assert [r["reach_device_hours"] for r in c["a"]["studies"]] == pytest.approx(
        [1.0, 1 + 1 / 6, 1 + 2 / 6]
    )
    assert c["p_b_less"] == 1.0 and c["b"]["reached_fraction"] == 1.0
    mean_a, mean_b = 1 + 1 / 6, (1 / 3 + 5 / 12 + 1 / 2) / 3
    assert c["ratio"]["value"] == pytest.approx(mean_b / mean_a)
    lo, hi = c["ratio"]["interval"]
    assert lo <= c["ratio"]["value"] <= hi and hi <= 0.5 and c["conclusive"]
    assert c["resampling"]["method"] == "bootstrap over replicate studies"


def test_a_replicate_that_never_reached_it_means_no_interval(replicates: str, cli) -> None:
    c = compare_replicates(replicates, "BasicMotions", ["a0", "a1", "a2"],
                           ["b0", "b1", "b3"], target=0.9)  # fmt: skip
    assert c["ratio"]["interval"] is None and not c["conclusive"]
    assert c["b"]["reached_fraction"] == pytest.approx(2 / 3)
    assert c["ratio"]["says"].startswith("no interval: B: 67% of its studies reached")
    assert c["p_b_less"] == pytest.approx(6 / 9)  # b3 never reaches: loses to every A study
    code, out, err = cli("compare", "--task", "BasicMotions", "a0,a1,a2", "b0,b1,b3",
                         "--target", "0.9", "--storage", replicates)  # fmt: skip
    assert code == 0, err
    text = " ".join(out.split())
    assert "P(B reaches the target for less than A) = 0.67" in text and "no interval" in text
    code, out, _ = cli("compare", "--task", "BasicMotions", "a0,a1", "b0,b1", "--json",
                       "--storage", replicates)  # fmt: skip
    got = json.loads(out)
    assert "A has 2 replicate studies, at least 3 needed" in got["problems"]


def test_bad_groups_are_one_line(replicates: str, cli) -> None:
    with pytest.raises(StudyError, match="on both sides"):
        compare_replicates(replicates, "BasicMotions", ["a0", "b0"], ["b0"])
    code, _, err = cli("compare", "--task", "BasicMotions", "a0,nope", "b0",
                       "--storage", replicates)  # fmt: skip
    assert code == 2 and "no study 'nope'" in err and len(err.strip().splitlines()) == 1
