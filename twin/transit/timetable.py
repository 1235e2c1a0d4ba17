"""Running times and the planned timetable of a pattern.

A bus runs each road edge at the travel-time hook's time for the moment it enters it
(:class:`twin.city.travel_times.TravelTimes`: free flow, or a traffic run's time-of-day times),
never faster than its vehicle's speed cap (:func:`leg_time_s`). A timetable adds a dwell
allowance at every stop (:func:`planned_offsets_s`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from twin.transit.lines import Edge, Pattern

if TYPE_CHECKING:
    import networkx as nx

    from twin.city.travel_times import TravelTimes


def leg_time_s(
    graph: nx.MultiDiGraph,
    travel_times: TravelTimes,
    leg: Sequence[Edge],
    enter_s: float,
    speed_cap_m_per_s: float = math.inf,
) -> float:
    """Running time of a leg entered at ``enter_s`` (s): each edge at its hook time, entered in
    turn, but never faster than ``speed_cap_m_per_s``."""
    time_s = enter_s
    for edge in leg:
        cap_s = float(graph.edges[edge]["length"]) / speed_cap_m_per_s
        time_s += max(travel_times.edge_time_s(edge, time_s), cap_s)
    return time_s - enter_s


def planned_offsets_s(
    graph: nx.MultiDiGraph,
    travel_times: TravelTimes,
    pattern: Pattern,
    depart_s: float,
    dwell_s: float,
    speed_cap_m_per_s: float = math.inf,
) -> list[float]:
    """Timetable offsets, from the dispatch, of the departure from each stop of ``pattern`` (s).

    The bus dwells ``dwell_s`` at every stop, the first and the last included, and the trip ends
    when it leaves the last stop, so ``offsets[-1]`` is the planned trip time; the arrival at
    stop ``k`` is ``offsets[k] - dwell_s``.
    """
    clock = depart_s + dwell_s
    offsets = [dwell_s]
    for leg in pattern.legs:
        clock += leg_time_s(graph, travel_times, leg, clock, speed_cap_m_per_s) + dwell_s
        offsets.append(clock - depart_s)
    return offsets
