"""GTFS export and import: feeds load in gtfs-kit, and lines survive the round trip."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import gtfs_kit
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString

from twin.engine import Engine
from twin.errors import InputError
from twin.transit.buses import BusSimulation
from twin.transit.demand import poisson_demand
from twin.transit.gtfs import (
    gtfs_time_to_seconds,
    import_gtfs,
    planned_feed,
    seconds_to_gtfs_time,
    simulated_feed,
    write_feed,
)
from twin.transit.lines import BusLine, Stop, TransitNetwork, build_pattern, served_pairs
from twin.transit.service import OperationsConfig, ServiceConfig
from twin.transit.vehicles import VEHICLE_TYPES

LON0, LAT0 = 119.60, 25.90
STEP_DEG = 0.004  # about 400 m east-west, 445 m north-south


def grid_graph(n: int = 5) -> nx.MultiDiGraph:
    """An n × n grid of two-way 主干路 in EPSG:4490, node id = 10·i + j."""
    graph = nx.MultiDiGraph(crs="EPSG:4490")
    for i in range(n):
        for j in range(n):
            graph.add_node(10 * i + j, x=LON0 + i * STEP_DEG, y=LAT0 + j * STEP_DEG)
    from twin.crs import haversine_m

    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n:
                    a, b = 10 * i + j, 10 * (i + di) + j + dj
                    for u, v in ((a, b), (b, a)):
                        pu, pv = graph.nodes[u], graph.nodes[v]
                        length = haversine_m(pu["x"], pu["y"], pv["x"], pv["y"])
                        graph.add_edge(u, v, 0, length=length, speed_kph=40.0, highway="primary",
                                       lanes=2, maxspeed="40", oneway=False,
                                       geometry=LineString([(pu["x"], pu["y"]), (pv["x"], pv["y"])]))
    return graph


def two_line_network(graph: nx.MultiDiGraph) -> TransitNetwork:
    """L1: a crewed two-way line along row j = 0 then up column i = 4; L2: an autonomous
    shuttle on a one-way loop around the inner block, routed off the shortest path."""
    stops = {}
    for node in (0, 20, 40, 42, 44, 11, 13, 33, 31):
        x, y = graph.nodes[node]["x"], graph.nodes[node]["y"]
        stops[f"s{node}"] = Stop(f"s{node}", f"站 {node}", node, x, y)
    l1_ids = ["s0", "s20", "s40", "s42", "s44"]
    l1_nodes = [stops[s].node for s in l1_ids]
    l1 = BusLine("L1", "Line 1 长乐", 480.0, "bus_12m", False, {
        0: build_pattern(graph, l1_nodes, l1_ids, 0),
        1: build_pattern(graph, l1_nodes[::-1], l1_ids[::-1], 1),
    })
    loop_ids = ["s11", "s13", "s33", "s31", "s11"]
    loop_route = [11, 12, 13, 23, 33, 32, 31, 21, 11]
    l2 = BusLine("L2", "AV shuttle", 600.0, "av_shuttle", True, {
        0: build_pattern(graph, [stops[s].node for s in loop_ids], loop_ids, 0, route_nodes=loop_route),
    })
    return TransitNetwork(stops, {"L1": l1, "L2": l2}, graph)


def assert_same_lines(a: TransitNetwork, b: TransitNetwork) -> None:
    assert sorted(a.lines) == sorted(b.lines)
    assert {s.stop_id: s.node for s in a.stops.values()} == {s.stop_id: s.node for s in b.stops.values()}
    for line_id, line in a.lines.items():
        other = b.lines[line_id]
        assert other.headway_s == pytest.approx(line.headway_s)
        assert other.vehicle_type == line.vehicle_type
        assert (other.autonomous, other.name) == (line.autonomous, line.name)
        assert sorted(other.patterns) == sorted(line.patterns)
        for direction, pattern in line.patterns.items():
            assert other.pattern(direction).stop_ids == pattern.stop_ids
            assert other.pattern(direction).legs == pattern.legs
            assert other.pattern(direction).leg_length_m == pytest.approx(pattern.leg_length_m)


def test_gtfs_time_format():
    assert seconds_to_gtfs_time(7 * 3600 + 5 * 60 + 9.4) == "07:05:09"
    assert seconds_to_gtfs_time(25 * 3600) == "25:00:00"
    assert gtfs_time_to_seconds("7:05:09") == 7 * 3600 + 5 * 60 + 9
    with pytest.raises(InputError):
        gtfs_time_to_seconds("7h05")


def test_planned_feed_loads_in_gtfs_kit_and_round_trips(tmp_path):
    graph = grid_graph()
    network = two_line_network(graph)
    tables = planned_feed(network, service_start_s=6 * 3600.0, service_end_s=8 * 3600.0)
    path = write_feed(tables, tmp_path / "feed.zip")
    feed = gtfs_kit.read_feed(path, dist_units="m")
    assert set(feed.routes["route_id"]) == {"L1", "L2"}
    assert len(feed.frequencies) == 3  # L1 both ways, L2 one way
    # Frequencies expand to one trip per headway over the two-hour window.
    expanded = gtfs_kit.expand_frequencies(feed)
    per_route = expanded.trips.groupby("route_id").size().to_dict()
    assert per_route == {"L1": 2 * math.ceil(7200 / 480), "L2": math.ceil(7200 / 600)}
    # gtfs-kit's own trip stats: distance (km for a metric feed) measured along our shapes.
    stats = gtfs_kit.compute_trip_stats(feed, compute_dist_from_shapes=True).set_index("trip_id")
    length_m = network.lines["L2"].pattern(0).length_m
    assert stats.loc["L2_0_template", "distance"] * 1000.0 == pytest.approx(length_m, rel=2e-3)
    # And back: the same lines, stops, patterns, road legs, headways and vehicle types.
    assert_same_lines(network, import_gtfs(path, graph))


def simulate(network: TransitNetwork, dispatch: str, duration_s: float = 2 * 3600.0):
    engine = Engine(seed=4, start=datetime(2025, 6, 3, 7, 30), duration_s=duration_s)
    od = {pair: 6.0 for pair in served_pairs(network)}
    demand = poisson_demand(od, duration_s, engine.rng("transit_demand"))
    services = {
        "L1": ServiceConfig(headway_s=480.0, fleet_veh=5, dispatch=dispatch),
        "L2": ServiceConfig(headway_s=600.0, fleet_veh=3, dispatch=dispatch),
    }
    vehicles = {"L1": VEHICLE_TYPES["bus_12m"], "L2": VEHICLE_TYPES["av_shuttle"]}
    sim = BusSimulation(engine, network, services, vehicles, demand,
                        operations=OperationsConfig(dwell_cv=0.3))
    return engine, sim.run()


def test_simulated_timetable_service_exports_every_completed_trip(tmp_path):
    graph = grid_graph()
    network = two_line_network(graph)
    engine, run = simulate(network, "timetable")
    path = write_feed(simulated_feed(run, engine.start), tmp_path / "sim")
    feed = gtfs_kit.read_feed(path, dist_units="m")
    done = run.trips[run.trips["end_s"].notna()]
    assert set(feed.trips["trip_id"]) == set(done["trip_id"])
    assert feed.frequencies is None
    # Stop times are the simulated times, to the second, from 07:30.
    trip = done.iloc[3]
    visits = run.stop_visits[run.stop_visits["trip_index"] == trip["trip_index"]]
    times = feed.stop_times[feed.stop_times["trip_id"] == trip["trip_id"]].sort_values("stop_sequence")
    expected = np.round(visits["depart_s"].to_numpy() + 7.5 * 3600)
    assert times["departure_time"].map(gtfs_time_to_seconds).to_numpy() == pytest.approx(expected, abs=1.0)
    # Imported back, each line's headway is the simulated dispatch spacing.
    back = import_gtfs(path, graph)
    assert back.lines["L1"].headway_s == pytest.approx(480.0)
    assert back.lines["L2"].headway_s == pytest.approx(600.0)
    assert back.lines["L2"].autonomous and back.lines["L2"].vehicle_type == "av_shuttle"


def test_simulated_headway_service_exports_frequencies(tmp_path):
    graph = grid_graph()
    network = two_line_network(graph)
    engine, run = simulate(network, "headway")
    path = write_feed(simulated_feed(run, engine.start), tmp_path / "sim.zip")
    feed = gtfs_kit.read_feed(path, dist_units="m")
    assert set(feed.frequencies["headway_secs"]) == {480, 600}
    expanded = gtfs_kit.expand_frequencies(feed)
    done = run.trips[run.trips["end_s"].notna()]
    for (route_id, direction), group in done.groupby(["line_id", "direction"]):
        got = expanded.trips[(expanded.trips["route_id"] == route_id)
                             & (expanded.trips["direction_id"] == direction)]
        assert len(got) == len(group)
    assert_same_lines(network, import_gtfs(path, graph))


def write_hand_feed(folder: Path, graph: nx.MultiDiGraph, far_stop: bool = False) -> Path:
    """A small feed written by hand: two patterns on route R1, a tram route to ignore, stops a few
    metres off the road nodes, no shapes and no frequencies."""
    folder.mkdir()
    offset = 0.00004  # about 4 m
    stops = {f"A{n}": n for n in (0, 10, 20, 30, 40)}
    lines = ["stop_id,stop_name,stop_lat,stop_lon"]
    for stop_id, node in stops.items():
        lat = graph.nodes[node]["y"] + offset + (0.005 if far_stop and stop_id == "A20" else 0.0)
        lines.append(f"{stop_id},{stop_id} stop,{lat:.7f},{graph.nodes[node]['x'] + offset:.7f}")
    lines.append(f"T1,tram stop,{LAT0 + 0.01:.7f},{LON0 + 0.01:.7f}")
    (folder / "stops.txt").write_text("\n".join(lines) + "\n")
    (folder / "agency.txt").write_text(
        "agency_id,agency_name,agency_url,agency_timezone\nA,Test,https://example.invalid,Asia/Shanghai\n")
    (folder / "routes.txt").write_text(
        "route_id,agency_id,route_short_name,route_long_name,route_type\n"
        "R1,A,1,Hand line,3\nTRAM,A,T,Tram,0\n")
    (folder / "calendar.txt").write_text(
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
        "wk,1,1,1,1,1,0,0,20250101,20251231\n")
    trips = ["route_id,service_id,trip_id,direction_id"]
    times = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    full = ["A0", "A10", "A20", "A30", "A40"]
    for k in range(6):  # every 10 minutes from 07:00, the third a short turn
        trip_id = f"t{k}"
        trips.append(f"R1,wk,{trip_id},0")
        sequence = full[:3] if k == 2 else full
        for seq, stop_id in enumerate(sequence):
            t = seconds_to_gtfs_time(7 * 3600 + 600 * k + 90 * seq)
            times.append(f"{trip_id},{t},{t},{stop_id},{seq + 1}")
    for k in range(2):
        trips.append(f"R1,wk,r{k},1")
        for seq, stop_id in enumerate(full[::-1]):
            t = seconds_to_gtfs_time(8 * 3600 + 900 * k + 90 * seq)
            times.append(f"r{k},{t},{t},{stop_id},{seq + 1}")
    trips.append("TRAM,wk,tram0,0")
    times += ["tram0,07:00:00,07:00:00,T1,1", "tram0,07:05:00,07:05:00,T1,2"]
    (folder / "trips.txt").write_text("\n".join(trips) + "\n")
    (folder / "stop_times.txt").write_text("\n".join(times) + "\n")
    return folder


def test_hand_built_feed_imports_onto_the_road_graph(tmp_path):
    graph = grid_graph()
    network = import_gtfs(write_hand_feed(tmp_path / "hand", graph), graph, snap_m=15.0)
    assert list(network.lines) == ["R1"]  # the tram is not a bus
    line = network.lines["R1"]
    assert line.pattern(0).stop_ids == ["A0", "A10", "A20", "A30", "A40"]  # the common pattern
    assert line.pattern(1).stop_ids == ["A40", "A30", "A20", "A10", "A0"]
    assert {s.stop_id: s.node for s in network.stops.values()} == {
        "A0": 0, "A10": 10, "A20": 20, "A30": 30, "A40": 40}
    assert line.headway_s == pytest.approx(600.0)
    assert (line.vehicle_type, line.autonomous) == ("bus_12m", False)
    # Legs are the road route between stops: one 400 m edge each.
    assert [len(leg) for leg in line.pattern(0).legs] == [1, 1, 1, 1]
    assert line.pattern(0).length_m == pytest.approx(4 * 400.5, rel=0.01)


def test_stop_far_from_any_road_is_reported(tmp_path):
    graph = grid_graph()
    with pytest.raises(InputError, match="stop 'A20' is .* m from the nearest road node"):
        import_gtfs(write_hand_feed(tmp_path / "far", graph, far_stop=True), graph, snap_m=15.0)
    with pytest.raises(InputError, match="not found"):
        import_gtfs(tmp_path / "missing.zip", graph)


def test_write_feed_refuses_existing_target(tmp_path):
    graph = grid_graph()
    tables = planned_feed(two_line_network(graph))
    target = write_feed(tables, tmp_path / "f.zip")
    with pytest.raises(InputError, match="already exists"):
        write_feed(tables, target)
    assert write_feed(tables, target, force=True) == target
    assert not list(tmp_path.glob(".*partial*"))
