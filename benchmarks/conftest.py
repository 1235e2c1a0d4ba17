"""Shared set-up of the benchmark suites (``make bench``): peer comparisons and machine details.

Every ``benchmarks/test_bench_<domain>.py`` is a pytest-benchmark suite. A suite that compares
our code with a peer (SUMO, EPANET through WNTR, plain SimPy) measures both **in the same run**
and records the comparison with the :func:`peer_comparison` fixture::

    def test_solve_net3_vs_epanet(benchmark, peer_comparison):
        ours = benchmark.pedantic(solve_ours, rounds=5, warmup_rounds=1)
        peer_comparison("Net3 24 h hydraulics", peer="EPANET 2.2 via WNTR", peer_fn=solve_epanet)

The fixture times ``peer_fn`` with the same clock as pytest-benchmark (``time.perf_counter``),
takes the median of both, and stores in ``benchmark.extra_info`` the keys ``comparison``,
``peer``, ``ours_time_s``, ``peer_time_s`` and ``ratio`` (= ours / peer: below 1 we are
faster). ``benchmarks/summary.py`` turns those into the table of ``benchmarks/results/summary.md``;
the comparisons are also printed at the end of the pytest run. See ``docs/benchmarks.md``.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

PACKAGES = (
    "changle-twin", "numpy", "scipy", "numba", "simpy", "networkx", "pandas", "pyarrow", "wntr",
    "eclipse-sumo", "sumolib", "dask", "distributed", "pytest-benchmark",
)
"""Packages whose versions are recorded with every benchmark run."""

_COMPARISONS: list[dict[str, Any]] = []


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def _physical_cores() -> int | None:
    try:
        import psutil

        return psutil.cpu_count(logical=False)
    except ImportError:
        return None


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _git_commit() -> str:
    try:
        result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                                capture_output=True, text=True, timeout=5)
        return result.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_details() -> dict[str, Any]:
    """What the numbers depend on: CPU, cores, memory, OS, Python and package versions."""
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": _usable_cpus(),
        "physical_cores": _physical_cores(),
        "ram_gib": _ram_gib(),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "git_commit": _git_commit(),
    }


def pytest_benchmark_update_machine_info(config, machine_info: dict[str, Any]) -> None:  # noqa: ANN001
    """Store our machine details in the JSON pytest-benchmark writes (``machine_info.changle_twin``)."""
    machine_info["changle_twin"] = machine_details()


def time_median_s(fn: Callable[[], Any], rounds: int = 5, warmup_rounds: int = 1) -> float:
    """Median wall time of ``fn`` over ``rounds`` calls after ``warmup_rounds`` untimed ones."""
    for _ in range(warmup_rounds):
        fn()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@pytest.fixture
def peer_comparison(benchmark, request):  # noqa: ANN001, ANN201 - pytest fixtures
    """Record how the code timed by ``benchmark`` compares with a peer, measured in this run.

    Call it after ``benchmark(...)``/``benchmark.pedantic(...)``:
    ``peer_comparison(name, peer=..., peer_fn=...)`` times ``peer_fn`` (median of ``rounds`` after
    ``warmup_rounds``); or pass ``peer_time_s=`` when the peer reports its own time (e.g. SUMO's
    ``--duration-log``), still measured in this run. Returns the recorded ``extra_info`` entries.
    """

    def record(
        name: str,
        peer: str,
        *,
        peer_fn: Callable[[], Any] | None = None,
        peer_time_s: float | None = None,
        rounds: int = 5,
        warmup_rounds: int = 1,
    ) -> dict[str, Any] | None:
        if (peer_fn is None) == (peer_time_s is None):
            raise TypeError("peer_comparison needs exactly one of peer_fn or peer_time_s")
        if benchmark.stats is None:
            if benchmark.disabled:  # --benchmark-disable: still check that the peer runs
                if peer_fn is not None:
                    peer_fn()
                return None
            raise RuntimeError("call benchmark(...) before peer_comparison(...)")
        ours_s = float(benchmark.stats.stats.median)
        peer_s = float(peer_time_s) if peer_fn is None else time_median_s(peer_fn, rounds, warmup_rounds)
        info = {
            "comparison": name,
            "peer": peer,
            "ours_time_s": ours_s,
            "peer_time_s": peer_s,
            "ratio": ours_s / peer_s,
            "statistic": "median",
            "peer_rounds": rounds if peer_fn is not None else None,
        }
        benchmark.extra_info.update(info)
        _COMPARISONS.append({**info, "test": request.node.nodeid})
        print(f"{name}: ours {ours_s:.4g} s, {peer} {peer_s:.4g} s, ratio {info['ratio']:.3f}")
        return info

    return record


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001
    """Print every peer comparison of the run: our time, the peer's time and the ratio."""
    if not _COMPARISONS:
        return
    terminalreporter.section("peer comparisons (median wall time; ratio = ours / peer)")
    for row in _COMPARISONS:
        terminalreporter.write_line(
            f"{row['comparison']}: ours {row['ours_time_s']:.4g} s | {row['peer']} "
            f"{row['peer_time_s']:.4g} s | ratio {row['ratio']:.3f}"
        )
