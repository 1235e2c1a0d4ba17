"""The grid derates the compute centre: in the storm's worst hours only a share of its nodes run.

Assumption (stated, not measured): while the rain is above ``derate_above_mm_per_h`` (the storm's
proxy for wind on the overhead lines and the substation's load shedding), the grid supplies
``available_share`` of the centre's power, so only that share of its nodes runs; capacity comes
back ``restore_delay_s`` after the rain falls below the threshold. Jobs on nodes taken down roll
back to their last checkpoint and requeue (:func:`twin.compute.outages.take_nodes_down`).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field

import numpy as np
import simpy

from twin.compute.cluster import ClusterModel
from twin.compute.outages import bring_nodes_up, take_nodes_down
from twin.coupled.outages import outage_intervals
from twin.hazards.storm import RainSeries


def derate_intervals(rain: RainSeries, derate_above_mm_per_h: float,
                     restore_delay_s: float) -> list[tuple[float, float]]:
    """When the grid derates the centre: rain bins at or above the threshold, plus the restore delay."""
    # after the last bin it is dry: an outage the rain ends restores like any other
    times = rain.edges_s
    intensity = np.append(rain.intensity_mm_per_h(), 0.0)
    return outage_intervals(times, intensity, derate_above_mm_per_h, restore_delay_s)


@dataclass
class ComputeLog:
    """Derate events: ``(time_s, "derate" | "restore", nodes, jobs preempted)``."""

    events: list[tuple[float, str, int, int]] = field(default_factory=list)


def grid_derate(cluster: ClusterModel, intervals: list[tuple[float, float]], available_share: float,
                log: ComputeLog) -> Generator[simpy.Event, None, None]:
    """SimPy process: during each interval only ``available_share`` of the nodes stay in service."""
    nodes = cluster.spec.nodes
    off = list(range(math.floor(available_share * nodes), nodes))
    env = cluster.env
    for start, end in intervals:
        yield env.timeout(max(start - env.now, 0.0))
        preempted = take_nodes_down(cluster, off)
        log.events.append((float(env.now), "derate", len(off), preempted))
        if not math.isfinite(end):
            return
        yield env.timeout(max(end - env.now, 0.0))
        bring_nodes_up(cluster, off)
        log.events.append((float(env.now), "restore", len(off), 0))
