"""The typhoon day: rain floods the city, and on one SimPy clock the roads, the water network and
the compute centre respond through their couplings.

One :class:`~twin.engine.Engine` runs from the scenario's start (time 0, midnight) to its end:

* **flood_roads** — every ``flood_update_s`` the road links take the speed and closure of the water
  on them (:mod:`twin.coupled.roads`); the traffic model runs over a window of the day
  (``traffic_begin_s`` for ``traffic_duration_s``: the hours around the storm's peak, because a
  whole day of the district's traffic costs minutes), with trips routed round the water;
* **flood_buses** — every bus line of the city runs over the traffic window on the flooded roads
  (:mod:`twin.coupled.buses`: slowed, held at the water's edge, driverless buses stopped earlier);
* **pump_outage** — pump stations and plants whose site floods stop and restart
  (:mod:`twin.coupled.water`); the extended-period hydraulics step hourly on the same clock;
* **main_burst** — a main bursts at ``[burst] at_s`` (the water package's burst story on this clock,
  :mod:`twin.coupled.burst`); with ``flood_roads`` on, its crew drives the flooded roads;
* **grid_derate** — while the rain is above its threshold only a share of the centre's nodes run
  (:mod:`twin.coupled.compute`); the GPU cluster's scheduler runs on the same clock.

A coupling switched off leaves its system on the dry day. The counterfactual of a coupling is the
run with that coupling off; because no system feeds another here (the flood drives each one and
nothing flows back, checked by ``tests/coupled/test_typhoon_day.py``; the one cross path is the
flood → the burst crew's roads), the counterfactual only needs the system that coupling drives
(``systems`` of :func:`run_day`).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import simpy

from twin.compute.cluster import ClusterModel
from twin.compute.cluster_spec import ClusterSpec
from twin.compute.jobs import JobTable
from twin.compute.settings import FailureConfig
from twin.coupled.burst import FloodedTravelTimes, attach_burst
from twin.coupled.buses import BusSetup, attach_buses, flooded_bus_times
from twin.coupled.compute import ComputeLog, derate_intervals, grid_derate
from twin.coupled.outages import outage_intervals
from twin.coupled.roads import FloodedRoads, RoadFloodLog, flood_updates, reroute_for_flood
from twin.coupled.water import Facility, FloodedWater, attach_water
from twin.engine import Engine
from twin.hazards.flood import Flood
from twin.hazards.storm import RainSeries
from twin.traffic.model import TrafficModel
from twin.traffic.network import TrafficNetwork
from twin.traffic.signals.controller import SignalController
from twin.traffic.signals.default_plans import default_plans
from twin.traffic.signals.timing import TimingParams
from twin.traffic.trips import Trips
from twin.transit.buses import BusSimulation
from twin.transit.records import BusRun
from twin.water.burst import Burst, BurstOutcome, Crew, Repair, RoadLocator, StartedBurst
from twin.water.network import CompiledNetwork

COUPLINGS = ("flood_roads", "flood_buses", "pump_outage", "main_burst", "grid_derate")
"""The couplings of the typhoon day, by the names a scenario file switches them with."""
SYSTEMS = ("traffic", "buses", "water", "burst", "compute")
"""The systems of the day; ``burst`` is the water utility's burst response (its own hydraulics)."""
COUPLING_SYSTEM = {"flood_roads": "traffic", "flood_buses": "buses", "pump_outage": "water", "main_burst": "burst",
                   "grid_derate": "compute"}
"""Which system each coupling drives (and so which system its counterfactual needs)."""


@dataclass(frozen=True)
class DaySettings:
    """The clock and the couplings' parameters (times in s since the start, depths in m)."""

    duration_s: float
    traffic_begin_s: float
    traffic_duration_s: float
    flood_update_s: float = 300.0
    water_step_s: float = 3600.0
    facility_flood_depth_m: float = 0.05
    facility_restart_delay_s: float = 7200.0
    derate_above_mm_per_h: float = 30.0
    derate_available_share: float = 0.5
    derate_restore_delay_s: float = 1800.0


