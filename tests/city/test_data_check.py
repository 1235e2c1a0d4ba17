"""``twin data check`` lists every problem of a deliberately broken dataset, and ``twin map``."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import shapely
import wntr

from twin.city.folder import BASE_FILE, TRANSIT_FILE, WATER_FILE
from twin.city.roads import save_graph


def _square_roads() -> nx.MultiDiGraph:
    """Four nodes 0.001° apart, two-way roads around a square: strongly connected."""
    graph = nx.MultiDiGraph(crs="EPSG:4490")
    xy = {1: (119.500, 25.900), 2: (119.501, 25.900), 3: (119.501, 25.901), 4: (119.500, 25.901)}
    for n, (x, y) in xy.items():
        graph.add_node(n, x=x, y=y, street_count=2, elevation_m=3.0, area_id="test")
    for u, v in ((1, 2), (2, 3), (3, 4), (4, 1)):
        for a, b in ((u, v), (v, u)):
            graph.add_edge(a, b, 0, osmid=1, name="", highway="residential", road_class="支路", lanes=1,
                           maxspeed="30", speed_kph=30.0, length=100.0, travel_time=12.0, oneway=False,
                           geometry=shapely.LineString([xy[a], xy[b]]))
    return graph


def _water(path, disconnected: bool) -> None:
    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R1", base_head=50.0, coordinates=(119.5, 25.9))
    wn.add_junction("J1", base_demand=0.001, elevation=5.0, coordinates=(119.501, 25.9))
    wn.add_junction("J2", base_demand=0.001, elevation=5.0, coordinates=(119.502, 25.9))
    wn.add_pipe("P1", "R1", "J1", length=100.0, diameter=0.2, roughness=100.0)
    if not disconnected:
        wn.add_pipe("P2", "J1", "J2", length=100.0, diameter=0.2, roughness=100.0)
    wntr.network.write_inpfile(wn, str(path))


def _dataset(folder, broken: bool) -> None:
    folder.mkdir()
    save_graph(_square_roads(), folder / BASE_FILE)
    stops = gpd.GeoDataFrame(
        {"stop_id": ["S1", "S2"], "name": ["a", "b"], "node": [1, 99 if broken else 3]},
        geometry=[shapely.Point(119.500, 25.900), shapely.Point(119.501, 25.901)], crs="EPSG:4490",
    )
    stops.to_file(folder / TRANSIT_FILE, layer="bus_stops")
    zones = gpd.GeoDataFrame(
        {"zone_id": [1], "town_id": ["t"], "residents": [10], "jobs": [2], "node": [1]},
        geometry=[shapely.box(119.4995, 25.8995, 119.5015, 25.9015)], crs=None if broken else "EPSG:4490",
    )
    zones.to_file(folder / BASE_FILE, layer="zones")
    _water(folder / WATER_FILE, disconnected=broken)


def test_clean_fixture_passes(twin_cli, tmp_path):
    _dataset(tmp_path / "good", broken=False)
    outcome = twin_cli("data", "check", tmp_path / "good")
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr


def test_broken_copy_lists_every_problem(twin_cli, tmp_path):
    _dataset(tmp_path / "bad", broken=True)
    outcome = twin_cli("data", "check", tmp_path / "bad")
    assert outcome.exit_code == 2
    problems = [line for line in outcome.stdout.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 3, outcome.stdout
    assert any("zones: no CRS" in p for p in problems)
    assert any("stop S2" in p and "not in the road graph" in p for p in problems)
    assert any("1 junctions do not reach a reservoir or tank (J2)" in p for p in problems)
    assert "3 problems" in outcome.stderr


def test_far_stop_and_disconnected_roads_are_problems(tmp_path):
    from twin.city.check import check_dataset

    folder = tmp_path / "far"
    folder.mkdir()
    graph = _square_roads()
    graph.add_node(5, x=119.51, y=25.91, street_count=1, elevation_m=0.0, area_id="x")
    spur = shapely.LineString([(119.5, 25.901), (119.51, 25.91)])
    graph.add_edge(4, 5, 0, **{**graph.edges[4, 1, 0], "geometry": spur})
    save_graph(graph, folder / BASE_FILE)
    gpd.GeoDataFrame({"stop_id": ["S1"], "name": ["a"], "node": [1]},
                     geometry=[shapely.Point(119.5005, 25.900)], crs="EPSG:4490").to_file(
        folder / TRANSIT_FILE, layer="bus_stops")
    problems = check_dataset(folder).problems
    assert any("not strongly connected" in p and "80.00%" in p for p in problems)
    assert any("stop S1 is 50 m from its node 1" in p for p in problems)


def test_check_missing_folder_is_one_line(twin_cli, tmp_path):
    outcome = twin_cli("data", "check", tmp_path / "nowhere")
    assert outcome.exit_code == 2
    assert len(outcome.stderr.strip().splitlines()) == 1 and "not found" in outcome.stderr


def test_map_of_fixture(twin_cli, tmp_path):
    _dataset(tmp_path / "good", broken=False)
    out = tmp_path / "map.png"
    outcome = twin_cli("map", "--out", out, "--city", tmp_path / "good", "--dpi", "50")
    assert outcome.exit_code == 0, outcome.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    outcome = twin_cli("map", "--out", tmp_path / "map.jpg", "--city", tmp_path / "good")
    assert outcome.exit_code == 2


def test_info_on_a_corrupt_geopackage_exits_2_like_the_data_check(tmp_path, twin_cli):
    from twin.paths import REPO_ROOT

    gis = REPO_ROOT / "gis_data"
    (tmp_path / "transit.gpkg").write_bytes((gis / "transit.gpkg").read_bytes()[:5000])
    (tmp_path / "water.inp").write_bytes((gis / "water.inp").read_bytes())
    for args in (("info", "--city", tmp_path), ("data", "check", tmp_path)):
        outcome = twin_cli(*args)
        assert outcome.exit_code == 2, outcome.stderr
        assert "transit.gpkg" in outcome.stderr and len(outcome.stderr.strip().splitlines()) == 1
