"""Shared test set-up: the hypothesis profile and a CLI runner that returns exit status and output."""

from __future__ import annotations

import os
from dataclasses import dataclass

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

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
    """Call ``twin`` in-process (through :func:`twin.cli.main`, as the console script does)."""
    from twin.cli import main

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
