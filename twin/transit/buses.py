"""Buses, terminal dispatchers and passengers as SimPy processes on the engine's clock.

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
  headway behind the previous bus reaches a threshold (or until its scheduled time). At the far
  terminal it lays over and joins the pool for the way back.
* **No overtaking** (the default): a bus reaches a stop no earlier, and leaves it no earlier, than
  the bus of the same line and direction dispatched before it (plus ``min_spacing_s``), as on a
  single-lane street with one berth queue. ``allow_overtaking = true`` lifts both rules.
* **Passengers** arrive at stops as Poisson flows (:mod:`twin.transit.demand`) and wait in the
  stops' queues (:mod:`twin.transit.passengers`). With ``patience_s`` set, a passenger who has
  waited that long leaves.
* **Demand-responsive extra runs** (optional): a reserve bus is sent along direction 0 when the
  number of passengers waiting for it exceeds a trigger, then returns empty to the depot.

Signal delay at junctions comes from an optional
:class:`~twin.transit.priority.JunctionSignals` object; with none, the link times of the
travel-time hook are used as they are (the traffic layer's time-of-day times already include the
signal delay it measured). What a run produced is a :class:`~twin.transit.records.BusRun`; its
KPIs are :mod:`twin.transit.metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from twin.city.travel_times import FreeFlowTravelTimes, fastest_route
from twin.errors import InputError
from twin.transit.demand import PassengerDemand, check_demand_served
from twin.transit.lines import BusLine, Edge, Pattern, TransitNetwork
from twin.transit.passengers import OnBoard, StopQueues
from twin.transit.records import BusRun, Trip, cycles_table, stop_visits_table, trips_table
from twin.transit.service import OperationsConfig, ServiceConfig
from twin.transit.timetable import leg_time_s, planned_offsets_s
from twin.transit.vehicles import VehicleType

if TYPE_CHECKING:
    from twin.city.travel_times import TravelTimes
    from twin.engine import Engine
    from twin.transit.priority import JunctionSignals

Process = Generator[Any, Any, None]
"""A SimPy process body."""


def lognormal_factor(rng: np.random.Generator, cv: float) -> float:
    """A lognormal factor with mean 1 and coefficient of variation ``cv`` (1, no draw, when cv = 0)."""
    if cv <= 0:
        return 1.0
    sigma2 = math.log1p(cv * cv)
    return float(rng.lognormal(-sigma2 / 2.0, math.sqrt(sigma2)))


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
        plus ``planned_dwell_s`` per stop (:func:`twin.transit.timetable.planned_offsets_s`).
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
        check_demand_served(demand, network.subset(services))
        self.passengers = StopQueues(demand, network.stops, self.ops.patience_s)
        self.trips: list[Trip] = []
        self._chain_tail: dict[tuple[str, int], Trip | None] = {}
        self._pools: dict[tuple[str, int], simpy.Store] = {}
        self._reserve: dict[str, simpy.Store] = {}
        self.cycle_rows: list[tuple[str, str, float, float]] = []
        self.planned_offsets_s = self._timetable(timetable_offsets_s or {})

    # ---------------------------------------------------------------- set-up

    def _timetable(self, given: dict[tuple[str, int], list[float]]) -> dict[tuple[str, int], list[float]]:
        """Departure offsets of each (line, direction): ``given`` where set, else planned."""
        offsets_s = {
            (line_id, d): self._planned_offsets(self.network.line(line_id).pattern(d), line_id)
            for line_id in self.services
            for d in self.network.line(line_id).directions
        }
        for key, offsets in given.items():
            if key in offsets_s:
                if len(offsets) != len(offsets_s[key]):
                    raise ValueError(f"timetable for {key}: {len(offsets)} offsets for "
                                     f"{len(offsets_s[key])} stops")
                offsets_s[key] = [float(o) for o in offsets]
        return offsets_s

    def _planned_offsets(self, pattern: Pattern, line_id: str) -> list[float]:
        """Timetable offsets of the departure from each stop after the dispatch (s)."""
        service = self.services[line_id]
        return planned_offsets_s(
            self.network.graph, self.times, pattern, service.first_departure_s,
            service.planned_dwell_s, self.vehicles[line_id].speed_cap_m_per_s,
        )

    def leg_time_s(self, leg: list[Edge], enter_s: float, vehicle: VehicleType) -> float:
        """Noise-free running time of a leg entered at ``enter_s``, within the speed cap (s)."""
        return leg_time_s(self.network.graph, self.times, leg, enter_s, vehicle.speed_cap_m_per_s)

    def waiting_pax(self, stop_id: str, now_s: float) -> int:
        """Passengers at ``stop_id`` at ``now_s`` (arrived, not boarded, not gone)."""
        return len(self.passengers.waiting(stop_id, now_s))

    def start(self) -> None:
        """Put the fleet at its terminals and start the dispatchers and extra-run monitors."""
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

    # ---------------------------------------------------------------- dispatchers

    def _first_departure_s(self, line: BusLine, direction: int) -> float:
        service = self.services[line.line_id]
        if direction == 0 or service.start_at == "both_terminals":
            return service.first_departure_s
        # All buses start at terminal 0: direction 1 leaves when the first can be back.
        run_0_s = self.planned_offsets_s[(line.line_id, 0)][-1]
        return service.first_departure_s + run_0_s + service.min_layover_s

    def _dispatcher(self, line: BusLine, direction: int) -> Process:
        """Release trips from the terminal of ``direction`` by timetable or by headway."""
        service = self.services[line.line_id]
        pool = self._pools[(line.line_id, direction)]
        first_s = self._first_departure_s(line, direction)
        last_s = service.last_dispatch_s(self.engine.duration_s)
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

    def _extra_runs(self, line: BusLine) -> Process:
        """Send a reserve bus along direction 0 when too many passengers wait for it."""
        service = self.services[line.line_id]
        pattern = line.pattern(0)
        reserve = self._reserve[line.line_id]
        n_extra = 0
        last_s = service.last_dispatch_s(self.engine.duration_s)
        while self.env.now <= last_s:
            yield self.env.timeout(service.extra_check_interval_s)
            now = self.env.now
            waiting = 0
            for k, stop_id in enumerate(pattern.stop_ids[:-1]):
                waiting += self.passengers.waiting_for(stop_id, now, pattern.later[k])
            if waiting >= service.extra_trigger_pax and reserve.items:
                bus_id = yield reserve.get()
                trip_id = f"{line.line_id}-0-x{n_extra}"
                n_extra += 1
                self.env.process(self._trip(line, 0, bus_id, self.env.now, trip_id, extra=True))

    # ---------------------------------------------------------------- a trip, stop by stop

    def _trip(
        self, line: BusLine, direction: int, bus_id: str, scheduled_s: float, trip_id: str,
        extra: bool = False,
    ) -> Process:
        """Run one trip of ``line`` in ``direction`` with bus ``bus_id``, then lay over."""
        vehicle = self.vehicles[line.line_id]
        pattern = line.pattern(direction)
        trip = self._new_trip(line, direction, bus_id, scheduled_s, trip_id, extra)
        onboard = OnBoard(self.demand.destination)
        priority = line.line_id in self.priority_lines
        previous: Edge | None = None  # the edge the bus arrived on
        for k in range(pattern.n_stops):
            if k > 0:
                leg = pattern.legs[k - 1]
                yield from self._drive(trip, leg, vehicle, priority, previous)
                trip.length_m += pattern.leg_length_m[k - 1]
                previous = leg[-1] if leg else previous
                yield from self._keep_behind_leader(trip.leader, k, leaving=False)
            self._arrive(trip, k)
            boarded, alighted = self._alight_and_board(trip, pattern, k, vehicle, onboard)
            yield from self._dwell(vehicle, boarded, alighted)
            held_s = yield from self._hold(line, trip, k)
            yield from self._keep_behind_leader(trip.leader, k, leaving=True)
            self._depart(trip, k, held_s)
        trip.end_s = self.env.now
        yield from self._lay_over(line, direction, bus_id, trip, extra)

    def _new_trip(
        self, line: BusLine, direction: int, bus_id: str, scheduled_s: float, trip_id: str, extra: bool
    ) -> Trip:
        """Record a trip dispatched now, behind the previous trip of its line and direction."""
        env = self.env
        n_stops = line.pattern(direction).n_stops
        key = (line.line_id, direction)
        trip = Trip(
            index=len(self.trips), trip_id=trip_id, line_id=line.line_id, direction=direction, bus_id=bus_id,
            scheduled_s=scheduled_s, dispatch_s=env.now, extra=extra, n_stops=n_stops,
            leader=self._chain_tail[key],
        )
        trip.arrived = [env.event() for _ in range(n_stops)]
        trip.departed = [env.event() for _ in range(n_stops)]
        self._chain_tail[key] = trip
        self.trips.append(trip)
        return trip

    def _keep_behind_leader(self, leader: Trip | None, k: int, leaving: bool) -> Process:
        """No overtaking: reach (or leave) stop ``k`` no earlier than the bus ahead, plus spacing."""
        if self.ops.allow_overtaking or leader is None:
            return
        yield leader.departed[k] if leaving else leader.arrived[k]
        leader_s = leader.depart_s[k] if leaving else leader.arrive_s[k]
        gap_s = leader_s + self.ops.min_spacing_s - self.env.now
        if gap_s > 0:
            yield self.env.timeout(gap_s)

    def _arrive(self, trip: Trip, k: int) -> None:
        trip.arrive_s.append(self.env.now)
        trip.arrived[k].succeed()

    def _alight_and_board(
        self, trip: Trip, pattern: Pattern, k: int, vehicle: VehicleType, onboard: OnBoard
    ) -> tuple[int, int]:
        """Let off the passengers for stop ``k``, take on those this trip can carry; the counts."""
        now_s = self.env.now
        stop_id = pattern.stop_ids[k]
        alighting = onboard.alight_at(stop_id)
        self.passengers.alight(alighting, now_s)
        boarding: list[int] = []
        left = 0
        if pattern.later[k]:  # nobody boards at the last stop
            room_pax = vehicle.capacity_pax - onboard.count_pax
            boarding, left = self.passengers.board(stop_id, now_s, pattern.later[k], room_pax, trip.index)
            onboard.take_on(boarding)
        trip.boardings.append(len(boarding))
        trip.alightings.append(len(alighting))
        trip.load.append(onboard.count_pax)
        trip.left_behind.append(left)
        return len(boarding), len(alighting)

    def _dwell(self, vehicle: VehicleType, boarded: int, alighted: int) -> Process:
        """Doors, boardings and alightings, times the dwell noise; an empty stop may be passed."""
        dwell_s = 0.0
        if boarded or alighted or not self.ops.skip_empty_stops:
            dwell_s = (
                vehicle.door_time_s
                + boarded * vehicle.boarding_time_s_per_pax
                + alighted * vehicle.alighting_time_s_per_pax
            ) * lognormal_factor(self._rng_dwell, self.ops.dwell_cv)
        if dwell_s > 0:
            yield self.env.timeout(dwell_s)

    def _hold(self, line: BusLine, trip: Trip, k: int) -> Generator[Any, Any, float]:
        """At a control stop, wait as holding control says; the time held (s)."""
        service = self.services[line.line_id]
        n_stops = line.pattern(trip.direction).n_stops
        if not (0 < k < n_stops - 1 and k % service.holding_every_n_stops == 0):
            return 0.0
        hold_until = self._hold_until(service, trip, k)
        if hold_until <= self.env.now:
            return 0.0
        held_s = hold_until - self.env.now
        yield self.env.timeout(held_s)
        return held_s

    def _hold_until(self, service: ServiceConfig, trip: Trip, k: int) -> float:
        """When holding control lets a bus leave control stop ``k`` (s)."""
        now = self.env.now
        leader = trip.leader
        if service.holding == "headway":
            if leader is None or len(leader.depart_s) <= k:
                return now
            target = leader.depart_s[k] + service.holding_threshold_ratio * service.headway_s
        elif service.holding == "schedule":
            target = trip.scheduled_s + self.planned_offsets_s[(trip.line_id, trip.direction)][k]
        else:
            return now
        return min(target, now + service.max_holding_s)

    def _depart(self, trip: Trip, k: int, held_s: float) -> None:
        trip.depart_s.append(self.env.now)
        trip.departed[k].succeed()
        trip.held_s.append(held_s)

    # ---------------------------------------------------------------- between stops

    def _drive(
        self, trip: Trip, leg: list[Edge], vehicle: VehicleType, priority: bool, previous: Edge | None
    ) -> Process:
        """Run one leg: link times (with noise), and the signals at its junctions when modelled.

        ``previous`` is the edge the bus came in on; a signalised junction at the leg's first
        node (where the bus has just served a stop) is crossed first.
        """
        env = self.env
        factor = lognormal_factor(self._rng_link, self.ops.link_time_cv)
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
    ) -> Process:
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

    # ---------------------------------------------------------------- at the far terminal

    def _lay_over(self, line: BusLine, direction: int, bus_id: str, trip: Trip, extra: bool) -> Process:
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
        now = self.env.now
        self.passengers.settle(now)  # abandonment up to the end
        return BusRun(
            network=self.network, services=self.services, vehicles=self.vehicles,
            operations=self.ops, duration_s=float(now),
            stop_visits=stop_visits_table(self.trips, self.network, self.planned_offsets_s),
            trips=trips_table(self.trips),
            passengers=self.passengers.table([t.trip_id for t in self.trips], now),
            cycles=cycles_table(self.cycle_rows), planned_offsets_s=self.planned_offsets_s,
        )
