"""Replay (`search._replay`, issue 24) against synthetic tables: the exact random-order figures,
a grid's total, independence of the worker count for a strategy that ignores results, and a
pruner deciding as it does in a live study."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ssmtune.search._replay import check_replay, replay, replay_once
from ssmtune.studies import StudyError, Table, TablePoint, cost_to_reach

PROTOCOL = {"max_steps": 30, "eval_every": 10, "patience": 2, "batch_size": 32}


def synthetic_table(seed: int = 0, n_lr: int = 3, n_hidden: int = 4) -> Table:
    """A full product of lr x hidden: values and costs drawn once, three timed evaluations
    each (the value rises to its final one; the cost is spread over them)."""
    rng = np.random.default_rng(seed)
    points = []
    for number, (lr, hidden) in enumerate(
        itertools.product([1e-4, 1e-3, 1e-2][:n_lr], [16, 32, 64, 128][:n_hidden])
    ):
        value = float(rng.uniform(0.4, 0.9))
        cost = float(rng.uniform(10.0, 100.0))
        evals = tuple(
            (10 * k, value * (0.6 + 0.2 * k), value if k == 2 else None, cost * k / 3.2)
            for k in (1, 2, 3)
        )
        evals = tuple((s, min(v, value), t, d) for s, v, t, d in evals)
        points.append(
            TablePoint(
                params={"lr": lr, "hidden": hidden},
                value=value,
                test=value - 0.05,
                device_s=cost,
                state="complete",
                steps=30,
                trial=number,
                seed=2345,
                evals=evals,
            )  # fmt: skip
        )
    header = {"task": "synthetic", "space": "s", "direction": "maximize", "metric": "accuracy",
              "protocol": PROTOCOL, "space_size": len(points)}  # fmt: skip
    return Table(header, tuple(points))


def test_a_grid_in_its_order_costs_the_tables_total() -> None:
    table = synthetic_table()
    run = replay_once(table, sampler="grid", workers=3)
    assert [t.point for t in run.trials] == list(range(12))
    assert run.total_s() == pytest.approx(table.total_device_s(), rel=1e-12)
    best = table.best()
    assert run.curve()[-1][1] == best.value and run.curve()[-1][2] == best.test


def test_shuffled_matches_the_exact_random_order_cost() -> None:
    """2,000 replicates of the grid in random order: the mean cost to reach each target is the
    exact expectation (`studies.cost_to_reach`) within 4 standard errors."""
    table = synthetic_table(seed=1)
    values = [p.value for p in table.points]
    costs = [p.device_s for p in table.points]
    runs = replay(table, sampler="shuffled", replicates=2000, seed=5)
    for target in sorted(values)[-4:]:
        exact = cost_to_reach(values, costs, target)
        got = np.array([r.cost_to_reach(target) for r in runs])
        se = got.std(ddof=1) / np.sqrt(len(got))
        assert abs(got.mean() - exact) < 4 * se, (target, got.mean(), exact, se)


def test_one_or_four_workers_cost_the_same_for_a_strategy_that_ignores_results() -> None:
    table = synthetic_table(seed=2)
    target = sorted(p.value for p in table.points)[-3]
    one = [r.cost_to_reach(target) for r in replay(table, sampler="shuffled", replicates=300)]
    four = [
        r.cost_to_reach(target)
        for r in replay(table, sampler="shuffled", workers=4, replicates=300)
    ]
    assert one == four  # the same seeds shuffle the same orders: equal replicate by replicate
    wall_one = replay_once(table, sampler="shuffled", seed=0).makespan_s
    wall_four = replay_once(table, sampler="shuffled", seed=0, workers=4).makespan_s
    assert wall_four < wall_one / 2  # what parallel workers buy: wall-clock time


def test_a_budget_stops_the_running_trials_and_is_spent_exactly() -> None:
    table = synthetic_table(seed=3)
    budget = table.total_device_s() / 3
    run = replay_once(table, sampler="shuffled", workers=2, budget_s=budget)
    assert run.total_s() == pytest.approx(budget, rel=1e-9)
    assert run.trials[-1].state == "budget" and run.trials[-1].value is None


def test_tpe_runs_within_its_budget_and_finds_the_best_often() -> None:
    table = synthetic_table(seed=4)
    best = table.best().value
    runs = replay(table, sampler="tpe", pruner="median", workers=2, replicates=5,
                  budget_s=table.total_device_s())  # fmt: skip
    for run in runs:
        assert run.total_s() <= table.total_device_s() * (1 + 1e-9)
        assert {t.state for t in run.trials} <= {"complete", "pruned", "budget"}
    assert max(r.curve()[-1][1] or 0 for r in runs) == best


def test_a_model_based_sampler_needs_a_full_product() -> None:
    table = synthetic_table()
    partial = Table(table.header, table.points[:-1])
    check_replay(partial, "shuffled")
    with pytest.raises(StudyError, match="11 distinct points"):
        check_replay(partial, "tpe")
    with pytest.raises(StudyError, match="unknown sampler 'nope'"):
        check_replay(table, "nope")


def test_kaplan_meier_counts_the_censored_replicates() -> None:
    """A cost to reach estimated over replicates of which some never reached the target:
    dropping the censored ones understates the median; Kaplan-Meier does not."""
    import doctest

    from ssmtune.studies import _survival, km_quantiles

    assert doctest.testmod(_survival).failed == 0
    rng = np.random.default_rng(0)
    true = rng.exponential(10.0, 4000)
    spent = np.full(4000, 12.0)  # every replicate stops at 12
    costs = [float(c) if c <= 12.0 else None for c in true]
    (median,) = km_quantiles(costs, list(spent), [0.5])
    assert abs(median - 10.0 * np.log(2)) < 0.5  # the exponential's median, 6.93
    reached_only = np.median([c for c in costs if c is not None])
    assert reached_only < median - 1.0
    assert km_quantiles(costs, list(spent), [0.9]) == [None]  # 70 % reached: not estimable


def _table_over(grid: list[dict]) -> Table:
    """A table over `grid`: final values from `_fakes.value_of`, rising over three evaluations
    at different rates, so that a median pruner stops some trials."""
    from tests.search._fakes import value_of

    points = []
    for number, params in enumerate(grid):
        value = value_of(params)
        rate = 0.5 + (number % 3) * 0.2
        evals = tuple(
            (10 * k, value * min(1.0, rate * k / 2), value if k == 3 else None, 5.0 * k)
            for k in (1, 2, 3)
        )
        points.append(
            TablePoint(
                params=params,
                value=evals[-1][1],
                test=value / 2,
                device_s=15.0,
                state="complete",
                steps=30,
                trial=number,
                seed=2345,
                evals=evals,
            )  # fmt: skip
        )
    header = {"format": "ssmtune-table", "version": 1, "task": "basicmotions", "space": "s",
              "direction": "maximize", "metric": "accuracy", "protocol": PROTOCOL,
              "space_size": len(points)}  # fmt: skip
    return Table(header, tuple(points))


@pytest.mark.usefixtures("ray_local")
def test_the_median_pruner_decides_in_replay_as_in_a_live_study(sqlite_url: str) -> None:
    """A live grid study whose stand-in objective reports a table's recorded values
    (`_fakes.from_table`, one worker, the median pruner) prunes the same trials at the same
    steps as the replay of that table in the order the study ran its points."""
    import json
    from pathlib import Path

    import optuna
    from optuna.trial import TrialState

    from ssmtune import spaces
    from ssmtune.search import start_study
    from ssmtune.studies import point_key, trial_point

    space = str(Path(__file__).parents[2] / "spaces" / "examples" / "small-linoss.toml")
    table = _table_over(spaces.get(space).grid())
    path = Path(sqlite_url.removeprefix("sqlite:///") + ".live.table.jsonl")
    path.write_text("\n".join([json.dumps(table.header)] + [json.dumps(p.to_json())
                                                           for p in table.points]) + "\n")  # fmt: skip
    start_study(
        task="basicmotions", space=space, storage=sqlite_url, workers=1, name="live",
        pruner="median", max_steps=30, eval_every=10, objective="tests.search._fakes:from_table",
    )  # fmt: skip
    trials = optuna.load_study(study_name="live", storage=sqlite_url).get_trials()
    ran = sorted(trials, key=lambda t: t.datetime_start)
    index = {point_key(p.params): i for i, p in enumerate(table.points)}
    order = [index[point_key(trial_point(t))] for t in ran]
    live = [(order[k], t.state.name, max(t.intermediate_values)) for k, t in enumerate(ran)]
    assert {t.state for t in trials} == {TrialState.COMPLETE, TrialState.PRUNED}
    run = replay_once(table, sampler="grid", pruner="median", order=order)
    replayed = [(t.point, t.state.upper(), 10 * round(t.cost_s / 5.0)) for t in run.trials]
    assert replayed == live
