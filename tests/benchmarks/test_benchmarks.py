"""Smoke tests of the benchmark commands: each runs in --quick mode, restricted to its smallest
part, and writes a JSON and a markdown table that agree. No timing is asserted."""

import json
import shutil
import subprocess
import sys

import pytest

from ssmtune.benchmarks._tables import table_stem, write_table


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
    from ssmtune.benchmarks import _train_throughput

    _train_throughput.run(quick=True, out=tmp_path, cases=("heartbeat",), scans=("sequential",))
    row = _table(tmp_path, "throughput-cpu-quick")["rows"][0]
    assert "error" not in row, row
    assert row["config"] == "heartbeat" and row["resolved"] == "sequential"
    assert row["steps_per_s"] > 0 and row["peak_mem_mb"] > 0 and row["length"] == 48


def test_vectorized_quick(tmp_path):
    from ssmtune.benchmarks import _vectorized

    _vectorized.run(quick=True, out=tmp_path)
    row = _table(tmp_path, "vectorized-cpu-quick")["rows"][0]
    assert row["K"] == 3 and row["one_trial_s"] > 0 and row["k_trials_s"] > 0


def test_overhead_quick(tmp_path):
    from ssmtune.benchmarks import _overhead

    has_pg = shutil.which("initdb") is not None and shutil.which("pg_ctl") is not None
    _overhead.run(quick=True, out=tmp_path, n=4, postgres=has_pg)
    rows = {r["storage"]: r for r in _table(tmp_path, "overhead-cpu-quick")["rows"]}
    assert rows["sqlite"]["trials"] == 4 and rows["sqlite"]["ssmtune_ms"] > 0
    assert rows["journal file"]["plain_optuna_ms"] > 0
    if has_pg:
        assert rows["postgresql"]["overhead_ms"] is not None, rows["postgresql"]


def test_tuning_quick(tmp_path):
    from ssmtune.benchmarks import _tuning

    _tuning.run(quick=True, out=tmp_path, points=1, workers=(1,))
    rows = _table(tmp_path, "tuning-cpu-quick")["rows"]
    assert [r["trials"] for r in rows] == [1, 1]
    assert rows[1]["complete"] == 1 and rows[0]["device_s_per_trial"] > 0


