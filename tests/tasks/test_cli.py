"""`ssmtune tasks list` and `ssmtune data ...`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from ssmtune.search.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_tasks_list_json(data_dir) -> None:
    result = CliRunner().invoke(app, ["tasks", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    by_name = {r["name"]: r for r in rows}
    for row in rows:
        assert {"name", "kind", "length", "channels", "classes", "available", "cases"} <= set(row)
    assert by_name["basicmotions"] == {
        **by_name["basicmotions"],
        "kind": "classification",
        "length": 100,
        "channels": 6,
        "classes": 4,
        "available": "embedded",
    }
    assert by_name["eigenworms"]["available"] == "missing"
    assert by_name["running-mean@1000"]["kind"] == "regression"


def test_tasks_list_table(data_dir) -> None:
    result = CliRunner().invoke(app, ["tasks", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "basicmotions" in result.stdout and "missing" in result.stdout


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ssmtune.search.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=60,
    )


def test_download_without_network_exit_2(data_dir) -> None:
    """One error, exit 2, no traceback, and nothing left in the data dir (the downloader's
    single try without retries is counted in test_download.py)."""
    proc = _cli(
        "data",
        "download",
        "uea",
        "--datasets",
        "Heartbeat",
        "--url",
        "http://no-such-host.invalid/Multivariate2018_ts.zip",
        env={"SSMTUNE_DATA": str(data_dir)},
    )
    assert proc.returncode == 2, proc.stderr
    assert "error: cannot download" in proc.stderr and "Traceback" not in proc.stderr
    assert str(data_dir / "uea" / "Multivariate2018_ts.zip") in " ".join(proc.stderr.split())
    assert proc.stderr.count("error:") == 1
    assert list(data_dir.iterdir()) == []


def test_ppg_cli_bad_folder_exit_2(data_dir) -> None:
    proc = _cli("data", "ppg", str(data_dir / "nothing"), env={"SSMTUNE_DATA": str(data_dir)})
    assert proc.returncode == 2 and "no PPG-DaLiA subject files" in proc.stderr
