"""SUMO files: networks to and from our road layer, routes, configurations and programmes."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString

from twin.errors import InputError
from twin.generate.roads import grid_town
from twin.traffic.demand import DemandConfig, gravity_od, sample_trips
from twin.traffic.network import network_from_graph, network_from_sumo
from twin.traffic.params import TrafficParams
from twin.traffic.signals.controller import SignalController
from twin.traffic.signals.default_plans import default_plans
from twin.traffic.signals.timing import TimingParams
from twin.traffic.signals.webster import retime_webster
from twin.traffic.sumo_case import export_case
from twin.traffic.sumo_io.config import read_sumocfg, write_sumocfg
from twin.traffic.sumo_io.netconvert import edge_id, write_net
from twin.traffic.sumo_io.network import read_net
from twin.traffic.sumo_io.programs import SumoPhase, SumoProgram, read_programs, write_programs
from twin.traffic.sumo_io.routes import read_routes
from twin.traffic.sumo_io.running import netgenerate_grid, run_sumo
from twin.traffic.trips import trips_from_sumo


@pytest.fixture(scope="module")
def grid_net(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grid")
    return netgenerate_grid(folder / "grid.net.xml", number=4, length_m=150.0, lanes=2)


def test_read_net_gives_an_osmnx_graph_with_connections_and_programmes(grid_net):
    import sumolib

    reference = sumolib.net.readNet(str(grid_net))
    net = read_net(grid_net)
    graph = net.graph
    assert graph.number_of_nodes() == len([n for n in reference.getNodes() if n.getType() != "internal"])
    assert graph.number_of_edges() == len(reference.getEdges(withInternal=False))
    for u, v, data in graph.edges(data=True):
        edge = reference.getEdge(data["sumo_id"])
        assert (edge.getFromNode().getID(), edge.getToNode().getID()) == (u, v)
        assert data["length"] == pytest.approx(edge.getLength())
        assert data["lanes"] == edge.getLaneNumber()
        assert data["speed_kph"] == pytest.approx(edge.getSpeed() * 3.6)
    signalised = {n for n, d in graph.nodes(data=True) if d["highway"] == "traffic_signals"}
    assert signalised == set(net.programs) and signalised
    assert all(c.via_length_m > 0 for c in net.connections)
    assert {c.turn for c in net.connections} <= {"L", "T", "R", "U"}


def test_sumo_programmes_become_valid_plans_with_the_same_cycle(grid_net):
    net = read_net(grid_net)
    network = network_from_sumo(net)
    plans = default_plans(network, TimingParams())  # validated when a controller is built
    SignalController.build(network, plans, TimingParams())
    for plan in plans:
        program = net.programs[plan.controller]
        assert plan.cycle_s == pytest.approx(sum(p.duration_s for p in program.phases))
        assert len(plan.phases) == 2


def test_sumo_to_graph_to_sumo_round_trip(grid_net, tmp_path):
    first = read_net(grid_net)
    again_file = write_net(first.graph, tmp_path / "again.net.xml")
    again = read_net(again_file)
    assert set(again.edge_key) == set(first.edge_key)
    assert set(again.graph.nodes) == set(first.graph.nodes)
    for sumo_id, key in first.edge_key.items():
        a, b = first.graph.edges[key], again.graph.edges[again.edge_key[sumo_id]]
        assert b["lanes"] == a["lanes"]
        assert b["speed_kph"] == pytest.approx(a["speed_kph"], abs=0.01)
        assert b["length"] == pytest.approx(a["length"], abs=0.5)
    assert set(again.programs) == set(first.programs)
    pairs = {(c.from_edge, c.to_edge) for c in first.connections}
    assert {(c.from_edge, c.to_edge) for c in again.connections} == pairs


def test_geographic_graph_to_sumo_and_back(tmp_path):
    """A road layer in EPSG:4490 is exported geo-referenced and read back to the same places."""
    graph = nx.MultiDiGraph(crs="EPSG:4490")
    points = {
        "c": (119.60, 25.90),
        "w": (119.595, 25.90),
        "e": (119.605, 25.90),
        "n": (119.60, 25.905),
        "s": (119.60, 25.895),
    }
    for name, (lon, lat) in points.items():
        graph.add_node(name, x=lon, y=lat)
    graph.nodes["c"]["highway"] = "traffic_signals"
    for leg in "wens":
        for u, v in ((leg, "c"), ("c", leg)):
            line = LineString([points[u], points[v]])
            graph.add_edge(
                u,
                v,
                length=500.0,
                lanes=2 if leg in "we" else 1,
                speed_kph=50.0,
                highway="primary" if leg in "we" else "secondary",
                geometry=line,
            )
    back = read_net(write_net(graph, tmp_path / "geo.net.xml"))
    assert back.geo and back.graph.graph["crs"] == "EPSG:4490"
    for name, (lon, lat) in points.items():
        assert back.graph.nodes[name]["x"] == pytest.approx(lon, abs=1e-6)
        assert back.graph.nodes[name]["y"] == pytest.approx(lat, abs=1e-6)
    for u, v, k, data in graph.edges(keys=True, data=True):
        twin = back.graph.edges[back.edge_key[edge_id((u, v, k))]]
        assert twin["lanes"] == data["lanes"]
        # ~500 m in 0.005° of longitude or latitude, less the junction area SUMO cuts off.
        assert 400.0 < twin["length"] < 560.0
    assert back.graph.nodes["c"]["highway"] == "traffic_signals"


ROUTES = """<routes>
  <vType id="car" accel="2.6"/>
  <route id="r0" edges="a b c"/>
  <vehicle id="v1" depart="5.0"><route edges="a b"/></vehicle>
  <vehicle id="v2" depart="1" route="r0"/>
  <trip id="t1" depart="3" from="a" to="c" via="b"/>
  <flow id="f" begin="0" end="10" period="2.5" from="a" to="b"/>
  <flow id="g" begin="0" end="100" number="4" route="r0"/>
  <flow id="h" begin="0" end="3600" vehsPerHour="360" from="b" to="c"/>
  <flow id="p" begin="0" end="1000" probability="0.1" from="a" to="c"/>
