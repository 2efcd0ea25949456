"""`ssmtune evaluate` and `search.evaluate_study`: seeds, the best config's retraining on Ray,
and the stored result."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pytest

from ssmtune.studies import (
    EVALUATION_SEEDS,
    StudyError,
    evaluation_plan,
    evaluation_seeds,
    report,
    store_evaluation,
    summarize_evaluation,
)

FAKE = "tests.studies.fake_objective:objective"


def test_seeds_are_the_benchmarks():
    assert EVALUATION_SEEDS == (2345, 3456, 4567, 5678, 6789)  # tk-rusch/linoss run_experiment.py
    assert evaluation_seeds(3) == [2345, 3456, 4567]
    for n in (0, 6):
        with pytest.raises(StudyError, match=r"`seeds` must be 1\.\.5"):
            evaluation_seeds(n)


def test_population_std():
    e = summarize_evaluation([1, 2, 3], [0.5, 0.6, 0.7])
    assert e["mean"] == pytest.approx(0.6)
    assert e["std"] == pytest.approx(np.std([0.5, 0.6, 0.7], ddof=0))
    assert set(e) == {"seeds", "tests", "mean", "std"}
    with pytest.raises(StudyError, match="one test value per seed"):
        summarize_evaluation([1, 2], [0.5])


def test_plan_is_the_best_trial(study_db):
    plan = evaluation_plan(study_db, "ppg-lru")
    assert (plan["best_trial"], plan["best_value"]) == (4, 0.065)
    assert plan["params"] == {"lr": 7e-4, "model": "lru"}
    assert (plan["task"], plan["space"], plan["metric"]) == ("PPG", "lru-auto", "mse")
    assert plan["protocol"]["max_steps"] == 2000
    with pytest.raises(StudyError, match="has no complete trial to evaluate"):
        evaluation_plan(study_db, "hb-empty")
    with pytest.raises(StudyError, match="unknown study 'nope'"):
        evaluation_plan(study_db, "nope")


def test_store_and_report(study_db_copy):
    e = store_evaluation(study_db_copy, "bm-linoss", [2345, 3456], [0.8, 0.9])
    stored = optuna.load_study(study_name="bm-linoss", storage=study_db_copy).user_attrs
    assert (
        stored["evaluation"]
        == e
        == {
            "seeds": [2345, 3456],
            "tests": [0.8, 0.9],
            "mean": pytest.approx(0.85),
            "std": pytest.approx(0.05),
        }
    )
    (row,) = report(study_db_copy, study="bm-linoss")
    assert row["evaluation_mean"] == pytest.approx(0.85)


def test_cli_stores_mean_and_std(study_db_copy, cli, monkeypatch):
    calls = []

    def fake_retrain(plan, seeds, *, workers, storage, objective=None):
        calls.append((plan["best_trial"], plan["params"], seeds, workers))
        return [0.80, 0.85, 0.90]

    monkeypatch.setattr("ssmtune.search._evaluate.retrain_seeds", fake_retrain)
    code, out, err = cli(
        "evaluate", "bm-linoss", "--seeds", "3", "--storage", study_db_copy, "--json"
    )
    assert code == 0, err
    assert calls == [(4, {"lr": 1e-3, "hidden": 16, "include_time": True}, [2345, 3456, 4567], 3)]
    got = json.loads(out)
    assert got["seeds"] == [2345, 3456, 4567] and got["mean"] == pytest.approx(0.85)
    stored = optuna.load_study(study_name="bm-linoss", storage=study_db_copy).user_attrs
    assert stored["evaluation"]["std"] == pytest.approx(np.std([0.8, 0.85, 0.9]))


@pytest.mark.parametrize(
    "flag, expected",
    [
        ([], {"max_steps": 100_000, "eval_every": 1_000, "patience": 10}),
        (["--protocol", "study"], None),  # the study's own recorded protocol
    ],
)
def test_protocol_full_by_default_or_the_studys(study_db_copy, cli, monkeypatch, flag, expected):
    from ssmtune import studies

    seen = []

    def fake_retrain(plan, seeds, *, workers, storage, objective=None):
        seen.append(plan["protocol"])
        return [0.5] * len(seeds)

    monkeypatch.setattr("ssmtune.search._evaluate.retrain_seeds", fake_retrain)
    code, _, err = cli("evaluate", "bm-linoss", "--seeds", "1", *flag, "--storage", study_db_copy)
    assert code == 0, err
    recorded = studies.evaluation_plan(study_db_copy, "bm-linoss").get("protocol") or {}
    want = expected if expected is not None else recorded
    assert {k: seen[0].get(k) for k in want} == want
    if expected is None:
        assert seen[0] == recorded


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope"], "unknown study 'nope'"),
        (["bm-linoss", "--protocol", "long"], "--protocol must be one of full, study"),
        (["hb-empty"], "no complete trial to evaluate"),
        (["bm-linoss", "--seeds", "9"], "--seeds must be 1..5"),
        (["bm-linoss", "--workers", "0"], "--workers must be >= 1"),
    ],
)
def test_bad_input_exit_code_2(study_db, cli, args, message):
    code, _, err = cli("evaluate", *args, "--storage", study_db)
    assert code == 2
    assert message in " ".join(err.split())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"protocol": "long"}, "`protocol` must be one of full, study; got 'long'"),
        ({"seeds": 9}, "`seeds` must be 1..5"),
        ({"workers": 0}, "`workers` must be >= 1, got 0"),
    ],
)
def test_library_names_its_arguments_not_flags(study_db, kwargs, message):
    """`search.evaluate_study` names the argument; the command line writes its flag instead."""
    from ssmtune.search import evaluate_study

    with pytest.raises(StudyError) as exc:
        evaluate_study("bm-linoss", storage=study_db, **kwargs)
    assert message in str(exc.value) and "--" not in str(exc.value)


def test_full_protocol_is_the_train_options_defaults():
    """One source of the benchmark's protocol: `models.TrainOptions`' defaults."""
    from ssmtune import models
    from ssmtune.search import full_protocol

    o = models.TrainOptions()
    assert full_protocol() == {"max_steps": o.max_steps, "eval_every": o.eval_every,
                               "patience": o.patience}  # fmt: skip
    assert full_protocol() == {"max_steps": 100_000, "eval_every": 1_000, "patience": 10}


@pytest.mark.timeout(300)
def test_retrain_runs_each_seed_on_ray(study_db, ray_local):
    """The real path: one Ray task per seed through the worker's objective (a fake here)."""
    from ssmtune.search import EvaluationError, retrain_seeds
    from ssmtune.search._ray import ray_session

    plan = evaluation_plan(study_db, "bm-linoss")  # best: hidden 16
    with ray_session(num_cpus=2):  # one local Ray for both calls (reused inside)
        tests = retrain_seeds(plan, [2345, 3456, 4567], workers=2, storage=study_db, objective=FAKE)
        assert tests == pytest.approx([0.85 + 0.0016, 0.86 + 0.0016, 0.87 + 0.0016])
        # a seed without a test metric (diverged) stops the evaluation; nothing is stored
        with pytest.raises(EvaluationError, match=r"no test metric for 1 of 2 seeds \(seed 13: "):
            retrain_seeds(plan, [2345, 13], workers=2, storage=study_db, objective=FAKE)


