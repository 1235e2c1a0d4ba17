"""A simulated year of the 10000P centre with the full mix, as the year plan runs it.

* ``test_year_at_10000p_whole_process``: a fresh Python process runs one stage-year of
  :func:`twin.compute.yearplan.run_stage_year`: the 2027 tenant mix for 365 days (over a million
  batch, fine-tuning, large-training and dedicated-inference jobs) under EASY on the batch
  partition of 10000P of H100, the year's flagship pre-training gang with its failures and
  checkpoints drawn, the shared inference service autoscaled hour by hour (a typical day's 24
  hourly rates, repeated over the 8,760 hours of the power series), and the hourly IT load and
  PUE of Fuzhou's typical year against the grid cap. The time is the whole process: interpreter
  start, imports, Numba's cached kernels, the workload draw, the simulation and the KPIs. The
  issue's target is at most 30 s.
* ``test_batch_prefix_vs_pure_simpy``: the peer. The same year's batch jobs, first 5 days, on the
  same partition, FIFO, through our kernel and through the plain SimPy FIFO of
  ``test_bench_compute.py`` (a process per job, a deque, list-scan placement); the start of every
  job is asserted identical. The ratio is measured on the prefix; the peer's year is that
  prefix's time scaled by the job count (an estimate, and a flattering one for the peer: its
  queue and placement scans grow with load).

Results: ``benchmarks/results/aicc_year.md``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
YEAR = 2027
PREFIX_DAYS = 5.0


def year_table():
    from twin.compute.yearplan import YearPlanTable

    return YearPlanTable(years=[YEAR], batch_days=358.0, warmup_days=7.0)


def target_stage():
    from twin.compute.yearplan import StagePlan

    return StagePlan(name="target", capacity_pflops=10000.0, grid_cap_mw=16.0, liquid_share=0.5)


def run_year() -> dict:
    """One stage-year as the year plan runs it; returns its figures and its job count."""
    from twin.compute.climate import fuzhou_typical_year
    from twin.compute.workload import load_workload_config
    from twin.compute.yearplan import Basis, run_stage_year

    started = time.perf_counter()
    table, mix = year_table(), load_workload_config()
    outcome = run_stage_year(target_stage(), YEAR, table, mix, Basis(), fuzhou_typical_year(),
                             np.random.Generator(np.random.PCG64(2027)))
    return {"batch_jobs": outcome.batch_jobs, "gang_devices": outcome.gang_devices, "short": outcome.short,
            "batch_nodes": outcome.batch_nodes, "batch_utilisation": outcome.batch_utilisation,
            "training_goodput": outcome.training_goodput, "inference_peak_devices": outcome.inference_peak_devices,
            "annual_pue": outcome.annual_pue, "in_process_s": time.perf_counter() - started}


@pytest.mark.benchmark(group="aicc_year")
def test_year_at_10000p_whole_process(benchmark):
    def whole_process() -> dict:
        proc = subprocess.run([sys.executable, str(Path(__file__))], capture_output=True, text=True, cwd=REPO)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])

    figures = benchmark.pedantic(whole_process, rounds=1, iterations=1, warmup_rounds=1)
    assert figures["batch_jobs"] >= 1_000_000
    benchmark.extra_info.update(figures)
    print(f"year at 10000P: {figures}")


@pytest.mark.benchmark(group="aicc_year")
def test_batch_prefix_vs_pure_simpy(benchmark, peer_comparison):
    from test_bench_compute import pure_simpy_fifo

    from twin.compute.cluster import simulate_kernel
    from twin.compute.cluster_spec import ClusterSpec
    from twin.compute.settings import SchedulerConfig
    from twin.compute.workload import generate, load_workload_config

    rng = np.random.Generator(np.random.PCG64(2027))
    year = generate(load_workload_config(), YEAR, 365 * 86400.0, rng)
    prefix = year.window(0.0, PREFIX_DAYS * 86400.0)
    nodes = 1015  # the 2027 batch partition of the 10000P stage (run_stage_year's batch_nodes)
    spec = ClusterSpec(nodes=nodes)
    fifo = SchedulerConfig(policy="fifo", placement="consolidated", preemption=False)
    result = benchmark.pedantic(lambda: simulate_kernel(prefix, spec, fifo), rounds=3, iterations=1,
                                warmup_rounds=1)
    peer_starts = pure_simpy_fifo(prefix, nodes)
    assert np.allclose(result.jobs["first_start_s"].to_numpy(), peer_starts, rtol=0, atol=1e-6)
    info = peer_comparison(
        f"batch FIFO, first {PREFIX_DAYS:g} days of the 2027 mix ({len(prefix):,} jobs, {nodes:,} nodes)",
        peer="pure SimPy (process per job, FIFO deque, list-scan placement)",
        peer_fn=lambda: pure_simpy_fifo(prefix, nodes), rounds=1, warmup_rounds=0,
    )
    if info is not None:
        scale = len(year) / len(prefix)
        benchmark.extra_info.update({"prefix_jobs": len(prefix), "year_jobs": len(year),
                                     "peer_year_estimate_s": info["peer_time_s"] * scale})
        print(f"peer prefix {info['peer_time_s']:.2f} s x {scale:.1f} = {info['peer_time_s'] * scale:.0f} s "
              f"for the year's batch jobs; ours/peer {info['ratio']:.4f}")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    print(json.dumps(run_year()))
