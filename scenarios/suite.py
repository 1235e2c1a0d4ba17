"""Scenario suites: a TOML list of scenario files run in turn, with one index page.

``scenarios/changle_baseline.toml`` is the suite ``make run`` runs::

    [suite]
    name = "changle_baseline"
    description = "..."
    scenarios = ["hotline_12345.toml", ...]   # relative to the suite file
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from pydantic import Field

from scenarios.loading import load_scenario
from scenarios.runner import run_scenario
from twin.config import NAME_PATTERN, StrictModel, read_toml, validate
from twin.errors import InputError
from twin.results import FolderHook

log = logging.getLogger(__name__)


class SuiteTable(StrictModel):
    """The ``[suite]`` table."""

    name: str = Field(pattern=NAME_PATTERN, min_length=1, max_length=120, description="Suite name, any script.")
    description: str = Field(default="", description="What the suite covers.")
    scenarios: list[str] = Field(min_length=1, description="Scenario files, relative to this file.")


class SuiteFile(StrictModel):
    """A suite file."""

    suite: SuiteTable


def is_suite(data: dict) -> bool:
    """Whether parsed TOML is a suite file rather than a scenario file."""
    return "suite" in data and "scenario" not in data


def load_suite(path: Path) -> tuple[SuiteFile, list[Path]]:
    """Read a suite and validate every scenario it lists; return it with the scenario paths."""
    suite = validate(SuiteFile, read_toml(path), path)
    paths = [path.parent / name for name in suite.suite.scenarios]
    for scenario_path in paths:
        if not scenario_path.exists():
            raise InputError(f"[suite] scenarios: {scenario_path.name!r} not found", path)
        load_scenario(scenario_path)
    names = [load_scenario(p)[1].scenario.name for p in paths]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(f"[suite] scenarios: duplicate scenario names {duplicates}", path)
    return suite, paths


IndexHook = Callable[[Path, list[Path], str, str], object]
"""Writes the suite's index page: ``(out_dir, run_dirs, title, description)``."""


def run_suite(
    path: Path,
    out_dir: Path,
    force: bool = False,
    finish: FolderHook | None = None,
    index: IndexHook | None = None,
) -> list[Path]:
    """Run every scenario of the suite into ``out_dir/<name>``, then let ``index`` write the
    suite's index page; ``finish`` completes each run folder (see :func:`run_scenario`)."""
    suite, paths = load_suite(path)
    run_dirs = []
    for scenario_path in paths:
        _, config = load_scenario(scenario_path)
        target = out_dir / config.scenario.name
        log.info("suite %s: running %s", suite.suite.name, scenario_path.name)
        run_dirs.append(run_scenario(scenario_path, target, force=force, finish=finish))
    if index is not None:
        index(out_dir, run_dirs, suite.suite.name, suite.suite.description)
    return run_dirs
