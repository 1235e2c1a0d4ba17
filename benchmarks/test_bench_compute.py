"""The AI computing centre: a year of the 10000P centre, and the SimPy + Numba model against a
straightforward pure-SimPy FIFO on the same jobs.

* ``test_year_of_the_10000p_centre``: the 2028 tenant mix for 365 days (about 1.6 million jobs)
  on 10000P of H100 (1,264 nodes) through the full twin model (:class:`twin.compute.cluster.ClusterModel`:
  SimPy clock with hourly monitoring epochs, node failures and repairs, EASY backfilling with
  priority preemption, metrics and KPIs). Target: under 60 s.
* ``test_fifo_model_vs_pure_simpy``: FIFO, consolidated placement, no failures, on the first 30
  days of the same workload (about 135,000 jobs). The peer is what one would write with SimPy
  alone: a process per job, a FIFO deque, node placement by scanning the node list. Both run the
  **same 30-day sample** and the benchmark asserts that every job starts at the same time in both,
  so the ratio compares like with like (no extrapolation). The peer is not run on the full year:
  its per-job placement scan makes that take several minutes.
* ``test_erlang_c_at_utilisation_0_7``: a long validation run on other seeds than the test's
  (``tests/compute/test_compute_validation.py`` runs 2e8 jobs at 0.7): 64 devices at 0.7, 8e7 jobs in 32
  replications; records the time, the error against Erlang C and the interval.
"""

from __future__ import annotations

import collections
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import simpy

from twin.compute.accelerators import size_for_pflops
from twin.compute.cluster import ClusterModel
from twin.compute.cluster_spec import ClusterSpec
from twin.compute.jobs import JobTable
from twin.compute.settings import FailureConfig, SchedulerConfig
from twin.compute.workload import generate, load_workload_config

YEAR_S = 365 * 86400.0
SAMPLE_S = 30 * 86400.0
NODES = size_for_pflops(10000, "h100_sxm").nodes  # 1,264 nodes of 8


def year_2028() -> JobTable:
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(2028)))
    return generate(load_workload_config(), 2028, YEAR_S, rng)


def run_model(jobs: JobTable, horizon_s: float, scheduler: SchedulerConfig, failures: bool):
    model = ClusterModel(
        simpy.Environment(), jobs, ClusterSpec(nodes=NODES), scheduler, FailureConfig(enabled=failures),
        horizon_s=horizon_s, rng=np.random.default_rng(7), epoch_s=3600.0, bin_width_s=3600.0,
    )
    return model.run(progress=False, drain=not failures), model


@pytest.mark.benchmark(group="compute")
def test_year_of_the_10000p_centre(benchmark):
    jobs = year_2028()
    assert len(jobs) >= 1_000_000
    scheduler = SchedulerConfig(policy="easy", preemption=True)
    result, model = benchmark.pedantic(lambda: run_model(jobs, YEAR_S, scheduler, True), rounds=1,
                                       iterations=1, warmup_rounds=0)
    benchmark.extra_info.update({
        "jobs": len(jobs), "nodes": NODES, "devices": NODES * 8, "policy": "easy + preemption",
        "node_failures": model.node_failures, "kernel_events": result.counters["events"],
        "scheduling_passes": result.counters["passes"], "utilisation": result.kpis["utilisation"],
        "simpy_epochs": model.epochs,
    })
    print(f"year of the 10000P centre: {len(jobs):,} jobs, {model.node_failures} node failures, "
          f"utilisation {result.kpis['utilisation']:.3f}")


