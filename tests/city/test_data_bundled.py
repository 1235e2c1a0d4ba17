"""The bundled Changle base meets issue #3's counts, passes its own checks and works with OSMnx."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from twin.city.folder import load_city
from twin.paths import REPO_ROOT

GIS = REPO_ROOT / "gis_data"


@pytest.fixture(scope="module")
def city():
    return load_city(GIS)


def test_info_json_meets_issue_counts(twin_cli):
    outcome = twin_cli("info", "--json", "--city", GIS)
    assert outcome.exit_code == 0, outcome.stderr
    summary = json.loads(outcome.stdout)
    counts = summary["counts"]
    assert summary["crs"] == "EPSG:4490"
    assert counts["intersections"] >= 3000
    assert counts["signalised_intersections"] >= 150
    assert counts["signalised_intersections_binhai"] >= 25
    assert counts["largest_scc_share"] >= 0.99
    assert counts["buildings"] >= 30_000
    assert 700_000 <= counts["population"] <= 800_000
    assert counts["towns"] == 18
    assert counts["compute_sites"] >= 2
    assert summary["layers"]["base/boundary"]["features"] == 1


def test_data_check_passes_on_bundled_base(twin_cli):
    outcome = twin_cli("data", "check", GIS)
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    assert "PROBLEM" not in outcome.stdout


def test_boundary_area_is_changles(city):
    area_km2 = city.boundary.to_crs("EPSG:4549").area.sum() / 1e6
    assert 660 < area_km2 < 690


def test_road_schema_follows_the_contract(city):
    graph = city.roads
    assert graph.graph["crs"] == "EPSG:4490"
    u, v, k, data = next(iter(graph.edges(keys=True, data=True)))
    for name in ("osmid", "name", "highway", "road_class", "lanes", "maxspeed", "speed_kph", "length",
                 "travel_time", "oneway", "geometry"):
        assert name in data
    classes = {d["road_class"] for _, _, d in graph.edges(data=True)}
    assert classes == {"快速路", "主干路", "次干路", "支路"}
    for _, node in graph.nodes(data=True):
        assert {"x", "y", "street_count", "elevation_m", "area_id"} <= set(node)
    # every two-way road is two directed edges
    assert all(graph.has_edge(v, u) for u, v in graph.edges())


def test_osmnx_accepts_the_graph(city):
    import osmnx as ox

    nodes, edges = ox.graph_to_gdfs(city.roads)
    assert len(nodes) == city.roads.number_of_nodes()
    projected = ox.project_graph(city.roads, to_crs="EPSG:4549")
    assert str(projected.graph["crs"]).endswith("4549")
    with_speeds = ox.add_edge_travel_times(ox.add_edge_speeds(city.roads.copy()))
    assert all(d["travel_time"] > 0 for _, _, d in with_speeds.edges(data=True))
    back = ox.graph_from_gdfs(nodes, edges)
    assert back.number_of_edges() == city.roads.number_of_edges()


def test_buildings_inside_off_roads_and_apart(city):
    buildings = city.buildings.to_crs("EPSG:4549")
    boundary = city.boundary.to_crs("EPSG:4549").geometry.iloc[0]
    geometry = buildings.geometry.values
    assert shapely.within(geometry, boundary).all()
    tree = shapely.STRtree(geometry)
    i, j = tree.query(geometry, predicate="overlaps")
    assert len(i) == 0
    from twin.city.roads import project

    roads = project(city.roads)
    lines = np.array([d["geometry"] for _, _, d in roads.edges(data=True) if not d["reversed"]])
    hits = shapely.STRtree(lines).query(geometry, predicate="intersects")
    assert hits.shape[1] == 0
    assert set(buildings["use"]) == {"residential", "commercial", "industrial", "public"}
    assert (buildings["height_m"] > 0).all() and (buildings["storeys"] >= 1).all()


def test_binhai_and_old_town_are_taller_than_villages(city):
    b = city.buildings
    heights = b.groupby("cim_level")["height_m"].mean()
    assert heights[3] > 2 * heights[2]


def test_zone_residents_sum_their_buildings(city):
    by_zone = city.buildings.groupby("zone_id")["residents"].sum()
    zones = city.zones.set_index("zone_id")["residents"]
    assert zones.sub(by_zone, fill_value=0).abs().max() == 0
    assert int(zones.sum()) == int(city.towns["population"].sum())
    assert set(city.zones["node"]).issubset(city.roads.nodes)


def test_compute_sites_hold_the_plan_targets(city):
    aicc = city.compute_sites.set_index("site_id").loc["aicc"]
    assert aicc["phase1_pflops"] == 2000 and aicc["target_pflops"] == 10000
    assert 1.25 <= aicc["pue"] <= 1.3
    binhai = city.areas.set_index("area_id").loc["binhai"].geometry
    assert all(binhai.contains(p) for p in city.compute_sites.geometry)


def test_terrain_is_low_on_the_coast_and_hilly_in_the_west(city):
    from twin.crs import to_metric

    x, y = to_metric(np.array([119.66, 119.43]), np.array([25.95, 25.87]))
    coast, hills = city.terrain.elevation_m(x, y)
    assert coast < 10 and hills > 150
