"""A study as a table: one compact, versioned file per study that a replay reads (issue 24).

A complete grid, run once, answers every later question about strategies on it (HPOBench,
LCBench and Syne Tune's simulator backend replay such tables): which point a sampler would
have chosen, when a pruner would have stopped it, and what each cost. The table keeps, per
grid point, what a replay needs and nothing else.

Format ``ssmtune-table`` version 1: JSON lines, UTF-8, never pickle.

- Line 1, the header: ``{"format": "ssmtune-table", "version": 1, "study": ..., "task": ...,
  "space": ..., "model": ..., "sampler": ..., "seed": ..., "metric": "accuracy" | "mse",
  "direction": "maximize" | "minimize", "protocol": {max_steps, eval_every, patience,
  batch_size}, "space_size": ..., "points": N, "provenance": {...}}``. The provenance holds
  what the study recorded when it ran (``ssmtune_version``, ``devices`` the trials ran on,
  ``started``, ``finished``) and what the exporter adds (``exported``, ``python``,
  ``platform``, ``libraries``: versions of ssmtune, jax, equinox, optax, optuna, numpy;
  ``data``: the task's identity, e.g. the SHA-256 of the arrays its trials trained on).
- Then one line per grid point with a result, in trial order: ``{"params": {...},
  "value": best validation | null, "test": test at that validation | null, "device_s": the
  trial's whole cost, "state": "complete" | "pruned" | "diverged", "steps": ..., "trial":
  Optuna's number, "seed": ..., "evals": [[step, val, test | null, device_s], ...]}``. The
  evaluations are the trial's own record (`search._worker.EVALS_ATTR`); for a trial run before
  it was recorded they come from Optuna's intermediate values, with ``test`` and ``device_s``
  null, and the point has ``"evals_timed": false``.

A point whose trials all failed for a reason other than its configuration (a worker death
with no retry left) has no result and no line: the header's ``points`` and ``space_size``
differ then, and `Table.complete` says whether the grid is whole.
"""

from __future__ import annotations

import json
import math
import platform
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssmtune.studies._errors import StudyError
from ssmtune.studies._query import metric_of
from ssmtune.studies._settings import load_study
from ssmtune.studies._trials import failed_by_config, point_key, trial_point

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

__all__ = [
    "TABLE_FORMAT",
    "TABLE_VERSION",
    "Table",
    "TablePoint",
    "export_table",
    "read_table",
    "table_of_study",
]

TABLE_FORMAT = "ssmtune-table"
TABLE_VERSION = 1
#: The libraries whose versions a table's provenance records.
LIBRARIES = ("ssmtune", "jax", "jaxlib", "equinox", "optax", "optuna", "numpy")


@dataclass(frozen=True)
class TablePoint:
    """One grid point's result (a line of the table; the module docstring has the fields)."""

    params: dict[str, Any]
    value: float | None
    test: float | None
    device_s: float
    state: str
    steps: int | None
    trial: int
    seed: int | None
    evals: tuple[tuple[int, float, float | None, float | None], ...]
    evals_timed: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "params": self.params,
            "value": self.value,
            "test": self.test,
            "device_s": self.device_s,
            "state": self.state,
            "steps": self.steps,
            "trial": self.trial,
            "seed": self.seed,
            "evals": [list(e) for e in self.evals],
        }
        if not self.evals_timed:
            out["evals_timed"] = False
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TablePoint:
        return cls(
            params=dict(data["params"]),
            value=_number(data["value"]),
            test=_number(data["test"]),
            device_s=float(data["device_s"]),
            state=str(data["state"]),
            steps=None if data.get("steps") is None else int(data["steps"]),
            trial=int(data["trial"]),
            seed=None if data.get("seed") is None else int(data["seed"]),
            evals=tuple((int(s), float(v), _number(t), _number(d)) for s, v, t, d in data["evals"]),
            evals_timed=bool(data.get("evals_timed", True)),
        )


