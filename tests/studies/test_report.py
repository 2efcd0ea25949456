"""`studies.report` and `ssmtune report` on small finished studies."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import timedelta

import numpy as np
import optuna
import pytest

from ssmtune.studies import StudyError, expected_best, report, study_summary
from ssmtune.studies._query import study_wall_s
from tests.studies.conftest import (
    DLINOSS_VALUES,
    LINOSS_VALUES,
    PPG_VALUES,
    T0,
    add_trials,
)
from tests.studies.test_best import optuna_cli

JSON_KEYS = {
    "task",
    "study",
    "space",
    "space_size",
    "n_complete",
    "n_pruned",
    "n_fail",
    "device_hours",
    "wall_hours",
    "best_value",
    "test_at_best",
    "expected_best",
}


def rows_by_study(rows):
    return {r["study"]: r for r in rows}


def test_report_json_rows(study_db, cli):
    code, out, _ = cli("report", "--storage", study_db, "--json")
    assert code == 0
    rows = rows_by_study(json.loads(out))
    assert set(rows) == {"bm-linoss", "bm-dlinoss", "bm-small", "ppg-lru", "hb-empty"}
    for r in rows.values():
        assert JSON_KEYS <= set(r)
    r = rows["bm-linoss"]
    assert (r["task"], r["space"], r["space_size"]) == ("BasicMotions", "linoss-full", 8)
    assert (r["n_complete"], r["n_pruned"], r["n_fail"]) == (7, 1, 1)
    # device-hours count every trial, pruned and failed ones included
    assert r["device_hours"] == pytest.approx((5 * 3600 + 2 * 1800 + 600 + 60 + 3600) / 3600)
    assert r["wall_hours"] == pytest.approx(r["device_hours"])  # one trial after another
    assert (r["best_value"], r["test_at_best"], r["best_trial"]) == (0.875, 0.80, 4)
    # k in {1, 5, 10, 20, 50} with k <= N = 7
    assert set(r["expected_best"]) == {"1", "5"}
    assert r["expected_best"]["1"] == pytest.approx(np.mean(LINOSS_VALUES))
    assert r["expected_best"]["5"] == pytest.approx(expected_best(LINOSS_VALUES, 5))
    assert r["expected_best_device_hours"]["5"] == pytest.approx(5 * r["device_hours"] / 7)


def test_report_agrees_with_optuna_cli(study_db):
    rows = rows_by_study(report(study_db))
    for name in ("bm-linoss", "ppg-lru"):
        trials = optuna_cli("trials", "--study-name", name, "--storage", study_db)
        states = Counter(t["state"] for t in trials)
        r = rows[name]
        assert (r["n_complete"], r["n_pruned"], r["n_fail"]) == (
            states["COMPLETE"],
            states["PRUNED"],
            states["FAIL"],
        )
        best = optuna_cli("best-trial", "--study-name", name, "--storage", study_db)
        assert (r["best_trial"], r["best_value"]) == (best["number"], best["value"])
        assert r["test_at_best"] == best["user_attrs"]["test"]


def test_minimised_study_uses_minima(study_db):
    (r,) = report(study_db, task="PPG", ks=[1, 6])
    assert r["metric"] == "mse" and r["direction"] == "minimize"
    assert r["best_value"] == 0.065
    assert r["expected_best"]["1"] == pytest.approx(np.mean(PPG_VALUES))
    assert r["expected_best"]["6"] == pytest.approx(min(PPG_VALUES))
    assert r["space_size"] is None


def test_within_tolerance(study_db):
    rows = rows_by_study(report(study_db, task="BasicMotions", within=0.03))
    w = rows["bm-dlinoss"]["within"]
    assert w["tolerance"] == 0.03
    # values 0.70 0.85 0.90 0.80 0.88 0.72: E[best of 2] = 12.89/15 = 0.8593 (0.041 short),
    # E[best of 3] = 17.63/20 = 0.8815 (within 0.03 of 0.90)
    assert w["expected"]["trials"] == 3
    assert w["expected"]["device_hours"] == pytest.approx(1.5)
    # in trial order 0.70, 0.85, 0.90: the third trial, 1.5 hours
    assert w["observed"] == {"trials": 3, "device_hours": pytest.approx(1.5)}
    assert rows["bm-dlinoss"]["expected_best"]["5"] == pytest.approx(
        expected_best(DLINOSS_VALUES, 5)
    )


def test_dodge_option(study_db):
    (r,) = report(study_db, study="bm-dlinoss", estimator="dodge")
    assert r["estimator"] == "dodge"
    assert r["expected_best"]["5"] == pytest.approx(
        expected_best(DLINOSS_VALUES, 5, estimator="dodge")
    )


def test_empty_study_row(study_db):
    (r,) = report(study_db, task="Heartbeat")
    assert r["n_complete"] == 0 and r["best_value"] is None and r["expected_best"] == {}


def test_wall_hours_count_overlap_once(tmp_path):
    url = f"sqlite:///{tmp_path}/w.db"
    s = optuna.create_study(study_name="w", storage=url)
    add_trials(s, [({"lr": 1e-3}, "COMPLETE", 0.1, 0.1, 3600.0)], start=T0)
    # a second trial running in parallel for the last half hour of the first, then 30 min more
    add_trials(s, [({"lr": 2e-3}, "COMPLETE", 0.2, 0.2, 3600.0)], start=T0 + timedelta(minutes=30))
    # a resume the next day: the idle night does not count
    add_trials(s, [({"lr": 3e-3}, "COMPLETE", 0.3, 0.3, 1800.0)], start=T0 + timedelta(days=1))
    assert study_wall_s(s) == pytest.approx(1.5 * 3600 + 1800)
    r = study_summary(s)
    assert r["device_hours"] == pytest.approx(2.5)
    assert r["wall_hours"] == pytest.approx(2.0)


def test_report_out_writes_tables_and_plots(study_db, tmp_path, cli):
    out = tmp_path / "out"
    code, stdout, err = cli("report", "--storage", study_db, "--out", str(out))
    assert code == 0
    assert "bm-linoss" in stdout
    md = (out / "report.md").read_text()
    assert "| BasicMotions | bm-linoss | linoss-full (8) | 7 / 1 / 1 |" in md
    assert "87.50%" in md  # the best validation accuracy
    with open(out / "report.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["study"] for r in rows} == {
        "bm-linoss",
        "bm-dlinoss",
        "bm-small",
        "ppg-lru",
        "hb-empty",
    }
    names = {p.name for p in out.iterdir()}
    for stem in (
        "expected_best_trials_BasicMotions",
        "expected_best_device_hours_BasicMotions",
        "expected_best_trials_PPG",
        "history_bm-linoss",
        "importance_bm-linoss",
        "history_ppg-lru",
    ):
        assert f"{stem}.png" in names and f"{stem}.html" in names
        assert (out / f"{stem}.png").read_bytes()[:4] == b"\x89PNG"
    assert "plotly.min.js" in names  # the HTML works offline
    # too small for importances or history: said in the notes, not a crash
    assert "hb-empty: no complete trials" in md
    assert "history_hb-empty.png" not in names


def test_importance_too_small_is_a_note(study_db, tmp_path):
    from ssmtune.studies._plots import param_importances

    (s,) = [optuna.load_study(study_name="bm-small", storage=study_db)]
    imp, why = param_importances(s)
    assert imp is not None or why  # 3 trials: either computed or explained
    url = f"sqlite:///{tmp_path}/one.db"
    one = optuna.create_study(study_name="one", storage=url)
    add_trials(one, [({"lr": 1e-3}, "COMPLETE", 0.1, 0.1, 10.0)])
    assert param_importances(one) == (None, "1 complete trial(s), at least 2 needed")


def test_evaluation_shown(study_db_copy, cli):
    s = optuna.load_study(study_name="bm-linoss", storage=study_db_copy)
    evaluation = {"seeds": [2345, 3456], "tests": [0.8, 0.9], "mean": 0.85, "std": 0.05}
    s.set_user_attr("evaluation", evaluation)
    code, out, _ = cli("report", "--study", "bm-linoss", "--storage", study_db_copy, "--json")
    (r,) = json.loads(out)
    assert (r["evaluation"], r["evaluation_mean"], r["evaluation_std"]) == (evaluation, 0.85, 0.05)
    code, out, _ = cli("report", "--study", "bm-linoss", "--storage", study_db_copy)
    assert "85.0 ± 5.0 (2 seeds)" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--task", "EigenWorms"], "no studies for task 'eigenworms'; tasks with studies:"),
        (["--study", "nope"], "unknown study 'nope'"),
        (["--study", "bm-small", "--k", "5"], "k=5 is larger than the complete trials of every"),
        (["--k", "0"], "k must be an integer >= 1"),
        (["--estimator", "boot"], "unknown estimator 'boot'; allowed: tang, dodge"),
        (["--within", "-1"], "tolerance must be >= 0"),
    ],
)
def test_bad_input_exit_code_2(study_db, cli, args, message):
    code, out, err = cli("report", *args, "--storage", study_db)
    assert code == 2, err
    assert message in " ".join(err.split())


def test_k_larger_than_n_in_python():
    with pytest.raises(StudyError, match="allowed k is an integer 1..3"):
        expected_best([0.1, 0.2, 0.3], 5)
