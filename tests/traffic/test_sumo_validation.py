"""Our mesoscopic model against SUMO 1.28 (microscopic) on the same ``.net.xml`` and routes.

Networks: a ``netgenerate`` grid with traffic lights and an arterial corridor of six signalised
junctions built from our road layer and exported with :func:`twin.io.sumo.write_net`. Demand:
SUMO's ``randomTrips.py`` at moderate levels. Both models run every trip to its end without
teleporting; the mean travel time must agree within 10 % and the throughput over the demand
period within 5 %. (The 滨海新城 area exported to SUMO is compared in
``test_sumo_binhai.py``.)
"""

from __future__ import annotations

import networkx as nx
import pytest
from test_traffic_networks import add_road

from twin.traffic import sumo_io as sumo
from twin.traffic.model import default_plans, network_from_sumo, simulate, trips_from_sumo
from twin.traffic.signals import TimingParams

DEMAND_END_S = 1800.0


def corridor_graph(junctions: int = 6, spacing_m: float = 300.0, side_m: float = 200.0) -> nx.MultiDiGraph:
    """A two-lane 60 km/h arterial through ``junctions`` signalised crossings of 40 km/h streets."""
    graph = nx.MultiDiGraph(crs=None)
    for i in range(junctions + 2):
        graph.add_node(f"a{i}", x=i * spacing_m, y=0.0)
    for i in range(1, junctions + 1):
        graph.nodes[f"a{i}"]["highway"] = "traffic_signals"
        graph.add_node(f"n{i}", x=i * spacing_m, y=side_m)
        graph.add_node(f"s{i}", x=i * spacing_m, y=-side_m)
        add_road(graph, f"n{i}", f"a{i}", 1, 40.0, "tertiary")
        add_road(graph, f"a{i}", f"s{i}", 1, 40.0, "tertiary")
    for i in range(junctions + 1):
        add_road(graph, f"a{i}", f"a{i + 1}", 2, 60.0, "primary")
    for u, v, data in graph.edges(data=True):
        data["name"] = "Main Road" if str(u).startswith("a") and str(v).startswith("a") else f"Side {u}{v}"
    return graph


def compare_with_sumo(net_file, routes_file, out_dir):
    """Mean travel times and throughputs (arrivals by the end of demand) of SUMO and ours."""
    reference = sumo.run_sumo(net_file, [routes_file], out_dir)
    network = network_from_sumo(sumo.read_net(net_file))
    trips, skipped = trips_from_sumo(network, sumo.read_routes(routes_file))
    assert not skipped
    timing = TimingParams()
    ours = simulate(network, default_plans(network, timing), trips, 0.0, 4 * DEMAND_END_S, timing).tripinfo()
    assert len(ours) == len(reference) == len(trips)  # everybody arrives, nobody teleports
    return {
        "sumo_mean_s": reference["duration_s"].mean(),
        "ours_mean_s": ours["duration_s"].mean(),
        "sumo_throughput": int((reference["arrival_s"] <= DEMAND_END_S).sum()),
        "ours_throughput": int((ours["arrival_s"] <= DEMAND_END_S).sum()),
    }


def _check(result):
    assert result["ours_mean_s"] == pytest.approx(result["sumo_mean_s"], rel=0.10), result
    assert result["ours_throughput"] == pytest.approx(result["sumo_throughput"], rel=0.05), result


@pytest.mark.parametrize("period_s", [2.0, 1.0])
def test_netgenerate_grid_with_signals(tmp_path, period_s):
    net = sumo.netgenerate_grid(tmp_path / "grid.net.xml", number=5, length_m=200.0, lanes=2)
    routes = sumo.random_trips(
        net,
        tmp_path / "grid.rou.xml",
        0.0,
        DEMAND_END_S,
        period_s,
        seed=7,
        extra_args=["--fringe-factor", "5", "--min-distance", "300"],
    )
    _check(compare_with_sumo(net, routes, tmp_path))


@pytest.mark.parametrize("period_s", [4.0, 2.0])
def test_arterial_corridor(tmp_path, period_s):
    net = sumo.write_net(corridor_graph(), tmp_path / "corridor.net.xml")
    routes = sumo.random_trips(
        net,
        tmp_path / "corridor.rou.xml",
        0.0,
        DEMAND_END_S,
        period_s,
        seed=3,
        extra_args=["--fringe-factor", "10"],
    )
    _check(compare_with_sumo(net, routes, tmp_path))
