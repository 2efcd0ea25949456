"""The command line's shared pieces: library errors name arguments, the CLI writes its flags;
``--set`` values are parsed by the fields' declared types (no evaluation of text)."""

from __future__ import annotations

import typing

import pytest
import typer

from ssmtune.search._cli_common import command, flags_of, with_flags
from ssmtune.studies import StudyError


def _cmd(
    budget_hours: float | None = typer.Option(None, "--budget-hours"),
    compile_ahead: bool = typer.Option(True, "--compile-ahead/--no-compile-ahead"),
    as_json: bool = typer.Option(False, "--json"),
    name: str = typer.Argument(...),
) -> None:
    raise StudyError(
        f"`budget_hours` {budget_hours} is too small for `name` {name}; "
        "`compile_ahead` and `as_json` stay, `postgres` is no argument"
    )


def test_flags_of_a_command_are_its_long_options_and_arguments():
    assert flags_of(_cmd) == {
        "budget_hours": "--budget-hours",
        "compile_ahead": "--compile-ahead",
        "as_json": "--json",
        "name": "NAME",
    }


def test_a_command_writes_its_flags_in_the_librarys_message():
    with pytest.raises(StudyError) as exc:
        command(_cmd)(budget_hours=0.5, name="s")
    assert str(exc.value) == (
        "--budget-hours 0.5 is too small for NAME s; --compile-ahead and --json stay, "
        "`postgres` is no argument"
    )
    # a message without an argument is the library's own exception, untouched
    plain = StudyError("no study 'nope'")

    def raises() -> None:
        raise plain

    with pytest.raises(StudyError) as exc:
        command(raises)()
    assert exc.value is plain
    assert with_flags("`n_trials` must be >= 1", {}) == "`n_trials` must be >= 1"


def test_every_command_of_the_app_is_registered_through_command():
    """So that no command shows a library's argument name where its user typed a flag."""
    from ssmtune.search.cli import app

    def callbacks(group: typer.Typer) -> list:
        found = [c.callback for c in group.registered_commands]
        for sub in group.registered_groups:
            found += callbacks(sub.typer_instance)
        return found

    unwrapped = [f.__name__ for f in callbacks(app) if not hasattr(f, "__wrapped__")]
    assert not unwrapped, unwrapped


@pytest.mark.parametrize("model", ["linoss", "d-linoss", "s4", "s4d", "hope", "lru"])
def test_set_parses_every_field_by_its_declared_type(model):
    from ssmtune import models
    from ssmtune.search._cli_train import _field_types

    assert model in models.names()
    for cls in (models.config_class(model), models.TrainOptions):
        for name, annotation in _field_types(cls).items():
            assert not isinstance(annotation, str), (cls.__name__, name)
            assert typing.get_origin(annotation) or isinstance(annotation, type), (name, annotation)


def test_string_annotations_are_refused_not_evaluated():
    from dataclasses import make_dataclass

    from ssmtune.search._cli_train import _field_types

    postponed = make_dataclass("Postponed", [("hidden", "int")])
    with pytest.raises(TypeError, match="hidden have string annotations"):
        _field_types(postponed)


def test_parse_setting_by_type():
    from ssmtune.search._cli_train import parse_setting

    assert parse_setting("lr", "1e-3", float) == 1e-3
    assert parse_setting("hidden", "16", int) == 16
    assert parse_setting("include_time", "Yes", bool) is True
    assert parse_setting("ssm_lr", "none", float | None) is None
    assert parse_setting("optimizer", "ADAMW", typing.Literal["adam", "adamw"]) == "adamw"
