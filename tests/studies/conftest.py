"""Small finished studies, built directly with Optuna in a temporary SQLite file.

The studies carry the user attributes of the contract, so every answer (`best`, `report`,
`compare`, the dashboard) is tested on what `ssmtune study start` writes:

| study | task | direction | space (size) | trials |
|---|---|---|---|---|
| bm-linoss | BasicMotions | maximize | linoss-full (8) | 7 complete, 1 pruned, 1 failed; grid done |
| bm-dlinoss | BasicMotions | maximize | d-linoss-reduced (4) | 6 complete (a repeat); grid done |
| bm-small | BasicMotions | maximize | linoss-im (8) | 3 complete; unfinished, too small |
| ppg-lru | PPG | minimize | lru-auto (continuous) | 6 complete, 1 pruned, 1 failed |
| hb-empty | Heartbeat | maximize | linoss-full (8) | none |
"""

from __future__ import annotations

import shutil
import sys
from datetime import datetime, timedelta
from typing import Any

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import FrozenTrial, TrialState

T0 = datetime(2025, 1, 1, 12, 0, 0)

LINOSS_GRID = [
    {"lr": lr, "hidden": h, "include_time": t}
    for lr in (1e-4, 1e-3)
    for h in (16, 64)
    for t in (True, False)
]
#: bm-linoss: (grid point, state, value, test, device_s); 7 complete, 1 pruned, 1 failed.
LINOSS_TRIALS = [
    (0, "COMPLETE", 0.50, 0.45, 3600.0),
    (1, "COMPLETE", 0.625, 0.60, 1800.0),
    (2, "COMPLETE", 0.75, 0.70, 3600.0),
    (3, "PRUNED", 0.25, None, 600.0),
    (4, "COMPLETE", 0.875, 0.80, 7200.0),
    (5, "FAIL", None, None, 60.0),
    (5, "COMPLETE", 0.70, 0.65, 3600.0),
    (6, "COMPLETE", 0.60, 0.55, 1800.0),
    (7, "COMPLETE", 0.80, 0.85, 3600.0),
]
LINOSS_VALUES = [v for _, s, v, _, _ in LINOSS_TRIALS if s == "COMPLETE"]

DLINOSS_GRID = [{"lr": lr, "hidden": h} for lr in (1e-4, 1e-3) for h in (16, 64)]
DLINOSS_TRIALS = [
    (0, "COMPLETE", 0.70, 0.66, 1800.0),
    (1, "COMPLETE", 0.85, 0.82, 1800.0),
    (2, "COMPLETE", 0.90, 0.84, 1800.0),
    (3, "COMPLETE", 0.80, 0.75, 1800.0),
    (2, "COMPLETE", 0.88, 0.83, 1800.0),
    (0, "COMPLETE", 0.72, 0.70, 1800.0),
]
DLINOSS_VALUES = [v for _, s, v, _, _ in DLINOSS_TRIALS if s == "COMPLETE"]

SMALL_TRIALS = [
    (0, "COMPLETE", 0.55, 0.5, 900.0),
    (1, "COMPLETE", 0.65, 0.6, 900.0),
    (2, "COMPLETE", 0.60, 0.58, 900.0),
]

PPG_TRIALS = [
    ({"lr": 3e-4, "model": "lru"}, "COMPLETE", 0.080, 0.085, 1000.0),
    ({"lr": 1e-3, "model": "lru"}, "COMPLETE", 0.070, 0.072, 1000.0),
    ({"lr": 2e-3, "model": "linoss"}, "COMPLETE", 0.120, 0.125, 1000.0),
    ({"lr": 5e-4, "model": "linoss"}, "PRUNED", 0.200, None, 200.0),
    ({"lr": 7e-4, "model": "lru"}, "COMPLETE", 0.065, 0.069, 1000.0),
    ({"lr": 9e-4, "model": "linoss"}, "FAIL", None, None, 10.0),
    ({"lr": 1.5e-3, "model": "linoss"}, "COMPLETE", 0.090, 0.095, 1000.0),
    ({"lr": 1e-4, "model": "lru"}, "COMPLETE", 0.100, 0.110, 1000.0),
]
PPG_VALUES = [v for _, s, v, _, _ in PPG_TRIALS if s == "COMPLETE"]

PROTOCOL = {"max_steps": 2000, "eval_every": 100, "patience": 10, "batch_size": 32}


