"""The early-stop rule (models/_early_stop.py) on its own: sequences of validation values, each
evaluated every 10 steps, against the best step, the test read at the best and the stop."""

import math

import pytest

from ssmtune.models._early_stop import Decision, EarlyStopState, early_stop

NAN, INF = math.nan, math.inf


def _run(vals, *, maximize, patience):
    """Drive `early_stop` as the training loop does, with the test metric of evaluation i
    equal to 100 + i; returns (best_val, best_step, test at best, stop step, stop reason)."""
    state, test = EarlyStopState(), None
    for i, val in enumerate(vals):
        step = 10 * (i + 1)
        state, decision = early_stop(state, step, val, maximize=maximize, patience=patience)
        if decision.new_best:
            test = 100.0 + i
        if decision.stop is not None:
            return state.best_val, state.best_step, test, step, decision.stop
    return state.best_val, state.best_step, test, None, None


CASES = [
    # (values, maximize, patience) -> (best_val, best_step, test at best, stop step, reason)
    pytest.param(
        [0.5, 0.6, 0.7], True, 2, (0.7, 30, 102.0, None, None), id="max-improving"
    ),
    pytest.param(
        [0.7, 0.6, 0.5], False, 2, (0.5, 30, 102.0, None, None), id="min-improving"
    ),
    pytest.param(
        [0.7, 0.6, 0.6, 0.6], True, 2, (0.7, 10, 100.0, 40, "early_stopped"), id="max-patience-2"
    ),
    pytest.param(
        [0.7, 0.8, 0.8], False, 1, (0.7, 10, 100.0, 30, "early_stopped"), id="min-patience-1"
    ),
    pytest.param(
        [0.5, 0.4], True, 0, (0.5, 10, 100.0, 20, "early_stopped"), id="patience-0"
    ),
    pytest.param(
        [0.5, 0.5, 0.4], True, 2, (0.5, 20, 101.0, None, None), id="tie-moves-best-forward"
    ),
    pytest.param(
        [0.3, 0.3], False, 2, (0.3, 20, 101.0, None, None), id="tie-minimise"
    ),
    pytest.param(
        # ties do not reset the count: the third evaluation without strict improvement stops
        [0.5, 0.5, 0.5, 0.5], True, 2, (0.5, 30, 102.0, 40, "early_stopped"), id="ties-count"
    ),
    pytest.param(
        # the stopping evaluation is never the best, even when it ties
        [0.5, 0.5, 0.5], True, 1, (0.5, 20, 101.0, 30, "early_stopped"), id="tie-at-stop"
    ),
    pytest.param(
        [0.5, 0.4, 0.6, 0.4, 0.4], True, 1, (0.6, 30, 102.0, 50, "early_stopped"), id="reset"
    ),
    pytest.param(
        [0.5, NAN], True, 2, (0.5, 10, 100.0, 20, "diverged"), id="nan-after-best"
    ),
    pytest.param(
        [INF], False, 2, (None, 0, None, 10, "diverged"), id="inf-first"
    ),
    pytest.param(
        [0.2, 0.1, -INF], False, 2, (0.1, 20, 101.0, 30, "diverged"), id="minus-inf"
    ),
]  # fmt: skip


@pytest.mark.parametrize("vals, maximize, patience, expected", CASES)
def test_sequences(vals, maximize, patience, expected):
    assert _run(vals, maximize=maximize, patience=patience) == expected


def test_divergence_leaves_the_state_alone():
    state = EarlyStopState(best_val=0.5, best_step=10, bad_evals=1)
    assert early_stop(state, 20, NAN, maximize=True, patience=3) == (
        state,
        Decision(new_best=False, stop="diverged"),
    )


def test_state_counts_evaluations_without_strict_improvement():
    state = EarlyStopState()
    seen = []
    for step, val in [(10, 0.5), (20, 0.5), (30, 0.4), (40, 0.6)]:
        state, _ = early_stop(state, step, val, maximize=True, patience=10)
        seen.append(state.bad_evals)
    assert seen == [0, 1, 2, 0]
    assert state == EarlyStopState(best_val=0.6, best_step=40, bad_evals=0)


def test_patience_10_stops_at_the_11th_evaluation_without_improvement():
    """The official `no_val_improvement > 10`."""
    vals = [0.9] + [0.8] * 20
    assert _run(vals, maximize=True, patience=10) == (0.9, 10, 100.0, 120, "early_stopped")


def test_the_function_is_pure():
    state = EarlyStopState(best_val=0.5, best_step=10, bad_evals=0)
    first = early_stop(state, 20, 0.7, maximize=True, patience=1)
    assert early_stop(state, 20, 0.7, maximize=True, patience=1) == first
    assert state == EarlyStopState(best_val=0.5, best_step=10, bad_evals=0)


def _reference(vals, *, maximize, patience):
    """The bookkeeping as `models.train` wrote it inline before `early_stop` existed."""
    best_val = best_test = None
    best_step = bad_evals = 0
    for i, val in enumerate(vals):
        step = 10 * (i + 1)
        if not math.isfinite(val):
            return best_val, best_step, best_test, step, "diverged"
        improved = best_val is None or (val > best_val if maximize else val < best_val)
        bad_evals = 0 if improved else bad_evals + 1
        stop_early = bad_evals > patience
        if not stop_early and (improved or val == best_val):
            best_val, best_step, best_test = val, step, 100.0 + i
        if stop_early:
            return best_val, best_step, best_test, step, "early_stopped"
    return best_val, best_step, best_test, None, None


@pytest.mark.parametrize("maximize", [True, False])
def test_random_sequences_agree_with_the_inline_rule_it_replaced(maximize):
    import numpy as np

    rng = np.random.default_rng(0)
    levels = [0.1, 0.2, 0.3, 0.4, NAN]  # few levels: many ties
    for _ in range(500):
        vals = [levels[j] for j in rng.choice(5, size=rng.integers(1, 15), p=[0.24] * 4 + [0.04])]
        patience = int(rng.integers(0, 4))
        assert _run(vals, maximize=maximize, patience=patience) == _reference(
            vals, maximize=maximize, patience=patience
        ), (vals, patience)
