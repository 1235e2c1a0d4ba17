"""A pipe burst (管网爆管) and the utility's response, as a story of SimPy processes.

1. **The burst opens** (:meth:`BurstStory.burst_opens`): an orifice (:mod:`twin.water.leaks`) on a
   pipe, sized as a fraction of the pipe's section, discharges ``Cd·A·√(2g·p)``.
2. **Detection** (:meth:`BurstStory.scada`): the SCADA system scans every ``scan_interval_s``; it
   alarms when a pressure sensor reads ``pressure_drop_m`` below its normal value at that time of
   day (the same day without the burst), or when the plants' total outflow (DMA inflow) is
   ``inflow_jump_pct`` above normal. The dispatcher confirms, then sends a crew.
3. **The crew drives** (:meth:`BurstStory.crew`) from its depot over the road network, asking a
   :class:`twin.city.travel_times.TravelTimes` for each road's time when it enters it: a traffic
   run's time-of-day link times, or free flow.
4. **Isolation, valve by valve**: the crew closes the minimal set of valves - the boundary of the
   burst pipe's valve segment (:mod:`twin.water.segments`) - going from valve to valve by road,
   nearest first.
5. **Repair** takes a lognormal time (seed stream ``repair``); then the valves reopen and
   **service is restored**.

Hydraulics run alongside: an extended-period, pressure-driven simulation (required pressure = the
GB 50013 service head) from midnight, advanced to every event and changed there. A second run of
the same day without the burst is the "normal" the sensors compare against and the baseline of
the service metrics. :func:`simulate_burst` runs the whole story and returns a
:class:`BurstOutcome`; the metrics are functions over its results (:mod:`twin.water.service`).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kernels.hydraulics.codes import JUNCTION, PIPE, PUMP, RESERVOIR
from twin.city.travel_times import FreeFlowTravelTimes, TravelTimes, fastest_route
from twin.engine import Engine
from twin.water.hydraulic_results import HydraulicResults
from twin.water.leaks import Leak, add_leak
from twin.water.network import CompiledNetwork
from twin.water.segments import ValveLayer, isolation_plan, valve_segments
from twin.water.service import SERVICE_HEAD_M, population_served, service_network
from twin.water.simulation import ExtendedPeriodSimulation

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd
    import shapely


@dataclass(frozen=True)
class Burst:
    """Which pipe bursts, how, and when."""

    leak: Leak
    """The hole: pipe, position along it, area, discharge coefficient and exponent."""
    at_s: float = 1800.0
    """When the pipe bursts, seconds after the story's start."""


@dataclass(frozen=True)
class Detection:
    """The SCADA system and the dispatcher."""

    sensors: int = 20
    """Pressure sensors, spread over the network (:func:`spread_sensors`)."""
    pressure_drop_m: float = 8.0
    """Alarm: a sensor this far below its normal pressure (m)."""
    inflow_jump_pct: float = 15.0
    """Alarm: the plants' outflow this far above normal (%)."""
    scan_interval_s: float = 300.0
    """How often SCADA reads the sensors (s)."""
    confirm_s: float = 600.0
    """The dispatcher's confirmation before a crew leaves (s)."""


@dataclass(frozen=True)
class Crew:
    """The repair crew: where it starts, how fast it works and how it travels."""

    depot: int | None = None
    """Road node of the depot; ``None``: the road node nearest the first plant."""
    mobilise_s: float = 600.0
    """From dispatch to leaving the depot (s)."""
    valve_close_s: float = 300.0
    """Time to find and close one valve (s)."""
    travel_times: TravelTimes | None = None
    """The roads' times by time of day; ``None``: free flow."""
    travel_source: str = "free-flow road speeds"
    """Where ``travel_times`` come from, for the story's log."""


@dataclass(frozen=True)
class Repair:
    """The repair time: lognormal with this median and log standard deviation."""

    median_s: float = 4 * 3600.0
    sigma: float = 0.4


