"""Buses and passengers as SimPy processes on the engine's clock, and the KPIs of a run.

The story each process tells:

* **A terminal dispatcher** (one per line and direction) releases a trip by timetable (at
  ``first + k × headway``) or by headway (``headway`` after the previous departure), taking the
  first bus that has finished its layover at that terminal; a late bus means a late departure.
* **A trip** drives its pattern stop by stop. Each leg takes the sum of its edges' times from the
  travel-time hook (free flow until a traffic run provides time-of-day times), capped by the
  vehicle's speed cap, times an optional lognormal noise factor. At a stop the bus lets off the
  passengers for that stop, takes on, first come first served, the waiting passengers whose
  destination is further along the pattern until it is full, and dwells ``door + boardings ×
  boarding time + alightings × alighting time`` (times an optional noise factor). Passengers it
  has to leave behind are counted once each. At control stops, holding keeps a bus until its
  headway behind the previous bus reaches a threshold (or until its scheduled time).
* **No overtaking** (the default): a bus reaches a stop no earlier, and leaves it no earlier, than
  the bus of the same line and direction dispatched before it (plus ``min_spacing_s``), as on a
  single-lane street with one berth queue. ``allow_overtaking = true`` lifts both rules.
* **Passengers** arrive at stops as Poisson flows (built by :mod:`twin.transit`); they are
  materialised in a stop's queue lazily, when a bus calls, which is exact because nothing else
  observes the queue. With ``patience_s`` set, a passenger who has waited that long leaves.
* **Demand-responsive extra runs** (optional): a reserve bus is sent along direction 0 when the
  number of passengers waiting for it exceeds a trigger, then returns empty to the depot.

Signal delay at junctions comes from an optional :class:`JunctionSignals` object; with none, the
link times of the travel-time hook are used as they are (the traffic layer's time-of-day times
already include the signal delay it measured).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
from pydantic import Field

from twin.config import StrictModel
from twin.errors import InputError
from twin.transit.lines import (
    BusLine,
    CostModel,
    PassengerDemand,
    Pattern,
    TransitNetwork,
    VehicleType,
    daily_operating_cost_cny,
    leg_time_s,
    planned_offsets_s,
)

if TYPE_CHECKING:
    import pandas as pd
    import simpy

    from twin.city.travel_times import TravelTimes
    from twin.engine import Engine

Edge = tuple[int, int, int]


class ServiceConfig(StrictModel):
    """How one line is operated: headway, fleet, dispatch rule and holding control."""

    headway_s: float = Field(default=600.0, gt=0, le=14_400, description="Target headway (s).")
    fleet_veh: int = Field(default=6, ge=1, le=500, description="Buses assigned to the line.")
    dispatch: Literal["timetable", "headway"] = Field(
        default="timetable",
        description="timetable: depart at first + k·headway; headway: one headway after the last "
        "departure from the same terminal.",
    )
    holding: Literal["none", "headway", "schedule"] = Field(
        default="none",
        description="Holding at control stops: threshold headway holding, schedule holding, or none.",
    )
    holding_every_n_stops: int = Field(
        default=4, ge=1, le=100, description="Every n-th stop (after the first) is a control stop."
    )
    holding_threshold_ratio: float = Field(
        default=0.8, ge=0, le=1.5,
        description="Headway holding: leave no earlier than ratio × headway after the previous bus.",
    )
    max_holding_s: float = Field(default=180.0, ge=0, description="Longest hold at one stop (s).")
    min_layover_s: float = Field(default=180.0, ge=0, description="Layover at each terminal (s).")
    start_at: Literal["both_terminals", "first_terminal"] = Field(
        default="both_terminals",
        description="Where the fleet starts: shared between the two terminals (both directions run "
        "from the first departure), or all at the first terminal.",
    )
    planned_dwell_s: float = Field(
        default=15.0, ge=0, description="Dwell allowance per stop in the timetable (s)."
    )
    first_departure_s: float = Field(default=0.0, ge=0, description="First dispatch (s after start).")
    last_departure_s: float | None = Field(
        default=None, ge=0, description="Last dispatch from a terminal (s); default: end of run."
    )
    extra_buses_veh: int = Field(default=0, ge=0, le=100, description="Reserve buses for extra runs.")
    extra_trigger_pax: int = Field(
        default=60, ge=1, description="Waiting passengers on direction 0 that trigger an extra run."
    )
    extra_check_interval_s: float = Field(default=60.0, gt=0, description="Check period (s).")


class OperationsConfig(StrictModel):
    """Model options shared by every line of a run."""

    skip_empty_stops: bool = Field(
        default=True, description="Pass a stop without dwelling when nobody boards or alights."
    )
    dwell_cv: float = Field(default=0.0, ge=0, le=3, description="Lognormal noise on each dwell (CV).")
    link_time_cv: float = Field(
        default=0.0, ge=0, le=3, description="Lognormal noise on each leg's running time (CV)."
    )
    allow_overtaking: bool = Field(
        default=False, description="Let buses of one line pass each other between and at stops."
    )
    min_spacing_s: float = Field(
        default=1.0, ge=0, le=120, description="Least time between two buses of a line at a stop (s)."
    )
    patience_s: float | None = Field(
        default=None, gt=0, description="Passengers leave after waiting this long (s); none: never."
    )
    on_time_early_s: float = Field(default=60.0, ge=0, description="On time: at most this early (s).")
    on_time_late_s: float = Field(default=300.0, ge=0, description="On time: at most this late (s).")


class JunctionSignals(Protocol):
    """What a bus sees of the traffic signals, and how it asks for priority (V2X).

    Implemented over the traffic layer's signal controllers by :class:`TrafficSignals`. A bus
    reaching the stop line of a signalised ``node`` on ``in_edge`` towards ``out_edge`` waits
    until :meth:`is_green` (polling every ``poll_s``); a bus of a priority line sends
    :meth:`request_priority` ``detection_s`` before it reaches the stop line of a connected
    junction, and :meth:`clear_priority` once it has crossed.
    """

    poll_s: float
    detection_s: float

    def is_signalised(self, node: int) -> bool: ...

    def is_connected(self, node: int) -> bool: ...

    def is_green(self, node: int, in_edge: Edge, out_edge: Edge) -> bool: ...

    def request_priority(self, node: int, in_edge: Edge, out_edge: Edge, eta_s: float) -> None: ...

    def clear_priority(self, node: int) -> None: ...


# --------------------------------------------------------------------------------------------
# Run state
# --------------------------------------------------------------------------------------------


@dataclass
class Trip:
    """One bus running one pattern once, with what happened at each stop."""

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


class BusSimulation:
    """Buses, dispatchers and passengers of one or more lines on one engine.

    Parameters
    ----------
    engine
        The run's engine (clock and random streams ``transit_traffic``, ``transit_dwell``).
    network
        Stops and lines (only the lines in ``services`` run).
    services
        Operating plan of each line to run, by line id.
    vehicles
        Vehicle type of each line, by line id.
    demand
        Passengers; each must be served by some line pattern in ``services`` (else it is an
        :class:`InputError`: it would wait forever).
    travel_times
        Link times (the traffic hook); default free flow on ``network.graph``.
    operations
        Model options.
    signals
        Signal controllers for junction delay and priority (optional).
    priority_lines
        Lines whose buses request priority at connected junctions.
    timetable_offsets_s
        Timetabled departure offsets from the dispatch at each stop, by (line, direction), e.g.
        mean running times observed in a calibration run; default: link times at the speed cap
        plus ``planned_dwell_s`` per stop (:func:`twin.transit.planned_offsets_s`).
    """

    def __init__(
        self,
        engine: Engine,
        network: TransitNetwork,
        services: dict[str, ServiceConfig],
        vehicles: dict[str, VehicleType],
        demand: PassengerDemand,
        travel_times: TravelTimes | None = None,
        operations: OperationsConfig | None = None,
        signals: JunctionSignals | None = None,
        priority_lines: set[str] | None = None,
        timetable_offsets_s: dict[tuple[str, int], list[float]] | None = None,
    ) -> None:
        from twin.city.travel_times import FreeFlowTravelTimes

        if network.graph is None:
            raise ValueError("the transit network needs its road graph")
        self.engine = engine
        self.env: simpy.Environment = engine.env
        self.network = network
        self.services = services
        self.vehicles = vehicles
        self.ops = operations or OperationsConfig()
        self.times = travel_times or FreeFlowTravelTimes(network.graph)
        self.signals = signals
        self.priority_lines = priority_lines or set()
        self.demand = demand
        for line_id in services:
            network.line(line_id)
            if line_id not in vehicles:
                raise InputError(f"line {line_id!r}: no vehicle type given")
        self._rng_link = engine.rng("transit_traffic")
        self._rng_dwell = engine.rng("transit_dwell")
        self._check_demand_served()
        # Passengers: per-stop arrival queues (indices into the demand arrays) and outcomes.
        n = len(demand)
        self.board_s = np.full(n, np.nan)
        self.alight_s = np.full(n, np.nan)
        self.abandon_s = np.full(n, np.nan)
        self.trip_of = np.full(n, -1, dtype=np.int64)
        self.was_left_behind = np.zeros(n, dtype=bool)
        self._pending: dict[str, np.ndarray] = {}
        self._cursor: dict[str, int] = {}
        self._waiting: dict[str, list[int]] = {s: [] for s in network.stops}
        order = np.argsort(demand.origin, kind="stable") if n else np.array([], dtype=int)
        if n:
            origins = demand.origin[order]
            bounds = np.flatnonzero(origins[1:] != origins[:-1]) + 1
            for chunk in np.split(order, bounds):
                self._pending[str(demand.origin[chunk[0]])] = chunk  # stable: in arrival order
        self.trips: list[Trip] = []
        self._chain_tail: dict[tuple[str, int], Trip | None] = {}
        self._pools: dict[tuple[str, int], simpy.Store] = {}
        self._reserve: dict[str, simpy.Store] = {}
        self.cycle_rows: list[tuple[str, str, float, float]] = []
        self.planned_offsets_s = {
            (line_id, d): self._planned_offsets(self.network.line(line_id).pattern(d), line_id)
            for line_id in services
            for d in self.network.line(line_id).directions
        }
        for key, offsets in (timetable_offsets_s or {}).items():
            if key in self.planned_offsets_s:
                if len(offsets) != len(self.planned_offsets_s[key]):
                    raise ValueError(f"timetable for {key}: {len(offsets)} offsets for "
                                     f"{len(self.planned_offsets_s[key])} stops")
                self.planned_offsets_s[key] = [float(o) for o in offsets]

    # ---------------------------------------------------------------- set-up helpers

    def _check_demand_served(self) -> None:
        from twin.transit.lines import served_pairs

        if not len(self.demand):
            return
        served = served_pairs(self.network.subset(self.services))
        pairs = set(zip(self.demand.origin.tolist(), self.demand.destination.tolist(), strict=True))
        unserved = sorted(pairs - served)
        if unserved:
            raise InputError(
                f"demand: {len(unserved)} OD pairs are not served by any running line, e.g. "
                f"{unserved[0][0]} -> {unserved[0][1]}"
            )

    def leg_time_s(self, leg: list[Edge], enter_s: float, vehicle: VehicleType) -> float:
        """Noise-free running time of a leg entered at ``enter_s``, within the speed cap (s)."""
        return leg_time_s(self.network.graph, self.times, leg, enter_s, vehicle.speed_cap_m_per_s)

    def _planned_offsets(self, pattern: Pattern, line_id: str) -> list[float]:
        """Timetable offsets of the departure from each stop after the dispatch (s)."""
        service = self.services[line_id]
        return planned_offsets_s(
            self.network.graph, self.times, pattern, service.first_departure_s,
            service.planned_dwell_s, self.vehicles[line_id].speed_cap_m_per_s,
        )

    def _lognormal_factor(self, rng: np.random.Generator, cv: float) -> float:
        """A lognormal factor with mean 1 and coefficient of variation ``cv`` (1 when cv = 0)."""
        if cv <= 0:
            return 1.0
        sigma2 = math.log1p(cv * cv)
        return float(rng.lognormal(-sigma2 / 2.0, math.sqrt(sigma2)))

    # ---------------------------------------------------------------- passengers

    def _materialise(self, stop_id: str, now_s: float) -> list[int]:
        """Move passengers who have arrived by ``now_s`` into the stop's queue; drop the impatient."""
        queue = self._waiting[stop_id]
        pending = self._pending.get(stop_id)
        if pending is not None:
            cursor = self._cursor.get(stop_id, 0)
            end = cursor
            arrive = self.demand.arrive_s
            while end < len(pending) and arrive[pending[end]] <= now_s:
                end += 1
            if end > cursor:
                queue.extend(int(p) for p in pending[cursor:end])
                self._cursor[stop_id] = end
        patience = self.ops.patience_s
        if patience is not None and queue:
            arrive = self.demand.arrive_s
            kept = []
            for p in queue:
                if arrive[p] + patience < now_s:
                    self.abandon_s[p] = arrive[p] + patience
                else:
                    kept.append(p)
            queue[:] = kept
        return queue

    def waiting_pax(self, stop_id: str, now_s: float) -> int:
        """Passengers at ``stop_id`` at ``now_s`` (arrived, not boarded, not gone)."""
        return len(self._materialise(stop_id, now_s))

    # ---------------------------------------------------------------- processes

    def start(self) -> None:
        """Create the terminal pools, dispatchers and extra-run monitors."""
        import simpy

        for line_id, service in self.services.items():
            line = self.network.line(line_id)
            for d in line.directions:
                self._pools[(line_id, d)] = simpy.Store(self.env)
                self._chain_tail[(line_id, d)] = None
            # Start of service: the depot sends buses to both terminals (the first gets the odd
            # one), unless the plan starts them all at the first terminal.
            both = service.start_at == "both_terminals" and len(line.directions) == 2
            for b in range(service.fleet_veh):
                direction = line.directions[b % 2] if both else 0
                self._pools[(line_id, direction)].put(f"{line_id}-bus{b + 1:02d}")
            for d in line.directions:
                self.env.process(self._dispatcher(line, d))
            if service.extra_buses_veh:
                self._reserve[line_id] = simpy.Store(self.env)
                for b in range(service.extra_buses_veh):
                    self._reserve[line_id].put(f"{line_id}-extra{b + 1:02d}")
                self.env.process(self._extra_runs(line))

    def _first_departure_s(self, line: BusLine, direction: int) -> float:
        service = self.services[line.line_id]
        if direction == 0 or service.start_at == "both_terminals":
            return service.first_departure_s
        # All buses start at terminal 0: direction 1 leaves when the first can be back.
        run_0_s = self.planned_offsets_s[(line.line_id, 0)][-1]
        return service.first_departure_s + run_0_s + service.min_layover_s

    def _dispatcher(self, line: BusLine, direction: int) -> Generator[Any, Any, None]:
        """Release trips from the terminal of ``direction`` by timetable or by headway."""
        service = self.services[line.line_id]
        pool = self._pools[(line.line_id, direction)]
        first_s = self._first_departure_s(line, direction)
        last_s = service.last_departure_s if service.last_departure_s is not None else self.engine.duration_s
        last_dispatch_s = -math.inf
        k = 0
        while True:
            scheduled_s = first_s + k * service.headway_s
            if scheduled_s > last_s:
                return
            target_s = scheduled_s if service.dispatch == "timetable" else max(
                first_s, last_dispatch_s + service.headway_s
            )
            if target_s > self.env.now:
                yield self.env.timeout(target_s - self.env.now)
            bus_id = yield pool.get()
            last_dispatch_s = self.env.now
            trip_id = f"{line.line_id}-{direction}-{k}"
            self.env.process(self._trip(line, direction, bus_id, scheduled_s, trip_id))
            k += 1

    def _extra_runs(self, line: BusLine) -> Generator[Any, Any, None]:
        """Send a reserve bus along direction 0 when too many passengers wait for it."""
        service = self.services[line.line_id]
        pattern = line.pattern(0)
        reserve = self._reserve[line.line_id]
        n_extra = 0
        last_s = service.last_departure_s if service.last_departure_s is not None else self.engine.duration_s
        while self.env.now <= last_s:
            yield self.env.timeout(service.extra_check_interval_s)
            now = self.env.now
            waiting = 0
            for k, stop_id in enumerate(pattern.stop_ids[:-1]):
                reachable = pattern.later[k]
                queue = self._materialise(stop_id, now)
                waiting += sum(1 for p in queue if self.demand.destination[p] in reachable)
            if waiting >= service.extra_trigger_pax and reserve.items:
                bus_id = yield reserve.get()
                trip_id = f"{line.line_id}-0-x{n_extra}"
                n_extra += 1
                self.env.process(self._trip(line, 0, bus_id, self.env.now, trip_id, extra=True))

    def _trip(
        self, line: BusLine, direction: int, bus_id: str, scheduled_s: float, trip_id: str,
        extra: bool = False,
    ) -> Generator[Any, Any, None]:
        """Run one trip of ``line`` in ``direction`` with bus ``bus_id``, then lay over."""
        env = self.env
        service = self.services[line.line_id]
        vehicle = self.vehicles[line.line_id]
        pattern = line.pattern(direction)
        key = (line.line_id, direction)
        leader = self._chain_tail[key]
        trip = Trip(
            trip_id=trip_id, line_id=line.line_id, direction=direction, bus_id=bus_id,
            scheduled_s=scheduled_s, dispatch_s=env.now, extra=extra, n_stops=pattern.n_stops,
            leader=leader,
        )
        trip.arrived = [env.event() for _ in range(pattern.n_stops)]
        trip.departed = [env.event() for _ in range(pattern.n_stops)]
        self._chain_tail[key] = trip
        trip_index = len(self.trips)
        self.trips.append(trip)
        onboard: dict[str, list[int]] = {}
        n_onboard = 0
        priority = line.line_id in self.priority_lines
        ordered = not self.ops.allow_overtaking
        spacing_s = self.ops.min_spacing_s
        previous: Edge | None = None  # the edge the bus arrived on
        for k, stop_id in enumerate(pattern.stop_ids):
            if k > 0:
                leg = pattern.legs[k - 1]
                yield from self._drive(trip, leg, vehicle, priority, previous)
                trip.length_m += pattern.leg_length_m[k - 1]
                previous = leg[-1] if leg else previous
                if ordered and leader is not None:
                    # Queue behind the previous bus of the line: arrive after it.
                    yield leader.arrived[k]
                    gap_s = leader.arrive_s[k] + spacing_s - env.now
                    if gap_s > 0:
                        yield env.timeout(gap_s)
            arrive_s = env.now
            trip.arrive_s.append(arrive_s)
            trip.arrived[k].succeed()
            # Alight, then board first come first served among those this trip can carry.
            alighting = onboard.pop(stop_id, [])
            for p in alighting:
                self.alight_s[p] = arrive_s
            n_onboard -= len(alighting)
            boarding: list[int] = []
            left = 0
            reachable = pattern.later[k]
            if reachable:
                queue = self._materialise(stop_id, arrive_s)
                room = vehicle.capacity_pax - n_onboard
                destination = self.demand.destination
                kept = []
                for p in queue:
                    if destination[p] not in reachable:
                        kept.append(p)
                    elif room > 0:
                        boarding.append(p)
                        room -= 1
                    else:
                        kept.append(p)
                        left += 1
                        self.was_left_behind[p] = True
                queue[:] = kept
                for p in boarding:
                    self.board_s[p] = arrive_s
                    self.trip_of[p] = trip_index
                    onboard.setdefault(str(destination[p]), []).append(p)
                n_onboard += len(boarding)
            trip.boardings.append(len(boarding))
            trip.alightings.append(len(alighting))
            trip.load.append(n_onboard)
            trip.left_behind.append(left)
            dwell_s = 0.0
            if boarding or alighting or not self.ops.skip_empty_stops:
                dwell_s = (
                    vehicle.door_time_s
                    + len(boarding) * vehicle.boarding_time_s_per_pax
                    + len(alighting) * vehicle.alighting_time_s_per_pax
                ) * self._lognormal_factor(self._rng_dwell, self.ops.dwell_cv)
            if dwell_s > 0:
                yield env.timeout(dwell_s)
            held_s = 0.0
            if 0 < k < pattern.n_stops - 1 and k % service.holding_every_n_stops == 0:
                hold_until = self._hold_until(service, trip, leader, k, line.line_id)
                if hold_until > env.now:
                    held_s = hold_until - env.now
                    yield env.timeout(held_s)
            if ordered and leader is not None:
                yield leader.departed[k]
                gap_s = leader.depart_s[k] + spacing_s - env.now
                if gap_s > 0:
                    yield env.timeout(gap_s)
            trip.depart_s.append(env.now)
            trip.departed[k].succeed()
            trip.held_s.append(held_s)
        trip.end_s = env.now
        yield from self._lay_over(line, direction, bus_id, trip, extra)

    def _hold_until(
        self, service: ServiceConfig, trip: Trip, leader: Trip | None, k: int, line_id: str
    ) -> float:
        """When holding control lets a bus leave control stop ``k`` (s)."""
        now = self.env.now
        if service.holding == "headway":
            if leader is None or len(leader.depart_s) <= k:
                return now
            target = leader.depart_s[k] + service.holding_threshold_ratio * service.headway_s
        elif service.holding == "schedule":
            target = trip.scheduled_s + self.planned_offsets_s[(line_id, trip.direction)][k]
        else:
            return now
        return min(target, now + service.max_holding_s)

    def _drive(
        self, trip: Trip, leg: list[Edge], vehicle: VehicleType, priority: bool, previous: Edge | None
    ) -> Generator[Any, Any, None]:
        """Run one leg: link times (with noise), and the signals at its junctions when modelled.

        ``previous`` is the edge the bus came in on; a signalised junction at the leg's first
        node (where the bus has just served a stop) is crossed first.
        """
        env = self.env
        factor = self._lognormal_factor(self._rng_link, self.ops.link_time_cv)
        signals = self.signals
        if signals is None:
            yield env.timeout(self.leg_time_s(leg, env.now, vehicle) * factor)
            return
        if previous is not None and leg and signals.is_signalised(leg[0][0]):
            yield from self._cross(trip, leg[0][0], previous, leg[0], priority, requested=False)
        for i, edge in enumerate(leg):
            time_s = self.leg_time_s([edge], env.now, vehicle) * factor
            node = edge[1]
            out_edge = leg[i + 1] if i + 1 < len(leg) else None
            if out_edge is None or not signals.is_signalised(node):
                yield env.timeout(time_s)
                continue
            requested = priority and signals.is_connected(node)
            if requested:
                # The on-board unit calls the junction when it is detection_s from the stop line.
                lead_s = min(signals.detection_s, time_s)
                yield env.timeout(time_s - lead_s)
                signals.request_priority(node, edge, out_edge, env.now + lead_s)
                trip.priority_requests += 1
                yield env.timeout(lead_s)
            else:
                yield env.timeout(time_s)
            yield from self._cross(trip, node, edge, out_edge, priority, requested)

    def _cross(
        self, trip: Trip, node: int, in_edge: Edge, out_edge: Edge, priority: bool, requested: bool
    ) -> Generator[Any, Any, None]:
        """Wait at the stop line of ``node`` until the bus's movement is green, then cross."""
        env = self.env
        signals = self.signals
        if priority and not requested and signals.is_connected(node):
            signals.request_priority(node, in_edge, out_edge, env.now)
            trip.priority_requests += 1
            requested = True
        arrived = env.now
        while not signals.is_green(node, in_edge, out_edge):
            yield env.timeout(signals.poll_s)
        trip.signal_delay_s += env.now - arrived
        trip.junctions_crossed += 1
        if requested:
            signals.clear_priority(node)

    def _lay_over(
        self, line: BusLine, direction: int, bus_id: str, trip: Trip, extra: bool
    ) -> Generator[Any, Any, None]:
        """Lay over at the far terminal and join its pool (or return an extra bus to the depot)."""
        env = self.env
        service = self.services[line.line_id]
        vehicle = self.vehicles[line.line_id]
        directions = line.directions
        pattern = line.pattern(direction)
        if extra:
            # Back to the depot at the first terminal without passengers.
            yield env.timeout(self._deadhead_s(pattern.stop_ids[-1], pattern.stop_ids[0], vehicle))
            yield self._reserve[line.line_id].put(bus_id)
            return
        next_direction = directions[(directions.index(direction) + 1) % len(directions)]
        if len(directions) == 1:
            trip.deadhead_s = self._deadhead_s(pattern.stop_ids[-1], pattern.stop_ids[0], vehicle)
            yield env.timeout(trip.deadhead_s)
        yield env.timeout(service.min_layover_s)
        if next_direction == 0:
            self.cycle_rows.append((line.line_id, bus_id, self._cycle_start(bus_id, line.line_id), env.now))
        yield self._pools[(line.line_id, next_direction)].put(bus_id)

    def _cycle_start(self, bus_id: str, line_id: str) -> float:
        """Dispatch time of ``bus_id``'s latest direction-0 trip."""
        for trip in reversed(self.trips):
            if trip.bus_id == bus_id and trip.direction == 0 and trip.line_id == line_id:
                return trip.dispatch_s
        return math.nan

    def _deadhead_s(self, from_stop: str, to_stop: str, vehicle: VehicleType) -> float:
        """Empty running time between two stops (0 for a loop that ends where it starts)."""
        from twin.city.travel_times import fastest_route

        a, b = self.network.stops[from_stop].node, self.network.stops[to_stop].node
        if a == b:
            return 0.0
        route = fastest_route(self.network.graph, self.times, a, b, self.env.now)
        return self.leg_time_s(route.edges, self.env.now, vehicle)

    # ---------------------------------------------------------------- running and results

    def run(self, until_s: float | None = None, description: str = "buses") -> BusRun:
        """Start the processes, run the engine to ``until_s`` (default its duration), collect."""
        self.start()
        self.engine.run(until_s, description=description)
        return self.collect()

    def collect(self) -> BusRun:
        """The run's tables (only what has happened by now)."""
        import pandas as pd

        now = self.env.now
        for stop_id in self.network.stops:
            self._materialise(stop_id, now)  # settle abandonment up to the end
        visits = []
        positions = {
            (line_id, d): self.network.line(line_id).pattern(d).position_m
            for line_id in self.services for d in self.network.line(line_id).directions
        }
        for index, trip in enumerate(self.trips):
            pattern = self.network.line(trip.line_id).pattern(trip.direction)
            offsets = self.planned_offsets_s[(trip.line_id, trip.direction)]
            pos = positions[(trip.line_id, trip.direction)]
            # A visit is recorded on arrival; a bus still at a stop at the end has no departure.
            for k in range(len(trip.arrive_s)):
                left = k < len(trip.depart_s)
                visits.append((
                    index, trip.trip_id, trip.line_id, trip.direction, trip.bus_id, k,
                    pattern.stop_ids[k], pos[k], trip.arrive_s[k],
                    trip.depart_s[k] if left else math.nan, trip.scheduled_s + offsets[k],
                    trip.boardings[k], trip.alightings[k], trip.load[k], trip.left_behind[k],
                    trip.held_s[k] if left else 0.0, trip.extra,
                ))
        stop_visits = pd.DataFrame(visits, columns=[
            "trip_index", "trip_id", "line_id", "direction", "bus_id", "seq", "stop_id",
            "position_m", "arrive_s", "depart_s", "scheduled_s", "boardings", "alightings",
            "load_pax", "left_behind_pax", "held_s", "extra",
        ])
        trips = pd.DataFrame([(
            i, t.trip_id, t.line_id, t.direction, t.bus_id, t.scheduled_s, t.dispatch_s, t.end_s,
            t.length_m, len(t.arrive_s), t.n_stops, t.signal_delay_s, t.junctions_crossed,
            t.priority_requests, t.deadhead_s, t.extra,
        ) for i, t in enumerate(self.trips)], columns=[
            "trip_index", "trip_id", "line_id", "direction", "bus_id", "scheduled_s", "dispatch_s",
            "end_s", "length_m", "stops_served", "n_stops", "signal_delay_s", "junctions_crossed",
            "priority_requests", "deadhead_s", "extra",
        ])
        d = self.demand
        arrived = d.arrive_s <= now
        trip_ids = np.array([t.trip_id for t in self.trips] + [""], dtype=object)
        passengers = pd.DataFrame({
            "origin": d.origin.astype(str), "destination": d.destination.astype(str),
            "arrive_s": d.arrive_s, "board_s": self.board_s, "alight_s": self.alight_s,
            "abandon_s": self.abandon_s, "trip_id": trip_ids[self.trip_of],
            "left_behind": self.was_left_behind, "arrived": arrived,
        })
        cycles = pd.DataFrame(self.cycle_rows, columns=["line_id", "bus_id", "dispatch_s", "ready_s"])
        return BusRun(
            network=self.network, services=self.services, vehicles=self.vehicles,
            operations=self.ops, duration_s=float(now), stop_visits=stop_visits, trips=trips,
            passengers=passengers, cycles=cycles, planned_offsets_s=self.planned_offsets_s,
        )


