"""The generated road graphs the traffic tests and the synthetic town run on (twin.generate.roads)."""

from __future__ import annotations

import numpy as np
import pytest

from twin.generate.roads import (
    Street,
    arterial_corridor,
    grid_town,
    one_way_ring,
    random_grid,
    signalised_crossing,
    street_grid,
)


def _signals(graph) -> set:
    return {n for n, d in graph.nodes(data=True) if d.get("highway") == "traffic_signals"}


def test_street_grid_lays_nodes_on_the_grid_and_asks_each_line_for_its_street():
    asked = []

    def street(axis, line):
        asked.append((axis, line))
        return Street(lanes=2 if axis == "row" else 1, speed_kph=36.0, highway="tertiary", name=f"{axis} {line}")

    graph = street_grid(3, 2, 100.0, street)
    assert graph.graph["crs"] is None
    assert graph.nodes[1 * 2 + 1]["x"] == 100.0 and graph.nodes[1 * 2 + 1]["y"] == 100.0
    assert graph.number_of_edges() == 2 * (2 * 2 + 3 * 1)  # two-way block sides: 2 per row, 1 per column
    assert sorted(set(asked)) == [("column", 0), ("column", 1), ("column", 2), ("row", 0), ("row", 1)]
    edge = graph.edges[(0, 2, 0)]  # along row 0
    assert (edge["lanes"], edge["name"], edge["length"], edge["oneway"]) == (2, "row 0", 100.0, False)
    assert edge["travel_time"] == pytest.approx(10.0)


def test_random_grid_is_reproducible_and_signals_only_four_way_junctions():
    a, b = random_grid(4, 4, seed=5), random_grid(4, 4, seed=5)
    assert list(a.edges(data=True)) == list(b.edges(data=True)) and _signals(a) == _signals(b)
    assert all(a.degree(n) >= 6 for n in _signals(a))
    assert not _signals(random_grid(4, 4, seed=5, signal_share=0.0))
    assert {d["lanes"] for *_, d in random_grid(4, 4, seed=1, lane_choices=(3,)).edges(data=True)} == {3}


def test_grid_town_has_arterials_every_third_line_signals_where_they_meet_and_zones():
    town = grid_town(size=7, spacing_m=200.0, residents=10_000.0)
    graph = town.graph
    assert graph.edges[(1 * 7 + 0, 1 * 7 + 1, 0)]["highway"] == "primary"  # column 1 is an arterial
    assert graph.edges[(0, 1, 0)]["highway"] == "tertiary"
    assert graph.edges[(1 * 7 + 0, 1 * 7 + 1, 0)]["lanes"] == 2
    assert {1 * 7 + 1, 1 * 7 + 4, 4 * 7 + 1, 4 * 7 + 4} <= _signals(graph)
    assert town.zones["residents"].sum() == pytest.approx(10_000.0)
    assert town.zones["jobs"].sum() == pytest.approx(5_000.0)
    assert set(town.zones["node"]) == set(graph.nodes)
    assert town.centre_nodes == {i * 7 + j for i in range(2, 5) for j in range(2, 5)}


def test_metric_corridor_matches_the_geographic_one_in_shape():
    metric = arterial_corridor(n_nodes=5, spacing_m=300.0, signal_every=1, cross_street_m=150.0, geographic=False)
    geographic = arterial_corridor(n_nodes=5, spacing_m=300.0, signal_every=1, cross_street_m=150.0)
    assert metric.graph["crs"] is None and geographic.graph["crs"] == "EPSG:4490"
    assert set(metric.edges(keys=True)) == set(geographic.edges(keys=True))
    assert _signals(metric) == _signals(geographic) == {1, 2, 3}
    assert (metric.nodes[3]["x"], metric.nodes[100_003]["y"], metric.nodes[200_003]["y"]) == (900.0, 150.0, -150.0)
    for edge in metric.edges(keys=True):
        assert metric.edges[edge]["length"] == geographic.edges[edge]["length"]


def test_the_small_cases():
    crossing = signalised_crossing(lanes_ew=2)
    assert _signals(crossing) == {"J"}
    assert crossing.edges[("W", "J", 0)]["lanes"] == 2 and crossing.edges[("FW", "W", 0)]["oneway"]
    assert not crossing.has_edge("W", "FW")
    ring = one_way_ring()
    assert all(d["oneway"] for *_, d in ring.edges(data=True))
    assert [v for _, v in ring.out_edges("A") if v in "ABCD"] == ["B"]
    assert np.isclose(ring.edges[("A", "B", 0)]["length"], 40.0)