# ---- choosing the pipe, placing sensors, finding roads ---------------------------------------------
def largest_main(net: CompiledNetwork, tags: dict[str, str], area_xy: shapely.Polygon | None = None) -> str | None:
    """The largest trunk main with both ends in ``area_xy`` (``None``: anywhere), or ``None``.

    Only mains inside the distribution network count, not a plant outlet or a station's
    connection; a pipe tagged ``trunk`` beats an untagged one, then diameter, length and name.
    """
    pipes = np.flatnonzero(net.kind <= PIPE)
    if area_xy is not None:
        # deferred: shapely is slow to import, and only an area filter needs it
        from shapely import contains_xy

        inside = contains_xy(area_xy, net.node_xy[:, 0], net.node_xy[:, 1])
        pipes = pipes[inside[net.start[pipes]] & inside[net.end[pipes]]]
    stations = _station_nodes(net)
    pipes = np.array([k for k in pipes if net.start[k] not in stations and net.end[k] not in stations],
                     dtype=np.int64)
    trunk = [k for k in pipes if tags.get(net.link_names[k]) == "trunk"] or list(pipes)
    if not trunk:
        return None
    best = max(trunk, key=lambda k: (round(net.diameter_m[k], 4), net.length_m[k], net.link_names[k]))
    return net.link_names[best]


def _station_nodes(net: CompiledNetwork) -> set[int]:
    """Sources, and the ends of pumps, valves and the pipes that join a source."""
    stations = set(np.flatnonzero(net.node_kind != JUNCTION).tolist())
    for k in np.flatnonzero(net.kind >= PUMP):
        stations.update((int(net.start[k]), int(net.end[k])))
    for k in np.flatnonzero(net.kind <= PIPE):
        if net.node_kind[net.start[k]] != JUNCTION or net.node_kind[net.end[k]] != JUNCTION:
            stations.update((int(net.start[k]), int(net.end[k])))
    return stations


def spread_sensors(net: CompiledNetwork, count: int) -> np.ndarray:
    """Junctions for ``count`` pressure sensors: farthest-point sampling from the sources."""
    nj = net.n_junctions
    xy = net.node_xy[:nj]
    sources = net.node_xy[net.node_kind != JUNCTION]
    distance = np.min(np.linalg.norm(xy[:, None, :] - sources[None, :, :], axis=2), axis=1)
    chosen = []
    for _ in range(min(count, nj)):
        pick = int(np.argmax(distance))
        chosen.append(pick)
        distance = np.minimum(distance, np.linalg.norm(xy - xy[pick], axis=1))
    return np.asarray(sorted(chosen), dtype=np.int64)


class RoadLocator:
    """Nearest road node to a point in EPSG:4549, and road nodes' projected coordinates."""

    def __init__(self, roads: nx.MultiDiGraph) -> None:
        # deferred: pyproj and scipy are slow to import, and only the crew's roads need them
        from pyproj import Transformer
        from scipy.spatial import cKDTree  # deferred, as above

        self.nodes = np.array(sorted(roads.nodes))
        lon = np.array([roads.nodes[n]["x"] for n in self.nodes], dtype=float)
        lat = np.array([roads.nodes[n]["y"] for n in self.nodes], dtype=float)
        x, y = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True).transform(lon, lat)
        self.xy = np.column_stack([x, y])
        self.index = {int(n): i for i, n in enumerate(self.nodes)}
        self._tree = cKDTree(self.xy)

    def nearest(self, point: np.ndarray) -> int:
        """The road node nearest ``point`` (x, y in EPSG:4549 m)."""
        _, i = self._tree.query(np.asarray(point, dtype=float))
        return int(self.nodes[i])

    def distance_m(self, a: int, b: int) -> float:
        """Straight-line distance between road nodes ``a`` and ``b`` (m)."""
        return float(np.linalg.norm(self.xy[self.index[a]] - self.xy[self.index[b]]))


# ---- the network of the story ----------------------------------------------------------------------
@dataclass(frozen=True)
class BurstNetwork:
    """The network with the burst pipe split at the hole (the leak closed until the burst), under
    pressure-driven service, and what isolating the pipe takes."""

    service: CompiledNetwork
    """The split network, pressure-driven with full demand from the service head."""
    pipe: str
    leak_node: int
    """The junction at the hole."""
    leak_ke: float
    leak_n: float
    """The hole's head loss ``ke q^n`` once it opens."""
    valves: ValveLayer
    valves_to_close: np.ndarray
    """Indices into ``valves``: the burst pipe's segment boundary."""
    valve_links: list[int]
    """The links carrying those valves, in link order."""
    isolated_links: np.ndarray
    cut_nodes: np.ndarray
    """Nodes of the isolated segment, which lose supply."""
    population: np.ndarray
    sensors: np.ndarray
    plants: np.ndarray


