# Changle Twin: one-command set-up, run, test, benchmark and lint.
# Set-up is idempotent: the venv is created once and the project is reinstalled only when
# pyproject.toml changes (tracked by a stamp file inside the venv).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.changle-twin-installed
FONTDEPS := $(VENV)/.changle-twin-fonts
BROWSERDEPS := $(VENV)/.changle-twin-browser
PYTEST_WORKERS ?= 2

# Debian packages beyond Python. A run needs a CJK font so that Chinese labels render in maps,
# plots and 3D scenes (never tofu boxes); the tests also need headless Chromium, to load the
# HTML reports and 3D pages as a browser would.
RUN_DEBIAN_PACKAGES := fonts-noto-cjk
TEST_DEBIAN_PACKAGES := chromium

# install-debian STAMP CHECK PACKAGES: install PACKAGES through apt-get unless CHECK succeeds.
define install-debian
	@if $(2); then \
		echo "system packages present: $(3)"; \
	elif command -v apt-get >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(3); \
	else \
		echo "error: need Debian packages $(3) (no apt-get here); install them and rerun" >&2; \
		exit 1; \
	fi
	touch $(1)
endef

.PHONY: setup test-setup run test bench lint clean

setup: $(STAMP) $(FONTDEPS)

test-setup: setup $(BROWSERDEPS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(FONTDEPS): | $(BIN)/python
	$(call install-debian,$(FONTDEPS),fc-list :lang=zh 2>/dev/null | grep -q .,$(RUN_DEBIAN_PACKAGES))

$(BROWSERDEPS): | $(BIN)/python
	$(call install-debian,$(BROWSERDEPS),command -v chromium >/dev/null,$(TEST_DEBIAN_PACKAGES))

## run: the main job, the Changle baseline scenario suite, with results under results/
run: setup
	$(BIN)/twin suite scenarios/changle_baseline.toml --out results --force

## test: the whole test suite (unit, property, validation and CLI tests)
test: test-setup
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
