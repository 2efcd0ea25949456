"""The compile-aware scheduler (search/_scheduler.py) on plain records: no Ray, no database.

A point's shape here is its ``h`` (hidden size); its batch shape adds ``t`` (the time channel),
as `search._batching.ShapeKeys` does. Workers are plain strings.
"""

from __future__ import annotations

import doctest

import pytest

from ssmtune.search import _scheduler
from ssmtune.search._scheduler import Scheduler, Waiting, first_new_shape, preference_order


def shape(point):
    return point.get("h")


def batch_shape(point):
    return None if "h" not in point else (point["h"], point.get("t", False))


def waiting(*hs, **extra):
    """Waiting trials, oldest first, of the hidden sizes `hs` (None: a point without one)."""
    return [Waiting(i, i, {} if h is None else {"h": h, **extra}) for i, h in enumerate(hs)]


def numbers(trials):
    return [t.number for t in trials]


def test_docstring_examples():
    assert doctest.testmod(_scheduler).failed == 0


def test_records_are_equal_by_trial_id():
    assert Waiting(7, 1, {"h": 1}) == Waiting(7, 1, {"h": 2})
    assert len({Waiting(7, 1, {"h": 1}), Waiting(7, 1, {"h": 2}), Waiting(8, 2, {})}) == 2


# ----------------------------------------------------------------- rule 1: preference order
def test_preference_order_groups():
    ws = waiting(1, 2, 3, 1)

    def order(mine, others, coming=frozenset()):
        return numbers(preference_order(ws, shape, mine, others, coming))

    assert order({3}, {1}) == [2, 1, 0, 3]  # mine, then nobody's, then others'
    assert order(set(), set()) == [0, 1, 2, 3]  # oldest first
    assert order({1}, {2, 3}) == [0, 3, 1, 2]
    assert order({1}, set(), {3}) == [0, 3, 2, 1]  # compiled, compiling ahead, then new


def test_points_without_a_shape_count_as_nobodys():
    ws = waiting(None, 1, 2)
    assert numbers(preference_order(ws, shape, set(), {1, 2})) == [0, 1, 2]
    assert numbers(preference_order(ws, shape, {2}, {1})) == [2, 0, 1]


def test_a_worker_prefers_the_shapes_it_was_given():
    s = Scheduler(shape)
    ws = waiting(1, 2, 3, 2)
    assert numbers(s.order("a", ws)) == [0, 1, 2, 3]  # nothing compiled: oldest first
    s.given("a", {"h": 2})
    assert s.compiled_by("a") == {2}
    assert numbers(s.order("a", ws)) == [1, 3, 0, 2]


def test_workers_split_the_shapes_between_them():
    s = Scheduler(shape)
    ws = waiting(1, 1, 2, 2, 3)
    s.given("a", {"h": 1})
    # b has nothing: shapes nobody has come before a's
    assert numbers(s.order("b", ws)) == [2, 3, 4, 0, 1]
    s.given("b", {"h": 2})
    assert numbers(s.order("b", ws)) == [2, 3, 4, 0, 1]
    assert numbers(s.order("a", ws)) == [0, 1, 4, 2, 3]
    # a third worker takes the shape neither has
    assert numbers(s.order("c", ws)) == [4, 0, 1, 2, 3]


def test_a_shape_compiling_ahead_comes_after_the_compiled_ones():
    s = Scheduler(shape)
    s.given("a", {"h": 1})
    ws = waiting(2, 3, 1)
    assert s.ahead("a", ws) == {"h": 2}
    assert numbers(s.order("a", ws)) == [2, 0, 1]
    # to the other workers a's coming shape counts as taken
    assert numbers(s.order("b", ws)) == [1, 0, 2]


# ----------------------------------------------------------------- rule 2: vectorized trials
def test_batch_mates_are_waiting_trials_of_the_first_ones_batch_shape():
    s = Scheduler(shape, batch_shape, batch_trials=3)
    ws = [
        Waiting(1, 1, {"h": 1, "t": True}),
        Waiting(2, 2, {"h": 2, "t": True}),
        Waiting(3, 3, {"h": 1, "t": False}),  # same compile shape, another batch shape
        Waiting(4, 4, {"h": 1, "t": True}),
        Waiting(5, 5, {"h": 1, "t": True}),
        Waiting(6, 6, {"h": 1, "t": True}),
    ]
    first = {"h": 1, "t": True}
    assert s.room(first) == 2
    assert numbers(s.batch_mates(first, ws)) == [1, 4, 5, 6]  # the runner takes `room` of them
    assert numbers(s.batch_mates({"h": 1, "t": False}, ws)) == [3]


