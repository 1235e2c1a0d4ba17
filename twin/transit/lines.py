"""Bus lines, stops and stop patterns over the road graph.

The transit network sits on the road graph (OSMnx schema, see ``docs/data_model.md``):

* a :class:`Stop` lies on a road node;
* a :class:`BusLine` has one or two :class:`Pattern` s (direction 0 and, unless it is a loop or
  one-way service, direction 1); a pattern is a stop sequence plus the road edges of each leg
  between consecutive stops;
* a :class:`TransitNetwork` holds the stops and lines over one road graph.

:func:`build_pattern` lays a stop sequence on the roads, :func:`served_pairs` lists the stop
pairs a network serves without a transfer, and :func:`corridor_line` puts a line on the
generated arterial corridor for checks. Reading and writing the layer's tables is
:mod:`twin.transit.layer`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from twin.city.travel_times import FreeFlowTravelTimes, fastest_route
from twin.errors import InputError
from twin.transit.vehicles import VEHICLE_TYPES

if TYPE_CHECKING:
    import networkx as nx

    from twin.city.travel_times import TravelTimes

Edge = tuple[int, int, int]
"""A road edge ``(u, v, key)`` of the OSMnx multigraph."""


@dataclass(frozen=True)
class Stop:
    """A bus stop on road node ``node`` at ``lon``/``lat`` (EPSG:4490 degrees)."""

    stop_id: str
    name: str
    node: int
    lon: float
    lat: float


@dataclass
class Pattern:
    """One direction of a line: its stops in order and the road edges of each leg.

    Attributes
    ----------
    direction
        0 or 1 (GTFS ``direction_id``).
    stop_ids
        Stops in running order; the first is the terminal where buses are dispatched.
    legs
        ``legs[k]`` are the road edges from ``stop_ids[k]`` to ``stop_ids[k + 1]`` (empty when
        two consecutive stops share a node).
    leg_length_m
        Length of each leg (m).
    """

    direction: int
    stop_ids: list[str]
    legs: list[list[Edge]]
    leg_length_m: list[float]

    def __post_init__(self) -> None:
        if len(self.legs) != len(self.stop_ids) - 1 or len(self.leg_length_m) != len(self.legs):
            raise ValueError("a pattern needs one leg (and one leg length) per pair of stops")
        # later[k]: the stops a passenger boarding at position k can reach on this pattern.
        self.later: list[frozenset[str]] = []
        reachable: set[str] = set()
        for stop_id in reversed(self.stop_ids):
            self.later.append(frozenset(reachable))
            reachable.add(stop_id)
        self.later.reverse()

    @property
    def n_stops(self) -> int:
        return len(self.stop_ids)

    @property
    def length_m(self) -> float:
        """Length from the first to the last stop (m)."""
        return float(sum(self.leg_length_m))

    @property
    def position_m(self) -> list[float]:
        """Distance of each stop from the first stop along the pattern (m)."""
        return [0.0, *np.cumsum(self.leg_length_m).tolist()]

    def route_nodes(self) -> list[int]:
        """Road nodes along the whole pattern, first stop to last."""
        nodes: list[int] = []
        for leg in self.legs:
            for u, v, _ in leg:
                if not nodes:
                    nodes.append(u)
                nodes.append(v)
        return nodes

    def edges(self) -> list[Edge]:
        """Every road edge of the pattern, in running order."""
        return [edge for leg in self.legs for edge in leg]


@dataclass
class BusLine:
    """A bus line: one or two patterns, a planned headway and the vehicle type that runs it."""

    line_id: str
    name: str
    headway_s: float
    vehicle_type: str
    autonomous: bool
    patterns: dict[int, Pattern]

    def pattern(self, direction: int) -> Pattern:
        return self.patterns[direction]

    @property
    def directions(self) -> list[int]:
        return sorted(self.patterns)


@dataclass
class TransitNetwork:
    """Stops and lines over one road graph."""

    stops: dict[str, Stop]
    lines: dict[str, BusLine]
    graph: nx.MultiDiGraph | None = field(default=None, repr=False)

    def line(self, line_id: str) -> BusLine:
        if line_id not in self.lines:
            raise InputError(f"line {line_id!r}: not in the transit layer (known: {', '.join(self.lines)})")
        return self.lines[line_id]

    def subset(self, line_ids: Iterable[str]) -> TransitNetwork:
        """The network restricted to ``line_ids`` and the stops they use."""
        lines = {line_id: self.line(line_id) for line_id in line_ids}
        used = {s for line in lines.values() for p in line.patterns.values() for s in p.stop_ids}
        return TransitNetwork({s: self.stops[s] for s in self.stops if s in used}, lines, self.graph)


def served_pairs(network: TransitNetwork) -> set[tuple[str, str]]:
    """Stop pairs (origin, destination) that at least one pattern serves without a transfer."""
    pairs: set[tuple[str, str]] = set()
    for line in network.lines.values():
        for pattern in line.patterns.values():
            for k, stop_id in enumerate(pattern.stop_ids):
                pairs.update((stop_id, d) for d in pattern.later[k] if d != stop_id)
    return pairs


def _edge_between(graph: nx.MultiDiGraph, u: int, v: int) -> Edge:
    """The shortest parallel edge from ``u`` to ``v`` (OSMnx graphs may hold several)."""
    keys = graph[u][v]
    key = min(keys, key=lambda k: (float(keys[k]["length"]), k))
    return (u, v, key)


def edges_along(graph: nx.MultiDiGraph, nodes: Sequence[int]) -> list[Edge]:
    """The edges of a node path, taking the shortest parallel edge between each pair."""
    missing = [(u, v) for u, v in zip(nodes[:-1], nodes[1:], strict=True) if not graph.has_edge(u, v)]
    if missing:
        raise InputError(f"route nodes {missing[0][0]} -> {missing[0][1]}: no road edge between them")
    return [_edge_between(graph, u, v) for u, v in zip(nodes[:-1], nodes[1:], strict=True)]


def _legs_along_route(
    graph: nx.MultiDiGraph, stop_nodes: Sequence[int], stop_ids: Sequence[str], route_nodes: Sequence[int]
) -> list[list[Edge]]:
    """The legs between consecutive stops, cut out of a full node path that passes them in order."""
    path = list(route_nodes)
    cursor = 0
    cuts = []
    for stop_id, node in zip(stop_ids, stop_nodes, strict=True):
        try:
            cursor = path.index(node, cursor)
        except ValueError:
            raise InputError(
                f"stop {stop_id!r} (node {node}) is not on the route nodes after position {cursor}"
            ) from None
        cuts.append(cursor)
    return [edges_along(graph, path[a : b + 1]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def _legs_by_fastest_route(
    graph: nx.MultiDiGraph, stop_nodes: Sequence[int], travel_times: TravelTimes | None
) -> list[list[Edge]]:
    """The fastest road route between each pair of consecutive stops (empty for a shared node)."""
    times = travel_times if travel_times is not None else FreeFlowTravelTimes(graph)
    legs: list[list[Edge]] = []
    for origin, destination in zip(stop_nodes[:-1], stop_nodes[1:], strict=True):
        if origin == destination:
            legs.append([])
            continue
        legs.append(fastest_route(graph, times, int(origin), int(destination)).edges)
    return legs


def build_pattern(
    graph: nx.MultiDiGraph,
    stop_nodes: Sequence[int],
    stop_ids: Sequence[str],
    direction: int,
    travel_times: TravelTimes | None = None,
    route_nodes: Sequence[int] | None = None,
) -> Pattern:
    """A pattern whose legs follow ``route_nodes`` if given, else the fastest road route.

    Parameters
    ----------
    graph
        The road graph.
    stop_nodes, stop_ids
        The stops' road nodes and ids, in running order.
    direction
        0 or 1.
    travel_times
        Link times for the fastest routes (default: free flow).
    route_nodes
        The full node path of the pattern; every stop node must appear on it, in order.
    """
    if len(stop_nodes) != len(stop_ids) or len(stop_nodes) < 2:
        raise InputError(f"pattern of {list(stop_ids)}: needs at least two stops with one node each")
    if route_nodes is not None:
        legs = _legs_along_route(graph, stop_nodes, stop_ids, route_nodes)
    else:
        legs = _legs_by_fastest_route(graph, stop_nodes, travel_times)
    lengths = [float(sum(graph.edges[e]["length"] for e in leg)) for leg in legs]
    return Pattern(direction, list(stop_ids), legs, lengths)


def corridor_line(
    graph: nx.MultiDiGraph,
    stop_every: int = 2,
    headway_s: float = 600.0,
    line_id: str = "L1",
    vehicle: str = "bus_12m",
    two_way: bool = True,
) -> TransitNetwork:
    """A line along :func:`twin.generate.roads.arterial_corridor` with a stop on every ``stop_every``-th node."""
    nodes = sorted(n for n in graph.nodes if n < 100_000)  # the avenue, not its cross streets
    stop_nodes = nodes[::stop_every]
    if stop_nodes[-1] != nodes[-1]:
        stop_nodes.append(nodes[-1])
    stops = {
        f"S{n}": Stop(f"S{n}", f"stop {n}", n, float(graph.nodes[n]["x"]), float(graph.nodes[n]["y"]))
        for n in stop_nodes
    }
    ids = [f"S{n}" for n in stop_nodes]
    patterns = {0: build_pattern(graph, stop_nodes, ids, 0)}
    if two_way:
        patterns[1] = build_pattern(graph, stop_nodes[::-1], ids[::-1], 1)
    autonomous = VEHICLE_TYPES[vehicle].autonomous if vehicle in VEHICLE_TYPES else False
    line = BusLine(line_id, f"line {line_id}", headway_s, vehicle, autonomous, patterns)
    return TransitNetwork(stops, {line_id: line}, graph)
