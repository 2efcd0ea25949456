"""Studies recorded before ssmtune's modules moved under `ssmtune` (issue 23) still resume.

`data/pre_namespace.sql` is a database that ssmtune 0.1.0 wrote at commit 4577dbc (its header
says how): two grid studies stopped with Ctrl+C, one training for real, one recording its
objective by the old module name ``benchmarks._overhead:noop``. Today's code resumes both to
the end, each grid point complete once.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from ssmtune import spaces
from ssmtune.search._objective import objective_path
from ssmtune.studies import point_key, study_status

DUMP = Path(__file__).parent / "data" / "pre_namespace.sql"
RECORDED_CHECKPOINTS = "/tmp/oldfix/old.db.checkpoints"


@pytest.fixture
def old_db(tmp_path: Path) -> str:
    path = tmp_path / "old.db"
    sql = DUMP.read_text().replace(RECORDED_CHECKPOINTS, f"{path}.checkpoints")
    with sqlite3.connect(path) as db:
        db.executescript(sql)
    db.close()
    return f"sqlite:///{path}"


def test_old_module_names_map_to_the_new_ones() -> None:
    assert objective_path("benchmarks._overhead:noop") == "ssmtune.benchmarks._overhead:noop"
    assert objective_path("search._objective:train_objective") == (
        "ssmtune.search._objective:train_objective"
    )
    # a user's module keeps its name, even one that starts like a package of ours
    assert objective_path("tests.search._fakes:quick") == "tests.search._fakes:quick"
    assert objective_path("models.mine:objective") == "models.mine:objective"


def _points_complete_once(url: str, name: str) -> None:
    study = optuna.load_study(study_name=name, storage=url)
    space = spaces.get(study.user_attrs["space"])
    n = study.user_attrs.get("n_trials")
    grid = space.grid()[:n] if n else space.grid()
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert sorted(point_key(t.params) for t in complete) == sorted(point_key(p) for p in grid)
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))


@pytest.mark.usefixtures("ray_local")
def test_a_study_of_the_old_layout_resumes(old_db: str) -> None:
    from ssmtune.search import resume_study

    before = {
        name: study_status(optuna.load_study(study_name=name, storage=old_db))
        for name in ("old-noop", "old-train")
    }
    assert (before["old-noop"]["n_complete"], before["old-noop"]["n_waiting"]) == (7, 41)
    assert (before["old-train"]["n_complete"], before["old-train"]["n_waiting"]) == (2, 2)
    noop = resume_study("old-noop", storage=old_db, workers=1)
    assert noop["finished"] == noop["total"] == 48 and noop["n_fail"] == 0
    _points_complete_once(old_db, "old-noop")
    # the run read the old name as today's (the repository's root, this test's working folder,
    # would import the bare `benchmarks` too: the record shows which name was used)
    execution = optuna.load_study(study_name="old-noop", storage=old_db).user_attrs["execution"]
    assert execution["objective"] == "ssmtune.benchmarks._overhead:noop"
    train = resume_study("old-train", storage=old_db, workers=1)
    assert train["finished"] == train["total"] == 4 and train["n_fail"] == 0
    _points_complete_once(old_db, "old-train")
