"""`ssmtune train`: one config trained from the command line (moved from tests/models, since
the command lives in search/)."""

from __future__ import annotations

import json

import pytest

from tests.search._cli import run_main

EVAL_EVERY = 25


@pytest.fixture(scope="module", autouse=True)
def private_compilation_cache(tmp_path_factory):
    """Point the persistent compilation cache at a fresh folder, so the tests never touch
    ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("jax-cache")
        mp.setenv("SSMTUNE_CACHE", str(path))
        yield path


@pytest.mark.parametrize(
    "args, message",
    [
        (["--set", "hiddenn=16"], "unknown key 'hiddenn'"),
        (["--set", "hidden=abc"], "expected an integer"),
        (["--set", "lr=fast"], "expected a number"),
        (["--set", "include_time=maybe"], "true or false"),
        (["--set", "discretization=EX"], "IM, IMEX"),
        (["--set", "hidden"], "key=value"),
        (["--max-steps", "0"], "max_steps"),
        (["--eval-every", "-5"], "eval_every"),
        (["--task", "nosuchtask"], "basicmotions"),
        (["--model", "nosuchmodel"], "d-linoss"),
    ],
)
def test_bad_input_exits_2_with_one_line(monkeypatch, capsys, tmp_path, args, message):
    monkeypatch.setenv("SSMTUNE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SSMTUNE_CACHE", str(tmp_path / "cache"))
    code, out, err = run_main(monkeypatch, capsys, "train", *args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_json(monkeypatch, capsys):
    args = ["--task", "BasicMotions", "--model", "linoss", "--seed", "2345", "--json"]
    args += ["--set", "hidden=16", "--set", "state=16", "--set", "blocks=1", "--set", "lr=3e-3"]
    args += ["--max-steps", "50", "--eval-every", str(EVAL_EVERY)]
    code, out, _ = run_main(monkeypatch, capsys, "train", *args)
    assert code == 0
    obj = json.loads(out)
    for key in ("val", "test", "metric", "status", "steps", "wall_s", "compile_s"):
        assert key in obj
    assert obj["metric"] == "accuracy" and obj["steps"] == 50 and obj["status"] == "ok"
    assert obj["config"]["hidden"] == 16 and obj["options"]["lr"] == 3e-3
    assert obj["history"][0][0] == EVAL_EVERY
