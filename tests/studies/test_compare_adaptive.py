"""`compare` of studies whose trials depend on each other (issue 24): an adaptive sampler or a
pruner on either side gets point figures and one line saying why no interval is given; random
and grid studies keep the within-study bootstrap and say so."""

from __future__ import annotations

import doctest
import json

import optuna
import pytest

from ssmtune.studies import _adaptive, compare


def _make_adaptive(url: str, name: str, sampler: str, pruner: str) -> None:
    study = optuna.load_study(study_name=name, storage=url)
    study.set_user_attr("sampler", sampler)
    study.set_user_attr("pruner", pruner)


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(_adaptive).failed == 0


def test_grid_studies_keep_the_bootstrap_and_say_so(study_db: str) -> None:
    c = compare(study_db, "BasicMotions", "bm-linoss", "bm-dlinoss")
    assert c["resampling"]["method"] == "within-study bootstrap"
    assert c["test_at_best"]["a_interval"] is not None


@pytest.mark.parametrize(("sampler", "pruner"), [("tpe", "hyperband"), ("random", "median"),
                                                 ("tpe", "none")])  # fmt: skip
def test_an_adaptive_side_gets_point_figures_and_no_interval(
    study_db_copy: str, sampler: str, pruner: str
) -> None:
    _make_adaptive(study_db_copy, "bm-dlinoss", sampler, pruner)
    study = optuna.load_study(study_name="bm-linoss", storage=study_db_copy)
    values = sorted(t.value for t in study.trials if t.value is not None)
    goal = values[len(values) // 2]  # A reaches it, after some trials that do not
    c = compare(study_db_copy, "BasicMotions", "bm-linoss", "bm-dlinoss", curves=True, target=goal)
    assert c["resampling"]["method"] is None and not c["conclusive"]
    assert "bm-dlinoss" in c["resampling"]["reasons"][0]
    assert c["equal_trials"] == [] and c["equal_device_hours"] == [] and "curves" not in c
    tv = c["test_at_best"]
    assert tv["a_interval"] is None and tv["b_interval"] is None and tv["diff_interval"] is None
    reach = c["cost_to_reach"]
    assert reach["a"]["interval"] is None and reach["ratio"]["interval"] is None
    assert c["verdict"].startswith("NO INTERVAL: ") and "[" not in c["verdict"]
    # the observed cost is the study's own: its trials in order up to the first reaching one
    spent = 0.0
    for t in sorted(study.trials, key=lambda t: t.number):
        spent += t.user_attrs["device_s"]
        if t.value is not None and t.value >= goal:
            break
    assert reach["a"]["device_hours"] == pytest.approx(spent / 3600)


def test_the_command_prints_no_interval_for_two_tpe_hyperband_studies(
    study_db_copy: str, cli, tmp_path
) -> None:
    for name in ("bm-linoss", "bm-dlinoss"):
        _make_adaptive(study_db_copy, name, "tpe", "hyperband")
    code, out, err = cli("compare", "--task", "BasicMotions", "bm-linoss", "bm-dlinoss",
                         "--storage", study_db_copy, "--out", str(tmp_path / "f"))  # fmt: skip
    assert code == 0, err
    text = " ".join(out.split())
    assert "no intervals" in text and "90% interval" not in text and "NO INTERVAL" in text
    assert "no figures" in err and not (tmp_path / "f").exists()
    code, out, _ = cli("compare", "--task", "BasicMotions", "bm-linoss", "bm-dlinoss",
                       "--storage", study_db_copy, "--json", "--no-note")  # fmt: skip
    assert json.loads(out)["resampling"]["reasons"][1].startswith("bm-dlinoss samples with 'tpe'")
