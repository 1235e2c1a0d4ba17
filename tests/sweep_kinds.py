"""A test-only scenario kind for the sweep, report and index tests (never shipped in scenarios/).

``sweep_probe`` is quick and deterministic, and can misbehave on demand, so that the tests can
exercise what real scenarios do only rarely:

* ``fail_level``: a run with that ``level`` raises :class:`~twin.errors.InputError` at run time;
* ``crash_level``: a run with that ``level`` kills its worker process (``os._exit``) on its first
  attempt, remembered through a marker file in ``marker_dir`` (every attempt if ``crash_always``);
* ``interrupt_level``: a run with that ``level`` raises ``KeyboardInterrupt`` (a Ctrl-C in a run)
  on its first attempt (marker file again), so that the same command then resumes;
* ``log_dir``: every completed execution appends a line ``level seed`` to ``executions.log``, so
  a test can count how often each run really executed.

Workers import this module by name (the sweep records the kind's module), so ``tests/`` must be
on their ``sys.path``: pytest puts it on this process's path and worker processes inherit it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from pydantic import Field

from scenarios.registry import scenario_kind
from twin.config import ScenarioFile, StrictModel
from twin.engine import Engine
from twin.errors import InputError
from twin.results import RunResult


class ProbeConfig(StrictModel):
    """The ``[probe]`` table."""

    level: float = Field(default=1.0, ge=0, description="Scales the KPIs.")
    label: str = Field(default="a", description="A string setting (categorical plots).")
    samples: int = Field(default=50, ge=1, le=100_000, description="Random draws per run.")
    sleep_s: float = Field(default=0.0, ge=0, le=10, description="Wall-clock seconds each run takes.")
    fail_level: float | None = Field(default=None, description="Level whose runs raise InputError.")
    crash_level: float | None = Field(default=None, description="Level whose runs kill their worker.")
    crash_always: bool = Field(default=False, description="Crash on every attempt, not only the first.")
    interrupt_level: float | None = Field(default=None, description="Level whose runs raise Ctrl-C once.")
    marker_dir: str = Field(default="", description="Folder for crash markers.")
    log_dir: str = Field(default="", description="Folder for executions.log.")
    figure: bool = Field(default=False, description="Return a figure too.")


class ProbeFile(ScenarioFile):
    """A ``sweep_probe`` scenario file."""

    probe: ProbeConfig = ProbeConfig()


@scenario_kind("sweep_probe", ProbeFile, "test-only probe for sweeps and reports")
def run(config: ProbeFile, engine: Engine) -> RunResult:
    """Draw ``samples`` normals from the run's seed; misbehave as configured."""
    probe = config.probe
    seed = config.scenario.seed
    if probe.crash_level is not None and probe.level == probe.crash_level:
        marker = Path(probe.marker_dir) / f"{probe.level}-{seed}.crashed"
        if probe.crash_always or not marker.exists():
            marker.touch()
            os._exit(17)  # the worker process dies without a word, as an OOM kill would look
    if probe.interrupt_level is not None and probe.level == probe.interrupt_level:
        marker = Path(probe.marker_dir) / f"{probe.level}.interrupted"  # once per sweep
        if not marker.exists():
            marker.touch()
            raise KeyboardInterrupt
    if probe.fail_level is not None and probe.level == probe.fail_level:
        raise InputError(f"[probe] level = {probe.level}: rejected by the probe at run time")
    if probe.sleep_s:
        time.sleep(probe.sleep_s)
    draws = engine.rng("probe").normal(10.0, 2.0, size=probe.samples)
    kpis = {
        "mean_wait_s": float(probe.level * draws.mean()),
        "throughput_veh_per_h": float(1000.0 / probe.level if probe.level else 0.0) + float(draws[0]),
        "label_length_count": len(probe.label),
    }
    figures = {}
    if probe.figure:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(3, 2))
        ax.hist(draws, bins=10)
        figures["draws"] = fig
    if probe.log_dir:
        with open(Path(probe.log_dir) / "executions.log", "a") as log:
            log.write(f"{probe.level} {seed}\n")
    return RunResult(kpis=kpis, figures=figures, notes=[f"Probe at level **{probe.level}**."],
                     headline=["mean_wait_s", "throughput_veh_per_h"])