@dataclass(frozen=True)
class CityDay:
    """Everything the day needs, prepared once and shared by every run (so runs differ only by
    their couplings): the rain and flood, the traffic network and trips (model clock 0 is
    ``traffic_begin_s``), the water service network and its facilities with the water at each
    site ``facility_depth_m[flood time, facility]``, and the centre's jobs and nodes."""

    rain: RainSeries
    flood: Flood
    network: TrafficNetwork
    trips: Trips
    water: CompiledNetwork
    facilities: list[Facility]
    facility_depth_m: np.ndarray
    jobs: JobTable
    cluster: ClusterSpec
    burst: BurstSetup | None = None
    buses: tuple[BusSetup, ...] = ()


@dataclass(frozen=True)
class BurstSetup:
    """The main that bursts in the storm and its crew (``crew.travel_times`` is set per run: the
    flooded roads when ``flood_roads`` is on, else free flow); ``edge_link`` maps road edges to
    the flood's links."""

    net: CompiledNetwork
    valves: Any
    roads: Any
    locator: RoadLocator
    burst: Burst
    crew: Crew
    repair: Repair
    edge_link: dict


@dataclass
class DayOutcome:
    """One run of the day: what each system did (``None`` for a system not run) and its logs."""

    couplings: dict[str, bool]
    roads: FloodedRoads | None = None
    water: FloodedWater | None = None
    water_results: Any = None
    compute: Any = None
    burst: BurstOutcome | None = None
    buses: dict[bool, BusRun] = field(default_factory=dict)
    """The bus runs by group: crewed (False) and driverless (True) lines."""
    compute_log: ComputeLog = field(default_factory=ComputeLog)
    derate: list[tuple[float, float]] = field(default_factory=list)


def facility_outages(day: CityDay, settings: DaySettings) -> dict[str, list[tuple[float, float]]]:
    """Stop/restart intervals (s) of every facility whose site floods (only those that do)."""
    out = {}
    for k, facility in enumerate(day.facilities):
        intervals = outage_intervals(day.flood.time_s, day.facility_depth_m[:, k], settings.facility_flood_depth_m,
                                     settings.facility_restart_delay_s)
        if intervals:
            out[facility.name] = intervals
    return out


def observe_facilities(outages: dict[str, list[tuple[float, float]]], observed: dict[str, tuple[float, bool]]
                       ) -> dict[str, list[tuple[float, float]]]:
    """The outages with what was observed: before its time a facility follows the flood; from it on,
    one seen stopped stays stopped (its restart is not known) and one seen running keeps running."""
    out = {name: list(intervals) for name, intervals in outages.items()}
    for name, (at_s, running) in observed.items():
        before = [(a, min(b, at_s)) for a, b in out.get(name, []) if a < at_s]
        out[name] = before if running else [*before, (at_s, np.inf)]
    return {name: intervals for name, intervals in out.items() if intervals}


def run_day(day: CityDay, settings: DaySettings, couplings: dict[str, bool], seed: int, start: datetime,
            systems: tuple[str, ...] = SYSTEMS, observed: dict[str, tuple[float, bool]] | None = None) -> DayOutcome:
    """Run the ``systems`` of the day on one clock from ``start`` with the ``couplings`` given (name → on).

    ``observed`` (facility → (time_s, running)) overrides the flood's outages from that time on: a
    facility seen stopped stays stopped, one seen running keeps running (see :func:`observe_facilities`).
    """
    engine = Engine(seed, start, settings.duration_s)
    outcome = DayOutcome(dict(couplings))
    if "traffic" in systems:
        outcome.roads = _attach_traffic(day, settings, couplings["flood_roads"], engine)
    if "water" in systems:
        outages = facility_outages(day, settings) if couplings["pump_outage"] else {}
        if observed:
            outages = observe_facilities(outages, observed)
        outcome.water = attach_water(day.water, day.facilities, outages, engine, settings.duration_s,
                                     settings.water_step_s)
    buses = {}
    if "buses" in systems:
        buses = {setup.driverless: _attach_bus_group(day, setup, couplings["flood_buses"], engine)
                 for setup in day.buses}
    burst = None
    if "burst" in systems and couplings["main_burst"] and day.burst is not None:
        burst = _attach_burst(day, couplings["flood_roads"], engine)
    cluster = None
    if "compute" in systems:
        cluster = ClusterModel(engine.env, day.jobs, day.cluster, failures=FailureConfig(enabled=False),
                               horizon_s=settings.duration_s)
        if couplings["grid_derate"]:
            outcome.derate = derate_intervals(day.rain, settings.derate_above_mm_per_h,
                                              settings.derate_restore_delay_s)
            engine.process(grid_derate(cluster, outcome.derate, settings.derate_available_share,
                                       outcome.compute_log))
    engine.env.run(until=settings.duration_s + 1e-6)
    if outcome.water is not None:
        outcome.water_results = outcome.water.sim.finish()
    outcome.buses = {group: sim.collect() for group, sim in buses.items()}
    if burst is not None:
        outcome.burst = burst.finish()
    if cluster is not None:
        cluster.sync()
        outcome.compute = cluster.metrics.collect(cluster.state, cluster.jobs, cluster.spec, cluster.horizon_s,
                                                  cluster.bin_width_s, cluster.node_failures)
    return outcome


