"""The study's dashboard note (settings, cost so far, verdict) and its objective's name.

The studies are those of `conftest` (bm-linoss: 7 complete, 1 pruned, 1 failed; 25,860
device-seconds) in a private copy of the database, and new ones created as `study start` does.
"""

from __future__ import annotations

import doctest
import logging
import re
from pathlib import Path

import optuna
import optuna_dashboard
import pytest
import sqlalchemy

from ssmtune import studies
from ssmtune.studies import StudySettings, Verdict, _note, create_or_continue, update_note
from ssmtune.studies._settings import name_objective
from ssmtune.studies._storage import open_storage
from tests.studies.conftest import LINOSS_TRIALS, PROTOCOL

SPACE = str(Path(__file__).parents[2] / "spaces" / "examples" / "small-linoss.toml")
FAST = "tests.search._fakes:quick"


def headings(note: str) -> list[str]:
    return [line for line in note.splitlines() if line.startswith("## ")]


def section(note: str, name: str) -> str:
    """The text under heading `name`, up to the next heading."""
    match = re.search(rf"^## {re.escape(name)}\n(.*?)(?=^## |\Z)", note, re.S | re.M)
    assert match, f"no section {name!r} in:\n{note}"
    return match.group(1).strip()


def load(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=url)


def test_sections_are_written_and_rewritten_without_losing_the_others(study_db_copy):
    study = load(study_db_copy, "bm-linoss")
    assert optuna_dashboard.get_note(study) == ""
    assert update_note(study, settings=True)
    note = optuna_dashboard.get_note(study)
    assert headings(note) == ["## Settings"]
    settings = section(note, "Settings")
    for line in (
        "- task: BasicMotions",
        "- model: linoss",
        "- space: linoss-full (8 points)",
        "- sampler: grid",
        "- pruner: none",
        "- seed: 0",
        "- protocol: max_steps 2000, eval_every 100, patience 10, batch_size 32",
        "- budget: none",
        "- objective: maximize val_accuracy",
    ):
        assert line in settings.splitlines(), (line, settings)

    verdict = Verdict(a="bm-linoss", b="bm-dlinoss", text="B halves the cost.")
    assert update_note(study, verdict=verdict)
    assert update_note(study, cost=True)
    note = optuna_dashboard.get_note(study)
    assert headings(note) == ["## Settings", "## Cost so far", "## Verdict"]
    assert section(note, "Settings") == settings  # kept while the others were written
    assert "B halves the cost." in section(note, "Verdict")

    # a user's text written in the dashboard, then a rewrite of one section
    user = "Ask Ana about the LR range.\n\n" + note + "\n\n## Ideas\ntry S5 next"
    optuna_dashboard.save_note(study, user)
    study.set_user_attr("budget_hours", 12.5)
    assert update_note(study, settings=True)
    note = optuna_dashboard.get_note(study)
    assert note.startswith("Ask Ana about the LR range.\n\n## Settings\n")
    assert headings(note) == ["## Settings", "## Cost so far", "## Verdict", "## Ideas"]
    assert "- budget: 12.5 device-hours" in section(note, "Settings")
    assert "- budget: none" not in note
    assert "B halves the cost." in section(note, "Verdict")
    assert section(note, "Ideas") == "try S5 next"
    assert note.count("## Settings") == 1


def test_cost_so_far_counts_trials_and_device_hours(study_db_copy):
    study = load(study_db_copy, "bm-linoss")
    assert update_note(study, cost=True)
    cost = section(optuna_dashboard.get_note(study), "Cost so far")
    hours = sum(t[-1] for t in LINOSS_TRIALS) / 3600
    assert f"- spent: {hours:.3g} device-hours" in cost.splitlines()
    assert "- trials: 7 complete, 1 pruned, 1 failed, 0 running or waiting" in cost.splitlines()
    assert re.search(r"^- updated: \d{4}-\d\d-\d\d \d\d:\d\d UTC$", cost, re.M), cost
    study.set_user_attr("budget_hours", 10)
    assert update_note(study, cost=True)
    cost = section(optuna_dashboard.get_note(study), "Cost so far")
    assert f"- spent: {hours:.3g} device-hours of a budget of 10 (72%)" in cost.splitlines()


def test_a_verdict_names_the_other_study_and_escapes_markdown(study_db_copy):
    a, b = load(study_db_copy, "bm-linoss"), load(study_db_copy, "bm-dlinoss")
    verdict = Verdict(a="bm-linoss", b="bm-dlinoss", text="A *wins* <b>now</b>.")
    for study in (a, b):
        assert update_note(study, verdict=verdict)
    text_a = section(optuna_dashboard.get_note(a), "Verdict")
    text_b = section(optuna_dashboard.get_note(b), "Verdict")
    assert text_a.startswith("`ssmtune compare` with bm-dlinoss, ")
    assert "A = bm-linoss (this study), B = bm-dlinoss." in text_a
    assert text_b.startswith("`ssmtune compare` with bm-linoss, ")
    assert "A = bm-linoss, B = bm-dlinoss (this study)." in text_b
    assert text_a.endswith(r"A \*wins\* \<b\>now\</b\>.")


