"""The 12345 hotline against a bare SimPy M/M/c loop, on the same random draws.

Two comparisons, both against the same peer, the M/M/c call centre written as the SimPy manual
would (one ``Resource``, one process per caller, nothing else):

* ``simulate`` (our model core: engine, recorder sampling every 60 s, progress stepping, the
  6 h drain after the end) — the cost of our structure around the same queue;
* the whole scenario runner path that ``twin run`` and every sweep run take (validate the file,
  simulate, KPIs, tables, the figure) — the cost of one sweep run.

The peer draws arrivals and handle times from an identically seeded generator in the same order,
so both serve the very same callers; the benchmark asserts that every wait is the same, so the
two do the same work and the ratio compares like with like.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest
import simpy

from scenarios.loading import execute, parse_scenario
from twin.engine import Engine
from twin.hotline.model import HotlineConfig, simulate

SEED = 20250603
START = datetime(2025, 6, 3, 8, 0)
DURATION_S = 8 * 3600.0
AGENTS = 10
MEAN_HANDLE_S = 240.0
LOAD = 0.8  # utilisation: 10 agents, 120 calls/h of 240 s each
CALLS_PER_H = LOAD * AGENTS / MEAN_HANDLE_S * 3600.0

CONFIG = HotlineConfig(
    agents=AGENTS, calls_per_h=[CALLS_PER_H], mean_handle_time_s=MEAN_HANDLE_S,
    handle_time_dist="exponential", abandonment=False,
)


def hotline_rng() -> np.random.Generator:
    """The generator our hotline draws from (a plain numpy PCG64, seeded from the run seed)."""
    return Engine(SEED, START, DURATION_S).rng("hotline")


def plain_simpy_mmc(rng: np.random.Generator) -> np.ndarray:
    """Bare SimPy M/M/c: Poisson arrivals hour by hour, exponential handling, FIFO; the waits."""
    arrivals = []
    for hour in range(math.ceil(DURATION_S / 3600.0)):
        begin_s, end_s = hour * 3600.0, min((hour + 1) * 3600.0, DURATION_S)
        count = rng.poisson(CALLS_PER_H / 3600.0 * (end_s - begin_s))
        arrivals.append(np.sort(rng.uniform(begin_s, end_s, size=count)))
    arrival_s = np.concatenate(arrivals)
    handle_s = rng.exponential(MEAN_HANDLE_S, size=len(arrival_s))
    wait_s = np.empty(len(arrival_s))
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=AGENTS)

    def caller(i: int):
        with agents.request() as request:
            yield request
            wait_s[i] = env.now - arrival_s[i]
            yield env.timeout(handle_s[i])

    def source():
        for i, t in enumerate(arrival_s):
            yield env.timeout(t - env.now)
            env.process(caller(i))

    env.process(source())
    env.run()
    return wait_s


def run_ours() -> dict[str, np.ndarray]:
    return simulate(CONFIG, Engine(SEED, START, DURATION_S))


def run_peer() -> np.ndarray:
    return plain_simpy_mmc(hotline_rng())


SCENARIO_DATA = {
    "scenario": {"kind": "hotline_queue", "name": "bench", "seed": SEED, "start": START,
                 "duration_s": DURATION_S},
    "hotline": CONFIG.model_dump(),
}


def run_scenario_in_process() -> None:
    import matplotlib.pyplot as plt

    result, _ = execute(*parse_scenario(SCENARIO_DATA, "bench"))
    for figure in result.figures.values():
        plt.close(figure)


@pytest.mark.benchmark(group="hotline")
def test_hotline_simulate_vs_plain_simpy(benchmark, peer_comparison):
    calls = benchmark.pedantic(run_ours, rounds=7, warmup_rounds=1)
    # Same callers, same FIFO queue: every wait agrees, so both sides did the same work.
    peer_waits = run_peer()
    assert len(calls["wait_s"]) == len(peer_waits) > 800 and calls["answered"].all()
    np.testing.assert_allclose(calls["wait_s"], peer_waits, rtol=0, atol=1e-6)
    peer_comparison("12345 hotline M/M/10, 8 h (~960 calls): model core",
                    peer="plain SimPy M/M/c loop", peer_fn=run_peer, rounds=7)


@pytest.mark.benchmark(group="hotline")
def test_hotline_scenario_run_vs_plain_simpy(benchmark, peer_comparison):
    benchmark.pedantic(run_scenario_in_process, rounds=5, warmup_rounds=1)
    peer_comparison("12345 hotline M/M/10, 8 h: whole scenario run (KPIs, tables, figure)",
                    peer="plain SimPy M/M/c loop", peer_fn=run_peer, rounds=5)