def test_no_batch_with_one_trial_per_worker_or_without_a_batch_shape():
    ws = waiting(1, 1, 1)
    assert Scheduler(shape).room({"h": 1}) == 0
    assert Scheduler(shape).batch_mates({"h": 1}, ws) == []
    s = Scheduler(shape, batch_shape, batch_trials=4)
    assert s.room({}) == 0 and s.batch_mates({}, waiting(None, None)) == []
    # without a batch form, the compile shape groups the trials
    assert numbers(Scheduler(shape, batch_trials=2).batch_mates({"h": 1}, ws)) == [0, 1, 2]


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_batch_trials_must_be_a_positive_integer(k):
    with pytest.raises(ValueError, match="`batch_trials` must be an integer >= 1"):
        Scheduler(shape, batch_trials=k)


# ----------------------------------------------------------------- rule 3: compiling ahead
def test_first_new_shape():
    ws = waiting(1, 2, 3, 2)
    assert first_new_shape(ws, shape, {1}) == (2, {"h": 2})
    assert first_new_shape(ws, shape, {1, 2}) == (3, {"h": 3})
    assert first_new_shape(ws, shape, {1, 2, 3}) is None
    assert first_new_shape(ws, lambda p: None, set()) is None  # points that do not build


def test_compile_ahead_picks_a_shape_no_worker_has_or_is_compiling():
    s = Scheduler(shape)
    s.given("a", {"h": 1})
    s.given("b", {"h": 2})
    ws = waiting(1, 2, 3, 4)
    assert s.ahead("a", ws) == {"h": 3}
    assert s.coming == {"a": 3}
    assert s.ahead("b", ws) == {"h": 4}  # 3 is coming to a
    assert s.ahead("c", ws) is None  # every shape is known
    assert "c" not in s.coming


def test_a_worker_keeps_its_coming_shape_while_a_trial_of_it_waits():
    s = Scheduler(shape)
    s.given("a", {"h": 1})
    assert s.ahead("a", waiting(1, 2, 3)) == {"h": 2}
    assert s.ahead("a", waiting(1, 2, 3)) is None  # 2 still waits: nothing new to compile
    assert s.coming == {"a": 2}
    # another worker took the trials of 2: a looks for another shape
    assert s.ahead("a", waiting(1, 3)) == {"h": 3}
    assert s.coming == {"a": 3}


def test_being_given_the_coming_shape_ends_compiling_ahead():
    s = Scheduler(shape)
    s.given("a", {"h": 1})
    assert s.ahead("a", waiting(2)) == {"h": 2}
    s.given("a", {"h": 2})
    assert s.coming == {} and s.compiled_by("a") == {1, 2}
    s.given("a", {})  # a point without a shape changes nothing
    assert s.compiled_by("a") == {1, 2}


def test_no_compile_ahead_when_off_or_when_batching():
    ws = waiting(1, 2)
    assert Scheduler(shape, compile_ahead=False).ahead("a", ws) is None
    assert Scheduler(shape, batch_trials=2).ahead("a", ws) is None
    assert Scheduler(shape).ahead("a", ws) == {"h": 1}


# ----------------------------------------------------------------- rule 4: workers gone
def test_forgetting_a_dead_worker_frees_its_shapes():
    s = Scheduler(shape)
    s.given("a", {"h": 1})
    assert s.ahead("a", waiting(1, 2)) == {"h": 2}
    ws = waiting(1, 2, 3)
    assert numbers(s.order("b", ws)) == [2, 0, 1]  # a's shapes last
    s.forget("a")
    assert s.compiled_by("a") == frozenset() and s.coming == {}
    assert numbers(s.order("b", ws)) == [0, 1, 2]
    assert s.ahead("b", ws) == {"h": 1}  # a's shapes are new again
    s.forget("nobody")  # forgetting an unknown worker is harmless