def test_top_k_retrains_the_best_distinct_points_and_stores_each(study_db_copy, cli, monkeypatch):
    """``evaluate --top 3``: the three best points, best first, each over the seeds; the best's
    `evaluation` as before, all three as `evaluations`; a --top past the points is one line."""
    seen = []

    def fake_retrain(plan, seeds, *, workers, storage, objective=None):
        seen.append((plan["best_trial"], plan["best_value"]))
        return [0.5 + 0.1 * len(seen)] * len(seeds)

    monkeypatch.setattr("ssmtune.search._evaluate.retrain_seeds", fake_retrain)
    code, out, err = cli("evaluate", "bm-linoss", "--seeds", "2", "--top", "3",
                         "--storage", study_db_copy, "--json")  # fmt: skip
    assert code == 0, err
    study = optuna.load_study(study_name="bm-linoss", storage=study_db_copy)
    ranked = sorted((t for t in study.trials if t.value is not None), key=lambda t: -t.value)
    distinct, keys = [], set()
    for t in ranked:
        if tuple(sorted(t.params.items())) not in keys:
            keys.add(tuple(sorted(t.params.items())))
            distinct.append(t)
    assert [v for _, v in seen] == [t.value for t in distinct[:3]]
    stored = study.user_attrs
    assert [e["rank"] for e in stored["evaluations"]] == [1, 2, 3]
    assert stored["evaluation"]["mean"] == pytest.approx(0.6)
    assert [e["mean"] for e in json.loads(out)["top"]] == pytest.approx([0.6, 0.7, 0.8])
    code, _, err = cli("evaluate", "bm-linoss", "--top", "99", "--storage", study_db_copy)
    assert code == 2 and "--top must be 1..7" in err and "got 99" in err
    assert len(err.strip().splitlines()) == 1