# --------------------------------------------------------------------------------------------
# Signals and transit priority through the traffic layer
# --------------------------------------------------------------------------------------------


class SignalsConfig(StrictModel):
    """Signalised junctions on the route, run by the traffic layer's model and controllers.

    With ``model = "traffic"`` the junctions the line crosses are simulated by
    :class:`twin.traffic.TrafficModel` with background traffic on every approach, on the same
    clock as the buses: buses wait for their movement's green, priority buses call the
    controller (green extension or early green), and the traffic model measures what that
    does to everyone else's delay.
    """

    model: Literal["none", "traffic"] = Field(
        default="none", description="none: link times only; traffic: simulate the route's signals."
    )
    main_veh_per_h_per_lane: float = Field(
        default=350.0, ge=0, le=1800, description="Background flow on approaches along the route."
    )
    cross_veh_per_h_per_lane: float = Field(
        default=250.0, ge=0, le=1800, description="Background flow on the cross-street approaches."
    )
    left_share: float = Field(default=0.08, ge=0, le=1, description="Share of an approach turning left.")
    right_share: float = Field(default=0.12, ge=0, le=1, description="Share turning right.")
    cycle_s: float = Field(default=90.0, ge=30, le=240, description="Fixed-time cycle (equal split).")
    tsp_max_extension_s: float = Field(
        default=15.0, ge=0, le=60, description="Longest green extension for a bus (s)."
    )
    detection_s: float = Field(
        default=12.0, ge=0, le=60, description="A bus calls the junction this long before its stop line."
    )
    connected_share: float = Field(
        default=1.0, ge=0, le=1, description="Share of the route's signalised junctions with V2X."
    )
    poll_s: float = Field(default=1.0, gt=0, le=10, description="Bus signal check period (s).")
    step_s: float = Field(default=1.0, gt=0, le=10, description="Traffic/bus synchronisation step (s).")


