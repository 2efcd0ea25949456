"""The live progress bar of a running study (rich), and the closing lines of a run."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["StudyProgress", "format_value", "closing_lines", "lost_line"]


def format_value(value: float | None) -> str:
    """A metric value for people: 4 significant digits, "-" when there is none."""
    return "-" if value is None else f"{value:.4g}"


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "ETA -"
    s = int(seconds)
    return f"ETA {s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _cost(status: dict[str, Any]) -> str:
    spent, budget = status.get("device_hours") or 0.0, status.get("budget_hours")
    return f"{spent:.3g} dh" if budget is None else f"{spent:.3g}/{budget:.3g} dh"


class StudyProgress:
    """A rich progress bar fed with the runner's status dicts (`Runner(progress=...)`).

    Shows finished / total, pruned, failed, running, the best value so far, the device-hours
    spent (of the budget, if any), elapsed time and an ETA from this run's pace. Writes to stderr, so ``--json`` output stays clean.
    """

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "pruned {task.fields[pruned]}  failed {task.fields[failed]}  "
                "running {task.fields[running]}  best {task.fields[best]}  {task.fields[cost]}"
            ),
            TimeElapsedColumn(),
            TextColumn("{task.fields[eta]}"),
            console=self.console,
            transient=False,
        )
        self.task_id: Any = None

    def __enter__(self) -> StudyProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, status: dict[str, Any]) -> None:
        total = status.get("total")
        fields = dict(
            pruned=status["n_pruned"],
            failed=status["n_fail"],
            running=status["n_running"],
            best=format_value(status["best_value"]),
            eta=_eta(status.get("eta_s")),
            cost=_cost(status),
        )
        if self.task_id is None:
            self.task_id = self.progress.add_task(status["name"], total=total, **fields)
        self.progress.update(self.task_id, completed=status["finished"], total=total, **fields)


def _workers(summary: dict[str, Any]) -> str:
    """The workers a run really had at its end: "2 workers", "1 of 2 workers", with the
    number of worker processes that died while starting (each was replaced, up to a limit)."""
    asked = summary["workers"]
    running = summary.get("workers_running", asked)
    failed = summary.get("worker_start_failures") or 0
    text = f"{asked} workers" if running == asked else f"{running} of {asked} workers"
    return f"{text} ({failed} worker starts failed)" if failed else text


def _budget(summary: dict[str, Any]) -> str:
    """The budget line: the budget, what the study spent, and the trials this run stopped at
    the budget or did not start for it."""
    budget, spent = summary["budget_hours"], summary["device_hours"]
    stopped, skipped = summary.get("budget_stopped") or 0, summary.get("budget_skipped") or 0
    text = (
        f"budget {budget:.4g} device-hours, spent {spent:.4g} ({spent / budget:.0%}); "
        f"{stopped} trials stopped at the budget (pruned, with their best value so far), "
        f"{skipped} not started for it"
    )
    if skipped:
        text += f" (waiting: `ssmtune study resume {summary['name']}` with a larger budget)"
    return text


def closing_lines(summary: dict[str, Any]) -> list[str]:
    """What a finished run prints: the counts, the best value, the cost and where to look."""
    name, storage = summary["name"], summary["storage"]
    stopped = {
        "budget": "stopped: the device-hour budget is spent or cannot pay for a waiting trial",
        "interrupted": f"interrupted: running trials were re-queued; continue with "
        f"`ssmtune study resume {name}`",
    }.get(summary.get("stopped_by") or "", "")
    lines = [
        f"study {name}: {summary['n_complete']} complete, {summary['n_pruned']} pruned, "
        f"{summary['n_fail']} failed ({summary['n_retried']} retried), "
        f"{summary['n_waiting']} waiting; {summary['finished']}/{summary['total'] or '-'} finished",
        f"best value {format_value(summary['best_value'])} (trial {summary['best_trial']}) "
        f"{summary['best_params'] or ''}".rstrip(),
        f"cost {summary['device_hours']:.3f} device-hours; this run {summary['trials_run']} "
        f"trials in {summary['wall_s']:.1f} s on {_workers(summary)}",
    ]
    if summary.get("budget_hours") is not None:
        lines.append(_budget(summary))
    if stopped:
        lines.append(stopped)
    if summary.get("n_lost"):
        lines.append(lost_line(summary))
    lines += [
        f"results: {storage}",
        f"  ssmtune study status {name} --storage {storage}",
        f"  ssmtune best --study {name} --storage {storage}",
        f"  optuna trials --study-name {name} --storage {storage}",
        f"  optuna-dashboard {storage}",
    ]
    return lines


def lost_line(status: dict[str, Any]) -> str:
    """The line about the trials that failed without a result (`studies.study_status`'s
    ``n_lost``): how many, how many of them were retries, and the last one's reason.

    >>> lost_line({"name": "s", "n_lost": 2, "lost_retried": 0, "lost_reason": "ValueError: x"})
    '2 trials failed without a result (none was retried; the last: ValueError: x); `ssmtune study resume s` runs them again'
    """
    retried = status.get("lost_retried") or 0
    tried = "none was retried" if not retried else f"{retried} of them after a retry"
    reason = status.get("lost_reason")
    last = f"; the last: {reason}" if reason else ""
    return (
        f"{status['n_lost']} trials failed without a result ({tried}{last}); "
        f"`ssmtune study resume {status['name']}` runs them again"
    )