@dataclass(frozen=True)
class Table:
    """A study's table: its header (the module docstring) and its points."""

    header: dict[str, Any]
    points: tuple[TablePoint, ...] = field(default_factory=tuple)

    @property
    def maximize(self) -> bool:
        return self.header["direction"] == "maximize"

    @property
    def complete(self) -> bool:
        """Whether every grid point has a result."""
        size = self.header.get("space_size")
        return size is not None and len(self.points) == size

    def best(self) -> TablePoint | None:
        """The point of the best value (the first of equals, in trial order)."""
        scored = [p for p in self.points if p.value is not None and math.isfinite(p.value)]
        if not scored:
            return None
        sign = -1.0 if self.maximize else 1.0
        return min(scored, key=lambda p: sign * float(p.value))  # type: ignore[arg-type]

    def total_device_s(self) -> float:
        return sum(p.device_s for p in self.points)

    def summary(self) -> dict[str, Any]:
        """What ``ssmtune table show`` prints: the header's figures, the best point, the cost."""
        best = self.best()
        values = sorted(float(p.value) for p in self.points if p.value is not None)
        return {
            "study": self.header.get("study"),
            "task": self.header["task"],
            "space": self.header["space"],
            "metric": self.header["metric"],
            "direction": self.header["direction"],
            "protocol": self.header["protocol"],
            "points": len(self.points),
            "space_size": self.header.get("space_size"),
            "complete": self.complete,
            "best_value": None if best is None else best.value,
            "best_test": None if best is None else best.test,
            "best_params": None if best is None else best.params,
            "median_value": values[len(values) // 2] if values else None,
            "device_hours": self.total_device_s() / 3600.0,
            "timed": all(p.evals_timed for p in self.points),
        }

    def to_json(self) -> dict[str, Any]:
        """The table as one JSON object: ``provenance`` (the header) and ``points``."""
        return {"provenance": self.header, "points": [p.to_json() for p in self.points]}


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _state(trial: FrozenTrial) -> str | None:
    """The point's result kind, None for a trial without a result."""
    from optuna.trial import TrialState

    if trial.state == TrialState.COMPLETE:
        return "complete"
    if trial.state == TrialState.PRUNED:
        return "pruned"
    if trial.state == TrialState.FAIL and failed_by_config(trial):
        return "diverged"
    return None


def _point(trial: FrozenTrial, state: str, maximize: bool) -> TablePoint:
    from ssmtune.studies._cost import trial_cost_s

    attrs = trial.user_attrs
    recorded = attrs.get("evals")
    if isinstance(recorded, list):
        evals = tuple((int(s), float(v), _number(t), _number(d)) for s, v, t, d in recorded)
        timed = True
    else:  # a trial run before the record: its intermediate values only
        evals = tuple(
            (int(s), float(v), None, None) for s, v in sorted(trial.intermediate_values.items())
        )
        timed = False
    value = trial.value
    if value is None and state == "pruned":  # its best validation before it was stopped
        finite = [e[1] for e in evals if math.isfinite(e[1])]
        value = (max if maximize else min)(finite) if finite else None
    return TablePoint(
        params=trial_point(trial),
        value=None if value is None else float(value),
        test=_number(attrs.get("test")),
        device_s=trial_cost_s(trial),
        state=state,
        steps=attrs.get("steps"),
        trial=trial.number,
        seed=attrs.get("seed"),
        evals=evals,
        evals_timed=timed,
    )


def table_of_study(study: optuna.Study, *, extra: dict[str, Any] | None = None) -> Table:
    """The table of `study`: one point per grid point with a result (its latest trial with
    one); `extra` goes into the provenance (the exporter's data identity)."""
    from ssmtune.studies._settings import StudySettings

    trials = study.get_trials(deepcopy=False)
    settings = StudySettings.from_user_attrs(study.user_attrs)
    maximize = settings.direction == "maximize"
    by_point: dict[str, tuple[FrozenTrial, str]] = {}
    for t in sorted(trials, key=lambda t: t.number):  # the latest trial with a result wins
        state = _state(t)
        if state is not None:
            by_point[point_key(trial_point(t))] = (t, state)
    points = tuple(
        sorted((_point(t, s, maximize) for t, s in by_point.values()), key=lambda p: p.trial)
    )
    starts = [t.datetime_start for t in trials if t.datetime_start is not None]
    ends = [t.datetime_complete for t in trials if t.datetime_complete is not None]
    devices = sorted({str(t.user_attrs["device"]) for t in trials if t.user_attrs.get("device")})
    header = {
        "format": TABLE_FORMAT,
        "version": TABLE_VERSION,
        "study": study.study_name,
        "task": settings.task,
        "space": settings.space,
        "model": settings.model,
        "sampler": settings.sampler,
        "pruner": settings.pruner,
        "seed": settings.seed,
        "metric": metric_of(study),
        "direction": settings.direction,
        "protocol": dict(settings.protocol),
        "space_size": settings.space_size,
        "points": len(points),
        # `ssmtune evaluate --top K`: the best points retrained over seeds, if it was run
        "evaluations": study.user_attrs.get("evaluations")
        or ([study.user_attrs["evaluation"]] if "evaluation" in study.user_attrs else []),
        "provenance": {
            "ssmtune_version": settings.ssmtune_version,
            "devices": devices,
            "started": min(starts).isoformat(timespec="seconds") if starts else None,
            "finished": max(ends).isoformat(timespec="seconds") if ends else None,
            "exported": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "libraries": _versions(),
            **(extra or {}),
        },
    }
    return Table(header, points)


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def export_table(
    storage: str | BaseStorage,
    study_name: str,
    out: str | Path,
    *,
    extra: dict[str, Any] | None = None,
) -> Table:
    """Write the table of study `study_name` to `out` (written whole, then renamed: a kill
    leaves the old file or none, never half of one); return it.

    Raises:
        StudyError: unknown study, a study that is not a grid, or no point with a result.
    """
    if isinstance(storage, str):
        from ssmtune.studies._storage import open_storage

        storage = open_storage(storage, create=False)
    study = load_study(storage, study_name)
    if study.user_attrs.get("sampler") != "grid":
        raise StudyError(
            f"study {study_name!r} samples with {study.user_attrs.get('sampler')!r}; a table "
            "is a grid's record: export a study of `--sampler grid`"
        )
    table = table_of_study(study, extra=extra)
    if not table.points:
        raise StudyError(f"study {study_name!r} has no grid point with a result yet")
    out = Path(out)
    tmp = out.with_name(f".{out.name}.tmp")
    lines = [json.dumps(table.header, sort_keys=True)]
    lines += [json.dumps(p.to_json(), sort_keys=True) for p in table.points]
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(out)
    return table


def read_table(path: str | Path) -> Table:
    """Read a table file (this module's format).

    Raises:
        StudyError: no such file, not a table, a version this code does not read, or a
            malformed line (its number is named).
    """
    path = Path(path)
    if not path.is_file():
        raise StudyError(f"no table file at {path}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyError(f"{path}: cannot be read as a table ({exc})") from None
    try:
        header = json.loads(lines[0]) if lines else None
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != TABLE_FORMAT:
        raise StudyError(
            f"{path}: not an ssmtune table (its first line is no {TABLE_FORMAT} header)"
        )
    if header.get("version") != TABLE_VERSION:
        raise StudyError(
            f"{path}: table version {header.get('version')!r}; this ssmtune reads version {TABLE_VERSION}"
        )
    points = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            points.append(TablePoint.from_json(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise StudyError(f"{path}:{number}: not a table point ({exc})") from None
    return Table(header, tuple(points))
