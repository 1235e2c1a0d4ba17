"""Scenario suites: a TOML list of scenario files run in turn, with one index page.

``scenarios/changle_baseline.toml`` is the suite ``make run`` runs::

    [suite]
    name = "changle_baseline"
    description = "..."
    scenarios = ["hotline_12345.toml", ...]   # relative to the suite file
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import Field

from scenarios.loading import load_scenario
from scenarios.runner import run_scenario
from twin.config import NAME_PATTERN, StrictModel, read_toml, validate
from twin.errors import InputError
from twin.results import FolderHook, refuse_existing, safe_folder_name

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


INDEX_FILE = "index.json"
"""The suite's record of its runs, beside index.html (written by the index hook)."""

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
    suite's index page; ``finish`` completes each run folder (see :func:`run_scenario`).

    Every scenario is validated first, and the runs are written into a hidden staging folder
    inside ``out_dir`` that is moved into place only when the whole suite has run: a suite that
    fails half-way leaves ``out_dir`` as it was.
    """
    suite, paths = load_suite(path)
    names = [load_scenario(p)[1].scenario.name for p in paths]
    targets = [out_dir / safe_folder_name(name) for name in names]
    for target in targets:
        refuse_existing(target, force)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".suite.partial-", dir=out_dir))
    try:
        staged = []
        for scenario_path, target in zip(paths, targets, strict=True):
            log.info("suite %s: running %s", suite.suite.name, scenario_path.name)
            staged.append(run_scenario(scenario_path, staging / target.name, finish=finish))
        if index is not None:
            index(staging, staged, suite.suite.name, suite.suite.description)
        _move_into_place(staging, out_dir, [t.name for t in targets])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return targets


def _move_into_place(staging: Path, out_dir: Path, names: list[str]) -> None:
    """Replace ``out_dir``'s runs (and index files) by the staged ones, each by a rename."""
    for name in [*names, "index.html", INDEX_FILE]:
        source = staging / name
        if not source.exists():
            continue
        target = out_dir / name
        old = out_dir / f".{name}.old-{os.getpid()}"
        if target.exists():
            target.rename(old)
        source.rename(target)
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        elif old.exists():
            old.unlink()