class TrafficSignals:
    """:class:`JunctionSignals` over a running :class:`twin.traffic.TrafficModel`.

    The bus reads the live state of its movement (green = permitted or protected) and sends
    priority requests through :meth:`twin.signals.SignalController.request_priority`, which the
    kernel honours as a green extension or an early green.
    """

    def __init__(self, model: Any, connected: set[int], poll_s: float, detection_s: float) -> None:
        self.model = model
        self.network = model.network
        self.poll_s = poll_s
        self.detection_s = detection_s
        self.connected = connected
        self._controller = {
            self.network.mov_node[movements[0]]: controller
            for controller, movements in self.network.controllers.items()
        }

    def is_signalised(self, node: int) -> bool:
        return node in self._controller

    def is_connected(self, node: int) -> bool:
        return node in self.connected

    def movement(self, in_edge: Edge, out_edge: Edge) -> int:
        net = self.network
        key = (net.link_index[in_edge], net.link_index[out_edge])
        if key not in net.mov_lookup:
            raise InputError(
                f"junction {in_edge[1]}: the traffic model has no movement {in_edge} -> {out_edge}"
            )
        return net.mov_lookup[key]

    def is_green(self, node: int, in_edge: Edge, out_edge: Edge) -> bool:
        from kernels.traffic import PERMITTED

        return int(self.model.state.mov_state[self.movement(in_edge, out_edge)]) >= PERMITTED

    def request_priority(self, node: int, in_edge: Edge, out_edge: Edge, eta_s: float) -> None:
        self.model.controller.request_priority(
            self._controller[node], self.movement(in_edge, out_edge), eta_s, state=self.model.state
        )

    def clear_priority(self, node: int) -> None:
        self.model.controller.clear_priority(self._controller[node])


