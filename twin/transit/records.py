"""What a bus run records: each :class:`Trip` as it happens, and the finished :class:`BusRun` tables.

A run's tables, read by :mod:`twin.transit.metrics` and :mod:`twin.transit.gtfs`:

* ``stop_visits``: one row per bus call at a stop (arrival, departure, timetabled departure,
  boardings, alightings, load leaving the stop, passengers left behind, holding);
* ``trips``: one row per trip (dispatch, end, length, signal delay, priority requests, deadhead);
* ``passengers``: one row per passenger (see :meth:`twin.transit.passengers.StopQueues.table`);
* ``cycles``: one row per bus back at terminal 0 (dispatch of its direction-0 trip, ready again).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from twin.transit.lines import TransitNetwork
from twin.transit.service import OperationsConfig, ServiceConfig
from twin.transit.vehicles import VehicleType

if TYPE_CHECKING:
    import pandas as pd

STOP_VISIT_COLUMNS = [
    "trip_index", "trip_id", "line_id", "direction", "bus_id", "seq", "stop_id",
    "position_m", "arrive_s", "depart_s", "scheduled_s", "boardings", "alightings",
    "load_pax", "left_behind_pax", "held_s", "extra",
]
TRIP_COLUMNS = [
    "trip_index", "trip_id", "line_id", "direction", "bus_id", "scheduled_s", "dispatch_s",
    "end_s", "length_m", "stops_served", "n_stops", "signal_delay_s", "junctions_crossed",
    "priority_requests", "deadhead_s", "extra",
]
CYCLE_COLUMNS = ["line_id", "bus_id", "dispatch_s", "ready_s"]


@dataclass
class Trip:
    """One bus running one pattern once, with what happened at each stop.

    ``arrived[k]`` and ``departed[k]`` are SimPy events that fire when the bus reaches and
    leaves stop ``k``: the bus behind waits on them when overtaking is not allowed.
    """

    index: int  # position in the run's trips (the trip_index of its tables)
    trip_id: str
    line_id: str
    direction: int
    bus_id: str
    scheduled_s: float
    dispatch_s: float
    extra: bool
    n_stops: int
    leader: Trip | None
    arrived: list[Any] = field(default_factory=list)  # simpy events
    departed: list[Any] = field(default_factory=list)
    arrive_s: list[float] = field(default_factory=list)
    depart_s: list[float] = field(default_factory=list)
    boardings: list[int] = field(default_factory=list)
    alightings: list[int] = field(default_factory=list)
    load: list[int] = field(default_factory=list)
    left_behind: list[int] = field(default_factory=list)
    held_s: list[float] = field(default_factory=list)
    signal_delay_s: float = 0.0
    junctions_crossed: int = 0
    deadhead_s: float = 0.0
    priority_requests: int = 0
    length_m: float = 0.0
    end_s: float = math.nan


@dataclass
class BusRun:
    """Everything a run produced, as tables, plus the inputs needed to read them."""

    network: TransitNetwork
    services: dict[str, ServiceConfig]
    vehicles: dict[str, VehicleType]
    operations: OperationsConfig
    duration_s: float
    stop_visits: pd.DataFrame
    trips: pd.DataFrame
    passengers: pd.DataFrame
    cycles: pd.DataFrame
    planned_offsets_s: dict[tuple[str, int], list[float]]


def stop_visits_table(
    trips: list[Trip], network: TransitNetwork, planned_offsets_s: dict[tuple[str, int], list[float]]
) -> pd.DataFrame:
    """One row per call at a stop; a bus still at a stop at the end has no departure yet."""
    # Deferred: pandas is heavy and only the finished run's tables need it.
    import pandas as pd

    visits = []
    for index, trip in enumerate(trips):
        pattern = network.line(trip.line_id).pattern(trip.direction)
        offsets = planned_offsets_s[(trip.line_id, trip.direction)]
        positions = pattern.position_m
        for k in range(len(trip.arrive_s)):
            left = k < len(trip.depart_s)
            visits.append((
                index, trip.trip_id, trip.line_id, trip.direction, trip.bus_id, k,
                pattern.stop_ids[k], positions[k], trip.arrive_s[k],
                trip.depart_s[k] if left else math.nan, trip.scheduled_s + offsets[k],
                trip.boardings[k], trip.alightings[k], trip.load[k], trip.left_behind[k],
                trip.held_s[k] if left else 0.0, trip.extra,
            ))
    return pd.DataFrame(visits, columns=STOP_VISIT_COLUMNS)


def trips_table(trips: list[Trip]) -> pd.DataFrame:
    """One row per trip, in dispatch order."""
    # Deferred: pandas is heavy and only the finished run's tables need it.
    import pandas as pd

    return pd.DataFrame([(
        i, t.trip_id, t.line_id, t.direction, t.bus_id, t.scheduled_s, t.dispatch_s, t.end_s,
        t.length_m, len(t.arrive_s), t.n_stops, t.signal_delay_s, t.junctions_crossed,
        t.priority_requests, t.deadhead_s, t.extra,
    ) for i, t in enumerate(trips)], columns=TRIP_COLUMNS)


def cycles_table(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    """One row per bus back at terminal 0: line, bus, dispatch of its direction-0 trip, ready again."""
    # Deferred: pandas is heavy and only the finished run's tables need it.
    import pandas as pd

    return pd.DataFrame(rows, columns=CYCLE_COLUMNS)
