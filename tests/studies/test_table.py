"""Grid studies as table files (`studies._table`, issue 24): written whole, read back equal,
shown by ``ssmtune table show`` (``--json``: provenance and points), old studies without the
evaluations' record still export, and bad input is one line and exit code 2."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import optuna
import pytest

from ssmtune import spaces, studies
from ssmtune.studies import TABLE_FORMAT, read_table

ROOT = Path(__file__).parents[2]
SPACE = str(ROOT / "spaces" / "examples" / "small-linoss.toml")
DUMP = ROOT / "tests" / "search" / "data" / "pre_namespace.sql"


@pytest.fixture(scope="module")
def grid_db(tmp_path_factory, ray_local) -> str:
    """A complete 12-point grid of stand-in trials (values known: `_fakes.value_of`), and a
    random-sampling study beside it."""
    from ssmtune.search import start_study

    url = f"sqlite:///{tmp_path_factory.mktemp('table') / 'grid.db'}"
    for sampler, name in (("grid", "g"), ("random", "r")):
        start_study(
            task="basicmotions", space=SPACE, sampler=sampler, n_trials=None if sampler == "grid" else 2,
            storage=url, workers=1, name=name, objective="tests.search._fakes:quick",
        )  # fmt: skip
    return url


def test_a_grid_exports_and_reads_back(grid_db: str, tmp_path: Path) -> None:
    from tests.search._fakes import value_of

    out = tmp_path / "g.jsonl"
    table = studies.export_table(grid_db, "g", out, extra={"data": {"arrays_sha256": "x"}})
    again = read_table(out)
    assert again == table and again.complete and len(again.points) == 12
    assert json.loads(out.read_text().splitlines()[0])["format"] == TABLE_FORMAT
    grid = spaces.get(SPACE).grid()
    assert sorted(studies.point_key(p.params) for p in again.points) == sorted(
        studies.point_key(p) for p in grid
    )
    for p in again.points:
        assert p.value == value_of(p.params) and p.state == "complete"
        assert [e[0] for e in p.evals] == [10, 20, 30] and p.evals[-1][3] <= p.device_s
    best = again.best()
    assert best is not None and best.value == max(value_of(g) for g in grid)
    assert again.header["provenance"]["data"] == {"arrays_sha256": "x"}
    assert again.header["provenance"]["libraries"]["optuna"] == optuna.__version__
    assert abs(again.total_device_s() - studies.study_cost_s(
        optuna.load_study(study_name="g", storage=grid_db).get_trials()
    )) < 1e-6  # fmt: skip


def test_the_commands_export_and_show(grid_db: str, tmp_path: Path, cli) -> None:
    out = tmp_path / "g.jsonl"
    code, text, err = cli("table", "export", "g", "--out", str(out), "--storage", grid_db)
    assert code == 0, err
    assert "12/12 points" in text
    code, text, err = cli("table", "show", str(out), "--json")
    assert code == 0, err
    shown = json.loads(text)
    assert {"params", "value", "test", "device_s"} <= set(shown["points"][0])
    assert len(shown["points"]) == 12 and shown["provenance"]["task"] == "basicmotions"
    data = shown["provenance"]["provenance"]["data"]
    assert data["arrays_sha256"] and len(data["arrays_sha256"]) == 64
    code, text, err = cli("table", "show", str(out))
    assert code == 0 and "points 12/12" in text and "best 0." in text


def test_a_study_from_before_the_record_exports_untimed(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(DUMP.read_text())
    db.close()
    table = studies.export_table(f"sqlite:///{path}", "old-train", tmp_path / "old.jsonl")
    assert len(table.points) == 2 and not table.complete
    for p in table.points:
        assert p.evals and all(e[2] is None and e[3] is None for e in p.evals)
        assert not p.evals_timed and p.device_s > 0
    assert read_table(tmp_path / "old.jsonl").summary()["timed"] is False


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["table", "export", "r", "--out", "{tmp}/r.jsonl"], "samples with 'random'"),
        (["table", "export", "nope", "--out", "{tmp}/n.jsonl"], "nope"),
        (["table", "export", "g", "--out", "{tmp}/no/such/g.jsonl"], "no folder"),
        (["table", "show", "{tmp}/missing.jsonl"], "no table file"),
        (["table", "show", "{tmp}/bad.jsonl"], "not an ssmtune table"),
        (["table", "show", "{tmp}/future.jsonl"], "table version 99"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    grid_db: str, tmp_path: Path, cli, args: list[str], expected: str
) -> None:
    (tmp_path / "bad.jsonl").write_text("not json\n")
    (tmp_path / "future.jsonl").write_text(
        json.dumps({"format": TABLE_FORMAT, "version": 99}) + "\n"
    )
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if argv[1] == "export":
        argv += ["--storage", grid_db]
    code, _, err = cli(*argv)
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "r.jsonl").exists() and not (tmp_path / "n.jsonl").exists()


def test_replay_reads_a_table_file_or_a_grid_study(grid_db: str, tmp_path: Path, cli) -> None:
    """``ssmtune replay``: the JSON's ``targets`` carry the promised keys, the files are
    written, and a study in the database replays as its exported table does."""
    out = tmp_path / "g.jsonl"
    studies.export_table(grid_db, "g", out)
    args = ["--sampler", "shuffled", "--workers", "2", "--replicates", "30", "--json"]
    code, text, err = cli("replay", str(out), *args, "--out", str(tmp_path / "r"))
    assert code == 0, err
    from_file = json.loads(text)
    targets = from_file["targets"]
    assert [t["label"] for t in targets] == ["best - 0", "best - 1", "best - 3", "best - 5"]
    for t in targets:
        assert {"target", "reached_fraction", "mean_device_hours"} <= set(t)
        assert t["reached_fraction"] == 1.0  # a shuffled grid reaches every target it holds
    assert sorted(p.suffix for p in (tmp_path / "r").iterdir() if p.stem.startswith("replay")) == [
        ".csv", ".html", ".json", ".md", ".png",
    ]  # fmt: skip
    code, text, err = cli("replay", "g", *args, "--storage", grid_db)
    assert code == 0, err
    assert json.loads(text)["targets"] == targets


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--sampler", "nope"], "unknown sampler 'nope'"),
        (["--sampler", "shuffled", "--pruner", "nope"], "unknown pruner 'nope'"),
        (["--workers", "0"], "--workers must be"),
        (["--budget-hours", "-1"], "--budget-hours must be"),
    ],
)
def test_replay_refuses_bad_input_in_one_line(
    grid_db: str, tmp_path: Path, cli, args: list[str], expected: str
) -> None:
    out = tmp_path / "g.jsonl"
    studies.export_table(grid_db, "g", out)
    code, _, err = cli("replay", str(out), *args)
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1, err