@dataclass
class JunctionTraffic:
    """The signalised junctions a line crosses, with background traffic, ready to run per variant.

    Built by :func:`junction_traffic`; :meth:`start` attaches a fresh traffic model to an engine
    (identical background vehicles every time), :meth:`delays` reads its measured delays.
    """

    network: Any  # twin.traffic.TrafficNetwork
    trips: Any  # twin.traffic.Trips
    nodes: list[int]
    connected: set[int]
    main_links: set[int]
    config: SignalsConfig

    def timing(self):  # noqa: ANN201 - twin.signals.TimingParams
        from twin.traffic.signals import TimingParams

        return TimingParams(default_cycle_s=self.config.cycle_s,
                            tsp_max_extension_s=self.config.tsp_max_extension_s)

    def start(self, engine: Engine) -> tuple[Any, TrafficSignals]:
        """A new traffic model on ``engine`` (time 0 = engine time 0) and the buses' view of it."""
        from twin.traffic.model import TrafficModel, default_plans
        from twin.traffic.signals import SignalController

        timing = self.timing()
        controller = SignalController.build(self.network, default_plans(self.network, timing), timing)
        model = TrafficModel(self.network, controller, self.trips, begin_s=0.0)
        model.attach(engine, engine.duration_s)
        return model, TrafficSignals(model, self.connected, self.config.poll_s, self.config.detection_s)

    def delays(self, model: Any) -> dict[str, float]:
        """Background traffic's stop-line delay at the line's junctions, by approach kind."""
        table = model.movement_table()
        here = table[table["node"].isin({str(n) for n in self.nodes})]
        main = here["movement"].map(lambda m: int(self.network.mov_in[m]) in self.main_links)
        out = {}
        for label, rows in (("general", here), ("main_road", here[main]), ("cross_street", here[~main])):
            passed = float(rows["passed_veh"].sum())
            delay = float((rows["mean_delay_s"] * rows["passed_veh"]).sum())
            out[f"{label}_delay_s_per_veh"] = delay / passed if passed else math.nan
            out[f"{label}_veh"] = passed
        out["priority_requests_count"] = float(len(model.controller.requests))
        return out