def burst_network(net: CompiledNetwork, valves_frame: pd.DataFrame, leak: Leak, service_head_m: float,
                  sensor_count: int) -> BurstNetwork:
    """Split ``leak.pipe`` at the hole and plan its isolation on the valve layer ``valves_frame``
    (``valve_id, link, node``); valves on the pipe's far end now sit on its second half."""
    pipe = leak.pipe
    split, leak_node = add_leak(net, leak, open_=False)
    ke, ke_n = leak.headloss_parameters(float(net.diameter_m[net.link_index(pipe)]))
    frame = valves_frame.copy()
    far_end = net.node_names[net.end[net.link_index(pipe)]]
    frame.loc[(frame["link"] == pipe) & (frame["node"] == far_end), "link"] = f"{pipe}__b"
    valves = ValveLayer.from_frame(frame, split)
    service = service_network(split, service_head_m)
    segments = valve_segments(service, valves)
    close, isolated_links, cut_nodes = isolation_plan(service, valves, segments, split.link_index(pipe))
    return BurstNetwork(
        service=service, pipe=pipe, leak_node=leak_node, leak_ke=ke, leak_n=ke_n, valves=valves,
        valves_to_close=close, valve_links=sorted({int(valves.link[v]) for v in close}),
        isolated_links=isolated_links, cut_nodes=cut_nodes, population=population_served(service),
        sensors=spread_sensors(service, sensor_count), plants=np.flatnonzero(service.node_kind == RESERVOIR),
    )


