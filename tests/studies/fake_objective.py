"""A stand-in for `search._objective.train_objective` in evaluation tests: no training.

The test metric depends on the seed and the parameters only, so a test can check that each
seed ran once with the study's best parameters.
"""

from __future__ import annotations

from typing import Any

from ssmtune.search import TrialContext, TrialOutcome


def objective(params: dict[str, Any], ctx: TrialContext) -> TrialOutcome:
    """Test metric 0.8 + (seed mod 10) / 100 + hidden / 10_000; seed 13 diverges."""
    seed = ctx.spec.seed
    if seed == 13:
        return TrialOutcome(val=None, test=None, status="diverged", diverged_step=7)
    test = 0.8 + (seed % 10) / 100 + params.get("hidden", 0) / 10_000
    return TrialOutcome(val=0.9, test=test, status="ok", steps=ctx.spec.protocol["max_steps"])