def test_main_rejects_unknown_benchmark():
    proc = subprocess.run(
        [sys.executable, "-m", "ssmtune.benchmarks", "--only", "nope"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


@pytest.mark.parametrize("flag", ["--help"])
def test_main_help(flag):
    proc = subprocess.run(
        [sys.executable, "-m", "ssmtune.benchmarks", flag], capture_output=True, text=True
    )
    assert proc.returncode == 0
    for name in ("throughput", "tuning", "overhead", "vectorized", "--quick", "--only"):
        assert name in proc.stdout


def test_checkpoint_quick(tmp_path):
    """The checkpoint table: the blocked and the background seconds of each checkpoint, and
    the GPU figure labelled an estimate."""
    from ssmtune.benchmarks import __main__ as bench
    from ssmtune.benchmarks import checkpoint

    assert bench.BENCHMARKS["checkpoint"] == "ssmtune.benchmarks.checkpoint"
    checkpoint.run(quick=True, out=tmp_path, cases=("basicmotions",))
    payload = _table(tmp_path, "checkpoint-cpu-quick")
    (row,) = payload["rows"]
    assert "error" not in row, row
    assert row["checkpoints"] == 2 and row["checkpoint_kb"] > 0
    assert row["blocked_ms"] > 0 and row["write_ms"] > 0 and row["load"] >= 0
    assert row["overhead_pct"] == pytest.approx(100 * row["blocked_ms"] / 1e3 / row["period_s"])
    assert any(n.startswith("GPU: not measured") and "estimate" in n for n in payload["notes"])


def test_automl_measurement_charges_trials_in_the_order_they_ended(tmp_path) -> None:
    """`benchmarks.spaces.measure_automl` on a synthetic storage: a grid of 3 points (100 s
    each, best 0.7); a TPE study reaching 0.69 (the grid's best minus 1 point) at its second
    trial of 120 s each (a busier machine) has spent 0.8 of the grid's device-hours, 2/3 when
    its points are charged what they cost the grid; a study that never reaches it has none."""
    import doctest

    import optuna

    from ssmtune.benchmarks import spaces as bench
    from tests.studies.conftest import add_trials

    assert doctest.testmod(bench).failed == 0
    url = f"sqlite:///{tmp_path / 'automl.db'}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    points = [{"lr": 1e-4}, {"lr": 1e-3}, {"lr": 1e-2}]
    studies_ = {
        "automl-grid": [
            (p, "COMPLETE", v, v, 100.0) for p, v in zip(points, (0.5, 0.6, 0.7), strict=True)
        ],
        "automl-d-linoss-reduced-tpe-r1": [
            (points[1], "COMPLETE", 0.6, 0.6, 120.0),
            (points[2], "COMPLETE", 0.7, 0.7, 120.0),
        ],
        "automl-auto-continuous-tpe-r1": [(points[0], "COMPLETE", 0.5, 0.5, 100.0)],
    }
    for name, trials in studies_.items():
        add_trials(optuna.create_study(study_name=name, storage=url, direction="maximize"),
                   trials)  # fmt: skip

    result = bench.measure_automl(url, "fingermovements", 1, load={})
    assert result["grid"]["points_reaching"] == [1, 1, 1]
    assert result["targets"][0] == pytest.approx(0.69)
    tpe, auto = result["runs"]
    assert tpe["shares"][0] == pytest.approx(0.8)
    assert tpe["grid_priced_shares"][0] == pytest.approx(2 / 3)
    assert auto["shares"] == [None, None, None] and auto["grid_priced_shares"] is None
    assert result["wall_s"] == pytest.approx(
        300.0
    )  # every study here starts at T0: the grid ends last
    bench._write_automl(result, tmp_path / "out")
    (md,) = (tmp_path / "out").glob("*.md")
    assert "0.80 (0.67)" in md.read_text() and "> 0.3" in md.read_text()


def test_probe_quick_writes_both_grids_probes_and_estimates(tmp_path):
    """`python -m ssmtune.benchmarks.probe --quick`: BasicMotions, each grid's cheapest and
    dearest point trained once; the dearest costs more, and the grid's estimate lies between
    its size times the cheapest and times the dearest probe."""
    done = subprocess.run(
        [sys.executable, "-m", "ssmtune.benchmarks.probe", "--quick", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    payload = _table(tmp_path, "probe-cpu-quick")
    rows = payload["rows"]
    assert [(r["space"], r["probe"]) for r in rows] == [
        ("linoss-full", "cheapest"), ("linoss-full", "dearest"),
        ("d-linoss-reduced", "cheapest"), ("d-linoss-reduced", "dearest"),
    ]  # fmt: skip
    for size, (cheap, dear) in zip((324, 162), (rows[:2], rows[2:]), strict=True):
        assert cheap["units"] < dear["units"] and "blocks=6" in dear["point"]
        assert 0.0 <= cheap["val"] <= 1.0 and cheap["chance"] == 0.25
        low, high = sorted((cheap["wall_s"], dear["wall_s"]))
        assert size * low <= dear["grid_h"] * 3600 <= size * high + 1e-6


def test_replay_benchmark_quick_times_five_replicates(tmp_path):
    """`python -m ssmtune.benchmarks.replay --quick` on the synthetic 162-point table (no table
    file given that exists): one row, its target scaled to 5 replicates."""
    done = subprocess.run(
        [sys.executable, "-m", "ssmtune.benchmarks.replay", "--quick", "--out", str(tmp_path),
         "--table", str(tmp_path / "none.jsonl")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (row,) = _table(tmp_path, "replay-cpu-quick")["rows"]
    assert row["points"] == 162 and row["replicates"] == 5 and row["target_s"] == 6.0
    assert row["median_trials"] > 0 and row["wall_s"] > 0


def _write_table(table, path):
    lines = [json.dumps({"format": "ssmtune-table", "version": 1, **table.header})]
    path.write_text("\n".join(lines + [json.dumps(p.to_json()) for p in table.points]) + "\n")


def test_answer_quick_on_two_synthetic_grids(tmp_path):
    """`python -m ssmtune.benchmarks.answer --quick` over a task with both tables: a row per
    target and strategy; random order is the exact expectation and its answer follows the
    ratio; the pooled lines name the task count."""
    from ssmtune.benchmarks.replay import synthetic_table
    from ssmtune.studies import cost_to_reach

    tables = tmp_path / "tables"
    tables.mkdir()
    full, reduced = synthetic_table(seed=1), synthetic_table(seed=2)
    _write_table(full, tables / "syn-linoss-full-grid.jsonl")
    _write_table(reduced, tables / "syn-d-linoss-reduced-grid.jsonl")
    done = subprocess.run(
        [sys.executable, "-m", "ssmtune.benchmarks.answer", "--quick", "--tables", str(tables),
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    payload = _table(tmp_path, "answer-cpu-quick")
    rows = payload["rows"]
    assert len(rows) == 4 * 4 and {r["strategy"] for r in rows} == {
        "random order", "grid order", "tpe", "tpe+hyperband"
    }  # fmt: skip
    target = full.best().value - 0.03
    (row,) = [r for r in rows if r["strategy"] == "random order" and "- 3 " in r["target"]]
    want = [cost_to_reach([p.value for p in t.points], [p.device_s / 3600 for p in t.points],
                          target) for t in (full, reduced)]  # fmt: skip
    assert row["full_h"] == pytest.approx(want[0]) and row["reduced_h"] == pytest.approx(want[1])
    ratio = want[1] / want[0]
    assert row["answer"] == ("yes" if ratio <= 0.5 else "no")
    assert any("Pooled over 1 tasks" in n for n in payload["notes"])