# ---- the story --------------------------------------------------------------------------------------
class BurstStory:
    """One burst and the response on the engine's clock; the hydraulics follow every event.

    The three processes are :meth:`burst_opens`, :meth:`scada` and :meth:`crew`; the log of what
    happened when is :attr:`log` (and :attr:`times` by event name, seconds after the start).
    """

    def __init__(self, engine: Engine, network: BurstNetwork, baseline: HydraulicResults,
                 hydraulics: ExtendedPeriodSimulation, roads: nx.MultiDiGraph, locator: RoadLocator,
                 burst: Burst, detection: Detection, crew: Crew, repair: Repair) -> None:
        self.engine, self.env = engine, engine.env
        self.network, self.baseline, self.hyd = network, baseline, hydraulics
        self.roads, self.locator = roads, locator
        self.burst, self.detection, self.crew_plan, self.repair = burst, detection, crew, repair
        self.offset_s = seconds_after_midnight(engine)
        self.travel = crew.travel_times if crew.travel_times is not None else FreeFlowTravelTimes(roads)
        service = network.service
        self.burst_road = locator.nearest(service.node_xy[network.leak_node])
        if crew.depot is not None:
            self.depot = crew.depot
        else:
            plants = network.plants
            self.depot = locator.nearest(service.node_xy[plants[0]] if len(plants) else
                                         service.node_xy[network.leak_node])
        self.log: list[tuple[str, float, str]] = []
        self.times: dict[str, float] = {}
        self.route_nodes: list[int] = []
        self.valve_closed_at: dict[int, float] = {}
        self.detected = self.env.event()

    # ---- the hydraulics on the story's clock --------------------------------------------------------
    def _advance(self) -> None:
        """Bring the hydraulics to now and solve there, so that a change applies from now."""
        self.hyd.run_until(self.offset_s + int(round(self.env.now)))
        self.hyd.solve_now()

    def _event(self, name: str, detail: str = "") -> None:
        self.times[name] = float(self.env.now)
        self.log.append((name, float(self.env.now), detail))

    def _normal(self, values: np.ndarray, t_hyd: float) -> np.ndarray:
        """``values`` of the day without the burst, as last reported at hydraulic time ``t_hyd``."""
        i = int(np.searchsorted(self.baseline.time_s, t_hyd, side="right")) - 1
        return values[max(i, 0)]

    # ---- 1. the burst opens ---------------------------------------------------------------------------
    def burst_opens(self) -> Generator[Any, Any, None]:
        net = self.network
        yield self.env.timeout(self.burst.at_s)
        self._advance()
        self.hyd.set_leak(net.leak_node, net.leak_ke, net.leak_n)
        self._advance()
        diameter_m = float(net.service.diameter_m[net.service.link_index(net.pipe)])
        self._event("burst", f"pipe {net.pipe} (DN{diameter_m * 1000:.0f}), "
                             f"hole {self.burst.leak.area(diameter_m) * 1e4:.0f} cm²")

    # ---- 2. detection -----------------------------------------------------------------------------------
    def scada(self) -> Generator[Any, Any, None]:
        interval = self.detection.scan_interval_s
        while True:
            yield self.env.timeout(interval - (self.env.now % interval) if self.env.now % interval else interval)
            if "burst" not in self.times:
                continue
            self._advance()
            alarm = self._alarm()
            if alarm:
                self._event("detected", alarm)
                break
        self.detected.succeed()

    def _alarm(self) -> str | None:
        """What SCADA sees now against the normal day: a sensor's pressure drop, or more inflow."""
        net, state, detection = self.network, self.hyd.state, self.detection
        t_hyd = self.offset_s + self.env.now
        drop = self._normal(self.baseline.head_m, t_hyd)[net.sensors] - state.head[net.sensors]
        supply = -state.node_outflow[net.plants].sum()
        normal_supply = -self._normal(self.baseline.demand_m3_per_s, t_hyd)[net.plants].sum()
        jump = 100.0 * (supply / normal_supply - 1.0) if normal_supply > 0 else 0.0
        if drop.max() >= detection.pressure_drop_m:
            worst = net.service.node_names[net.sensors[int(np.argmax(drop))]]
            return f"pressure sensor at {worst} {drop.max():.1f} m below normal"
        if jump >= detection.inflow_jump_pct:
            return f"DMA inflow {jump:.0f}% above normal"
        return None

    # ---- 3-5. the crew: drive, isolate valve by valve, repair, restore -----------------------------------
    def crew(self) -> Generator[Any, Any, None]:
        plan = self.crew_plan
        yield self.detected
        yield self.env.timeout(self.detection.confirm_s)
        self._event("dispatched", f"crew leaves depot {self.depot} after {plan.mobilise_s:.0f} s")
        yield self.env.timeout(plan.mobilise_s)
        yield from self._drive_to_the_burst()
        yield from self._isolate()
        yield from self._repair_and_restore()

    def _drive_to_the_burst(self) -> Generator[Any, Any, None]:
        route = fastest_route(self.roads, self.travel, self.depot, self.burst_road, self.offset_s + self.env.now)
        self.route_nodes.extend(route.nodes)
        yield self.env.timeout(route.duration_s)
        self._event("on_site", f"{route.length_m / 1000:.1f} km in {route.duration_s / 60:.0f} min "
                               f"({self.crew_plan.travel_source})")

    def _isolate(self) -> Generator[Any, Any, None]:
        """Close the segment's boundary valves, driving to the nearest one next."""
        here = self.burst_road
        remaining = list(self.network.valve_links)
        while remaining:
            valve_link, road_node = self._nearest_valve(here, remaining)
            yield from self._close_valve(here, valve_link, road_node)
            here = road_node
            remaining.remove(valve_link)
        self._advance()
        self._event("isolated", f"{len(self.network.valves_to_close)} valves closed")

    def _nearest_valve(self, here: int, remaining: list[int]) -> tuple[int, int]:
        """The valve link nearest road node ``here`` (straight line) and the road node beside it."""
        service = self.network.service
        positions = {
            k: self.locator.nearest(service.node_xy[[service.start[k], service.end[k]]].mean(axis=0))
            for k in remaining
        }
        nxt = min(remaining, key=lambda k: (self.locator.distance_m(positions[k], here), k))
        return nxt, positions[nxt]

    def _close_valve(self, here: int, valve_link: int, road_node: int) -> Generator[Any, Any, None]:
        hop = fastest_route(self.roads, self.travel, here, road_node, self.offset_s + self.env.now)
        self.route_nodes.extend(hop.nodes[1:])
        yield self.env.timeout(hop.duration_s + self.crew_plan.valve_close_s)
        self._advance()
        self.hyd.set_link_status(valve_link, False)
        self.valve_closed_at[valve_link] = float(self.env.now)

    def _repair_and_restore(self) -> Generator[Any, Any, None]:
        net = self.network
        rng = self.engine.rng("repair")
        repair_s = float(self.repair.median_s * math.exp(self.repair.sigma * rng.standard_normal()))
        yield self.env.timeout(repair_s)
        self._advance()
        self.hyd.set_leak(net.leak_node, 0.0, net.leak_n)
        for k in net.valve_links:
            self.hyd.set_link_status(k, True)
        self._advance()
        self._event("restored", f"repair took {repair_s / 3600:.1f} h; valves reopened")


