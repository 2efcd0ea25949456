"""When `compare` may resample a study's trials, and what it says when it may not.

`compare`'s intervals resample each study's trials as independent draws from its space
(`studies._bootstrap`). That holds for random sampling without a pruner (each trial an
independent draw) and for a grid (its points in a random order are exchangeable). It fails
for an adaptive sampler (TPE, GP: each trial depends on the ones before it) and for any pruner
(a pruned trial's cost and its missing value depend on the trials before it, and pruned trials
carry much of the cost): resampling such trials answers a question about a search nobody ran.
Replicating whole studies is what holds there (Bouthillier et al. 2021, "Accounting for
variance in machine learning benchmarks"; Tang et al. 2020).

With an adaptive study on either side, `compare` therefore gives each study's point figures
(its best, the test there, what it spent, and the device-hours it took to reach the target in
the order it ran its trials) and says in one line why no interval is given.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ssmtune.studies._format import fmt_value
from ssmtune.studies._query import trial_device_s

if TYPE_CHECKING:
    import optuna

__all__ = ["RESAMPLABLE_SAMPLERS", "resampling_problem", "observed_reach", "point_verdict"]

#: Samplers whose trials are independent draws (with no pruner): the bootstrap's assumption.
RESAMPLABLE_SAMPLERS = ("grid", "random")


def resampling_problem(study: optuna.Study) -> str | None:
    """Why `study`'s trials cannot be resampled as independent draws; None when they can.

    Example:
        >>> class S:  # a stand-in with the recorded settings
        ...     study_name, user_attrs = "s", {"sampler": "tpe", "pruner": "hyperband"}
        >>> resampling_problem(S())
        "s samples with 'tpe' and prunes with 'hyperband': its trials depend on each other"
    """
    sampler = study.user_attrs.get("sampler")
    pruner = study.user_attrs.get("pruner", "none")
    parts = []
    if sampler not in RESAMPLABLE_SAMPLERS:
        parts.append(f"samples with {sampler!r}")
    if pruner != "none":
        parts.append(f"prunes with {pruner!r}")
    if not parts:
        return None
    return f"{study.study_name} " + " and ".join(parts) + ": its trials depend on each other"


def observed_reach(study: optuna.Study, target: float, maximize: bool) -> float | None:
    """Device-hours `study` spent, in the order it ran its trials, up to and including its first
    complete trial that reached `target`; None when none did."""
    from optuna.trial import TrialState

    spent = 0.0
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        spent += trial_device_s(t)
        if t.state == TrialState.COMPLETE and t.value is not None and math.isfinite(t.value):
            if (t.value >= target) if maximize else (t.value <= target):
                return spent / 3600.0
    return None


def point_verdict(c: dict[str, Any], reasons: list[str]) -> str:
    """The paragraph of a comparison without intervals: each side's point figures and why."""
    metric = c["metric"]
    goal = c["target"]["value"]
    parts = []
    for key, label in (("a", "A"), ("b", "B")):
        r = c[key]
        hours = c["cost_to_reach"][key]["device_hours"]
        reach = "not reached" if hours is None else f"{hours:.3g} device-hours"
        parts.append(
            f"{label} ({r['study']}): best {fmt_value(r['best_value'], metric)}, test there "
            f"{fmt_value(r['test_at_best'], metric)}, {r['device_hours']:.3g} device-hours "
            f"spent; to reach {fmt_value(goal, metric)} in its own trial order: {reach}"
        )
    return (
        "NO INTERVAL: "
        + "; ".join(reasons)
        + ", so resampling their trials would describe a search nobody ran; compare several "
        "replicate studies of each strategy, or replay both grids (`ssmtune replay`). Point "
        "figures of these single runs: " + ". ".join(parts) + "."
    )
