"""The compute-weighted size: the documented formula, and the check against measured times."""

import json
import math
from pathlib import Path

import pytest

from ssmtune import spaces
from ssmtune.spaces import point_cost

THROUGHPUT = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "throughput-cpu.json"


def test_formula():
    # recurrent: L*H + blocks*L*(H*P + H^2)
    assert point_cost("linoss", blocks=2, hidden=16, state=16, length=100) == 100 * 16 + 2 * 100 * (
        256 + 256
    )
    # convolutional: + blocks*L*H*log2(L)
    conv = point_cost("s4", blocks=1, hidden=8, state=4, length=1024)
    assert conv == 1024 * 8 + 1024 * (32 + 64 + 8 * 10)


def test_cost_is_the_sum_over_the_grid(catalog):
    space = catalog["linoss-im"]
    total = sum(
        point_cost("linoss", blocks=p["blocks"], hidden=p["hidden"], state=p["state"], length=405)
        for p in space.grid()
    )
    assert space.cost(405) == pytest.approx(total)


def test_cost_uses_constants_and_model_defaults(catalog):
    hope = catalog["hope"]  # hidden 128 and state 64 are constants
    point = hope.grid()[0]
    assert hope.point_cost(point, 1000) == point_cost(
        "hope", blocks=point["blocks"], hidden=128, state=64, length=1000
    )
    tiny = spaces.Space("t", "linoss", (spaces.Categorical("lr", (1e-3,)),))
    # blocks, hidden, state from models.config("linoss") defaults
    from ssmtune import models

    d = models.config("linoss")
    assert tiny.cost(10) == point_cost(
        "linoss", blocks=d.blocks, hidden=d.hidden, state=d.state, length=10
    )


def test_cost_grows_linearly_for_recurrent_models(catalog):
    space = catalog["d-linoss-reduced"]
    assert space.cost(2000) == pytest.approx(2 * space.cost(1000))


def test_auto_cost_is_the_sum_of_its_branches(catalog):
    parts = ["linoss-full", "d-linoss-reduced", "lru", "s4", "s4d", "hope"]
    assert catalog["auto"].cost(500) == pytest.approx(sum(catalog[p].cost(500) for p in parts))


def test_formula_orders_measured_step_times():
    """The formula against measured training steps: `python -m ssmtune.benchmarks` times LinOSS-IM
    at the paper's best configurations (benchmarks/results/throughput-cpu.json, `auto` scan).
    Seconds per example-step must rank the configurations as the formula's per-example cost
    does (Spearman rank correlation > 0.8). The table is committed; regenerating it with
    other sizes re-checks the formula."""
    table = json.loads(THROUGHPUT.read_text())
    pairs = []
    for r in table["rows"]:
        if r.get("scan") != "auto" or r.get("s_per_1000_steps") is None:
            continue
        est = point_cost(
            "linoss", blocks=r["blocks"], hidden=r["hidden"], state=r["state"], length=r["length"]
        )
        pairs.append((est, r["s_per_1000_steps"] / 1000 / r["batch"]))
    assert len({e for e, _ in pairs}) >= 3, "throughput table has too few configurations"
    est_rank = _ranks([e for e, _ in pairs])
    time_rank = _ranks([t for _, t in pairs])
    assert _pearson(est_rank, time_rank) > 0.8


def _ranks(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    ranks = [0.0] * len(xs)
    for r, i in enumerate(order):
        ranks[i] = float(r)
    return ranks


def _pearson(a, b):
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True))
    va = math.sqrt(sum((x - ma) ** 2 for x in a))
    vb = math.sqrt(sum((y - mb) ** 2 for y in b))
    return cov / (va * vb) if va and vb else 0.0


def test_prediction_calibrates_the_formula_with_measured_seconds():
    """`predict_seconds`: seconds per unit-step of the same shape (else the nearest measured
    one in cost), times the new point's cost and steps, plus that shape's compile time unless
    the worker compiled it; nothing before a measurement."""
    from ssmtune.spaces._cost import Measured, predict_seconds

    small = point_cost("linoss", blocks=2, hidden=16, state=16, length=100)
    large = point_cost("linoss", blocks=2, hidden=64, state=16, length=100)
    rate = 2e-8  # seconds per unit-step, as measured
    done = [
        Measured("h16", small, 50, rate * small * 50, 0.7),  # pruned at half its steps
        Measured("h16", small, 100, rate * small * 100, 0.0),
        Measured("h64", large, 100, 3 * rate * large * 100, 1.5),  # a slower shape
    ]
    assert predict_seconds(small, 100, "h16", []) is None
    assert predict_seconds(small, 100, "h16", done) == pytest.approx(rate * small * 100 + 0.7)
    assert predict_seconds(small, 100, "h16", done, compiled=True) == pytest.approx(
        rate * small * 100
    )
    # an unmeasured shape takes the nearest in cost: h32 is nearer h16 than h64
    mid = point_cost("linoss", blocks=2, hidden=32, state=16, length=100)
    assert predict_seconds(mid, 100, "h32", done) == pytest.approx(rate * mid * 100 + 0.7)
    assert predict_seconds(2 * large, 10, "h128", done) == pytest.approx(
        3 * rate * 2 * large * 10 + 1.5
    )