# ---- running it ---------------------------------------------------------------------------------------
@dataclass
class BurstOutcome:
    """What the story did: the hydraulics with and without the burst, and the log of events."""

    network: BurstNetwork
    result: HydraulicResults
    """The day with the burst, reported every step from midnight (hydraulic time)."""
    baseline: HydraulicResults
    """The same day without the burst."""
    log: list[tuple[str, float, str]]
    """``(event, time after the start (s), detail)`` in order."""
    times: dict[str, float]
    """Each event's time after the start (s): burst, detected, dispatched, on_site, isolated, restored."""
    route_nodes: list[int]
    """The crew's road nodes, depot to burst and valve to valve."""
    valve_closed_at: dict[int, float]
    """Each closed valve link's closing time after the start (s)."""
    locator: RoadLocator
    offset_s: int
    """Hydraulic time of the story's start: seconds after midnight."""
    end_s: int
    """Hydraulic time of the story's end."""


def seconds_after_midnight(engine: Engine) -> int:
    """The engine's start as seconds after midnight: the hydraulic time the story starts at."""
    start = engine.start
    return start.hour * 3600 + start.minute * 60 + start.second


@dataclass
class StartedBurst:
    """A burst story whose processes run on an engine; :meth:`finish` once the engine has run."""

    story: BurstStory
    hydraulics: ExtendedPeriodSimulation
    baseline: HydraulicResults
    end_s: int

    def finish(self) -> BurstOutcome:
        """The story's outcome: hydraulics, log, times, crew route and valves."""
        story = self.story
        return BurstOutcome(
            network=story.network, result=self.hydraulics.finish(), baseline=self.baseline, log=story.log,
            times=story.times, route_nodes=story.route_nodes, valve_closed_at=story.valve_closed_at,
            locator=story.locator, offset_s=story.offset_s, end_s=self.end_s,
        )


def start_burst(engine: Engine, net: CompiledNetwork, valves_frame: pd.DataFrame, roads: nx.MultiDiGraph,
                locator: RoadLocator, burst: Burst, detection: Detection, crew: Crew, repair: Repair,
                service_head_m: float = SERVICE_HEAD_M, report_step_s: int = 300) -> StartedBurst:
    """Start the burst story's processes on ``engine``: the hydraulics from midnight (a baseline
    without the burst, and the run with it, reported every ``report_step_s``), then the hole, SCADA
    and the crew on the engine's clock. Shared by a burst on its own and a burst in a coupled day."""
    network = burst_network(net, valves_frame, burst.leak, service_head_m, detection.sensors)
    end_s = seconds_after_midnight(engine) + int(math.ceil(engine.duration_s))
    step = int(report_step_s)
    baseline = ExtendedPeriodSimulation(network.service.copy(), duration_s=end_s, hydraulic_step_s=min(step, 3600),
                                        report_step_s=step, on_unbalanced="relax").run()
    hydraulics = ExtendedPeriodSimulation(network.service, duration_s=end_s, hydraulic_step_s=min(step, 3600),
                                          report_step_s=step, on_unbalanced="relax")
    hydraulics.run_until(seconds_after_midnight(engine))
    story = BurstStory(engine, network, baseline, hydraulics, roads, locator, burst, detection, crew, repair)
    engine.env.process(story.burst_opens())
    engine.env.process(story.scada())
    engine.env.process(story.crew())
    return StartedBurst(story, hydraulics, baseline, end_s)


def simulate_burst(engine: Engine, net: CompiledNetwork, valves_frame: pd.DataFrame, roads: nx.MultiDiGraph,
                   burst: Burst, detection: Detection | None = None, crew: Crew | None = None,
                   repair: Repair | None = None, service_head_m: float = SERVICE_HEAD_M,
                   report_step_s: int = 300) -> BurstOutcome:
    """Run the burst story on ``net`` (compiled, with ``node_xy`` in EPSG:4549) and ``roads``.

    ``valves_frame`` is the valve layer (``valve_id, link, node``); ``detection``, ``crew`` and
    ``repair`` default to their classes' defaults. The hydraulics start at midnight (tank levels)
    and report every ``report_step_s``; the story starts at the engine's start and lasts its
    duration.
    """
    started = start_burst(engine, net, valves_frame, roads, RoadLocator(roads), burst, detection or Detection(),
                          crew or Crew(), repair or Repair(), service_head_m, report_step_s)
    engine.run(description="pipe burst")
    return started.finish()
