"""Bad input to every command: exit code 2, one ``error:`` line on stderr, nothing written.

Each case runs in a fresh working folder that holds the default storage ``ssmtune.db`` (one
study, ``existing``), a data dir (``$SSMTUNE_DATA``), a regular file ``afile``, a corrupt
SQLite file ``corrupt.db`` and some bad TOML spaces. Afterwards every file there has the
same bytes as before and no file has appeared (besides SQLite's ``-wal``/``-shm`` companions
of a database that was opened to read). No case starts Ray or trains: the checks fail first.

Cases run in-process through `search.cli.main` (fast); those marked `FRESH` run
``python -m ssmtune.search.cli`` in a new process, as a user would.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from ssmtune.search.cli import main
from tests.search._cli import run_main

ROOT = Path(__file__).parents[2]
SPACE = str(ROOT / "spaces" / "examples" / "small-linoss.toml")
SECRET = "pw-s3cret"
PG = f"postgresql+psycopg://u:{SECRET}@127.0.0.1:1/db"
START = ["study", "start", "--task", "basicmotions", "--space", SPACE]
#: `study start` with the settings of the study `existing` of the working folder's storage.
SAME = [*START, "--name", "existing", "--max-steps", "4", "--eval-every", "2"]
HEARTBEAT = ["study", "start", "--task", "heartbeat", "--space", "linoss-full"]

#: Files of the working folder that are not inputs but SQLite's companions of an opened file.
_SIDE = ("-wal", "-shm", "-journal")


def _closed_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/Multivariate2018_ts.zip"


def _toml(name: str, params: str, model: str = "linoss") -> tuple[str, str]:
    return name, f'model = "{model}"\n[params]\n{params}\n'


#: Bad spaces written into the working folder: a syntax error, an unknown field, no choices,
#: an empty range, a value of the wrong type, an unknown model.
BAD_TOML = dict(
    [
        ("syntax.toml", 'model = "linoss"\n[params\nlr = [1e-3\n'),
        _toml("unknown-field.toml", "lr = [1e-3]\nwingspan = [1, 2]"),
        _toml("no-choices.toml", "lr = []"),
        _toml("empty-range.toml", "hidden = { low = 64, high = 16 }"),
        _toml("wrong-type.toml", 'hidden = ["wide", "narrow"]'),
        _toml("unknown-model.toml", "lr = [1e-3]", model="transformer"),
    ]
)

#: (arguments, fresh process); "{url}" is an unreachable download URL.
CASES: dict[str, tuple[list[str], bool]] = {
    # parse errors (typer/click): one line, not the usage panel
    "wrongly typed --n-trials": ([*START, "--n-trials", "abc"], False),
    "wrongly typed --n-trials (fresh process)": ([*START, "--n-trials", "abc"], True),
    "wrongly typed --max-steps of train": (["train", "--max-steps", "1.5"], False),
    "wrongly typed --top": (["best", "--top", "many"], False),
    "wrongly typed --within": (["report", "--within", "lots"], False),
    "wrongly typed --port": (["dashboard", "--port", "x"], False),
    "missing required option": (["study", "start", "--space", SPACE], False),
    "missing required option (fresh process)": (["study", "start", "--space", SPACE], True),
    "missing argument": (["spaces", "show"], False),
    "missing --task of compare": (["compare", "linoss-full", "d-linoss-reduced"], False),
    "unknown option": ([*START, "--bogus"], False),
    "option without its value": (["study", "list", "--storage"], False),
    "extra argument": (["tasks", "list", "extra"], False),
    "unknown option of spaces list": (["spaces", "list", "--all"], False),
    "unknown command": (["nosuch"], False),
    "unknown subcommand": (["study", "nosuch"], False),
    "unknown subcommand of data download": (["data", "download", "ucr"], False),
    # unknown names
    "unknown task (train)": (["train", "--task", "nope"], False),
    "unknown model (train)": (["train", "--model", "nope"], False),
    "unknown --set key": (["train", "--set", "wingspan=3"], False),
    "wrongly typed --set value": (["train", "--set", "hidden=wide"], False),
    "--set without =": (["train", "--set", "hidden"], False),
    "bad synthetic length": (["train", "--task", "tone-freq@5"], False),
    "unknown task (study start)": (["study", "start", "--task", "nope", "--space", SPACE], False),
    "unknown space": (["study", "start", "--task", "basicmotions", "--space", "nope"], False),
    "unknown sampler": ([*START, "--sampler", "annealing"], False),
    "unknown pruner": ([*START, "--pruner", "sometimes"], False),
    "unknown model (study start)": ([*START, "--model", "transformer"], False),
    "space for another model": (
        [
            "study",
            "start",
            "--task",
            "basicmotions",
            "--space",
            "d-linoss-reduced",
            "--model",
            "lru",
        ],
        False,
    ),
    "unknown space (spaces show)": (["spaces", "show", "nope"], False),
    "unknown space (spaces compare)": (["spaces", "compare", "linoss-full", "nope"], False),
    "unknown task (spaces compare)": (
        ["spaces", "compare", "linoss-full", "d-linoss-reduced", "--task", "nope"],
        False,
    ),
    "unknown uea dataset": (["spaces", "compare", "linoss-full", "--task", "uea:Nope"], False),
    "missing study (status)": (["study", "status", "nope"], False),
    "missing study (resume)": (["study", "resume", "nope"], False),
    "missing study (best)": (["best", "--study", "nope"], False),
    "task without studies (best)": (["best", "--task", "heartbeat"], False),
    "missing study (report)": (["report", "--study", "nope"], False),
    "model without studies (report)": (["report", "--model", "lru"], False),
    "missing studies (compare)": (["compare", "nope-a", "nope-b", "--task", "basicmotions"], False),
    "missing study (evaluate)": (["evaluate", "nope"], False),
    "unknown estimator": (["report", "--estimator", "oracle"], False),
    # out-of-range numbers
    "zero --n-trials": ([*START, "--n-trials", "0"], False),
    "tpe without --n-trials": ([*START, "--sampler", "tpe"], False),
    "negative --max-steps": ([*START, "--max-steps", "-1"], False),
    "--eval-every above --max-steps (study start)": (
        [*START, "--max-steps", "10", "--eval-every", "20"],
        False,
    ),
    "--eval-every above --max-steps (train)": (
        ["train", "--max-steps", "10", "--eval-every", "20"],
        False,
    ),
    "--eval-every above the protocol's steps": ([*START, "--eval-every", "1000000"], False),
    "zero --max-steps (train)": (["train", "--max-steps", "0"], False),
    "negative --patience (train)": (["train", "--patience", "-1"], False),
    "negative --seed (train)": (["train", "--seed", "-1"], False),
    "negative --seed (study start)": ([*START, "--seed", "-5"], False),
    "zero --workers": ([*START, "--workers", "0"], False),
    "negative --budget-hours": ([*START, "--budget-hours", "-1"], False),
    "negative --cpus-per-trial": ([*START, "--cpus-per-trial", "-2"], False),
    "zero --batch-trials": ([*START, "--batch-trials", "0"], False),
    "zero --workers (resume)": (["study", "resume", "existing", "--workers", "0"], False),
    "zero --top": (["best", "--top", "0"], False),
    "zero --k": (["report", "--k", "5", "--k", "0"], False),
    "negative --within": (["report", "--within", "-0.5"], False),
    "nan --within": (["report", "--within", "nan"], False),
    "too many --seeds": (["evaluate", "existing", "--seeds", "9"], False),
    "zero --workers (evaluate)": (["evaluate", "existing", "--workers", "0"], False),
    "unknown --protocol": (["evaluate", "existing", "--protocol", "weekly"], False),
    "port out of range": (["dashboard", "--port", "99999"], False),
    # malformed TOML spaces
    **{
        f"bad TOML space {name} (spaces show)": (["spaces", "show", name], False)
        for name in BAD_TOML
    },
    "bad TOML space (study start)": (
        ["study", "start", "--task", "basicmotions", "--space", "syntax.toml"],
        False,
    ),
    "bad TOML space (spaces compare)": (
        ["spaces", "compare", "linoss-full", "empty-range.toml"],
        False,
    ),
    "space file that is a folder": (["spaces", "show", "data"], False),
    # storage URLs and files
    "unsupported storage URL": (["study", "list", "--storage", f"mysql://u:{SECRET}@h/db"], False),
    "storage that is not a URL": (["best", "--storage", "ssmtune.db"], False),
    "in-memory SQLite": ([*START, "--storage", "sqlite:///:memory:"], False),
    "unreachable database (study start)": ([*START, "--storage", PG], False),
    "unreachable database (study list)": (["study", "list", "--storage", PG], False),
    "unreachable database (report)": (["report", "--storage", PG], False),
    "corrupt SQLite (study list)": (["study", "list", "--storage", "sqlite:///corrupt.db"], False),
    "corrupt SQLite (best)": (["best", "--storage", "sqlite:///corrupt.db"], False),
    "corrupt SQLite (study start)": ([*START, "--storage", "sqlite:///corrupt.db"], False),
    "missing SQLite file": (["study", "status", "existing", "--storage", "sqlite:///no.db"], False),
    "storage inside a file (study start)": ([*START, "--storage", "sqlite:///afile/s.db"], False),
    "storage inside a file (study list)": (
        ["study", "list", "--storage", "sqlite:///afile/s.db"],
        False,
    ),
    "storage in a read-only folder": ([*START, "--storage", "sqlite:///readonly/s.db"], False),
    "report --out is a file": (["report", "--out", "afile"], False),
    "report --out inside a file": (["report", "--out", "afile/results"], False),
    "data dir inside a file": (
        ["data", "download", "uea", "--data-dir", "afile/data", "--url", "{url}"],
        False,
    ),
    "unreachable download URL": (["data", "download", "uea", "--url", "{url}"], False),
    "download URL that is not http": (["data", "download", "uea", "--url", "ftp://h/a.zip"], False),
    "missing PPG folder": (["data", "ppg", "no-such-folder"], False),
    # the same name with other settings
    "other --seed for an existing name": ([*SAME, "--seed", "7"], False),
    "other --max-steps for an existing name": (
        [*START, "--name", "existing", "--max-steps", "8", "--eval-every", "2"],
        False,
    ),
    "other --sampler for an existing name": ([*SAME, "--sampler", "tpe", "--n-trials", "3"], False),
    # data files
    "missing UEA data (study start)": (HEARTBEAT, False),
    "missing UEA data, new storage (study start)": (
        [*HEARTBEAT, "--storage", "sqlite:///n.db"],
        False,
    ),
    "missing UEA data (train)": (["train", "--task", "heartbeat"], False),
    "missing PPG data (study start)": (
        ["study", "start", "--task", "ppg-dalia", "--space", "linoss-full"],
        False,
    ),
    "corrupt .ts file (train)": (["train", "--task", "corrupt"], False),
    "corrupt .ts file (study start)": (
        ["study", "start", "--task", "corrupt", "--space", "linoss-full"],
        False,
    ),
    "unknown task (tasks info)": (["tasks", "info", "nope"], False),
    "a file that is no data set (train)": (["train", "--task", "afile"], False),
    "zero --resamples (compare)": (
        ["compare", "existing", "other", "--task", "basicmotions", "--resamples", "0"],
        False,
    ),
    "too many --resamples (compare)": (
        ["compare", "existing", "other", "--task", "basicmotions", "--resamples", "1000001"],
        False,
    ),
    "wrongly typed --resamples (compare)": (
        ["compare", "existing", "other", "--task", "basicmotions", "--resamples", "many"],
        False,
    ),
    "negative --seed (compare)": (
        ["compare", "existing", "other", "--task", "basicmotions", "--seed", "-1"],
        False,
    ),
    "negative --target (compare)": (
        ["compare", "existing", "other", "--task", "basicmotions", "--target", "-0.5"],
        False,
    ),
    "nan --target (compare)": (
        ["compare", "existing", "other", "--task", "basicmotions", "--target", "nan"],
        False,
    ),
    "unknown option (compare)": (
        ["compare", "existing", "other", "--task", "basicmotions", "--bootstrap"],
        False,
    ),
    "compare --out is a file": (
        ["compare", "existing", "other", "--task", "basicmotions", "--out", "afile"],
        False,
    ),
    "zero --budget-hours (resume)": (["study", "resume", "existing", "--budget-hours", "0"], False),
    "negative --budget-hours (resume)": (
        ["study", "resume", "existing", "--budget-hours", "-2"],
        False,
    ),
    "nan --budget-hours (resume)": (
        ["study", "resume", "existing", "--budget-hours", "nan"],
        False,
    ),
    "inf --budget-hours (resume)": (
        ["study", "resume", "existing", "--budget-hours", "inf"],
        False,
    ),
    "wrongly typed --budget-hours (resume)": (
        ["study", "resume", "existing", "--budget-hours", "lots"],
        False,
    ),
    "--budget-hours of a missing study (resume)": (
        ["study", "resume", "nope", "--budget-hours", "1"],
        False,
    ),
    # tables and replay (issue 24)
    "missing table file (table show)": (["table", "show", "nope.jsonl"], False),
    "table export of a missing study": (["table", "export", "nope", "--out", "t.jsonl"], False),
    "missing table file (replay)": (["replay", "nope.jsonl"], False),
    "zero --workers (replay)": (["replay", "nope.jsonl", "--workers", "0"], False),
    "zero --replicates (replay)": (["replay", "nope.jsonl", "--replicates", "0"], False),
}


#: What the message of a case must say besides "error: " (the option the user typed, ...).
MENTIONS = {
    "zero --top": "--top",
    "zero --k": "--k",
    "negative --within": "--within",
    "nan --within": "--within",
    "wrongly typed --n-trials": "--n-trials",
    "--eval-every above --max-steps (study start)": "--eval-every 20 is larger than --max-steps 10",
    "--eval-every above --max-steps (train)": "--eval-every 20 is larger than --max-steps 10",
    "missing UEA data (study start)": "ssmtune data download uea --datasets Heartbeat",
    "report --out is a file": "--out afile",
    "a file that is no data set (train)": "not a data file",
    "zero --resamples (compare)": "--resamples must be an integer 1..100000, got 0",
    "too many --resamples (compare)": "--resamples must be an integer 1..100000",
    "wrongly typed --resamples (compare)": "--resamples",
    "negative --seed (compare)": "--seed must be an integer >= 0",
    "negative --target (compare)": "--target must be a finite number >= 0",
    "nan --target (compare)": "--target must be a finite number >= 0",
    "unknown option (compare)": "--bootstrap",
    "compare --out is a file": "--out afile",
    "zero --budget-hours (resume)": "--budget-hours must be a finite number > 0, got 0.0",
    "negative --budget-hours (resume)": "--budget-hours must be a finite number > 0, got -2.0",
    "nan --budget-hours (resume)": "--budget-hours must be a finite number > 0, got nan",
    "inf --budget-hours (resume)": "--budget-hours must be a finite number > 0, got inf",
    "wrongly typed --budget-hours (resume)": "--budget-hours",
    "--budget-hours of a missing study (resume)": "no study 'nope'",
    "missing table file (table show)": "no table file at nope.jsonl",
    "missing table file (replay)": "no table file at nope.jsonl",
    "zero --workers (replay)": "--workers must be an integer >= 1, got 0",
    "zero --replicates (replay)": "--replicates must be an integer >= 1, got 0",
    "missing SQLite file": "pass --storage with an existing database",
    "data dir inside a file": "pass --data-dir with a folder you can write to",
    "other --sampler for an existing name": "or pick another --name",
    "tpe without --n-trials": "needs --n-trials (only --sampler 'grid' runs a whole grid)",
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working folder every case starts from (copied per case)."""
    from ssmtune.search._start import plan_study
    from ssmtune.studies import create_or_continue
    from ssmtune.studies._storage import open_storage

    d = tmp_path_factory.mktemp("template")
    request = plan_study(
        task="basicmotions", space=SPACE, name="existing", max_steps=4, eval_every=2
    )
    storage = open_storage(f"sqlite:///{d / 'ssmtune.db'}")
    create_or_continue(storage, "existing", request.settings)
    storage.engine.dispose()
    for side in _SIDE:
        assert not Path(f"{d / 'ssmtune.db'}{side}").exists()
    (d / "afile").write_text("a regular file\n")
    (d / "corrupt.db").write_bytes(os.urandom(4096))
    for name, text in BAD_TOML.items():
        (d / name).write_text(text)
    (d / "readonly").mkdir()
    # a UEA dataset "Corrupt" with a value that is not a number in its TRAIN file
    folder = d / "data" / "uea" / "Multivariate_ts" / "Corrupt"
    folder.mkdir(parents=True)
    good = "@problemName Corrupt\n@timeStamps false\n@missing false\n@univariate true\n"
    good += "@dimensions 1\n@equalLength true\n@classLabel true a b\n@data\n"
    good += "".join(f"{i},{i + 1},{i + 2}:{'ab'[i % 2]}\n" for i in range(6))
    (folder / "Corrupt_TRAIN.ts").write_text(good.replace("3,4,5", "3,x,5"))
    (folder / "Corrupt_TEST.ts").write_text(good)
    return d