def junction_traffic(
    graph: Any,
    routes: list[list[Edge]],
    config: SignalsConfig,
    duration_s: float,
    rng: np.random.Generator,
) -> JunctionTraffic | None:
    """The traffic model of the signalised junctions the ``routes`` cross, with background trips.

    ``routes`` are the edge sequences the buses drive (one per line pattern). The model covers
    their nodes and every leg of the signalised junctions they pass through. Each approach of
    those junctions gets Poisson background vehicles at ``main_veh_per_h_per_lane`` (roads the
    buses run on) or ``cross_veh_per_h_per_lane`` (cross streets) per lane, split into left,
    right and through movements; each vehicle runs its approach link and the link it turns
    into. Returns ``None`` when no route crosses a signalised junction.
    """
    from twin.traffic.model import TrafficParams, Trips, network_from_graph

    route_nodes: list[int] = []
    interior: set[int] = set()  # nodes a bus drives through (enters and leaves on the route)
    for edges in routes:
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            if a[1] == b[0]:
                interior.add(a[1])
        route_nodes += [e[0] for e in edges[:1]] + [e[1] for e in edges]
    nodes = sorted((n for n in interior if graph.nodes[n].get("highway") == "traffic_signals"), key=str)
    if not nodes:
        return None
    keep = set(route_nodes)
    for n in nodes:
        keep |= set(graph.predecessors(n)) | set(graph.successors(n))
    sub = graph.subgraph(keep).copy()
    params = TrafficParams(sync_interval_s=config.step_s, step_s=min(1.0, config.step_s))
    network = network_from_graph(sub, params, signalised=nodes)
    on_route = {(u, v) for edges in routes for u, v, _ in edges}
    main_links = {
        i for i, (u, v, _) in enumerate(network.link_keys) if (u, v) in on_route or (v, u) in on_route
    }
    order = {n: k for k, n in enumerate(dict.fromkeys(route_nodes))}
    by_position = sorted(nodes, key=order.get)
    n_connected = int(round(config.connected_share * len(nodes)))
    connected = set(by_position[:n_connected])
    ids, departs, routes = [], [], []
    through_share = max(0.0, 1.0 - config.left_share - config.right_share)
    shares = {"L": config.left_share, "R": config.right_share, "T": through_share}
    for node in nodes:
        controller = network.controllers[str(node)]
        by_approach: dict[int, list[int]] = {}
        for m in controller:
            by_approach.setdefault(int(network.mov_in[m]), []).append(m)
        for link, movements in sorted(by_approach.items()):
            main = link in main_links
            per_lane = config.main_veh_per_h_per_lane if main else config.cross_veh_per_h_per_lane
            flow_veh_per_h = per_lane * int(network.link_lanes[link])
            weights = np.array([shares.get(network.mov_turn[m], 0.0) for m in movements])
            if weights.sum() <= 0:
                continue
            weights = weights / weights.sum()
            for m, w in zip(movements, weights, strict=True):
                count = rng.poisson(flow_veh_per_h * w * duration_s / 3600.0)
                for t in np.sort(rng.uniform(0.0, duration_s, size=count)):
                    ids.append(f"bg{len(ids)}")
                    departs.append(float(t))
                    routes.append(np.array([link, int(network.mov_out[m])], dtype=np.int64))
    trips = Trips(ids, np.array(departs, dtype=float), routes)
    return JunctionTraffic(network, trips, nodes, connected, main_links, config)


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
    from twin.city.travel_times import FreeFlowTravelTimes, fastest_route

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


