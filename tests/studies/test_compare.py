"""`studies.compare` and `ssmtune compare`: the measured form of "a smaller space does as well"."""

from __future__ import annotations

import json

import pytest

from ssmtune.studies import MIN_COMPLETE, StudyError, compare, cost_to_reach, expected_best
from tests.studies.conftest import DLINOSS_VALUES, LINOSS_VALUES, PPG_VALUES
from tests.studies.test_best import optuna_cli


def test_finished_studies_conclude(study_db, cli):
    # at the default target (89 %, one point below B's best) only one trial of B reaches it and
    # none of A, so neither reaches it in a third of the resamples: inconclusive
    # (test_default_target_out_of_reach_is_inconclusive); at 85 % B's saving is clear
    code, out, _ = cli(
        "compare", "--task", "BasicMotions", "linoss-full", "d-linoss-reduced",
        "--storage", study_db, "--no-note", "--json", "--target", "0.85",
    )  # fmt: skip
    assert code == 0
    c = json.loads(out)
    assert (c["a"]["study"], c["b"]["study"]) == ("bm-linoss", "bm-dlinoss")
    assert c["conclusive"] is True and c["problems"] == []
    assert c["points"] == {"a": 8, "b": 4, "reduction": 0.5}
    assert c["device_hours"]["a"] == pytest.approx(25860 / 3600)
    assert c["device_hours"]["b"] == pytest.approx(3.0)
    assert c["best_value"]["diff"] == pytest.approx(0.90 - 0.875)
    assert c["test_at_best"]["diff"] == pytest.approx(0.84 - 0.80)
    # equal trials: k in {1, 5} and the largest both reach, min(7, 6) = 6
    assert [e["k"] for e in c["equal_trials"]] == [1, 5, 6]
    e6 = c["equal_trials"][-1]
    assert e6["a"] == pytest.approx(expected_best(LINOSS_VALUES, 6))
    assert e6["b"] == pytest.approx(max(DLINOSS_VALUES))
    # equal device-hours: from one trial of the dearer study to all of the cheaper one's budget
    budgets = [e["device_hours"] for e in c["equal_device_hours"]]
    assert budgets[0] == pytest.approx(25860 / 3600 / 7) and budgets[-1] == pytest.approx(3.0)
    assert c["equal_device_hours"][-1]["b"] == pytest.approx(0.90)
    assert "50% fewer than A" in c["verdict"] and "B better" in c["verdict"]
    assert not c["verdict"].startswith("INCONCLUSIVE")


def test_agrees_with_optuna_cli(study_db):
    c = compare(study_db, "BasicMotions", "bm-linoss", "bm-dlinoss")
    for side in ("a", "b"):
        best = optuna_cli("best-trial", "--study-name", c[side]["study"], "--storage", study_db)
        assert c["best_value"][side] == best["value"]
        assert c["test_at_best"][side] == best["user_attrs"]["test"]


def test_small_or_unfinished_is_said_plainly(study_db, cli):
    code, out, _ = cli(
        "compare",
        "--task",
        "BasicMotions",
        "linoss-full",
        "linoss-im",
        "--storage",
        study_db,
        "--no-note",
    )
    assert code == 0
    text = " ".join(out.split())
    assert "INCONCLUSIVE" in text
    assert "is unfinished: 3 of 8 grid points done" in text
    assert f"is too small: 3 complete trial(s), at least {MIN_COMPLETE} needed" in text
    c = compare(study_db, "BasicMotions", "linoss-full", "linoss-im")
    assert c["conclusive"] is False and c["b"]["finished"] is False


def test_empty_study_is_inconclusive(study_db_copy):
    import optuna

    from tests.studies.conftest import study_attrs

    s = optuna.create_study(study_name="bm-empty", storage=study_db_copy, direction="maximize")
    for k, v in study_attrs("BasicMotions", "lru", "lru-full", 8, "grid").items():
        s.set_user_attr(k, v)
    c = compare(study_db_copy, "BasicMotions", "linoss-full", "lru-full")
    assert c["conclusive"] is False
    assert c["equal_trials"] == [] and c["equal_device_hours"] == []
    assert "0 complete trial(s)" in c["verdict"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--task", "EigenWorms", "a", "b"], "no studies for task 'eigenworms'"),
        (["--task", "BasicMotions", "linoss-full", "s4-full"], "no study of task 'BasicMotions'"),
        (["--task", "BasicMotions", "bm-linoss", "linoss-full"], "are the same study"),
        (["--task", "PPG", "lru-auto", "bm-linoss"], "no study of task 'PPG' with name or space"),
    ],
)
def test_bad_input_exit_code_2(study_db, cli, args, message):
    code, _, err = cli("compare", *args, "--storage", study_db, "--no-note")
    assert code == 2
    assert message in " ".join(err.split())


