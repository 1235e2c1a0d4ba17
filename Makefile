# Changle Twin: one-command set-up, run, test, benchmark and lint.
# Set-up is idempotent: the venv is created once and the project is reinstalled only when
# pyproject.toml changes (tracked by a stamp file inside the venv).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.changle-twin-installed
PYTEST_WORKERS ?= 2

.PHONY: setup run test bench lint clean

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## run: the main job, the Changle baseline scenario suite, with results under results/
run: setup
	$(BIN)/twin suite scenarios/changle_baseline.toml --out results --force

## test: the whole test suite (unit, property, validation and CLI tests)
test: setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests

## bench: pytest-benchmark suites and the side-by-side peer comparisons
bench: setup
	$(BIN)/python -m pytest benchmarks

## lint: static checks
lint: setup
	$(BIN)/ruff check twin kernels scenarios viz gis_data benchmarks tests

clean:
	rm -rf $(VENV) results .pytest_cache .hypothesis
