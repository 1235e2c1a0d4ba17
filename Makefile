# Changle Twin: one-command set-up, run, test, benchmark and lint.
# Set-up is idempotent: the venv is created once and the project is reinstalled only when
# pyproject.toml changes (tracked by a stamp file inside the venv).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.changle-twin-installed
SYSDEPS := $(VENV)/.changle-twin-sysdeps
PYTEST_WORKERS ?= 2

# Debian packages the project needs beyond Python: a CJK font so that Chinese labels render in
# maps and 3D scenes (never tofu boxes), and headless Chromium to check the HTML exports.
DEBIAN_PACKAGES := fonts-noto-cjk chromium

.PHONY: setup run test bench lint clean

setup: $(STAMP) $(SYSDEPS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(SYSDEPS): | $(BIN)/python
	@if fc-list :lang=zh 2>/dev/null | grep -q . && command -v chromium >/dev/null; then \
		echo "system packages present: $(DEBIAN_PACKAGES)"; \
	elif command -v apt-get >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(DEBIAN_PACKAGES); \
	else \
		echo "error: need Debian packages $(DEBIAN_PACKAGES) (no apt-get here); install them and rerun" >&2; \
		exit 1; \
	fi
	touch $(SYSDEPS)

## run: the main job, the Changle baseline scenario suite, with results under results/
run: setup
	$(BIN)/twin suite scenarios/changle_baseline.toml --out results --force

## test: the whole test suite (unit, property, validation and CLI tests)
test: setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests

## bench: pytest-benchmark suites and the side-by-side peer comparisons; writes
## benchmarks/results/latest.json (pytest-benchmark) and benchmarks/results/summary.md (ratios)
bench: setup
	@mkdir -p benchmarks/results
	$(BIN)/python -m pytest benchmarks -p no:xdist --benchmark-only \
		--benchmark-json=benchmarks/results/latest.json.tmp; status=$$?; \
	if [ -s benchmarks/results/latest.json.tmp ]; then \
		mv benchmarks/results/latest.json.tmp benchmarks/results/latest.json && \
		$(BIN)/python benchmarks/summary.py benchmarks/results/latest.json benchmarks/results/summary.md; \
	fi; exit $$status

## lint: static checks
lint: setup
	$(BIN)/ruff check twin twin_cli kernels scenarios viz gis_data benchmarks tests

clean:
	rm -rf $(VENV) results .pytest_cache .hypothesis
