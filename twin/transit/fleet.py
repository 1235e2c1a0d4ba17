"""Fleet and headway arithmetic: the planned cycle of a line and the buses a headway needs.

A line run at headway ``h`` on a running cycle ``C`` (every direction's trip plus its terminal
layover) needs ``ceil(C / h)`` buses. :func:`planned_cycle_s` gives the cycle of the timetable
(link times at the speed cap plus the dwell allowance); the cycle as simulated is
:func:`twin.transit.metrics.running_cycle_s`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from twin.city.travel_times import FreeFlowTravelTimes, fastest_route
from twin.transit.service import ServiceConfig
from twin.transit.timetable import leg_time_s, planned_offsets_s
from twin.transit.vehicles import VehicleType

if TYPE_CHECKING:
    from twin.city.travel_times import TravelTimes
    from twin.transit.lines import TransitNetwork


def planned_cycle_s(
    network: TransitNetwork,
    line_id: str,
    service: ServiceConfig,
    vehicle: VehicleType,
    travel_times: TravelTimes | None = None,
) -> float:
    """Planned running cycle of a line (s): every direction's timetabled trip time plus its
    terminal layover, plus the empty run back for a one-direction line that is not a loop.

    ``ceil(cycle / headway)`` is the fleet the timetable needs.
    """
    times = travel_times or FreeFlowTravelTimes(network.graph)
    line = network.line(line_id)
    cycle = 0.0
    clock = service.first_departure_s
    for direction in line.directions:
        pattern = line.pattern(direction)
        trip_s = planned_offsets_s(
            network.graph, times, pattern, clock, service.planned_dwell_s, vehicle.speed_cap_m_per_s
        )[-1]
        cycle += trip_s + service.min_layover_s
        clock += trip_s + service.min_layover_s
    if len(line.directions) == 1:
        pattern = line.pattern(line.directions[0])
        a = network.stops[pattern.stop_ids[-1]].node
        b = network.stops[pattern.stop_ids[0]].node
        if a != b:
            route = fastest_route(network.graph, times, a, b, clock)
            cycle += leg_time_s(network.graph, times, route.edges, clock, vehicle.speed_cap_m_per_s)
    return cycle


def fleet_needed_veh(cycle_s: float, headway_s: float) -> int:
    """Buses needed to run ``headway_s`` on a cycle of ``cycle_s``: ``ceil(cycle / headway)``."""
    return max(1, math.ceil(cycle_s / headway_s - 1e-9))