def test_ambiguous_space_names_the_studies(study_db_copy, cli):
    import optuna

    from tests.studies.conftest import study_attrs

    s = optuna.create_study(study_name="bm-linoss-2", storage=study_db_copy, direction="maximize")
    for k, v in study_attrs("BasicMotions", "linoss", "linoss-full", 8, "tpe").items():
        s.set_user_attr(k, v)
    code, _, err = cli(
        "compare", "--task", "BasicMotions", "linoss-full", "d-linoss-reduced",
        "--storage", study_db_copy,
    )  # fmt: skip
    assert code == 2
    assert "several studies of task 'BasicMotions' search space 'linoss-full'" in " ".join(
        err.split()
    )


# ----------------------------------------------------------------------------- issue 14: intervals


def _grid_points(trials):
    """(value, device-hours) of each grid point's first complete trial, each carrying an equal
    share of the device-hours of the study's other trials."""
    first = {}
    for point, state, value, _, device_s in trials:
        if state == "COMPLETE":
            first.setdefault(point, (value, device_s / 3600))
    share = (sum(t[4] for t in trials) / 3600 - sum(c for _, c in first.values())) / len(first)
    return [v for v, _ in first.values()], [c + share for _, c in first.values()]


def test_complete_grids_are_exact_against_every_order(study_db):
    from tests.studies.conftest import DLINOSS_TRIALS, LINOSS_TRIALS
    from tests.studies.test_bootstrap import brute_force_cost

    c = compare(study_db, "BasicMotions", "linoss-full", "d-linoss-reduced", target=0.85)
    assert c["target"] == {"value": 0.85, "source": "given"}
    for side, trials, points in (("a", LINOSS_TRIALS, 7), ("b", DLINOSS_TRIALS, 4)):
        values, costs = _grid_points(trials)
        g = c["grid"][side]
        assert g["points"] == points and g["best_value"] == max(values)
        assert g["cost_to_reach"]["device_hours"] == pytest.approx(
            brute_force_cost(values, costs, 0.85)
        )
    assert c["grid"]["b"]["repeats_left_out"] == 2
    assert c["grid"]["ratio"] == pytest.approx(
        c["grid"]["b"]["cost_to_reach"]["device_hours"]
        / c["grid"]["a"]["cost_to_reach"]["device_hours"]
    )
    assert "A's grid is complete: exact best 87.50%" in c["verdict"]
    # a target no grid point reaches is said, not a number
    c = compare(study_db, "BasicMotions", "linoss-full", "d-linoss-reduced", target=0.89)
    assert c["grid"]["a"]["cost_to_reach"] == {
        "device_hours": None,
        "reason": "no grid point reaches the target",
    }
    assert c["grid"]["ratio"] is None


def test_default_target_out_of_reach_is_inconclusive(study_db, cli):
    code, out, _ = cli(
        "compare", "--task", "BasicMotions", "linoss-full", "d-linoss-reduced",
        "--storage", study_db, "--no-note", "--json",
    )  # fmt: skip
    assert code == 0
    c = json.loads(out, parse_constant=lambda x: pytest.fail(f"{x} in --json"))
    # one point below the better best (B's 90 %): only B's 0.90 trial reaches it
    assert c["target"]["value"] == pytest.approx(0.89)
    assert c["target"]["source"].startswith("default")
    a, b, ratio = c["cost_to_reach"]["a"], c["cost_to_reach"]["b"], c["cost_to_reach"]["ratio"]
    assert a["device_hours"] is None and a["reason"].startswith("not reached")
    assert a["reached_fraction"] == 0 and a["interval"] == [None, None] and a["hits"] == 0
    assert b["hits"] == 1 and b["trials"] == 6
    assert b["device_hours"] == pytest.approx(cost_to_reach(DLINOSS_VALUES, [0.5] * 6, 0.89))
    # B's resample misses the 0.90 trial with probability (5/6)^6 = 0.335: ratio undefined
    assert b["reached_fraction"] == pytest.approx(1 - (5 / 6) ** 6, abs=0.04)
    assert ratio["undefined_fraction"] == pytest.approx(1 - b["reached_fraction"])
    assert ratio["value"] is None and ratio["reason"] == "A does not reach the target"
    assert c["conclusive"] is False
    assert c["verdict"].startswith("INCONCLUSIVE: neither study reaches the target in 3")
    assert "B/A = — (A does not reach the target)" in c["verdict"]