# --------------------------------------------------------------------------------------------
# KPIs: plain functions over a finished run
# --------------------------------------------------------------------------------------------


def passenger_counts(run: BusRun) -> dict[str, int]:
    """Conservation ledger: arrived = boarded + waiting + abandoned; left-behind counted once."""
    pax = run.passengers[run.passengers["arrived"]]
    boarded = int(pax["board_s"].notna().sum())
    abandoned = int(pax["abandon_s"].notna().sum())
    return {
        "arrived_pax": len(pax),
        "boarded_pax": boarded,
        "abandoned_pax": abandoned,
        "waiting_pax": len(pax) - boarded - abandoned,
        "left_behind_pax": int(pax["left_behind"].sum()),
    }


def headway_cv(run: BusRun, line_id: str, direction: int = 0, skip_first_trips: int = 0) -> float:
    """Mean over stops (all but the last) of the CV of departure headways: bunching (0 = even)."""
    visits = run.stop_visits
    v = visits[(visits["line_id"] == line_id) & (visits["direction"] == direction)]
    pattern = run.network.line(line_id).pattern(direction)
    cvs = []
    weights = []
    for seq, group in v.groupby("seq"):
        if seq >= pattern.n_stops - 1:
            continue
        times = np.sort(group["depart_s"].dropna().to_numpy())[skip_first_trips:]
        if len(times) < 3:
            continue
        gaps = np.diff(times)
        if gaps.mean() <= 0:
            continue
        cvs.append(gaps.std() / gaps.mean())
        weights.append(len(gaps))
    return float(np.average(cvs, weights=weights)) if cvs else math.nan