def study_attrs(task: str, model: str, space: str, size: int | None, sampler: str) -> dict:
    return {
        "task": task,
        "model": model,
        "space": space,
        "space_size": size,
        "sampler": sampler,
        "pruner": "none",  # grids without a pruner: what the bootstrap of `compare` assumes
        "protocol": PROTOCOL,
        "seed": 0,
        "ssmtune_version": "0.1.0",
        "max_retries": 1,
        "budget_hours": None,
    }


def _distributions(params: dict[str, Any]) -> dict:
    dists = {}
    for k, v in params.items():
        if isinstance(v, float):
            dists[k] = FloatDistribution(1e-5, 1e-2, log=True)
        elif isinstance(v, bool):
            dists[k] = CategoricalDistribution([True, False])
        elif isinstance(v, int):
            dists[k] = CategoricalDistribution([16, 64, 128])
        else:
            dists[k] = CategoricalDistribution(["lru", "linoss"])
    return dists


def add_trials(study: optuna.Study, trials: list[tuple], *, start: datetime = T0) -> None:
    """Add finished trials one after the other, each lasting its device_s (one device)."""
    t = start
    for number, (params, state, value, test, device_s) in enumerate(trials):
        end = t + timedelta(seconds=device_s)
        status = {"COMPLETE": "ok", "PRUNED": "pruned", "FAIL": None}[state]
        attrs: dict[str, Any] = {
            "wall_s": device_s,
            "device_s": device_s,
            "compile_s": 1.5,
            "steps": 1000,
            "device": "cpu",
            "node": "test-node",
            "peak_mem": None,
        }
        if status:
            attrs["status"] = status
        if test is not None:
            attrs["test"] = test
        if state == "FAIL":
            attrs["fail_reason"] = "RuntimeError: out of memory"
        inter = {} if value is None else {100: value - 0.01, 200: value}
        study.add_trial(
            FrozenTrial(
                number=number,
                state=TrialState[state],
                value=value if state == "COMPLETE" else None,
                datetime_start=t,
                datetime_complete=end,
                params=params,
                distributions=_distributions(params),
                user_attrs=attrs,
                system_attrs={},
                intermediate_values=inter,
                trial_id=0,
            )
        )
        t = end


def build_database(url: str) -> None:
    def make(name, direction, attrs):
        s = optuna.create_study(study_name=name, storage=url, direction=direction)
        for k, v in attrs.items():
            s.set_user_attr(k, v)
        return s

    s = make(
        "bm-linoss", "maximize", study_attrs("BasicMotions", "linoss", "linoss-full", 8, "grid")
    )
    add_trials(s, [(LINOSS_GRID[i], *rest) for i, *rest in LINOSS_TRIALS])
    s = make(
        "bm-dlinoss",
        "maximize",
        study_attrs("BasicMotions", "d-linoss", "d-linoss-reduced", 4, "grid"),
    )
    add_trials(s, [(DLINOSS_GRID[i], *rest) for i, *rest in DLINOSS_TRIALS])
    s = make("bm-small", "maximize", study_attrs("BasicMotions", "linoss", "linoss-im", 8, "grid"))
    add_trials(s, [(LINOSS_GRID[i], *rest) for i, *rest in SMALL_TRIALS])
    s = make("ppg-lru", "minimize", study_attrs("PPG", "auto", "lru-auto", None, "random"))
    add_trials(s, PPG_TRIALS)
    make("hb-empty", "maximize", study_attrs("Heartbeat", "linoss", "linoss-full", 8, "grid"))


@pytest.fixture(scope="session")
def study_db(tmp_path_factory) -> str:
    """A read-only study database (tests that write use `study_db_copy`)."""
    path = tmp_path_factory.mktemp("studies") / "studies.db"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    build_database(f"sqlite:///{path}")
    return f"sqlite:///{path}"


@pytest.fixture
def study_db_copy(study_db, tmp_path) -> str:
    """A private copy of the database, for tests that change it."""
    src = study_db.removeprefix("sqlite:///")
    dst = tmp_path / "copy.db"
    shutil.copy(src, dst)
    return f"sqlite:///{dst}"


@pytest.fixture
def cli(monkeypatch, capsys):
    """Run `ssmtune ARGS` in-process through `search.cli.main` (so USER_ERRORS map to 2).

    Returns a function args -> (exit code, stdout, stderr).
    """
    from ssmtune.search import cli as cli_module
    from ssmtune.search._cli_common import console

    monkeypatch.setattr(console, "width", 250)  # tables unfolded, as on a wide terminal

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["ssmtune", *args])
        capsys.readouterr()
        try:
            cli_module.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run
