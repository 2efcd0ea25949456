"""`studies.compare` and `ssmtune compare`: the measured form of "a smaller space does as well"."""

from __future__ import annotations

import json

import pytest

from studies import MIN_COMPLETE, compare, expected_best
from tests.studies.conftest import DLINOSS_VALUES, LINOSS_VALUES
from tests.studies.test_best import optuna_cli


def test_finished_studies_conclude(study_db, cli):
    # at the default target (89 %, one point below B's best) only one trial of B reaches it and
    # none of A, so neither reaches it in a third of the resamples: inconclusive
    # (test_default_target_out_of_reach_is_inconclusive); at 85 % B's saving is clear
    code, out, _ = cli(
        "compare", "--task", "BasicMotions", "linoss-full", "d-linoss-reduced",
        "--storage", study_db, "--json", "--target", "0.85",
    )  # fmt: skip
    assert code == 0
    c = json.loads(out)
    assert (c["a"]["study"], c["b"]["study"]) == ("bm-linoss", "bm-dlinoss")
    assert c["conclusive"] is True and c["problems"] == []
    assert c["points"] == {"a": 8, "b": 4, "reduction": 0.5}
    assert c["device_hours"]["a"] == pytest.approx(25860 / 3600)
    assert c["device_hours"]["b"] == pytest.approx(3.0)
    assert c["best_value"]["diff"] == pytest.approx(0.90 - 0.875)
    assert c["test_at_best"]["diff"] == pytest.approx(0.84 - 0.80)
    # equal trials: k in {1, 5} and the largest both reach, min(7, 6) = 6
    assert [e["k"] for e in c["equal_trials"]] == [1, 5, 6]
    e6 = c["equal_trials"][-1]
    assert e6["a"] == pytest.approx(expected_best(LINOSS_VALUES, 6))
    assert e6["b"] == pytest.approx(max(DLINOSS_VALUES))
    # equal device-hours: from one trial of the dearer study to all of the cheaper one's budget
    budgets = [e["device_hours"] for e in c["equal_device_hours"]]
    assert budgets[0] == pytest.approx(25860 / 3600 / 7) and budgets[-1] == pytest.approx(3.0)
    assert c["equal_device_hours"][-1]["b"] == pytest.approx(0.90)
    assert "50% fewer than A" in c["verdict"] and "B better" in c["verdict"]
    assert not c["verdict"].startswith("INCONCLUSIVE")


def test_agrees_with_optuna_cli(study_db):
    c = compare(study_db, "BasicMotions", "bm-linoss", "bm-dlinoss")
    for side in ("a", "b"):
        best = optuna_cli("best-trial", "--study-name", c[side]["study"], "--storage", study_db)
        assert c["best_value"][side] == best["value"]
        assert c["test_at_best"][side] == best["user_attrs"]["test"]


def test_small_or_unfinished_is_said_plainly(study_db, cli):
    code, out, _ = cli(
        "compare", "--task", "BasicMotions", "linoss-full", "linoss-im", "--storage", study_db
    )
    assert code == 0
    text = " ".join(out.split())
    assert "INCONCLUSIVE" in text
    assert "is unfinished: 3 of 8 grid points done" in text
    assert f"is too small: 3 complete trial(s), at least {MIN_COMPLETE} needed" in text
    c = compare(study_db, "BasicMotions", "linoss-full", "linoss-im")
    assert c["conclusive"] is False and c["b"]["finished"] is False


def test_empty_study_is_inconclusive(study_db_copy):
    import optuna

    from tests.studies.conftest import study_attrs

    s = optuna.create_study(study_name="bm-empty", storage=study_db_copy, direction="maximize")
    for k, v in study_attrs("BasicMotions", "lru", "lru-full", 8, "grid").items():
        s.set_user_attr(k, v)
    c = compare(study_db_copy, "BasicMotions", "linoss-full", "lru-full")
    assert c["conclusive"] is False
    assert c["equal_trials"] == [] and c["equal_device_hours"] == []
    assert "0 complete trial(s)" in c["verdict"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--task", "EigenWorms", "a", "b"], "no studies for task 'eigenworms'"),
        (["--task", "BasicMotions", "linoss-full", "s4-full"], "no study of task 'BasicMotions'"),
        (["--task", "BasicMotions", "bm-linoss", "linoss-full"], "are the same study"),
        (["--task", "PPG", "lru-auto", "bm-linoss"], "no study of task 'PPG' with name or space"),
    ],
)
def test_bad_input_exit_code_2(study_db, cli, args, message):
    code, _, err = cli("compare", *args, "--storage", study_db)
    assert code == 2
    assert message in " ".join(err.split())


def test_ambiguous_space_names_the_studies(study_db_copy, cli):
    import optuna

    from tests.studies.conftest import study_attrs

    s = optuna.create_study(study_name="bm-linoss-2", storage=study_db_copy, direction="maximize")
    for k, v in study_attrs("BasicMotions", "linoss", "linoss-full", 8, "tpe").items():
        s.set_user_attr(k, v)
    code, _, err = cli(
        "compare", "--task", "BasicMotions", "linoss-full", "d-linoss-reduced",
        "--storage", study_db_copy,
    )  # fmt: skip
    assert code == 2
    assert "several studies of task 'BasicMotions' search space 'linoss-full'" in " ".join(
        err.split()
    )