def _attach_traffic(day: CityDay, settings: DaySettings, flooded: bool, engine: Engine) -> FloodedRoads:
    """The traffic model from ``traffic_begin_s`` on the run's clock, on flooded roads if ``flooded``."""
    begin, duration = settings.traffic_begin_s, settings.traffic_duration_s
    timing = TimingParams()
    controller = SignalController.build(day.network, default_plans(day.network, timing), timing)
    trips, rerouted, cut_off = day.trips, 0, 0

    def depth_at(model_time_s: float) -> np.ndarray:
        return day.flood.depth_at(begin + model_time_s)

    if flooded:
        trips, rerouted, cut_off = reroute_for_flood(day.network, day.trips, depth_at, 0.0, duration)
    model = TrafficModel(day.network, controller, trips, begin_s=0.0)
    log = RoadFloodLog()
    if flooded:  # started first, so at a shared instant the links change before vehicles move
        engine.process(_after(engine, begin, flood_updates(model, engine, depth_at, duration,
                                                           settings.flood_update_s, log)))
    engine.process(_traffic_on_clock(model, engine, begin, duration))
    return FloodedRoads(model, log, rerouted, cut_off)


def _attach_bus_group(day: CityDay, setup: BusSetup, flooded: bool, engine: Engine) -> BusSimulation:
    """One group of bus lines on the day's clock, on the flooded roads if ``flooded``."""
    travel = None
    if flooded:
        edge_link = {tuple(key): k for k, key in enumerate(day.network.link_keys)}
        travel = flooded_bus_times(setup.network.graph, day.flood, edge_link, day.network.link_speed_m_per_s,
                                   setup.driverless)
    return attach_buses(engine, setup, travel)


def _attach_burst(day: CityDay, flooded: bool, engine: Engine) -> StartedBurst:
    """The burst story on the day's clock; its crew on the flooded roads if ``flooded``."""
    setup = day.burst
    crew = setup.crew
    if flooded:
        travel = FloodedTravelTimes(setup.roads, day.flood, setup.edge_link, day.network.link_speed_m_per_s)
        crew = replace(crew, travel_times=travel, travel_source="the flooded roads (Pregnolato 2017, closed at 300 mm)")
    return attach_burst(engine, setup.net, setup.valves, setup.roads, setup.locator, setup.burst, crew, setup.repair)


def _after(engine: Engine, delay_s: float, process: Generator[simpy.Event, None, None]
           ) -> Generator[simpy.Event, None, None]:
    """``process`` started ``delay_s`` after now."""
    yield engine.env.timeout(delay_s)
    yield from process


def _traffic_on_clock(model: TrafficModel, engine: Engine, begin_s: float, duration_s: float
                      ) -> Generator[simpy.Event, None, None]:
    """The traffic model's blocks on the day's clock: model time t is the day's ``begin_s + t``."""
    yield engine.env.timeout(begin_s)
    end = model.begin_s + duration_s
    while model.time_s < end - 1e-9:
        model.advance_to(min(model.time_s + model.network.params.sync_interval_s, end))
        yield engine.env.timeout(max(begin_s + model.time_s - model.begin_s - engine.env.now, 0.0))


def gpu_hours_unavailable(intervals: list[tuple[float, float]], cluster: ClusterSpec, share: float,
                          end_s: float) -> float:
    """GPU-hours the derate takes out of service before ``end_s`` (nodes off × GPUs × hours)."""
    nodes_off = cluster.nodes - math.floor(share * cluster.nodes)
    hours = sum(max(min(b, end_s) - a, 0.0) for a, b in intervals) / 3600.0
    return float(nodes_off * cluster.gpus_per_node * hours)
