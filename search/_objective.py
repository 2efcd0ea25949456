"""The objective: what a worker trains for one trial, and the default one.

An objective is a function ``objective(params, ctx) -> TrialOutcome``: it trains the config of
a trial's parameters and returns its outcome; `ctx` (a `TrialContext`) gives it the study's
`WorkerSpec`, the worker's cache (the task's data and the space, loaded once per worker), the
callback that reports an evaluation and asks the pruner, and the trial's checkpoint. It is
named ``module:function`` (`load_objective`; tests and benchmarks swap in fakes) and may have
two more forms beside it, found by name (`objective_form`):

- ``function_batch(params_list, ctxs) -> list[TrialOutcome]``: trials of one batch shape
  trained together in one vmapped program (``batch_trials``);
- ``function_precompile(params, ctx) -> seconds``: compile a shape without training, in the
  background (``compile_ahead``).

The default objective (`DEFAULT_OBJECTIVE`) is `train_objective` with its two forms, over
`models.train`, `models.train_batch` and `models.precompile`. The worker that calls them, and
stores what they return, is `search._worker.TrialWorker`.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "WorkerSpec",
    "TrialContext",
    "TrialOutcome",
    "train_objective",
    "train_objective_batch",
    "train_objective_precompile",
    "load_objective",
    "objective_form",
    "DEFAULT_OBJECTIVE",
]

_CACHE_LOCK = threading.Lock()

#: The objective of real studies.
DEFAULT_OBJECTIVE = "ssmtune.search._objective:train_objective"


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to know; sent once, when the worker starts.

    Attributes:
        storage_url: the study's storage (with its password: workers connect to it).
        study_name: the study.
        task: task name; seed: the study's seed (data split and initialisation).
        space: space name or TOML path.
        protocol: max_steps, eval_every, patience (override the space's training options).
        pruner: the study's pruner name.
        objective: ``module:function`` of the objective.
        device_share: GPUs per trial (0 on CPU): a trial's cost is `device_factor` of it
            (the share of a fractional GPU) x its wall time.
        budgeted: the study has a budget: read the trial's deadline (`STOP_AT_ATTR`) at
            every evaluation.
        checkpoint_dir: the study's checkpoint folder (`search._checkpoints`); None: trials
            write no checkpoints.
    """

    storage_url: str
    study_name: str
    task: str
    seed: int
    space: str
    protocol: dict[str, int]
    pruner: str = "none"
    objective: str = DEFAULT_OBJECTIVE
    device_share: float = 0.0
    budgeted: bool = False
    checkpoint_dir: str | None = None


@dataclass(frozen=True)
class TrialOutcome:
    """What an objective returns for one trial (a subset of `models.TrainResult`)."""

    val: float | None
    test: float | None = None
    status: str = "ok"
    steps: int = 0
    compile_s: float = 0.0
    device: str = "cpu"
    device_count: int = 1
    peak_mem: int | None = None
    diverged_step: int | None = None
    wall_s: float | None = None  # the trial's share of a batch's wall time (None: measured)
    #: (step, val, test or None, seconds since the run started) of every evaluation
    #: (`models.Evaluation`); empty: the worker records what was reported, without test
    evaluations: tuple[tuple[int, float, float | None, float], ...] = ()