def achieved_headway_s(run: BusRun, line_id: str, direction: int = 0) -> float:
    """Mean interval between dispatches from the terminal of ``direction`` (s)."""
    trips = run.trips
    t = np.sort(trips[(trips["line_id"] == line_id) & (trips["direction"] == direction)
                      & ~trips["extra"]]["dispatch_s"].to_numpy())
    return float(np.diff(t).mean()) if len(t) > 1 else math.nan


def running_cycle_s(run: BusRun, line_id: str) -> float:
    """The line's running cycle as simulated (s): for each direction, the mean time from
    dispatch to leaving the last stop of its completed scheduled trips (plus the empty run back
    of a one-direction line), plus the terminal layover; idle time waiting for a timetable slot
    is not part of it. ``ceil(cycle / headway)`` buses hold the headway."""
    trips = run.trips
    mine = trips[(trips["line_id"] == line_id) & ~trips["extra"] & trips["end_s"].notna()]
    layover_s = run.services[line_id].min_layover_s
    cycle = 0.0
    for direction in run.network.line(line_id).directions:
        done = mine[mine["direction"] == direction]
        if done.empty:
            return math.nan
        cycle += float((done["end_s"] - done["dispatch_s"] + done["deadhead_s"]).mean()) + layover_s
    return cycle


