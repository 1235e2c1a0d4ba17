"""Shared test set-up: the hypothesis profile and a CLI runner that returns exit status and output."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

# Shared fixtures that are modules of their own (a sample city, a test-only scenario kind) live in
# tests/fixtures/; worker processes of the sweep tests inherit this path.
sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))

# Derandomised and bounded: a property test gives the same verdict on every run and machine.
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=40,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@dataclass
class CliOutcome:
    """What a CLI invocation did."""

    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def twin_cli(capsys):
    """Call ``twin`` in-process (through :func:`twin_cli.main`, as the console script does)."""
    from twin_cli import main

    def invoke(*args: str) -> CliOutcome:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliOutcome(code, captured.out, captured.err)

    return invoke