</routes>
"""


def test_read_routes_vehicles_trips_and_flows(tmp_path):
    path = tmp_path / "r.rou.xml"
    path.write_text(ROUTES)
    trips = read_routes(path, seed=3)
    by_id = {t.id: t for t in trips}
    assert by_id["v1"].edges == ("a", "b") and by_id["v1"].depart_s == 5.0
    assert by_id["v2"].edges == ("a", "b", "c")
    assert (by_id["t1"].from_edge, by_id["t1"].to_edge, by_id["t1"].via) == ("a", "c", ("b",))
    assert [by_id[f"f.{i}"].depart_s for i in range(4)] == [0.0, 2.5, 5.0, 7.5]
    assert [by_id[f"g.{i}"].depart_s for i in range(4)] == [0.0, 25.0, 50.0, 75.0]
    assert sum(t.id.startswith("h.") for t in trips) == 360
    n_probability = sum(t.id.startswith("p.") for t in trips)
    assert 60 <= n_probability <= 140  # Binomial(1000, 0.1)
    assert [t.depart_s for t in trips] == sorted(t.depart_s for t in trips)


def test_bad_route_files_are_input_errors(tmp_path):
    path = tmp_path / "bad.rou.xml"
    path.write_text('<routes><vehicle id="x" depart="soon"><route edges="a"/></vehicle></routes>')
    with pytest.raises(InputError, match="depart"):
        read_routes(path)
    path.write_text("<routes><trip id='t' depart='1' from='a'/></routes>")
    with pytest.raises(InputError, match="from= and to="):
        read_routes(path)
    with pytest.raises(InputError, match="not found"):
        read_routes(tmp_path / "missing.rou.xml")


def test_sumocfg_round_trip(tmp_path, grid_net):
    routes = tmp_path / "sub" / "x.rou.xml"
    routes.parent.mkdir()
    routes.write_text("<routes/>")
    cfg = write_sumocfg(tmp_path / "case.sumocfg", grid_net, [routes], begin_s=60.0, end_s=900.0)
    config = read_sumocfg(cfg)
    assert config.net_file == grid_net.resolve()
    assert config.route_files == (routes.resolve(),)
    assert (config.begin_s, config.end_s) == (60.0, 900.0)


def test_programmes_written_are_loaded_by_sumo(tmp_path, grid_net):
    net = read_net(grid_net)
    program = next(iter(net.programs.values()))
    longer = SumoProgram(
        program.tl_id,
        "twin",
        "static",
        7.0,
        tuple(SumoPhase(p.duration_s + 3.0, p.state) for p in program.phases),
    )
    add = write_programs([longer], tmp_path / "plans.add.xml")
    routes = tmp_path / "empty.rou.xml"
    routes.write_text("<routes/>")
    result = run_sumo(grid_net, [routes], tmp_path, end_s=10.0, additional_files=[add])
    assert result.empty  # SUMO accepted the programme file
    import sumolib

    loaded = list(sumolib.xml.parse(str(add), "tlLogic"))
    assert loaded[0].programID == "twin"
    assert np.allclose([float(p.duration) for p in loaded[0].phase], [p.duration_s for p in longer.phases])


def test_export_case_runs_in_sumo_with_our_plans(tmp_path):
    """A town's network, Webster plans and trips exported to SUMO: SUMO runs it with our
    programmes, and reading the files back gives our plans and routes again."""
    town = grid_town(size=5, spacing_m=250.0, residents=20_000.0)
    network = network_from_graph(town.graph, TrafficParams())
    od = gravity_od(town.zones, town.graph, DemandConfig())
    trips = sample_trips(od, network, DemandConfig(), 25_200.0, 25_800.0, np.random.default_rng(5))
    timing = TimingParams()
    flows = np.full(network.n_movements, 120.0)
    plans = [
        retime_webster(p, flows[list(p.movements)], network, timing)[0]
        for p in default_plans(network, timing)
    ]
    plans[0] = plans[0].__class__(**{**plans[0].__dict__, "offset_s": 17.0})
    files = export_case(town.graph, network, plans, trips, tmp_path, 25_200.0, 27_000.0)
    assert files == ["case.net.xml", "case.add.xml", "case.rou.xml", "case.sumocfg"]
    config = read_sumocfg(tmp_path / "case.sumocfg")
    result = run_sumo(
        config.net_file,
        list(config.route_files),
        tmp_path,
        begin_s=config.begin_s,
        additional_files=list(config.additional_files),
    )
    assert len(result) == len(trips)  # SUMO drove every exported trip to its end
    net = read_net(config.net_file)
    net.programs.update(read_programs(config.additional_files[0]))
    back = {p.controller: p for p in default_plans(network_from_sumo(net), timing)}
    for plan in plans:
        again = back[plan.controller]
        assert again.cycle_s == pytest.approx(plan.cycle_s)
        assert [p.green_s for p in again.phases] == [p.green_s for p in plan.phases]
        assert again.offset_s == pytest.approx(plan.offset_s)
    routed, skipped = trips_from_sumo(network_from_sumo(net), read_routes(config.route_files[0]))
    assert not skipped and len(routed) == len(trips)