def test_ratio_interval_is_from_paired_independent_resamples(study_db):
    import numpy as np

    from ssmtune.studies import (
        TrialSample,
        boot_cost_to_reach,
        percentile_interval,
        resample_indices,
    )
    from tests.studies.conftest import DLINOSS_TRIALS, LINOSS_TRIALS

    c = compare(study_db, "BasicMotions", "bm-linoss", "bm-dlinoss", target=0.85, seed=3)
    rng = np.random.default_rng(3)  # A's resamples first, then B's, from one generator
    reps = []
    for trials in (LINOSS_TRIALS, DLINOSS_TRIALS):
        done = [t for t in trials if t[1] == "COMPLETE"]
        share = (sum(t[4] for t in trials) - sum(t[4] for t in done)) / 3600 / len(done)
        s = TrialSample.of([t[2] for t in done], [t[4] / 3600 + share for t in done])
        reps.append(boot_cost_to_reach(s, 0.85, resample_indices(len(done), 2000, rng)))
    ratio = c["cost_to_reach"]["ratio"]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = reps[1] / reps[0]
    assert ratio["interval"] == pytest.approx(list(percentile_interval(r)))
    assert ratio["undefined_fraction"] == pytest.approx(np.mean(np.isnan(r)))
    assert c["cost_to_reach"]["a"]["reached_fraction"] == pytest.approx(
        np.mean(np.isfinite(reps[0]))
    )
    assert ratio["value"] == pytest.approx(
        c["cost_to_reach"]["b"]["device_hours"] / c["cost_to_reach"]["a"]["device_hours"]
    )
    # 0.19, interval [0, 0.4]: B reaches 85 % for less than half A's device-hours
    assert ratio["interval"][1] < 0.5 and ratio["conclusive"] is True
    assert "B reaches the target for less than half the device-hours of A" in c["verdict"]


def test_every_figure_has_an_interval_around_its_estimate(study_db):
    c = compare(study_db, "BasicMotions", "linoss-full", "d-linoss-reduced", target=0.85)
    rows = [*c["equal_trials"], *c["equal_device_hours"], c["test_at_best"]]
    for row in rows:
        for side in ("a", "b"):
            lo, hi = row[f"{side}_interval"]
            assert lo <= hi
        lo, hi = row["diff_interval"]
        assert lo <= hi
    # the expected best at k = 1 is a mean: its interval lies strictly inside the values' range
    k1 = c["equal_trials"][0]
    assert min(LINOSS_VALUES) < k1["a_interval"][0] < k1["a"] < k1["a_interval"][1]
    # at the largest k both reach, B's values all lie in [0.70, 0.90]
    last = c["equal_trials"][-1]
    assert 0.70 <= last["b_interval"][0] <= last["b_interval"][1] <= 0.90
    assert c["bootstrap"] == {**c["bootstrap"], "resamples": 2000, "seed": 0, "level": 0.9}


def test_seed_and_resamples(study_db):
    def interval(**kw):
        c = compare(study_db, "BasicMotions", "linoss-full", "d-linoss-reduced", **kw)
        return c["equal_trials"][0]["a_interval"], c["bootstrap"]["resamples"]

    assert interval(seed=1) == interval(seed=1)
    assert interval(seed=1)[0] != interval(seed=2)[0]
    assert interval(resamples=50)[1] == 50
    with pytest.raises(StudyError, match=r"resamples must be an integer 1\.\.100000"):
        compare(study_db, "BasicMotions", "linoss-full", "d-linoss-reduced", resamples=0)


