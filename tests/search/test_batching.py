"""Trial shapes (search/_batching.py) and the runner's compile-aware scheduling and vectorized
trials end to end (the scheduler's own rules: tests/search/test_scheduler.py).

The runner tests use the benchmark grid (benchmarks/tuning-grid.toml: 6 shapes x 3 learning
rates) and a fake objective with a batch form that returns the batch size as the trial's wall
time, so each trial shows which batch it ran in.
"""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from ssmtune import spaces
from ssmtune.search._batching import ShapeKeys
from ssmtune.search._objective import TrialContext, TrialOutcome
from ssmtune.search._start import start_study
from ssmtune.studies import point_key

GRID_TOML = str(Path(__file__).parents[2] / "benchmarks" / "tuning-grid.toml")
PROTOCOL = {"max_steps": 20, "eval_every": 10, "patience": 10}


def fake(params: dict, ctx: TrialContext) -> TrialOutcome:
    """One trial alone: wall_s 1."""
    ctx.report(10, params["lr"])
    return TrialOutcome(val=params["lr"], status="ok", steps=10, wall_s=1.0)


def fake_batch(params_list: list[dict], ctxs: list[TrialContext]) -> list[TrialOutcome]:
    """Trials of one batch: wall_s = the batch's size; each reports on its own."""
    shapes = {(p["hidden"], p["include_time"]) for p in params_list}
    assert len(shapes) == 1, f"a batch mixes shapes: {shapes}"
    out = []
    for p, ctx in zip(params_list, ctxs, strict=True):
        ctx.report(10, p["lr"])
        out.append(TrialOutcome(val=p["lr"], status="ok", steps=10, wall_s=len(params_list)))
    return out


#: Shapes "compiled" in this worker process (fake_ahead and its precompile form); the grid's
#: compile shapes are its 3 hidden sizes (include_time shares the executable).
_READY: set[int] = set()


def fake_ahead(params: dict, ctx: TrialContext) -> TrialOutcome:
    """One trial: compile_s 1 when its shape was neither compiled ahead nor run here before."""
    cold = params["hidden"] not in _READY
    _READY.add(params["hidden"])
    return TrialOutcome(val=params["lr"], status="ok", steps=10, compile_s=float(cold))


def fake_ahead_precompile(params: dict, ctx: TrialContext) -> float:
    _READY.add(params["hidden"])
    return 0.5


def test_shape_keys_ignore_traced_values():
    shape = ShapeKeys(spaces.get(GRID_TOML), "basicmotions", PROTOCOL)
    a = {"lr": 1e-4, "hidden": 16, "include_time": True}
    assert shape(a) == shape({**a, "lr": 1e-2})
    assert shape(a) != shape({**a, "hidden": 32})
    assert shape(a) == shape({**a, "include_time": False})  # an empty time channel
    batch = ShapeKeys(spaces.get(GRID_TOML), "basicmotions", PROTOCOL, batch=True)
    assert batch(a) == batch({**a, "lr": 1e-2})
    assert batch(a) != batch({**a, "include_time": False})
    assert shape({"hidden": "nope"}) is None


def _grid_study(url: str, objective: str, **options) -> tuple[dict, list]:
    """Run the benchmark grid with a fake objective of this module; the summary and the
    complete trials in the order they started."""
    summary = start_study(
        task="basicmotions",
        space=GRID_TOML,
        storage=url,
        max_steps=20,
        eval_every=10,
        objective=f"tests.search.test_batching:{objective}",
        name="g",
        **options,
    )
    trials = optuna.load_study(study_name="g", storage=url).get_trials()
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    return summary, sorted(done, key=lambda t: t.datetime_start)


@pytest.mark.usefixtures("ray_local")
@pytest.mark.parametrize("batch", [1, 3])
def test_runner_batches_trials_of_one_shape(sqlite_url, batch):
    summary, done = _grid_study(sqlite_url, "fake", workers=2, batch_trials=batch)
    assert len(done) == 18 and len({point_key(t.params) for t in done}) == 18
    assert summary["n_complete"] == 18
    assert {t.user_attrs["wall_s"] for t in done} == {float(batch)}
    assert all(t.intermediate_values == {10: t.params["lr"]} for t in done)
    assert all(t.value == t.params["lr"] for t in done)


@pytest.mark.usefixtures("ray_local")
@pytest.mark.parametrize("ahead", [True, False])
def test_compile_ahead_leaves_only_the_first_shape_cold(sqlite_url, ahead):
    summary, done = _grid_study(sqlite_url, "fake_ahead", workers=1, compile_ahead=ahead)
    assert len(done) == 18 and summary["n_complete"] == 18
    cold = [t.number for t in done if t.user_attrs["compile_s"] == 1.0]
    # a fresh worker process per study: every shape is cold unless it was compiled ahead
    assert len(cold) == (1 if ahead else 3)
    assert summary["compiled_ahead"] == (2 if ahead else 0)
    # a shape's 6 trials run back to back (the next shape compiles meanwhile)
    shapes = [t.params["hidden"] for t in done]
    assert all(len(set(shapes[i : i + 6])) == 1 for i in range(0, 18, 6))


def test_batch_trials_must_be_positive(sqlite_url):
    from ssmtune.studies import StudyError

    with pytest.raises(StudyError, match="`batch_trials` must be an integer >= 1, got 0"):
        start_study(task="basicmotions", space=GRID_TOML, storage=sqlite_url, batch_trials=0)