def mean_offsets_s(run: BusRun, line_id: str, direction: int) -> list[float] | None:
    """Mean departure offset from the dispatch at each stop over completed scheduled trips, made
    non-decreasing (s); ``None`` if no trip completed. A timetable built from observed running
    times, as operators build theirs from AVL data."""
    trips = run.trips
    done = trips[(trips["line_id"] == line_id) & (trips["direction"] == direction) & ~trips["extra"]
                 & trips["end_s"].notna()]
    if done.empty:
        return None
    visits = run.stop_visits[run.stop_visits["trip_index"].isin(done["trip_index"])]
    dispatch = done.set_index("trip_index")["dispatch_s"]
    offsets = (visits["depart_s"] - visits["trip_index"].map(dispatch)).groupby(visits["seq"]).mean()
    return np.maximum.accumulate(offsets.sort_index().to_numpy()).tolist()


def line_kpis(run: BusRun, line_id: str, costs: CostModel | None = None) -> dict[str, float]:
    """KPIs of one line: waits, riding, loads, bunching, punctuality, fleet, vehicle-km and cost.

    Waits and in-vehicle times are over passengers who boarded (those still waiting at the end
    have censored waits, counted in ``waiting_pax`` instead). Cycle time is the running cycle:
    dispatch from terminal 0 to ready there again (trips plus minimum layovers), so fleet needed
    is ``ceil(cycle / headway)``; compare with ``fleet_veh``.
    """
    costs = costs or CostModel()
    service = run.services[line_id]
    vehicle = run.vehicles[line_id]
    line = run.network.line(line_id)
    visits = run.stop_visits[run.stop_visits["line_id"] == line_id]
    trips = run.trips[run.trips["line_id"] == line_id]
    trip_ids = set(trips["trip_id"])
    pax_all = run.passengers[run.passengers["arrived"]]
    on_line = pax_all[pax_all["trip_id"].isin(trip_ids)]
    waits = (on_line["board_s"] - on_line["arrive_s"]).to_numpy()
    done = on_line[on_line["alight_s"].notna()]
    ride = (done["alight_s"] - done["board_s"]).to_numpy()
    # Load factor: passenger-km over place-km, over legs actually run.
    loads = visits.sort_values(["trip_index", "seq"])
    pax_km = 0.0
    place_km = 0.0
    peak_load = 0.0
    for direction in line.directions:
        lengths_km = np.array(line.pattern(direction).leg_length_m) / 1000.0
        v = loads[(loads["direction"] == direction) & (loads["seq"] < len(lengths_km))]
        if v.empty:
            continue
        by_seq = v.groupby("seq")["load_pax"].mean()
        peak_load = max(peak_load, float(by_seq.max()) / vehicle.capacity_pax)
        legs_km = lengths_km[v["seq"].to_numpy()]
        pax_km += float((v["load_pax"].to_numpy() * legs_km).sum())
        place_km += float(legs_km.sum()) * vehicle.capacity_pax
    # Punctuality at every stop departure of scheduled trips.
    scheduled = visits[~visits["extra"] & visits["depart_s"].notna()]
    lateness = (scheduled["depart_s"] - scheduled["scheduled_s"]).to_numpy()
    ops = run.operations
    on_time = (lateness >= -ops.on_time_early_s) & (lateness <= ops.on_time_late_s)
    # Fleet: the running cycle and what it implies.
    cycle_s = running_cycle_s(run, line_id)
    needed = fleet_needed_veh(cycle_s, service.headway_s) if math.isfinite(cycle_s) else math.nan
    ends = trips["end_s"].fillna(run.duration_s)
    vehicle_h = float((ends - trips["dispatch_s"]).sum()) / 3600.0
    vehicle_km = float(trips["length_m"].sum()) / 1000.0
    fleet_used = int(trips[~trips["extra"]]["bus_id"].nunique())
    lateness_dispatch = trips[~trips["extra"]]["dispatch_s"] - trips[~trips["extra"]]["scheduled_s"]
    counts = passenger_counts(run)
    result = {
        "boarded_pax": len(on_line),
        "mean_wait_s": float(waits.mean()) if len(waits) else math.nan,
        "p95_wait_s": float(np.percentile(waits, 95)) if len(waits) else math.nan,
        "mean_in_vehicle_time_s": float(ride.mean()) if len(ride) else math.nan,
        "mean_load_factor_ratio": pax_km / place_km if place_km else math.nan,
        "peak_load_factor_ratio": peak_load,
        "left_behind_pax": int(on_line["left_behind"].sum()),
        "headway_cv_ratio": headway_cv(run, line_id, 0),
        "on_time_pct": 100.0 * float(on_time.mean()) if len(on_time) else math.nan,
        "mean_dispatch_delay_s": float(lateness_dispatch.mean()) if len(lateness_dispatch) else math.nan,
        "achieved_headway_s": achieved_headway_s(run, line_id, 0),
        "cycle_time_s": cycle_s,
        "fleet_veh": service.fleet_veh,
        "fleet_used_veh": fleet_used,
        "fleet_needed_veh": needed,
        "trips_count": int((~trips["extra"]).sum()),
        "extra_trips_count": int(trips["extra"].sum()),
        "vehicle_km": vehicle_km,
        "vehicle_hours_h": vehicle_h,
        "mean_signal_delay_s": float(trips["signal_delay_s"].mean()) if len(trips) else 0.0,
    }
    if len(run.services) == 1:
        result["abandoned_pax"] = counts["abandoned_pax"]
        result["waiting_at_end_pax"] = counts["waiting_pax"]
    # Cost per day: the run's vehicle-km per hour, over a service day, with the assigned fleet.
    km_per_h = vehicle_km / (run.duration_s / 3600.0) if run.duration_s > 0 else 0.0
    fleet_costed = service.fleet_veh + service.extra_buses_veh
    as_run = daily_operating_cost_cny(vehicle, costs, fleet_costed, km_per_h)
    crewed = daily_operating_cost_cny(vehicle, costs, fleet_costed, km_per_h, autonomous=False)
    driverless = daily_operating_cost_cny(vehicle, costs, fleet_costed, km_per_h, autonomous=True)
    result["cost_cny_per_day"] = as_run["total_cny_per_day"]
    result["crewed_cost_cny_per_day"] = crewed["total_cny_per_day"]
    result["autonomous_cost_cny_per_day"] = driverless["total_cny_per_day"]
    return result

