"""A main bursts in the storm, and its repair crew drives the flooded roads (coupling ``main_burst``).

The burst story is the water package's (:class:`twin.water.burst.BurstStory`: the hole opens,
SCADA detects it, a crew drives from its depot, closes the valve segment, repairs and restores),
put on the typhoon day's clock instead of its own. The crew's roads are
:class:`FloodedTravelTimes`: the crew drives a link at ``min(limit, v(d))`` of the Pregnolato
curve for the water on it in each flood interval, and waits at the water's edge while the link is
at or above the closure depth. Integrating the speed over the intervals keeps the times FIFO, so
the earliest-arrival route of :func:`twin.city.travel_times.fastest_route` is exact. With the
flood switched off the crew drives dry roads.

Left out (stated): the burst's hydraulics are the burst story's own (a copy of the network split
at the hole), so the pump outages and the burst are not solved in one hydraulic state.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from twin.city.travel_times import Edge, free_flow_time_s
from twin.coupled.roads import CLOSED_COST_S, flooded_conditions
from twin.engine import Engine
from twin.water.burst import Burst, Crew, Detection, Repair, RoadLocator, StartedBurst, start_burst
from twin.water.network import CompiledNetwork
from twin.water.service import SERVICE_HEAD_M

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from twin.hazards.flood import Flood


class FloodedTravelTimes:
    """Road times in the flood (see the module docstring).

    ``edge_link`` maps a road edge ``(u, v, key)`` to the flood's link index; ``limit_m_per_s``
    is each link's speed limit; ``start_s`` is the flood's time 0 in seconds after midnight;
    ``stop_depth_m`` (optional) is a vehicle's own water limit below the road's closure depth.
    Edges the flood does not know take their free-flow time.
    """

    def __init__(self, graph: nx.MultiDiGraph, flood: Flood, edge_link: dict[Edge, int],
                 limit_m_per_s: np.ndarray, start_s: float = 0.0, stop_depth_m: float | None = None) -> None:
        self._free_s = {(u, v, k): free_flow_time_s(d) for u, v, k, d in graph.edges(keys=True, data=True)}
        self.flood, self.edge_link, self.limit, self.start_s = flood, edge_link, limit_m_per_s, start_s
        speed, closed = zip(*(flooded_conditions(depth, limit_m_per_s) for depth in flood.depth_m), strict=True)
        self._ratio = np.array(limit_m_per_s)[None, :] / np.array(speed)  # [flood time, link] time factor
        self._closed = np.array(closed)
        if stop_depth_m is not None:  # a vehicle with a lower water limit (a driverless bus) waits earlier
            self._closed |= np.asarray(flood.depth_m) >= stop_depth_m

    def _state(self, t_s: float) -> int:
        times = self.flood.time_s
        return int(np.clip(np.searchsorted(times, t_s, side="right") - 1, 0, len(times) - 1))

    def edge_time_s(self, edge: Edge, enter_s: float) -> float:
        """Seconds to cross ``edge`` entered at ``enter_s`` (after midnight).

        The crew drives at each flood interval's speed for as long as that interval lasts, and
        stops at the water while the link is closed; so a later entry never arrives earlier (FIFO),
        which taking the speed at entry for the whole link would break when the water falls.
        """
        free = self._free_s[edge]
        k = self.edge_link.get(edge)
        if k is None:
            return free
        times = self.flood.time_s
        t = enter_s - self.start_s
        i = self._state(t)
        left = 1.0  # share of the link still to drive
        while True:
            end = float(times[i + 1]) if i + 1 < len(times) else math.inf
            if not self._closed[i, k]:
                full_s = free * float(self._ratio[i, k])  # the whole link at this interval's speed
                if t + left * full_s <= end:
                    return t + left * full_s - (enter_s - self.start_s)
                left -= (end - t) / full_s
            elif end == math.inf:
                return CLOSED_COST_S  # closed for the rest of the flood
            t, i = end, i + 1


def attach_burst(engine: Engine, net: CompiledNetwork, valves: pd.DataFrame, roads: nx.MultiDiGraph,
                 locator: RoadLocator, burst: Burst, crew: Crew, repair: Repair, detection: Detection | None = None,
                 report_step_s: int = 300) -> StartedBurst:
    """Start the burst story's processes on the shared engine (see :func:`twin.water.burst.start_burst`);
    ``locator`` and ``crew`` carry the flooded roads."""
    return start_burst(engine, net, valves, roads, locator, burst, detection or Detection(), crew, repair,
                       SERVICE_HEAD_M, report_step_s)