def pure_simpy_fifo(jobs: JobTable, n_nodes: int, gpn: int = 8) -> np.ndarray:
    """FIFO gang scheduling written with SimPy alone; returns each job's start time.

    Same rules as the model: a gang of k·gpn + r devices takes the k lowest-indexed whole free
    nodes and puts the remainder on the fullest node that fits it (lowest index on ties); the
    queue head blocks everyone behind it; a scheduling pass runs once the events of an instant
    have happened (run times clipped to a minute make simultaneous completions common).
    """
    env = simpy.Environment()
    free = [gpn] * n_nodes
    queue: collections.deque = collections.deque()
    started = np.full(len(jobs), np.nan)
    submit, work, gpus = jobs.submit_s.tolist(), jobs.work_s.tolist(), jobs.gpus.tolist()
    pass_requested = [False]

    def place(g):
        k, r = divmod(g, gpn)
        whole = [n for n in range(n_nodes) if free[n] == gpn]
        if len(whole) < k:
            return None
        allocation = [(n, gpn) for n in whole[:k]]
        if r:
            taken = set(whole[:k])
            best = -1
            for n in range(n_nodes):
                if n not in taken and free[n] >= r and (best < 0 or free[n] < free[best]):
                    best = n
            if best < 0:
                return None
            allocation.append((best, r))
        return allocation

    def scheduling_pass(_event):
        pass_requested[0] = False
        while queue:
            j, granted = queue[0]
            allocation = place(gpus[j])
            if allocation is None:
                return
            queue.popleft()
            for n, c in allocation:
                free[n] -= c
            granted.succeed(allocation)

    def request_pass():
        # one pass after everything already scheduled for this instant
        if not pass_requested[0]:
            pass_requested[0] = True
            env.timeout(0).callbacks.append(scheduling_pass)

    def job(j):
        granted = env.event()
        queue.append((j, granted))
        request_pass()
        allocation = yield granted
        started[j] = env.now
        yield env.timeout(work[j])
        for n, c in allocation:
            free[n] += c
        request_pass()

    def arrivals():
        for j in range(len(submit)):
            yield env.timeout(submit[j] - env.now)
            env.process(job(j))

    env.process(arrivals())
    env.run()
    return started


@pytest.mark.benchmark(group="compute")
def test_fifo_model_vs_pure_simpy(benchmark, peer_comparison):
    sample = year_2028().window(0.0, SAMPLE_S)
    fifo = SchedulerConfig(policy="fifo", placement="consolidated", preemption=False)
    result, _ = benchmark.pedantic(lambda: run_model(sample, SAMPLE_S, fifo, False), rounds=3,
                                   iterations=1, warmup_rounds=1)
    peer_starts = pure_simpy_fifo(sample, NODES)
    ours = result.jobs["first_start_s"].to_numpy()
    assert np.allclose(ours, peer_starts, rtol=0, atol=1e-6), "the two runs scheduled different jobs"
    info = peer_comparison(
        f"GPU cluster FIFO, 30 days of the 2028 mix ({len(sample):,} jobs, {NODES:,} nodes)",
        peer="pure SimPy (process per job, FIFO deque, list-scan placement)",
        peer_fn=lambda: pure_simpy_fifo(sample, NODES), rounds=1, warmup_rounds=0,
    )
    if info is not None:
        benchmark.extra_info["speedup"] = 1.0 / info["ratio"]
        print(f"speedup over pure SimPy: {1.0 / info['ratio']:.1f}x")


@pytest.mark.benchmark(group="compute")
def test_erlang_c_at_utilisation_0_7(benchmark):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "compute"))
    from test_compute_validation import control_variate_estimate, replication

    from twin.queueing import mmc_mean_wait_s

    rho, c = 0.7, 64
    expected = mmc_mean_wait_s(c, rho * c / 3600.0, 3600.0)
    runs = benchmark.pedantic(lambda: [replication(rho, c, 1, 2_500_000, 1000 + s) for s in range(32)],
                              rounds=1, iterations=1, warmup_rounds=0)
    estimate, se, dof = control_variate_estimate(runs)
    from scipy import stats

    half_95 = float(stats.t.ppf(0.975, dof)) * se
    half_99 = float(stats.t.ppf(0.995, dof)) * se
    benchmark.extra_info.update({
        "jobs": 32 * 2_500_000, "erlang_c_wait_s": expected, "simulated_wait_s": estimate,
        "relative_error": estimate / expected - 1.0, "half_width_95_relative": half_95 / expected,
        "half_width_99_relative": half_99 / expected,
    })
    print(f"Erlang C at 0.7 on 64 devices: simulated {estimate:.4f} s vs {expected:.4f} s "
          f"({100 * (estimate / expected - 1):+.2f}%, 95% interval +-{100 * half_95 / expected:.2f}%)")
    assert abs(estimate - expected) <= half_99
    assert math.isfinite(estimate)
