"""Time-dependent routing over the road graph against networkx's static Dijkstra."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twin.city.travel_times import FreeFlowTravelTimes, TimeOfDayTravelTimes, fastest_route
from twin.generate.roads import Street, street_grid


def grid_graph(n: int, seed: int) -> nx.MultiDiGraph:
    """An n × n grid of 100 m two-way streets at 30, 50 or 60 km/h, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    graph = street_grid(n, n, 100.0, lambda axis, line: Street(speed_kph=float(rng.choice([30, 50, 60]))))
    graph.graph["crs"] = "EPSG:4549"
    return graph


@given(seed=st.integers(0, 500), origin=st.integers(0, 15), destination=st.integers(0, 15))
def test_free_flow_route_equals_static_dijkstra(seed, origin, destination):
    graph = grid_graph(4, seed)
    for _, _, data in graph.edges(data=True):
        data["weight_s"] = data["length"] / (data["speed_kph"] / 3.6)
    route = fastest_route(graph, FreeFlowTravelTimes(graph), origin, destination, depart_s=100.0)
    expected = nx.shortest_path_length(graph, origin, destination, weight="weight_s")
    assert route.duration_s == pytest.approx(expected)
    assert route.nodes[0] == origin and route.nodes[-1] == destination
    assert route.length_m == pytest.approx(100.0 * len(route.edges))


def test_time_of_day_table_changes_the_route_and_round_trips():
    graph = grid_graph(3, 0)
    free = FreeFlowTravelTimes(graph)
    direct = fastest_route(graph, free, 0, 2)
    jammed = direct.edges[0]
    table = TimeOfDayTravelTimes([jammed], np.array([0.0, 3600.0]), np.array([[900.0, 5.0]]), free)
    assert fastest_route(graph, table, 0, 2, depart_s=0.0).edges[0] != jammed
    assert table.edge_time_s(jammed, 4000.0) == 5.0
    again = TimeOfDayTravelTimes.from_frame(table.to_frame(), free)
    assert again.edge_time_s(jammed, 10.0) == 900.0


def test_unreachable_raises():
    graph = grid_graph(2, 0)
    graph.add_node(99, x=0.0, y=0.0)
    with pytest.raises(nx.NetworkXNoPath):
        fastest_route(graph, FreeFlowTravelTimes(graph), 0, 99)
