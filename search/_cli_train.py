"""CLI command `ssmtune train`: train one config on one task and print its metrics and cost.

Thin: parse, check every input before any work, call `models.train`, print. Bad input (an
unknown task, model or `--set` key, a value of the wrong type, a non-positive step count) is
one line on stderr and exit code 2, with nothing written.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

import typer

from ssmtune.search._cli_common import command, console, err_console, fail, print_json

__all__ = ["register", "parse_setting", "parse_settings"]

#: Config fields that come from the task (`models.fit_config`), not from `--set`.
_FROM_TASK = ("in_channels", "out_dim", "head")

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def parse_setting(key: str, text: str, annotation: Any) -> Any:
    """Parse the text of ``--set key=text`` by the field's type: int, float, bool, str, a
    `Literal` choice (case-insensitive) or an optional (``none``) of one of these.

    Example:
        >>> parse_setting("lr", "1e-3", float)
        0.001
    """
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if text.strip().lower() == "none" and type(None) in args:
            return None
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return parse_setting(key, text, rest[0])
    if origin is typing.Literal:
        for choice in args:
            if str(choice).lower() == text.strip().lower():
                return choice
        fail(f"--set {key}: must be one of {', '.join(map(str, args))}; got {text!r}")
    if annotation is bool:
        low = text.strip().lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        fail(f"--set {key}: expected true or false, got {text!r}")
    if annotation is int:
        try:
            return int(text)
        except ValueError:
            fail(f"--set {key}: expected an integer, got {text!r}")
    if annotation is float:
        try:
            return float(text)
        except ValueError:
            fail(f"--set {key}: expected a number, got {text!r}")
    return text


def _field_types(cls: type) -> dict[str, Any]:
    """The type of every field of a config or options dataclass, as `dataclasses.fields` holds
    it: the classes of `models` are written without ``from __future__ import annotations``, so
    their field types are types, not strings (`typing.get_type_hints` returns nothing for the
    `no_type_check` classes). A string would have to be evaluated: it is refused instead.

    Raises:
        TypeError: a field's type is a string (a class with postponed annotations).
    """
    types_ = {f.name: f.type for f in dataclasses.fields(cls)}
    postponed = [name for name, t in types_.items() if isinstance(t, str)]
    if postponed:
        raise TypeError(
            f"{cls.__name__}'s fields {', '.join(postponed)} have string annotations; "
            "write the class without `from __future__ import annotations`"
        )
    return types_


def parse_settings(model: str, settings: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split ``key=value`` settings into model config fields and train options, each value
    parsed by its field's type.

    Returns:
        (config fields, train option fields).
    """
    from ssmtune import models

    config_types = _field_types(models.config_class(model))
    option_types = _field_types(models.TrainOptions)
    config_keys = [k for k in models.field_names(model) if k not in _FROM_TASK]
    option_keys = list(models.train_option_names())
    fields: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for item in settings:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            fail(f"--set needs key=value, got {item!r}")
        if key in _FROM_TASK:
            fail(
                f"--set {key}: set from the task; settable: {', '.join(config_keys + option_keys)}"
            )
        if key in config_keys:
            fields[key] = parse_setting(key, text, config_types[key])
        elif key in option_keys:
            options[key] = parse_setting(key, text, option_types[key])
        else:
            fail(
                f"--set: unknown key {key!r} for {model}; model fields: {', '.join(config_keys)}; "
                f"train options: {', '.join(option_keys)}"
            )
    return fields, options


def train_command(
    task: str = typer.Option(
        "basicmotions",
        "--task",
        help="Task name (see `ssmtune tasks list`) or the path of your data: a .npz file, a "
        "NAME_TRAIN.ts file or the folder holding the pair (README: Your own data).",
    ),
    model: str = typer.Option(
        "linoss", "--model", help="Model name: linoss, d-linoss, s4, s4d, hope, lru."
    ),
    settings: list[str] | None = typer.Option(
        None,
        "--set",
        help="key=value: a model config field (hidden, state, blocks, ...) or a train option "
        "(lr, ssm_lr, optimizer, weight_decay, schedule, warmup_steps, batch_size, "
        "include_time, ...). Repeat for several.",
    ),
    seed: int = typer.Option(
        2345, "--seed", help="Seeds the split, the initialisation and the batch order."
    ),
    max_steps: int | None = typer.Option(
        None, "--max-steps", help="Training steps at most (default 100,000)."
    ),
    eval_every: int | None = typer.Option(
        None, "--eval-every", help="Steps between evaluations (default 1,000)."
    ),
    patience: int | None = typer.Option(
        None, "--patience", help="Evaluations without improvement tolerated (default 10)."
    ),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Data dir (default $SSMTUNE_DATA or ~/.cache/ssmtune/data)."
    ),
    json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
) -> None:
    """Train one config on one task under the benchmark protocol; print validation and test
    metrics, status and cost."""
    from ssmtune import models, tasks

    fields, option_fields = parse_settings(model, settings or [])
    flags = {"max_steps": max_steps, "eval_every": eval_every, "patience": patience}
    option_fields.update({k: v for k, v in flags.items() if v is not None})
    options = models.TrainOptions(**option_fields)
    if "eval_every" in option_fields and options.eval_every > options.max_steps:
        steps = "--max-steps" if "max_steps" in option_fields else "the default --max-steps"
        fail(
            f"--eval-every {options.eval_every} is larger than {steps} {options.max_steps}: the "
            f"run would evaluate only once, at its end; use --eval-every <= {options.max_steps}"
        )
    base = models.config(model, **fields)
    if seed < 0:
        fail(f"--seed must be an integer >= 0, got {seed}")
    info = tasks.info(task, data_dir=data_dir)
    config = models.fit_config(base, info, options.include_time)

    data = tasks.load(task, seed=seed, include_time=options.include_time, data_dir=data_dir)

    def progress(step: int, val: float) -> bool:
        if not json:
            err_console.print(f"step {step:>7,}  val {info.metric} {val:.4f}", highlight=False)
        return False

    result = models.train(config, data, options, seed=seed, callback=progress)
    if json:
        print_json(
            {
                "task": info.name,
                "model": config.name,
                "seed": seed,
                "config": dataclasses.asdict(config),
                "options": dataclasses.asdict(options),
                **result.to_dict(),
            }
        )
        return
    _print_table(info.name, config.name, result)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _print_table(task: str, model: str, r: Any) -> None:
    from rich.table import Table

    table = Table(title=f"{model} on {task}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    peak = "-" if r.peak_mem is None else f"{r.peak_mem / 2**20:,.0f} MiB"
    rows = [
        (f"val {r.metric}", _fmt(r.val)),
        (f"test {r.metric}", _fmt(r.test)),
        ("status", r.status + (f" at step {r.diverged_step:,}" if r.diverged_step else "")),
        ("steps", f"{r.steps:,} (best at {r.best_step:,})"),
        ("wall", f"{r.wall_s:.1f} s (compile {r.compile_s:.1f} s)"),
        ("examples/s", f"{r.examples_per_s:,.0f}"),
        ("device", f"{r.device} x{r.device_count}"),
        ("peak memory", peak),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `ssmtune train` to the app."""
    app.command("train")(command(train_command))