def test_unfinished_alone_is_not_inconclusive(study_db_copy):
    import optuna

    from tests.studies.conftest import LINOSS_GRID, add_trials, study_attrs

    s = optuna.create_study(study_name="bm-cheap", storage=study_db_copy, direction="maximize")
    for k, v in study_attrs("BasicMotions", "linoss", "linoss-cheap", 16, "grid").items():
        s.set_user_attr(k, v)
    add_trials(s, [(LINOSS_GRID[i], "COMPLETE", 0.86 + 0.005 * i, 0.8, 600.0) for i in range(6)])
    c = compare(study_db_copy, "BasicMotions", "linoss-full", "linoss-cheap", target=0.85)
    assert c["b"]["finished"] is False and c["grid"]["b"] is None  # 6 of 16 points
    assert c["conclusive"] is True and c["problems"] == []
    assert c["notes"] == [
        "B (bm-cheap) is unfinished: 6 of 16 grid points done; its figures are those of the "
        "trials so far"
    ]
    assert not c["verdict"].startswith("INCONCLUSIVE")
    assert "Note: B (bm-cheap) is unfinished" in c["verdict"]
    # every trial of B reaches 85 % at 1/6 device-hour: B/A = (1/6) / A's cost
    b = c["cost_to_reach"]["b"]
    assert b["device_hours"] == pytest.approx(600 / 3600) and b["interval"] == pytest.approx(
        [600 / 3600] * 2
    )


def test_minimised_metric_reaches_down_to_its_target(study_db_copy):
    import optuna

    from tests.studies.conftest import PPG_TRIALS, add_trials, study_attrs

    s = optuna.create_study(study_name="ppg-s4", storage=study_db_copy, direction="minimize")
    for k, v in study_attrs("PPG", "s4", "s4-auto", None, "random").items():
        s.set_user_attr(k, v)
    add_trials(s, [(p, st, v and v * 1.1, t, d) for p, st, v, t, d in PPG_TRIALS])
    c = compare(study_db_copy, "PPG", "lru-auto", "s4-auto")
    # 1 % above the better (lower) best MSE, 0.065
    assert c["target"]["value"] == pytest.approx(0.065 * 1.01)
    a = c["cost_to_reach"]["a"]
    assert a["hits"] == 1  # only 0.065 is <= 0.06565
    done = [t for t in PPG_TRIALS if t[1] == "COMPLETE"]
    share = (sum(t[4] for t in PPG_TRIALS) - sum(t[4] for t in done)) / 3600 / len(done)
    want = cost_to_reach(
        [t[2] for t in done],
        [t[4] / 3600 + share for t in done],
        0.065 * 1.01,
        direction="minimize",
    )
    assert a["device_hours"] == pytest.approx(want)
    assert c["cost_to_reach"]["b"]["device_hours"] is None  # 0.0715 at best
    assert c["equal_trials"][0]["a"] == pytest.approx(sum(PPG_VALUES) / len(PPG_VALUES))
    with pytest.raises(StudyError, match="an MSE target is >= 0"):
        compare(study_db_copy, "PPG", "lru-auto", "s4-auto", target=-0.1)


def test_accuracy_target_out_of_range_is_one_line(study_db, cli):
    code, out, err = cli(
        "compare", "--task", "BasicMotions", "linoss-full", "d-linoss-reduced",
        "--storage", study_db, "--target", "85",
    )  # fmt: skip
    assert code == 2 and not out
    assert "--target 85 is outside [0, 1]" in err and "use 0.85" in " ".join(err.split())
    with pytest.raises(StudyError, match=r"^`target` 85 is outside \[0, 1\]"):
        compare(study_db, "BasicMotions", "linoss-full", "d-linoss-reduced", target=85)


