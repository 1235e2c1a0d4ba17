"""What a bus sees of the traffic signals, and transit signal priority (TSP) through the traffic model.

* :class:`JunctionSignals` is the bus model's view of the signals: is this junction signalised
  or connected (V2X), is my movement green, and a priority request and its release.
* :class:`TrafficSignals` implements it over a running :class:`twin.traffic.model.TrafficModel`:
  the bus reads its movement's live state, and its requests reach the traffic layer's signal
  controllers (green extension or early green).
* :func:`junction_traffic` builds, once per scenario, the traffic model of the signalised
  junctions a line crosses with Poisson background traffic on every approach
  (:class:`JunctionTraffic`); each operating plan starts a fresh copy on its own engine, so all
  plans meet the same background vehicles, and :meth:`JunctionTraffic.delays` measures what
  priority did to everyone else's delay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
from pydantic import Field

from kernels.traffic.layout import PERMITTED
from twin.config import StrictModel
from twin.errors import InputError
from twin.traffic.model import TrafficModel
from twin.traffic.network import TrafficNetwork, network_from_graph
from twin.traffic.params import TrafficParams
from twin.traffic.signals.controller import SignalController
from twin.traffic.signals.default_plans import default_plans
from twin.traffic.signals.timing import TimingParams
from twin.traffic.trips import Trips
from twin.transit.lines import Edge

if TYPE_CHECKING:
    import networkx as nx

    from twin.engine import Engine


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


class SignalsConfig(StrictModel):
    """Signalised junctions on the route, run by the traffic layer's model and controllers.

    With ``model = "traffic"`` the junctions the line crosses are simulated by
    :class:`twin.traffic.model.TrafficModel` with background traffic on every approach, on the
    same clock as the buses: buses wait for their movement's green, priority buses call the
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
    """:class:`JunctionSignals` over a running :class:`twin.traffic.model.TrafficModel`.

    The bus reads the live state of its movement (green = permitted or protected) and sends
    priority requests through :meth:`twin.traffic.signals.SignalController.request_priority`,
    which the kernel honours as a green extension or an early green.
    """

    def __init__(self, model: TrafficModel, connected: set[int], poll_s: float, detection_s: float) -> None:
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
        """The traffic model's movement index from ``in_edge`` into ``out_edge``."""
        net = self.network
        key = (net.link_index[in_edge], net.link_index[out_edge])
        if key not in net.mov_lookup:
            raise InputError(
                f"junction {in_edge[1]}: the traffic model has no movement {in_edge} -> {out_edge}"
            )
        return net.mov_lookup[key]

    def is_green(self, node: int, in_edge: Edge, out_edge: Edge) -> bool:
        return int(self.model.state.mov_state[self.movement(in_edge, out_edge)]) >= PERMITTED

    def request_priority(self, node: int, in_edge: Edge, out_edge: Edge, eta_s: float) -> None:
        self.model.controller.request_priority(
            self._controller[node], self.movement(in_edge, out_edge), eta_s, state=self.model.state
        )

    def clear_priority(self, node: int) -> None:
        self.model.controller.clear_priority(self._controller[node])


@dataclass
class JunctionTraffic:
    """The signalised junctions a line crosses, with background traffic, ready to run per plan.

    Built by :func:`junction_traffic`; :meth:`start` attaches a fresh traffic model to an engine
    (identical background vehicles every time), :meth:`delays` reads its measured delays.
    """

    network: TrafficNetwork
    trips: Trips
    nodes: list[int]
    connected: set[int]
    main_links: set[int]
    config: SignalsConfig

    def timing(self) -> TimingParams:
        """Fixed-time plans on ``cycle_s`` with priority extensions up to ``tsp_max_extension_s``."""
        return TimingParams(default_cycle_s=self.config.cycle_s,
                            tsp_max_extension_s=self.config.tsp_max_extension_s)

    def start(self, engine: Engine) -> tuple[TrafficModel, TrafficSignals]:
        """A new traffic model on ``engine`` (time 0 = engine time 0) and the buses' view of it."""
        timing = self.timing()
        controller = SignalController.build(self.network, default_plans(self.network, timing), timing)
        model = TrafficModel(self.network, controller, self.trips, begin_s=0.0)
        model.attach(engine, engine.duration_s)
        return model, TrafficSignals(model, self.connected, self.config.poll_s, self.config.detection_s)

    def delays(self, model: TrafficModel) -> dict[str, float]:
        """Background traffic's stop-line delay at the line's junctions, by approach kind (s/veh)."""
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


def _route_nodes_and_junctions(graph: nx.MultiDiGraph, routes: list[list[Edge]]) -> tuple[list[int], list[int]]:
    """The nodes along the routes, in running order, and the signalised ones a bus drives through
    (enters and leaves on the route), sorted by name."""
    route_nodes: list[int] = []
    interior: set[int] = set()
    for edges in routes:
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            if a[1] == b[0]:
                interior.add(a[1])
        route_nodes += [e[0] for e in edges[:1]] + [e[1] for e in edges]
    nodes = sorted((n for n in interior if graph.nodes[n].get("highway") == "traffic_signals"), key=str)
    return route_nodes, nodes


def _junction_network(
    graph: nx.MultiDiGraph, routes: list[list[Edge]], route_nodes: list[int], nodes: list[int],
    config: SignalsConfig,
) -> tuple[TrafficNetwork, set[int]]:
    """The traffic network of the routes and every leg of their signalised junctions, and its
    links along the routes (either way: the main road)."""
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
    return network, main_links


def _connected_junctions(route_nodes: list[int], nodes: list[int], connected_share: float) -> set[int]:
    """The first ``connected_share`` of the signalised junctions in running order: the V2X ones."""
    order = {n: k for k, n in enumerate(dict.fromkeys(route_nodes))}
    by_position = sorted(nodes, key=order.get)
    n_connected = int(round(connected_share * len(nodes)))
    return set(by_position[:n_connected])


def _background_trips(
    network: TrafficNetwork, nodes: list[int], main_links: set[int], config: SignalsConfig,
    duration_s: float, rng: np.random.Generator,
) -> Trips:
    """Poisson vehicles on every approach of ``nodes``, split into left, right and through; each
    runs its approach link and the link it turns into."""
    ids, departs, routes = [], [], []
    through_share = max(0.0, 1.0 - config.left_share - config.right_share)
    shares = {"L": config.left_share, "R": config.right_share, "T": through_share}
    for node in nodes:
        by_approach: dict[int, list[int]] = {}
        for m in network.controllers[str(node)]:
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
    return Trips(ids, np.array(departs, dtype=float), routes)


def junction_traffic(
    graph: nx.MultiDiGraph,
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
    route_nodes, nodes = _route_nodes_and_junctions(graph, routes)
    if not nodes:
        return None
    network, main_links = _junction_network(graph, routes, route_nodes, nodes, config)
    connected = _connected_junctions(route_nodes, nodes, config.connected_share)
    trips = _background_trips(network, nodes, main_links, config, duration_s, rng)
    return JunctionTraffic(network, trips, nodes, connected, main_links, config)