def test_a_failed_write_is_one_logged_line_and_no_error(study_db_copy, monkeypatch, caplog):
    study = load(study_db_copy, "bm-linoss")

    def broken(*args, **kwargs):
        raise sqlalchemy.exc.OperationalError("UPDATE", {}, Exception("database is locked"))

    monkeypatch.setattr(study._storage, "set_study_system_attr", broken)
    with caplog.at_level(logging.WARNING, logger="ssmtune.studies._note"):
        assert update_note(study, settings=True, cost=True) is False
    (record,) = caplog.records
    message = record.getMessage()
    assert "\n" not in message
    assert message.startswith("study bm-linoss: the dashboard note was not written")
    assert "database is locked" in message


def test_the_examples_in_the_docstrings_hold():
    assert doctest.testmod(_note).failed == 0


def settings_of(direction: str) -> StudySettings:
    return StudySettings(
        task="BasicMotions" if direction == "maximize" else "PPG",
        model="linoss",
        space="linoss-full",
        space_size=8,
        sampler="grid",
        pruner="none",
        protocol=PROTOCOL,
        seed=3,
        direction=direction,
    )


@pytest.mark.parametrize(
    ("direction", "metric"), [("maximize", "val_accuracy"), ("minimize", "val_mse")]
)
def test_a_new_study_names_its_objective_and_writes_its_settings(sqlite_url, direction, metric):
    study, created = create_or_continue(open_storage(sqlite_url), "s", settings_of(direction))
    assert created
    assert load(sqlite_url, "s").metric_names == [metric]
    settings = section(optuna_dashboard.get_note(study), "Settings")
    assert f"- objective: {direction} {metric}" in settings.splitlines()
    assert "- seed: 3" in settings.splitlines()


def test_an_older_study_gets_its_name_once_when_continued(sqlite_url, monkeypatch):
    """A study created before objectives were named: continuing it names it; a second time
    writes nothing."""
    old = optuna.create_study(study_name="s", storage=sqlite_url, direction="minimize")
    for key, value in settings_of("minimize").user_attrs().items():
        old.set_user_attr(key, value)
    assert load(sqlite_url, "s").metric_names is None
    create_or_continue(open_storage(sqlite_url), "s", settings_of("minimize"))
    study = load(sqlite_url, "s")
    assert study.metric_names == ["val_mse"]
    writes = []
    monkeypatch.setattr(study._storage, "set_study_system_attr", lambda *a: writes.append(a))
    name_objective(study)
    assert writes == []


def test_compare_writes_the_verdict_into_both_notes(study_db_copy, cli):
    args = ["compare", "--task", "BasicMotions", "bm-linoss", "bm-dlinoss", "--resamples", "200"]
    code, out, err = cli(*args, "--storage", study_db_copy, "--no-note")
    assert code == 0, err
    for name in ("bm-linoss", "bm-dlinoss"):
        assert optuna_dashboard.get_note(load(study_db_copy, name)) == ""
    code, out, err = cli(*args, "--storage", study_db_copy)
    assert code == 0, err
    verdict = studies.compare(
        study_db_copy, "BasicMotions", "bm-linoss", "bm-dlinoss", resamples=200
    )
    for name, other in (("bm-linoss", "bm-dlinoss"), ("bm-dlinoss", "bm-linoss")):
        note = optuna_dashboard.get_note(load(study_db_copy, name))
        assert headings(note) == ["## Verdict"]
        text = section(note, "Verdict")
        assert text.startswith(f"`ssmtune compare` with {other}, ")
        assert verdict["verdict"] in text
    # the other studies of the task are left alone
    assert optuna_dashboard.get_note(load(study_db_copy, "bm-small")) == ""


def test_compare_help_says_it_writes_the_notes(cli):
    code, out, _ = cli("compare", "--help")
    text = " ".join(out.split())
    assert code == 0
    assert "writes the verdict" in text and "both studies' notes" in text and "--no-note" in text


@pytest.mark.usefixtures("ray_local")
def test_each_run_writes_its_cost_and_resume_names_an_older_study(sqlite_url):
    from ssmtune.search._start import resume_study, start_study

    start_study(
        task="basicmotions",
        space=SPACE,
        storage=sqlite_url,
        workers=2,
        eval_every=10,
        n_trials=2,
        name="run",
        objective=FAST,
    )
    study = load(sqlite_url, "run")
    assert study.metric_names == ["val_accuracy"]
    note = optuna_dashboard.get_note(study)
    assert headings(note) == ["## Settings", "## Cost so far"]
    assert "2 complete, 0 pruned, 0 failed, 0 running or waiting" in section(note, "Cost so far")

    # as if created before this version: no name; a verdict the run's note must keep
    with sqlalchemy.create_engine(sqlite_url).begin() as con:
        con.execute(
            sqlalchemy.text("DELETE FROM study_system_attributes WHERE key = :k"),
            {"k": "study:metric_names"},
        )
    assert load(sqlite_url, "run").metric_names is None
    update_note(study, verdict=Verdict(a="run", b="other", text="B halves the cost."))
    study.set_user_attr("n_trials", 3)  # one more grid point to run
    resume_study("run", storage=sqlite_url, objective=FAST)
    study = load(sqlite_url, "run")
    assert study.metric_names == ["val_accuracy"]
    note = optuna_dashboard.get_note(study)
    assert headings(note) == ["## Settings", "## Cost so far", "## Verdict"]
    assert "3 complete, 0 pruned, 0 failed, 0 running or waiting" in section(note, "Cost so far")
    assert "B halves the cost." in section(note, "Verdict")