def _snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder` (and the folders, as ``dir``), by relative path."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if rel.endswith(_SIDE):
            continue
        out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _run(args: list[str], cwd: Path, fresh: bool, monkeypatch, capsys) -> tuple[int, str, str]:
    if fresh:
        env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "SSMTUNE_STORAGE")}
        env.update(PYTHONPATH=str(ROOT), SSMTUNE_DATA=str(cwd / "data"))
        done = subprocess.run(
            [sys.executable, "-m", "ssmtune.search.cli", *args],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        return done.returncode, done.stdout, done.stderr
    monkeypatch.chdir(cwd)
    return run_main(monkeypatch, capsys, *args)


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    case: str,
    template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    args, fresh = CASES[case]
    work = tmp_path / "work"
    shutil.copytree(template, work)
    if case == "storage in a read-only folder":
        if os.geteuid() == 0:
            pytest.skip(
                "root writes into a read-only folder; 'storage inside a file' fails for root"
            )
        (work / "readonly").chmod(0o555)
    monkeypatch.setenv("SSMTUNE_DATA", str(work / "data"))
    monkeypatch.delenv("SSMTUNE_STORAGE", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    args = [a.replace("{url}", _closed_url()) for a in args]
    before = _snapshot(work)
    try:
        code, out, err = _run(args, work, fresh, monkeypatch, capsys)
    finally:
        (work / "readonly").chmod(0o755)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (code, out, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert MENTIONS.get(case, "error: ") in lines[0]
    assert "Traceback" not in out + err
    assert SECRET not in out + err
    assert _snapshot(work) == before


def test_table_covers_every_command() -> None:
    """Every command of `ssmtune --help` (groups: every subcommand) has a case."""
    from ssmtune.search.cli import app

    def commands(group: typer.Typer, prefix: list[str]) -> list[list[str]]:
        found = [[*prefix, c.name or c.callback.__name__] for c in group.registered_commands]
        for sub in group.registered_groups:
            found += commands(sub.typer_instance, [*prefix, sub.name])
        return found

    used = [args for args, _ in CASES.values()]
    for command in commands(app, []):
        if command == ["version"]:  # takes no input
            continue
        assert any(args[: len(command)] == command for args in used), command
    assert len(CASES) >= 40


def test_exit_codes_of_the_commands_themselves_are_kept(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Outside click's standalone mode, --help still exits 0, a bare group prints its help
    (exit 2), Ctrl+C is 130 and a command's own typer.Exit code passes through."""
    from ssmtune import spaces

    def code(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["ssmtune", *args])
        with pytest.raises(SystemExit) as exc:  # always, as in click's standalone mode
            main()
        return exc.value.code

    for args, expected in (
        (["--help"], 0),
        (["study", "start", "--help"], 0),
        ([], 2),
        (["study"], 2),
    ):
        assert code(*args) == expected, args
        out, err = capsys.readouterr()
        assert "Usage" in out and not err.strip(), args
    assert code("version") == 0 and capsys.readouterr().out.strip()

    def interrupted() -> list[str]:
        raise KeyboardInterrupt

    def exits_3() -> list[str]:
        raise typer.Exit(3)

    for fake, expected in ((interrupted, 130), (exits_3, 3)):
        monkeypatch.setattr(spaces, "names", fake)
        assert code("spaces", "list") == expected
    capsys.readouterr()
