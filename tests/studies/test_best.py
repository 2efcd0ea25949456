"""`studies.best_trials` and `ssmtune best`, checked against the optuna CLI on the same database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ssmtune.studies import StudyError, best_trials

OPTUNA = str(Path(sys.executable).parent / "optuna")


def optuna_cli(*args: str) -> object:
    """Run the optuna CLI with JSON output; its parsed answer."""
    done = subprocess.run(
        [OPTUNA, *args, "-f", "json"], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", ["bm-linoss", "bm-dlinoss", "ppg-lru"])
def test_best_agrees_with_optuna_cli(study_db, cli, name):
    theirs = optuna_cli("best-trial", "--study-name", name, "--storage", study_db)
    code, out, _ = cli("best", "--study", name, "--storage", study_db, "--json")
    assert code == 0
    (ours,) = json.loads(out)
    assert ours["study"] == name
    assert ours["trial"] == theirs["number"]
    assert ours["value"] == pytest.approx(theirs["value"])
    assert ours["params"] == theirs["params"]
    assert ours["test"] == theirs["user_attrs"]["test"]
    assert ours["device_s"] == theirs["user_attrs"]["device_s"]


def test_best_trials_per_task_ranked(study_db):
    records = best_trials(study_db, top=3)
    by_task = {}
    for r in records:
        by_task.setdefault(r["task"], []).append(r)
    # BasicMotions: the three best over bm-linoss, bm-dlinoss and bm-small (accuracy, max)
    bm = by_task["BasicMotions"]
    assert [(r["study"], r["value"]) for r in bm] == [
        ("bm-dlinoss", 0.90),
        ("bm-dlinoss", 0.88),
        ("bm-linoss", 0.875),
    ]
    assert [r["rank"] for r in bm] == [1, 2, 3]
    # PPG is an MSE task: the lowest first
    assert [r["value"] for r in by_task["PPG"]] == [0.065, 0.070, 0.080]
    assert by_task["PPG"][0]["metric"] == "mse"
    assert "Heartbeat" not in by_task  # the empty study has nothing to rank


def test_best_filters(study_db):
    (r,) = best_trials(study_db, task="basicmotions", model="LinOSS")
    assert (r["study"], r["trial"], r["value"], r["test"]) == ("bm-linoss", 4, 0.875, 0.80)
    assert r["params"] == {"lr": 1e-3, "hidden": 16, "include_time": True}
    assert r["device_s"] == 7200.0 and r["status"] == "ok"
    assert len(best_trials(study_db, study="bm-small", top=10)) == 3  # top > N: all of them


def test_best_human_output(study_db, cli):
    code, out, _ = cli("best", "--task", "PPG", "--storage", study_db)
    assert code == 0
    assert "ppg-lru" in out and "0.065" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--study", "nope"], "unknown study 'nope'; studies in this storage: bm-dlinoss"),
        (["--task", "EigenWorms"], "no studies for task 'eigenworms'; tasks with studies:"),
        (["--model", "s4"], "no studies for model 's4'"),
        (["--study", "hb-empty"], "no complete trials yet in the selected studies"),
        (["--top", "0"], "top must be an integer >= 1"),
    ],
)
def test_bad_input_exit_code_2(study_db, cli, args, message):
    code, out, err = cli("best", *args, "--storage", study_db)
    assert code == 2
    assert out == ""
    assert message in " ".join(err.split())
    assert "Traceback" not in err


def test_missing_database_is_an_error(tmp_path, cli):
    code, _, err = cli("best", "--storage", f"sqlite:///{tmp_path}/none.db")
    assert code == 2 and "no study database at" in err
    assert not (tmp_path / "none.db").exists()
    with pytest.raises(StudyError, match="bad storage URL"):
        best_trials("ssmtune.db")


def test_best_exit_code_2_as_a_subprocess(study_db):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ssmtune.search.cli",
            "best",
            "--study",
            "nope",
            "--storage",
            study_db,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "error:" in done.stderr and "unknown study 'nope'" in done.stderr
