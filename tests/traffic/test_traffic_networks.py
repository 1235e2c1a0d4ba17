"""Small road networks for the traffic tests (imported by the other traffic test modules).

The builders make OSMnx-schema graphs in local metres (no CRS). The tests at the bottom check
that the junction geometry on them is what a traffic engineer expects.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from twin.traffic.junctions import default_phases, junction_at
from twin.traffic.model import LinkRouter, TrafficParams, Trips, default_plans, network_from_graph
from twin.traffic.signals import TimingParams


def add_road(
    graph: nx.MultiDiGraph,
    a,
    b,
    lanes: int = 1,
    speed_kph: float = 50.0,
    highway: str = "secondary",
    both: bool = True,
) -> None:
    """A straight road a→b (and b→a) with OSMnx attributes; length from the node positions."""
    ax, ay = graph.nodes[a]["x"], graph.nodes[a]["y"]
    bx, by = graph.nodes[b]["x"], graph.nodes[b]["y"]
    length = float(np.hypot(bx - ax, by - ay))
    pairs = [(a, b), (b, a)] if both else [(a, b)]
    for u, v in pairs:
        graph.add_edge(
            u,
            v,
            length=length,
            lanes=lanes,
            speed_kph=speed_kph,
            highway=highway,
            oneway=not both,
            travel_time=length / (speed_kph / 3.6),
        )


def cross_graph(
    arm_m: float = 400.0, lanes_ew: int = 1, lanes_ns: int = 1, feeder_lanes: int = 4
) -> nx.MultiDiGraph:
    """An isolated signalised crossing J with arms W, E, N, S and wide feeders before W and N.

    The feeders (``FW → W``, ``FN → N``) let Poisson arrivals reach the approach unsmoothed.
    """
    graph = nx.MultiDiGraph(crs=None)
    for name, x, y in [
        ("J", 0, 0),
        ("W", -arm_m, 0),
        ("E", arm_m, 0),
        ("N", 0, arm_m),
        ("S", 0, -arm_m),
        ("FW", -arm_m - 200, 0),
        ("FN", 0, arm_m + 200),
    ]:
        graph.add_node(name, x=float(x), y=float(y))
    graph.nodes["J"]["highway"] = "traffic_signals"
    add_road(graph, "W", "J", lanes_ew)
    add_road(graph, "J", "E", lanes_ew)
    add_road(graph, "N", "J", lanes_ns)
    add_road(graph, "J", "S", lanes_ns)
    add_road(graph, "FW", "W", feeder_lanes, both=False)
    add_road(graph, "FN", "N", feeder_lanes, both=False)
    return graph


def grid_graph(
    nx_: int,
    ny: int,
    spacing_m: float = 150.0,
    seed: int = 0,
    signal_share: float = 0.5,
    lane_choices: tuple[int, ...] = (1, 2),
    jitter_m: float = 0.0,
) -> nx.MultiDiGraph:
    """A grid of two-way roads with random lanes and a random share of signalised junctions."""
    rng = np.random.default_rng(seed)
    graph = nx.MultiDiGraph(crs=None)
    for i in range(nx_):
        for j in range(ny):
            dx, dy = rng.uniform(-jitter_m, jitter_m, 2) if jitter_m else (0.0, 0.0)
            graph.add_node(i * ny + j, x=i * spacing_m + dx, y=j * spacing_m + dy)
    for i in range(nx_):
        for j in range(ny):
            if i + 1 < nx_:
                add_road(
                    graph,
                    i * ny + j,
                    (i + 1) * ny + j,
                    int(rng.choice(lane_choices)),
                    highway=str(rng.choice(["primary", "secondary", "tertiary"])),
                )
            if j + 1 < ny:
                add_road(
                    graph,
                    i * ny + j,
                    i * ny + j + 1,
                    int(rng.choice(lane_choices)),
                    highway=str(rng.choice(["primary", "secondary", "tertiary"])),
                )
    for node in graph.nodes:
        if graph.degree(node) >= 6 and rng.random() < signal_share:
            graph.nodes[node]["highway"] = "traffic_signals"
    return graph


def random_trips(network, n: int, horizon_s: float, seed: int, hotspots: int = 0) -> Trips:
    """``n`` trips between random links, departing uniformly over ``horizon_s``, fastest routes.

    With ``hotspots > 0`` every destination is one of that many links, so queues build up.
    """
    rng = np.random.default_rng(seed)
    origins = rng.integers(0, network.n_links, n)
    if hotspots:
        destinations = rng.choice(rng.integers(0, network.n_links, hotspots), n)
    else:
        destinations = rng.integers(0, network.n_links, n)
    routes = LinkRouter(network).routes(origins, destinations)
    keep = [i for i, r in enumerate(routes) if r is not None]
    depart = np.sort(rng.uniform(0.0, horizon_s, len(keep)))
    return Trips([f"v{i}" for i in keep], depart, [routes[i] for i in keep])


def build(graph: nx.MultiDiGraph, params: TrafficParams | None = None, timing: TimingParams | None = None):
    """Network and default plans of ``graph``."""
    network = network_from_graph(graph, params or TrafficParams())
    return network, default_plans(network, timing or TimingParams())


# --------------------------------------------------------------------------------------------


def test_crossing_movements_and_conflicts():
    graph = cross_graph()
    junction = junction_at(graph, "J")
    turns = {(m.in_edge[0], m.out_edge[1]): m.turn for m in junction.movements}
    # Heading east from W: N is a left, S a right (right-hand traffic, bearings clockwise).
    assert turns[("W", "E")] == "T"
    assert turns[("W", "N")] == "L"
    assert turns[("W", "S")] == "R"
    assert ("W", "W") not in turns  # no U-turns at a through junction
    index = {(m.in_edge[0], m.out_edge[1]): i for i, m in enumerate(junction.movements)}
    c = junction.conflicts
    assert c[index[("W", "E")], index[("N", "S")]]  # crossing throughs
    assert c[index[("W", "N")], index[("E", "W")]]  # a left crosses the opposing through
    assert not c[index[("W", "N")], index[("E", "S")]]  # opposing lefts pass each other
    assert c[index[("W", "S")], index[("E", "S")]]  # a right merges with the opposing left
    assert not c[index[("W", "E")], index[("W", "N")]]  # same approach: diverging
    assert not c[index[("W", "E")], index[("E", "W")]]  # opposing throughs


def test_default_phases_two_and_four_phase():
    graph = cross_graph()
    junction = junction_at(graph, "J")
    two = default_phases(junction)
    assert len(two) == 2
    four = default_phases(junction, four_phase=True)
    assert len(four) == 4
    for phases in (two, four):
        for phase in phases:
            protected = [i for i, s in phase.items() if s == "G"]
            assert not any(junction.conflicts[a, b] for a in protected for b in protected)
        served = set().union(*phases)
        assert served == set(range(len(junction.movements)))


def test_t_junction_two_phases_main_road_then_stem():
    graph = nx.MultiDiGraph(crs=None)
    for name, x, y in [("J", 0, 0), ("W", -200, 0), ("E", 200, 0), ("S", 0, -200)]:
        graph.add_node(name, x=float(x), y=float(y))
    add_road(graph, "W", "J", 2, highway="primary")
    add_road(graph, "J", "E", 2, highway="primary")
    add_road(graph, "S", "J", 1, highway="tertiary")
    junction = junction_at(graph, "J")
    phases = default_phases(junction)
    assert len(phases) == 2
    stem = [junction.movements[i].in_edge[0] for i in phases[1]]
    assert set(stem) == {"S"}


def test_grid_network_builds_and_routes():
    graph = grid_graph(3, 3, seed=1)
    network, plans = build(graph)
    assert network.n_links == graph.number_of_edges()
    assert len(plans) == len(network.controllers) > 0
    trips = random_trips(network, 20, 300.0, seed=2)
    assert len(trips) == 20  # a strongly connected grid: every pair is reachable
