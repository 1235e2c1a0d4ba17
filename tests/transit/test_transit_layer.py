"""The bus layer builder (``gis_data/build_transit.py``) on a small city made in code."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from twin.crs import haversine_m
from twin.paths import REPO_ROOT
from twin.transit.layer import network_from_tables, read_transit_tables


def load_builder():
    path = REPO_ROOT / "gis_data" / "build_transit.py"
    spec = importlib.util.spec_from_file_location("build_transit", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LON0, LAT0 = 119.50, 25.85
N = 36  # 36 × 36 nodes, 250 m apart: a 8.75 km square
STEP_M = 250.0
DLON = STEP_M / (111_195.0 * np.cos(np.radians(LAT0)))
DLAT = STEP_M / 111_195.0


def node_id(i: int, j: int) -> int:
    return 1000 * i + j


def area_of(i: int, j: int) -> str | None:
    if i < 10 and 10 <= j < 20:
        return "wuhang"
    if i >= 22 and j < 10:
        return "binhai"
    if i >= 30 and j >= 30:
        return "airport"
    return "rural" if (i + j) % 2 else None  # both spellings of "not urban"


@dataclass
class FakeCity:
    roads: nx.MultiDiGraph
    towns: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    landmarks: gpd.GeoDataFrame
    compute_sites: gpd.GeoDataFrame


def fake_city() -> FakeCity:
    graph = nx.MultiDiGraph(crs="EPSG:4490")
    for i in range(N):
        for j in range(N):
            graph.add_node(node_id(i, j), x=LON0 + i * DLON, y=LAT0 + j * DLAT, area_id=area_of(i, j),
                           street_count=4)
    for i in range(N):
        for j in range(N):
            for di, dj, name in ((1, 0, f"东西路{j}"), (0, 1, f"南北路{i}")):
                if i + di < N and j + dj < N:
                    a, b = node_id(i, j), node_id(i + di, j + dj)
                    for u, v in ((a, b), (b, a)):
                        pu, pv = graph.nodes[u], graph.nodes[v]
                        graph.add_edge(u, v, 0, length=haversine_m(pu["x"], pu["y"], pv["x"], pv["y"]),
                                       speed_kph=40.0, travel_time=22.5, highway="secondary", lanes=2,
                                       maxspeed="40", oneway=False, name=name,
                                       geometry=LineString([(pu["x"], pu["y"]), (pv["x"], pv["y"])]))
    towns = [("wuhang", "吴航街道", 5, 15), ("hangcheng", "航城街道", 8, 25),
             ("zhanggang", "漳港街道", 26, 4), ("hushang", "鹤上镇", 18, 33), ("tantou", "潭头镇", 2, 2),
             ("jiangtian", "江田镇", 34, 12)]

    def point(i: int, j: int) -> Point:
        return Point(LON0 + i * DLON, LAT0 + j * DLAT)

    towns_gdf = gpd.GeoDataFrame(
        {"town_id": [t[0] for t in towns], "name_zh": [t[1] for t in towns],
         "node": [node_id(t[2], t[3]) for t in towns]},
        geometry=[point(t[2], t[3]) for t in towns], crs="EPSG:4490")

    def rect(i0: int, i1: int, j0: int, j1: int):
        return box(LON0 + i0 * DLON, LAT0 + j0 * DLAT, LON0 + i1 * DLON, LAT0 + j1 * DLAT)

    areas = gpd.GeoDataFrame({"area_id": ["wuhang", "binhai", "airport"]},
                             geometry=[rect(0, 9, 10, 19), rect(22, 35, 0, 9), rect(30, 35, 30, 35)],
                             crs="EPSG:4490")
    landmarks = gpd.GeoDataFrame({"landmark_id": ["foc", "foc_terminal"], "kind": ["airport", "terminal"]},
                                 geometry=[point(34, 34), point(31, 32)], crs="EPSG:4490")
    sites = gpd.GeoDataFrame({"site_id": ["aicc"], "kind": ["aicc"]}, geometry=[point(27, 5)],
                             crs="EPSG:4490")
    return FakeCity(graph, towns_gdf, areas, landmarks, sites)


def network_of(city, tables):
    return network_from_tables(city.roads, tables["bus_stops"], tables["bus_lines"], tables["bus_line_stops"])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    city = fake_city()
    folder = tmp_path_factory.mktemp("transit")
    paths = load_builder().build(folder, city)
    return city, paths, read_transit_tables(paths[0])


def test_layers_follow_the_data_model(built):
    city, paths, tables = built
    assert [p.name for p in paths] == ["transit.gpkg"]
    stops, lines, seq = tables["bus_stops"], tables["bus_lines"], tables["bus_line_stops"]
    assert stops.crs.to_epsg() == 4490 and lines.crs.to_epsg() == 4490
    assert {"stop_id", "name", "node"} <= set(stops.columns)
    assert {"line_id", "name", "headway_s", "autonomous", "vehicle_type", "route_nodes"} <= set(lines.columns)
    assert list(seq.columns) == ["line_id", "direction", "seq", "stop_id"]
    assert not stops.isna().any().any() and not lines.drop(columns="geometry").isna().any().any()
    # Every stop lies exactly on its road node.
    for row in stops.itertuples():
        node = city.roads.nodes[int(row.node)]
        assert (row.geometry.x, row.geometry.y) == pytest.approx((node["x"], node["y"]), abs=1e-9)
    assert stops["stop_id"].is_unique and stops["name"].is_unique


def test_lines_link_towns_old_town_new_town_and_airport(built):
    city, _, tables = built
    network = network_of(city, tables)
    lines = network.lines
    # One trunk line from the old town to each of the other five towns, plus C1, C2, K1, K2, BH-AV1, AP-AV1.
    assert len(lines) == 5 + 6
    old_town = city.towns.set_index("town_id").loc["wuhang", "node"]
    for town in city.towns.itertuples():
        if town.town_id == "wuhang":
            continue
        ends = [{network.stops[p.stop_ids[0]].node, network.stops[p.stop_ids[-1]].node}
                for line in lines.values() for p in line.patterns.values()]
        assert {old_town, town.node} in ends
    pilot = lines["BH-AV1"]
    assert pilot.autonomous and pilot.vehicle_type == "av_bus_12m"
    pilot_areas = {city.roads.nodes[network.stops[s].node]["area_id"] for s in pilot.pattern(0).stop_ids}
    assert pilot_areas == {"binhai"}
    assert lines["AP-AV1"].autonomous
    assert sorted(n for n, line in lines.items() if line.autonomous) == ["AP-AV1", "BH-AV1"]
    airport_stop = network.stops[lines["K2"].pattern(0).stop_ids[-1]]
    assert city.roads.nodes[airport_stop.node]["area_id"] == "airport"
    # Both directions serve the same stops, reversed.
    for line in lines.values():
        assert line.pattern(1).stop_ids == line.pattern(0).stop_ids[::-1]
        assert line.headway_s in (480.0, 600.0, 900.0, 1200.0)


def test_stop_spacing_urban_and_rural(built):
    city, _, tables = built
    network = network_of(city, tables)
    urban, rural = [], []
    for line in network.lines.values():
        pattern = line.pattern(0)
        kinds = [city.roads.nodes[network.stops[s].node]["area_id"] not in (None, "rural")
                 for s in pattern.stop_ids]
        for k, length in enumerate(pattern.leg_length_m[:-1]):  # the last leg may be short
            if kinds[k] and kinds[k + 1]:
                urban.append(length)
            elif not kinds[k] and not kinds[k + 1]:
                rural.append(length)
    urban, rural = np.array(urban), np.array(rural)
    assert len(urban) > 20 and len(rural) > 20
    assert ((urban >= 400 - 1) & (urban <= 800 + 1)).mean() >= 0.95
    assert ((rural >= 400 - 1) & (rural <= 1500 + 1)).mean() >= 0.95


def test_build_is_deterministic(built, tmp_path):
    city, _, tables = built
    again = read_transit_tables(load_builder().build(tmp_path, city)[0])
    for name in ("bus_stops", "bus_lines", "bus_line_stops"):
        pd.testing.assert_frame_equal(pd.DataFrame(tables[name]), pd.DataFrame(again[name]))


def test_bundled_layer_meets_the_data_issue(tmp_path):
    """The committed gis_data/transit.gpkg: at least 20 lines linking the old town, every
    town centre, 滨海新城 and the airport; BH-AV1 driverless; stops on road nodes; and a rebuild
    from the committed base reproduces it."""
    from twin.city.folder import load_city
    from twin.paths import data_dir

    city = load_city(data_dir())
    tables = read_transit_tables(data_dir() / "transit.gpkg")
    network = network_of(city, tables)
    assert len(network.lines) >= 20
    pilot = network.lines["BH-AV1"]
    assert pilot.autonomous and pilot.vehicle_type == "av_bus_12m"
    areas = {city.roads.nodes[network.stops[s].node]["area_id"] for s in pilot.pattern(0).stop_ids}
    assert areas == {"binhai"}
    ends = {network.stops[s].node for line in network.lines.values() for s in (
        line.pattern(0).stop_ids[0], line.pattern(0).stop_ids[-1])}
    assert set(city.towns["node"]) <= ends  # every town centre is a terminal
    airport = {n for n, d in city.roads.nodes(data=True) if d.get("area_id") == "airport"}
    k2_end = network.stops[network.lines["K2"].pattern(0).stop_ids[-1]].node
    assert k2_end in airport or city.roads.nodes[k2_end]["area_id"] == "rural"  # landside access road
    for row in tables["bus_stops"].itertuples():
        node = city.roads.nodes[int(row.node)]
        assert (row.geometry.x, row.geometry.y) == pytest.approx((node["x"], node["y"]), abs=1e-9)
    rebuilt = read_transit_tables(load_builder().build(tmp_path, city)[0])
    for name in ("bus_stops", "bus_lines", "bus_line_stops"):
        pd.testing.assert_frame_equal(pd.DataFrame(tables[name]), pd.DataFrame(rebuilt[name]))
