# The two set-up commands of the README. Each installs what it needs into .venv first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test install install-dev system-deps lint typecheck bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-dev: $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'

# PostgreSQL server binaries (multi-node tests) and Chromium (dashboard browser test).
system-deps:
	@sh .ci/system-deps.sh

# Main job: D-LinOSS's reduced space against LinOSS's full space on the UEA task SelfRegulationSCP1.
demo: install
	@sh .ci/demo.sh

test: install-dev system-deps
	$(BIN)/pytest -q

# ruff's lint and format check, then the type checker (mypy, configured in pyproject.toml).
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@MYPY=$(BIN)/mypy sh .ci/typecheck.sh

# mypy over the package as it is installed (.ci/typecheck.sh lays it out for mypy).
typecheck: install-dev
	@MYPY=$(BIN)/mypy sh .ci/typecheck.sh

bench: install
	$(BIN)/python -m ssmtune.benchmarks
