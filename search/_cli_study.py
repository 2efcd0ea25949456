"""`ssmtune study start | resume | list | status`: run studies and see where they stand.

Thin: parse, call `search._start` / `studies`, print. The logic lives in `search._start`
(checks, creation, Ray), `search._runner` (the loop) and `studies` (storage and queries).
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from ssmtune.search._cli_common import command, console, err_console, print_json, stdout_to_stderr

study_app = typer.Typer(
    help="Run hyperparameter studies on Ray and see where they stand.", no_args_is_help=True
)

_STORAGE_HELP = "Storage URL (default: $SSMTUNE_STORAGE, else sqlite:///ssmtune.db)."
_OBJ_HELP = "module:function replacing the training (benchmarks of the overhead, tests)."
_BATCH_HELP = (
    "Train up to K waiting trials that differ only in traced values (learning rate, seed...) "
    "together in one vmapped program on one device; each stays its own trial (default 1)."
)
_AHEAD_HELP = (
    "While a worker trains, compile the model of the next waiting grid point of another shape "
    "in the background, so that trial starts compiled (default on)."
)
_RAY_HELP = "Ray cluster address (default: $RAY_ADDRESS, else a local Ray for this command)."


def _run_with_output(call: Any, *, quiet: bool, as_json: bool) -> None:
    from ssmtune.search._progress import StudyProgress, closing_lines

    def on_ready(ready: dict[str, Any]) -> None:
        if quiet or as_json:
            return
        verb = "created" if ready["created"] else "continuing"
        ray = ready["ray"]
        where = "a local Ray" if ray["started"] else f"Ray at {ray['address']}"
        err_console.print(
            f"study {ready['name']} ({verb}) in {ready['storage']}: {ready['workers']} workers on "
            f"{where} ({ray['nodes']} nodes, {ray['cpus']:g} CPUs, {ray['gpus']:g} GPUs)",
            highlight=False,
        )

    if as_json:  # stdout is the JSON summary alone, whatever Ray prints meanwhile
        with stdout_to_stderr():
            summary = call(progress=None, on_ready=on_ready)
    elif quiet:
        summary = call(progress=None, on_ready=on_ready)
    else:
        with StudyProgress(err_console) as bar:
            summary = call(progress=bar, on_ready=on_ready)
    if as_json:
        print_json(summary)
    elif not quiet:
        for line in closing_lines(summary):
            console.print(line, highlight=False, soft_wrap=True)
    if summary.get("stopped_by") == "interrupted":
        sys.exit(130)


@study_app.command("start")
@command
def start(
    task: str = typer.Option(
        ...,
        "--task",
        help="Task name (ssmtune tasks list) or the path of your own data (.npz, .ts pair).",
    ),
    space: str = typer.Option(..., "--space", help="Space name (ssmtune spaces list) or .toml."),
    model: str | None = typer.Option(None, "--model", help="Model; default: the space's."),
    sampler: str = typer.Option("grid", "--sampler", help="grid | random | tpe | gp."),
    n_trials: int | None = typer.Option(
        None, "--n-trials", help="Trials to run (grid: the first N points; default all)."
    ),
    pruner: str = typer.Option("none", "--pruner", help="none | median | hyperband."),
    workers: int | None = typer.Option(
        None, "--workers", help="Parallel workers (default: what the cluster fits)."
    ),
    gpus_per_trial: float | None = typer.Option(
        None, "--gpus-per-trial", help="GPUs per trial (default 1 where there are GPUs, else 0)."
    ),
    cpus_per_trial: float | None = typer.Option(
        None, "--cpus-per-trial", help="CPUs per trial (default 1)."
    ),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Training steps at most."),
    eval_every: int | None = typer.Option(None, "--eval-every", help="Steps between evaluations."),
    patience: int | None = typer.Option(None, "--patience", help="Evaluations without gain."),
    max_retries: int = typer.Option(2, "--max-retries", help="Re-runs of a crashed trial."),
    budget_hours: float | None = typer.Option(
        None, "--budget-hours", help="Stop starting trials once the study used H device-hours."
    ),
    storage: str | None = typer.Option(None, "--storage", help=_STORAGE_HELP),
    ray_address: str | None = typer.Option(None, "--ray-address", help=_RAY_HELP),
    name: str | None = typer.Option(
        None, "--name", help="Study name (default: TASK-SPACE-SAMPLER)."
    ),
    seed: int = typer.Option(2345, "--seed", help="Seed of the split, the init and the sampler."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar, no summary."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    objective: str | None = typer.Option(None, "--objective", hidden=True, help=_OBJ_HELP),
    batch_trials: int = typer.Option(1, "--batch-trials", help=_BATCH_HELP),
    compile_ahead: bool = typer.Option(
        True, "--compile-ahead/--no-compile-ahead", help=_AHEAD_HELP
    ),
    checkpoint_dir: str | None = typer.Option(
        None,
        "--checkpoint-dir",
        help="Folder of the trials' checkpoints, written at each evaluation so a killed trial "
        "continues where it stopped (default: beside the SQLite file, else under the data "
        "dir); on a multi-node cluster, a folder every node mounts.",
    ),
) -> None:
    """Start a study (or continue the one of that name) and run it on Ray."""
    from ssmtune.search._start import start_study

    def call(**hooks: Any) -> dict[str, Any]:
        return start_study(
            task=task,
            space=space,
            model=model,
            sampler=sampler,
            n_trials=n_trials,
            pruner=pruner,
            workers=workers,
            gpus_per_trial=gpus_per_trial,
            cpus_per_trial=cpus_per_trial,
            max_steps=max_steps,
            eval_every=eval_every,
            patience=patience,
            max_retries=max_retries,
            budget_hours=budget_hours,
            storage=storage,
            ray_address=ray_address,
            name=name,
            seed=seed,
            objective=objective,
            batch_trials=batch_trials,
            compile_ahead=compile_ahead,
            checkpoint_dir=checkpoint_dir,
            **hooks,
        )

    _run_with_output(call, quiet=quiet, as_json=as_json)


@study_app.command("resume")
@command
def resume(
    name: str = typer.Argument(..., help="The study to continue."),
    storage: str | None = typer.Option(None, "--storage", help=_STORAGE_HELP),
    ray_address: str | None = typer.Option(None, "--ray-address", help=_RAY_HELP),
    workers: int | None = typer.Option(None, "--workers", help="Workers (default: as recorded)."),
    gpus_per_trial: float | None = typer.Option(None, "--gpus-per-trial", help="As recorded."),
    cpus_per_trial: float | None = typer.Option(None, "--cpus-per-trial", help="As recorded."),
    budget_hours: float | None = typer.Option(
        None,
        "--budget-hours",
        help="A new budget in device-hours, larger than what the study has spent (default: "
        "as recorded); the trials the old one left waiting run.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar, no summary."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    objective: str | None = typer.Option(None, "--objective", hidden=True, help=_OBJ_HELP),
    batch_trials: int = typer.Option(1, "--batch-trials", help=_BATCH_HELP),
    compile_ahead: bool = typer.Option(
        True, "--compile-ahead/--no-compile-ahead", help=_AHEAD_HELP
    ),
) -> None:
    """Continue a study with its recorded settings; run only what is unfinished."""
    from ssmtune.search._start import resume_study

    def call(**hooks: Any) -> dict[str, Any]:
        return resume_study(
            name,
            storage=storage,
            ray_address=ray_address,
            workers=workers,
            gpus_per_trial=gpus_per_trial,
            cpus_per_trial=cpus_per_trial,
            budget_hours=budget_hours,
            objective=objective,
            batch_trials=batch_trials,
            compile_ahead=compile_ahead,
            **hooks,
        )

    _run_with_output(call, quiet=quiet, as_json=as_json)


def _open(storage: str | None) -> Any:
    from ssmtune.studies import default_storage_url, open_storage

    return open_storage(storage or default_storage_url(), create=False)


@study_app.command("list")
@command
def list_(
    storage: str | None = typer.Option(None, "--storage", help=_STORAGE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list."),
) -> None:
    """The studies in a storage: trials per state, best value, cost."""
    from rich.table import Table

    from ssmtune.search._progress import format_value
    from ssmtune.studies import list_studies

    rows = list_studies(_open(storage))
    if as_json:
        print_json(rows)
        return
    table = Table("name", "task", "model", "space", "sampler", "finished", "complete", "pruned",
                  "failed", "running", "waiting", "best", "device-h")  # fmt: skip
    for r in rows:
        table.add_row(
            r["name"], str(r["task"]), str(r["model"]), str(r["space"]), str(r["sampler"]),
            f"{r['finished']}/{r['total'] or '-'}", str(r["n_complete"]), str(r["n_pruned"]),
            str(r["n_fail"]), str(r["n_running"]), str(r["n_waiting"]),
            format_value(r["best_value"]), f"{r['device_hours']:.3f}",
        )  # fmt: skip
    console.print(table)


@study_app.command("status")
@command
def status(
    name: str = typer.Argument(..., help="The study."),
    storage: str | None = typer.Option(None, "--storage", help=_STORAGE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Where one study stands: trials per state, best value and parameters, cost so far."""
    from ssmtune.search._policy import study_policy
    from ssmtune.search._progress import format_value, lost_line
    from ssmtune.studies import load_study, study_status

    s = study_status(load_study(_open(storage), name, policy=study_policy))
    if as_json:
        print_json(s)
        return
    lines = [
        f"study {s['name']}: task {s['task']}, model {s['model']}, space {s['space']}, "
        f"sampler {s['sampler']}, pruner {s['pruner']} ({s['direction']})",
        f"finished {s['finished']}/{s['total'] or '-'}: complete {s['n_complete']}, pruned "
        f"{s['n_pruned']}, failed {s['n_fail']} ({s['n_retried']} retried), running "
        f"{s['n_running']}, waiting {s['n_waiting']}",
        f"best {format_value(s['best_value'])} (trial {s['best_trial']}) {s['best_params'] or ''}",
        f"cost {s['device_hours']:.3f} device-hours",
    ]
    if s["n_lost"]:
        lines.append(lost_line(s))
    for line in lines:
        console.print(line.rstrip(), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the `study` group to the app."""
    app.add_typer(study_app, name="study")