@dataclass
class TrialContext:
    """What the objective of one trial gets besides its parameters.

    Attributes:
        spec: the worker's spec.
        report: ``report(step, val) -> bool``: record the validation metric of an evaluation;
            True means the pruner asks to stop.
        cache: the worker's cache, kept across trials (the data lives here).
        checkpoint_folder: where the trial keeps its latest checkpoint; None: nowhere.
        on_resume: told what the trial found there (a `models.Resume`).
    """

    spec: WorkerSpec
    report: Callable[[int, float], bool]
    cache: dict[str, Any] = field(default_factory=dict)
    checkpoint_folder: Path | None = None
    on_resume: Callable[[Any], None] | None = None

    def checkpoint(self) -> Any:
        """The trial's `models.Checkpoint` for `models.train`, or None when it has no folder."""
        if self.checkpoint_folder is None:
            return None
        from ssmtune import models

        return models.Checkpoint(self.checkpoint_folder, on_resume=self.on_resume)

    def dataset(self) -> Any:
        """The task's data for the study's seed, loaded once per worker."""
        from ssmtune import tasks

        return self._once(
            ("data", self.spec.task, self.spec.seed),
            tasks.load,
            self.spec.task,
            seed=self.spec.seed,
        )

    def space(self) -> Any:
        """The study's search space, loaded once per worker."""
        from ssmtune import spaces

        return self._once(("space", self.spec.space), spaces.get, self.spec.space)

    def _once(self, key: Any, load: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with _CACHE_LOCK:  # a trial and the compile-ahead thread may ask at the same time
            if key not in self.cache:
                self.cache[key] = load(*args, **kwargs)
            return self.cache[key]


def train_objective(params: dict[str, Any], ctx: TrialContext) -> TrialOutcome:
    """Train the config of `params` with `models.train` and return its outcome."""
    from ssmtune import models

    data = ctx.dataset()
    config, options = ctx.space().to_config(params, task_info=data.info)
    options = options.replace(**ctx.spec.protocol)
    result = models.train(
        config,
        data,
        options,
        seed=ctx.spec.seed,
        callback=ctx.report,
        checkpoint=ctx.checkpoint(),
    )
    return TrialOutcome(
        val=result.val,
        test=result.test,
        status=result.status,
        steps=result.steps,
        compile_s=result.compile_s,
        device=result.device,
        device_count=result.device_count,
        peak_mem=result.peak_mem,
        diverged_step=result.diverged_step,
        evaluations=result.evaluations,
    )


def train_objective_precompile(params: dict[str, Any], ctx: TrialContext) -> float:
    """Compile what `train_objective` will need for `params` (`models.precompile`), without
    training: the worker runs it in the background for the next shape (``--compile-ahead``).
    Returns the seconds spent compiling."""
    from ssmtune import models

    data = ctx.dataset()
    config, options = ctx.space().to_config(params, task_info=data.info)
    options = options.replace(**ctx.spec.protocol)
    return models.precompile(config, data, options, seed=ctx.spec.seed)


def train_objective_batch(
    params_list: list[dict[str, Any]], ctxs: list[TrialContext]
) -> list[TrialOutcome]:
    """The batch form of `train_objective` (``--batch-trials``): the trials of `params_list`
    (one batch shape, `search._batching`) trained together in one vmapped program with
    `models.train_batch`.

    The same data, space, protocol and seed as `train_objective`, one `TrialContext` (its own
    report/prune callback) per trial; each outcome carries the trial's share of the wall time.
    """
    from ssmtune import models

    ctx0 = ctxs[0]
    data = ctx0.dataset()
    space = ctx0.space()
    configs, options = [], []
    for params in params_list:
        config, opts = space.to_config(params, task_info=data.info)
        configs.append(config)
        options.append(opts.replace(**ctx0.spec.protocol))
    results = models.train_batch(
        configs,
        data,
        options,
        seeds=[ctx0.spec.seed] * len(configs),
        callbacks=[ctx.report for ctx in ctxs],
    )
    return [
        TrialOutcome(
            val=r.val,
            test=r.test,
            status=r.status,
            steps=r.steps,
            compile_s=r.compile_s,
            device=r.device,
            device_count=r.device_count,
            peak_mem=r.peak_mem,
            diverged_step=r.diverged_step,
            wall_s=r.wall_s,
            evaluations=r.evaluations,
        )
        for r in results
    ]


#: The top-level names ssmtune's modules had before they moved under `ssmtune` (0.1.0 and
#: earlier); a study recorded then names its objective by them (``benchmarks._overhead:noop``).
_OLD_TOP_LEVEL = frozenset({"models", "tasks", "spaces", "studies", "search", "benchmarks"})


def objective_path(path: str) -> str:
    """`path` (``module:function``) as this version names it: a module of ssmtune recorded
    under its old top-level name gets the ``ssmtune.`` prefix; any other path is kept.

    >>> objective_path("search._objective:train_objective")
    'ssmtune.search._objective:train_objective'
    >>> objective_path("tests.search._fakes:quick")
    'tests.search._fakes:quick'
    """
    module, sep, name = path.partition(":")
    if module.split(".")[0] in _OLD_TOP_LEVEL:
        try:
            found = importlib.util.find_spec(f"ssmtune.{module}") is not None
        except ModuleNotFoundError:  # a parent package that is not ssmtune's
            found = False
        if found:
            return f"ssmtune.{module}{sep}{name}"
    return path


def load_objective(path: str) -> Callable[[dict[str, Any], TrialContext], TrialOutcome]:
    """The objective named by `path`, ``module:function`` (e.g. `DEFAULT_OBJECTIVE`; an old
    name of one of ssmtune's modules is read as `objective_path` says)."""
    module, _, name = objective_path(path).partition(":")
    return getattr(importlib.import_module(module), name)


def objective_form(path: str, form: str) -> Callable[..., Any] | None:
    """A form of the objective (``module:function_<form>``: ``batch``, ``precompile``), None
    when it has none."""
    module, _, name = objective_path(path).partition(":")
    return getattr(importlib.import_module(module), f"{name}_{form}", None)
