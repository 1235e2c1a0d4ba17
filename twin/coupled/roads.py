"""Flooded roads: link speed falls with water depth and the link closes at 300 mm; trips reroute.

The depth–disruption curve is Pregnolato et al. (2017), "The impact of flooding on road
transport: a depth-disruption function", Transportation Research Part D 55, 67–81:

    v(d) = 0.0009 d² − 0.5529 d + 86.9448   km/h, d in mm,

the highest safe speed in water of depth d, with the road closed (v = 0) at d ≥ 300 mm. A link
runs at min(its speed limit, v(d)), so a dry link keeps its speed exactly.

Rerouting: a trip is routed when it departs, on the link times of the worst water of its
departure epoch (``epoch_s``): links closed at any time in the epoch are avoided, slowed links
cost their flooded time. A trip with no way round keeps its route and waits at the water's edge
(counted as ``cut_off``). Vehicles on the road when a link closes are held before it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np
import simpy

from twin.engine import Engine
from twin.traffic.disruption import set_link_conditions, vehicle_hours
from twin.traffic.model import TrafficModel
from twin.traffic.network import TrafficNetwork
from twin.traffic.routing import LinkRouter
from twin.traffic.trips import Trips

CLOSURE_DEPTH_MM = 300.0
"""Pregnolato et al. (2017): a road is impassable at 300 mm of water."""
CLOSED_COST_S = 1e7
"""Routing cost of a closed link (s): never chosen while any way round exists."""


def pregnolato_speed_kmh(depth_mm: np.ndarray | float) -> np.ndarray:
    """Highest safe speed (km/h) in ``depth_mm`` of water; 0 at and above the closure depth."""
    d = np.clip(np.asarray(depth_mm, dtype=float), 0.0, None)
    v = 0.0009 * d**2 - 0.5529 * d + 86.9448
    return np.where(d >= CLOSURE_DEPTH_MM, 0.0, v)


def flooded_conditions(depth_m: np.ndarray, limit_m_per_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per link: speed (m/s, > 0) and closed flag under ``depth_m`` of water."""
    depth_mm = np.asarray(depth_m, dtype=float) * 1000.0
    closed = depth_mm >= CLOSURE_DEPTH_MM
    safe = pregnolato_speed_kmh(depth_mm) / 3.6
    speed = np.where(closed, limit_m_per_s, np.minimum(limit_m_per_s, safe))
    return speed, closed


DepthAt = Callable[[float], np.ndarray]
"""``depth_at(time_s) -> depth_m[link]``: the water on every traffic link at a time (model clock)."""


def reroute_for_flood(network: TrafficNetwork, trips: Trips, depth_at: DepthAt, begin_s: float,
                      end_s: float, epoch_s: float = 1800.0, sample_s: float = 300.0) -> tuple[Trips, int, int]:
    """Trips routed for the water at their departure (see the module docstring).

    Returns the trips, how many changed route, and how many are cut off (no way round a closure).
    """
    routes = list(trips.routes)
    changed = cut_off = 0
    for t0 in np.arange(begin_s, end_s, epoch_s):
        depth = np.max([depth_at(t) for t in np.arange(t0, min(t0 + epoch_s, end_s) + 1e-9, sample_s)], axis=0)
        speed, closed = flooded_conditions(depth, network.link_speed_m_per_s)
        time_s = np.where(closed, CLOSED_COST_S, network.link_fft_s * network.link_speed_m_per_s / speed)
        slowed = time_s > network.link_fft_s * (1 + 1e-12)
        members = [k for k in np.nonzero((trips.depart_s >= t0) & (trips.depart_s < t0 + epoch_s))[0]
                   if slowed[routes[k]].any()]
        if not members:
            continue
        found = LinkRouter(network, time_s).routes(
            np.array([routes[k][0] for k in members]), np.array([routes[k][-1] for k in members]))
        for k, route in zip(members, found, strict=True):
            if route is None or closed[route].any():
                cut_off += 1
                continue
            if not np.array_equal(route, routes[k]):
                routes[k] = route
                changed += 1
    return Trips(trips.ids, trips.depart_s, routes), changed, cut_off


@dataclass
class RoadFloodLog:
    """What the flood did on the roads: per update, the closed links and entries into them."""

    time_s: list[float] = field(default_factory=list)
    closed_links: list[int] = field(default_factory=list)
    slowed_links: list[int] = field(default_factory=list)
    entries_while_closed: int = 0
    closed_ever: np.ndarray | None = None


def flood_updates(model: TrafficModel, engine: Engine, depth_at: DepthAt, duration_s: float,
                  update_s: float, log: RoadFloodLog) -> Generator[simpy.Event, None, None]:
    """SimPy process: every ``update_s`` set the links' speeds and closures for the water now.

    Entries into a link between the update that closed it and the next one are counted in
    ``log.entries_while_closed`` (the property tests expect 0).
    """
    network = model.network
    closed = np.zeros(network.n_links, dtype=bool)
    log.closed_ever = np.zeros(network.n_links, dtype=bool)
    entered = model.state.link_entered.copy()
    t = 0.0
    while t <= duration_s + 1e-9:
        now_entered = model.state.link_entered.copy()
        log.entries_while_closed += int((now_entered - entered)[closed].sum())
        entered = now_entered
        speed, closed = flooded_conditions(depth_at(model.begin_s + t), network.link_speed_m_per_s)
        set_link_conditions(model, speed, closed)
        log.closed_ever |= closed
        log.time_s.append(model.begin_s + t)
        log.closed_links.append(int(closed.sum()))
        log.slowed_links.append(int(np.count_nonzero(speed < network.link_speed_m_per_s)))
        t += update_s
        yield engine.env.timeout(update_s)


@dataclass
class FloodedRoads:
    """The traffic model on the flooded roads, the flood's log and the rerouting counts."""

    model: TrafficModel
    log: RoadFloodLog
    rerouted: int = 0
    cut_off: int = 0

    def kpis(self) -> dict[str, float]:
        """Traffic measures of the run so far (the model's, plus vehicle-hours and the flood's counts)."""
        out = dict(self.model.kpis())
        out["vehicle_hours_veh_h"] = vehicle_hours(self.model)
        out["rerouted_trips_veh"] = self.rerouted
        out["cut_off_trips_veh"] = self.cut_off
        out["closed_links_max_count"] = max(self.log.closed_links, default=0)
        out["entries_while_closed_veh"] = self.log.entries_while_closed
        return out


def attach_flooded_roads(network: TrafficNetwork, controller: object, trips: Trips, engine: Engine,
                         duration_s: float, depth_at: DepthAt | None, begin_s: float = 0.0,
                         update_s: float = 300.0) -> FloodedRoads:
    """Start the traffic model (and, with ``depth_at``, the flood's updates and rerouting) on ``engine``.

    ``controller`` is the run's :class:`~twin.traffic.signals.controller.SignalController`.
    ``depth_at=None`` is the coupling switched off: the same trips on dry roads.
    """
    rerouted = cut_off = 0
    if depth_at is not None:
        trips, rerouted, cut_off = reroute_for_flood(network, trips, depth_at, begin_s, begin_s + duration_s)
    model = TrafficModel(network, controller, trips, begin_s=begin_s)  # type: ignore[arg-type]
    log = RoadFloodLog()
    if depth_at is not None:
        engine.process(flood_updates(model, engine, depth_at, duration_s, update_s, log))
    model.attach(engine, duration_s)
    return FloodedRoads(model, log, rerouted, cut_off)
