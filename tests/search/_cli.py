"""Running the `ssmtune` command in the test process, as a user's shell would."""

from __future__ import annotations

import sys

import pytest

from ssmtune.search.cli import main


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str
) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``ssmtune ARGS`` run through `search.cli.main`."""
    monkeypatch.setattr(sys, "argv", ["ssmtune", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err
