"""A grid derate cuts the centre's nodes: jobs requeue, waits rise; without it nothing changes."""

from __future__ import annotations

import numpy as np
import simpy

from twin.compute.cluster import ClusterModel
from twin.compute.cluster_spec import ClusterSpec
from twin.compute.settings import FailureConfig
from twin.compute.workload import synthetic
from twin.coupled.compute import ComputeLog, derate_intervals, grid_derate
from twin.hazards.storm import RainSeries

HORIZON_S = 24 * 3600.0


def _run(intervals):
    env = simpy.Environment()
    jobs = synthetic(600, 8, 25.0, 2.0, np.random.default_rng(5))
    spec = ClusterSpec(nodes=64, gpus_per_node=8)
    cluster = ClusterModel(env, jobs, spec, failures=FailureConfig(enabled=False), horizon_s=HORIZON_S)
    log = ComputeLog()
    env.process(grid_derate(cluster, intervals, 0.5, log))
    return cluster.run(progress=False), log


def test_the_derate_follows_the_rain_above_its_threshold():
    rain = RainSeries(np.arange(7) * 3600.0, np.array([5.0, 20.0, 40.0, 10.0, 35.0, 0.0]))
    assert derate_intervals(rain, 30.0, 1800.0) == [(7200.0, 12600.0), (14400.0, 19800.0)]
    # a storm that ends at its worst still restores after the delay
    last = RainSeries(np.array([0.0, 3600.0]), np.array([50.0]))
    assert derate_intervals(last, 30.0, 1800.0) == [(0.0, 5400.0)]


def test_half_the_nodes_for_six_hours_raise_the_waits():
    calm, calm_log = _run([])
    storm, storm_log = _run([(6 * 3600.0, 12 * 3600.0)])
    assert calm_log.events == []
    assert [e[1] for e in storm_log.events] == ["derate", "restore"]
    assert storm_log.events[0][2] == 32
    assert storm.kpis["mean_wait_s"] > calm.kpis["mean_wait_s"]
    # jobs submitted before the derate started are untouched
    early = calm.jobs["submit_s"] < 6 * 3600.0
    done_early = calm.jobs[early & (calm.jobs["end_s"] < 6 * 3600.0)]
    assert np.allclose(storm.jobs.loc[done_early.index, "end_s"], done_early["end_s"])
