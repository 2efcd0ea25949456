"""`ssmtune spaces list|show|compare`: tables, JSON, and exit code 2 on unknown spaces."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ssmtune import spaces
from ssmtune.search.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _json(*args):
    result = runner.invoke(app, ["spaces", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list_json():
    rows = _json("list")
    assert [r["name"] for r in rows] == spaces.names()
    by = {r["name"]: r for r in rows}
    assert by["linoss-full"]["size"] == 324 and by["linoss-full"]["model"] == "linoss"
    assert by["auto"]["model"] == "auto"
    assert by["linoss-continuous"]["size"] is None


def test_list_table():
    result = runner.invoke(app, ["spaces", "list"])
    assert result.exit_code == 0
    assert "d-linoss-reduced" in result.output and "continuous" in result.output


def test_show_json_and_table():
    shown = _json("show", "linoss-full")
    assert shown["size"] == 324 and shown["dims"] == 6
    assert [p["name"] for p in shown["params"]][0] == "discretization"
    result = runner.invoke(app, ["spaces", "show", "auto"])
    assert result.exit_code == 0
    assert "1,020" in result.output and "model in {s4}" in result.output


def test_show_toml_path():
    shown = _json("show", str(ROOT / "spaces" / "examples" / "small-linoss.toml"))
    assert shown["name"] == "small-linoss" and shown["size"] == 12


def test_compare_json():
    rows = _json("compare", "linoss-full", "d-linoss-reduced", "linoss-continuous")
    assert [r["name"] for r in rows] == ["linoss-full", "d-linoss-reduced", "linoss-continuous"]
    full, reduced, cont = rows
    assert (full["size"], reduced["size"], cont["size"]) == (324, 162, None)
    assert (full["reduction"], reduced["reduction"], cont["reduction"]) == (1.0, 0.5, None)
    assert reduced["cost"] == pytest.approx(full["cost"] / 2)
    assert reduced["cost_reduction"] == pytest.approx(0.5)
    assert cont["cost"] is None
    assert full["dims"] == 6 and reduced["dims"] == 5


def test_compare_with_task():
    tasks = pytest.importorskip("tasks")
    if not hasattr(tasks, "info"):
        pytest.skip("tasks.info not available yet")
    name = "BasicMotions"
    length = tasks.info(name).length
    rows = _json("compare", "lru", "linoss-im", "--task", name)
    assert rows[0]["length"] == length
    assert rows[0]["cost"] == pytest.approx(spaces.get("lru").cost(length))


def test_compare_table():
    result = runner.invoke(app, ["spaces", "compare", "linoss-full", "d-linoss-reduced"])
    assert result.exit_code == 0
    assert "324" in result.output and "162" in result.output and "50%" in result.output


def test_unknown_space_exits_2_with_one_line():
    proc = subprocess.run(
        [sys.executable, "-m", "ssmtune.search.cli", "spaces", "show", "nope"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "unknown space 'nope'; known spaces: linoss-full" in lines[0]
    assert proc.stdout == ""
