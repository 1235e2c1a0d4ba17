"""Junction geometry on small generated roads, and the helpers the other traffic tests share.

The road graphs come from :mod:`twin.generate.roads` (local metres, no CRS); ``random_trips`` and
``build`` (imported by the other traffic test modules) give trips and default plans on them. The
tests check that the junction geometry is what a traffic engineer expects.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from twin.generate.roads import add_road, random_grid, signalised_crossing
from twin.traffic.junctions import default_phases, junction_at
from twin.traffic.network import TrafficNetwork, network_from_graph
from twin.traffic.params import TrafficParams
from twin.traffic.routing import LinkRouter
from twin.traffic.signals.default_plans import default_plans
from twin.traffic.signals.plan import SignalPlan
from twin.traffic.signals.timing import TimingParams
from twin.traffic.trips import Trips


def random_trips(network: TrafficNetwork, n: int, horizon_s: float, seed: int, hotspots: int = 0) -> Trips:
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


def build(
    graph: nx.MultiDiGraph, params: TrafficParams | None = None, timing: TimingParams | None = None
) -> tuple[TrafficNetwork, list[SignalPlan]]:
    """Network and default plans of ``graph``."""
    network = network_from_graph(graph, params or TrafficParams())
    return network, default_plans(network, timing or TimingParams())


# --------------------------------------------------------------------------------------------


def test_crossing_movements_and_conflicts():
    graph = signalised_crossing()
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
    graph = signalised_crossing()
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
    graph = random_grid(3, 3, seed=1)
    network, plans = build(graph)
    assert network.n_links == graph.number_of_edges()
    assert len(plans) == len(network.controllers) > 0
    trips = random_trips(network, 20, 300.0, seed=2)
    assert len(trips) == 20  # a strongly connected grid: every pair is reachable
