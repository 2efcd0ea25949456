"""Smoke tests of the benchmark commands: each runs in --quick mode, restricted to its smallest
part, and writes a JSON and a markdown table that agree. No timing is asserted."""

import json
import shutil
import subprocess
import sys

import pytest

from benchmarks._tables import table_stem, write_table


def _table(out, stem):
    payload = json.loads((out / f"{stem}.json").read_text())
    md = (out / f"{stem}.md").read_text()
    assert payload["quick"] is True and payload["rows"]
    assert md.startswith(f"# {payload['title']}")
    header = "| " + " | ".join(payload["columns"]) + " |"
    assert header in md
    assert md.count("\n| ") == len(payload["rows"]) + 1  # header + one line per row
    assert "No GPU was available" in md  # these tests run on the CPU
    return payload


def test_write_table_names_and_renders(tmp_path):
    json_path, md_path = write_table(
        "demo",
        title="Demo",
        columns=["a", "b"],
        rows=[{"a": 1, "b": 0.5}, {"a": "x", "b": None}],
        summary={"target met": True},
        out=tmp_path,
        quick=True,
    )
    assert json_path.name == "demo-cpu-quick.json" and md_path.name == "demo-cpu-quick.md"
    md = md_path.read_text()
    assert "| 1 | 0.5 |" in md and "| x | – |" in md and "**target met**: yes" in md
    assert table_stem("t", {"backend": "gpu", "device": "NVIDIA H100"}) == "t-gpu-nvidia-h100"


def test_throughput_quick(tmp_path):
    from benchmarks import _train_throughput

    _train_throughput.run(quick=True, out=tmp_path, cases=("heartbeat",), scans=("sequential",))
    row = _table(tmp_path, "throughput-cpu-quick")["rows"][0]
    assert "error" not in row, row
    assert row["config"] == "heartbeat" and row["resolved"] == "sequential"
    assert row["steps_per_s"] > 0 and row["peak_mem_mb"] > 0 and row["length"] == 48


def test_vectorized_quick(tmp_path):
    from benchmarks import _vectorized

    _vectorized.run(quick=True, out=tmp_path)
    row = _table(tmp_path, "vectorized-cpu-quick")["rows"][0]
    assert row["K"] == 3 and row["one_trial_s"] > 0 and row["k_trials_s"] > 0


def test_overhead_quick(tmp_path):
    from benchmarks import _overhead

    has_pg = shutil.which("initdb") is not None and shutil.which("pg_ctl") is not None
    _overhead.run(quick=True, out=tmp_path, n=4, postgres=has_pg)
    rows = {r["storage"]: r for r in _table(tmp_path, "overhead-cpu-quick")["rows"]}
    assert rows["sqlite"]["trials"] == 4 and rows["sqlite"]["ssmtune_ms"] > 0
    assert rows["journal file"]["plain_optuna_ms"] > 0
    if has_pg:
        assert rows["postgresql"]["overhead_ms"] is not None, rows["postgresql"]


def test_tuning_quick(tmp_path):
    from benchmarks import _tuning

    _tuning.run(quick=True, out=tmp_path, points=1, workers=(1,))
    rows = _table(tmp_path, "tuning-cpu-quick")["rows"]
    assert [r["trials"] for r in rows] == [1, 1]
    assert rows[1]["complete"] == 1 and rows[0]["device_s_per_trial"] > 0


def test_main_rejects_unknown_benchmark():
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "nope"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


@pytest.mark.parametrize("flag", ["--help"])
def test_main_help(flag):
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", flag], capture_output=True, text=True
    )
    assert proc.returncode == 0
    for name in ("throughput", "tuning", "overhead", "vectorized", "--quick", "--only"):
        assert name in proc.stdout