def test_out_writes_figures_with_bands(study_db, cli, tmp_path):
    out = tmp_path / "figs"
    code, text, err = cli(
        "compare", "--task", "BasicMotions", "linoss-full", "d-linoss-reduced",
        "--storage", study_db, "--no-note", "--out", str(out), "--target", "0.85", "--json",
    )  # fmt: skip
    assert code == 0
    c = json.loads(text)
    names = sorted(p.name for p in out.iterdir())
    stems = [
        "compare_cost_to_reach_BasicMotions",
        "compare_expected_best_device_hours_BasicMotions",
        "compare_expected_best_trials_BasicMotions",
    ]
    assert names == sorted([f"{s}.{e}" for s in stems for e in ("html", "png")] + ["plotly.min.js"])
    for s in stems:
        assert (out / f"{s}.png").read_bytes()[:4] == b"\x89PNG"
        html = (out / f"{s}.html").read_text()
        assert "A: linoss-full (bm-linoss)" in html and "B: d-linoss-reduced (bm-dlinoss)" in html
        assert "90% interval" in html
    # the plotted curves are in the JSON: every k of the trials curve up to N, with intervals
    curve = c["curves"]["b"]
    assert [p["k"] for p in curve["trials"]] == [1, 2, 3, 4, 5, 6]
    assert curve["trials"][-1]["value"] == pytest.approx(max(DLINOSS_VALUES))
    assert all(p["interval"][0] <= p["interval"][1] for p in curve["trials"])
    assert 0.85 in [p["target"] for p in curve["cost_to_reach"]]
    assert "wrote 6 files" in err


def _one_sided_db(url: str, a_device_s: float) -> None:
    """Two studies on one task: A (6 trials of `a_device_s` each) never reaches 80 %; B (6
    trials of 600 s) does in 4 of 6 trials."""
    import optuna

    from tests.studies.conftest import LINOSS_GRID, add_trials, study_attrs

    for name, values, device_s in (
        ("os-a", [0.60, 0.65, 0.70, 0.62, 0.68, 0.66], a_device_s),
        ("os-b", [0.85, 0.70, 0.90, 0.82, 0.75, 0.88], 600.0),
    ):
        s = optuna.create_study(study_name=name, storage=url, direction="maximize")
        for k, v in study_attrs("Heartbeat", "linoss", name, 8, "random").items():
            s.set_user_attr(k, v)
        add_trials(s, [(LINOSS_GRID[i], "COMPLETE", v, v, device_s)
                       for i, v in enumerate(values)])  # fmt: skip


@pytest.mark.parametrize(
    ("a_device_s", "swap", "bound", "conclusive", "says"),
    [
        # B reaches 80 % in ~0.3 device-hours at most; A did not in 6: B/A < 0.05
        (3600.0, False, "< 0.0", True, "B reaches it for less than half of them"),
        # the same studies the other way round: B (now the slow one) spent 6 h, A needs < 0.3
        (3600.0, True, "> 1", True, "more than A needs to reach it (ratio above 1)"),
        # A spent only 0.1 h without reaching it: the data cannot bound B/A below 1
        (60.0, False, "< ", False, "too few to bound the ratio below 1"),
    ],
)
def test_only_one_study_reaching_the_target_bounds_the_ratio(
    study_db_copy, a_device_s, swap, bound, conclusive, says
):
    """When only one study reaches the target, the other's cost to reach is unknown but above
    all it spent: the ratio has a one-sided bound, not the bootstrap's [0, 0] (every resample
    0) or [inf, inf], and the verdict follows the bound."""
    _one_sided_db(study_db_copy, a_device_s)
    a, b = ("os-b", "os-a") if swap else ("os-a", "os-b")
    c = compare(study_db_copy, "Heartbeat", a, b, target=0.80, seed=1)
    ratio = c["cost_to_reach"]["ratio"]
    assert ratio["interval"] is None and ratio["bound"].startswith(bound), ratio
    assert ratio["conclusive"] is conclusive and c["conclusive"] is conclusive
    assert says in ratio["says"] and f"B/A {ratio['bound']}" in c["verdict"]
    assert "[0, 0]" not in c["verdict"] and "[∞, ∞]" not in c["verdict"]
    top = c["cost_to_reach"]["a" if swap else "b"]["interval"][1]
    if swap:
        assert float(ratio["bound"][2:]) == pytest.approx(6 * a_device_s / 3600 / top, rel=1e-2)
    else:
        spent_a = 6 * a_device_s / 3600
        assert float(ratio["bound"][2:]) == pytest.approx(top / spent_a, rel=1e-2)
