"""The water-network builder (``gis_data/build_water.py``).

On a small city made in code (a grid town on a slope, so that a booster zone appears) the
builder must give a valid ``.inp`` that EPANET 2.2 solves with every junction at or above the GB
50013 service head at base demand, a valve layer that segments it, and the same bytes when run
again. When the bundled Changle network exists, the same checks run on it.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from twin.paths import REPO_ROOT

LON0, LAT0 = 119.47, 25.87
N = 24
STEP_M = 300.0
DLON = STEP_M / (111_195.0 * np.cos(np.radians(LAT0)))
DLAT = STEP_M / 111_195.0


def load_builder():
    path = REPO_ROOT / "gis_data" / "build_water.py"
    spec = importlib.util.spec_from_file_location("build_water", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_water", module)
    spec.loader.exec_module(module)
    return module


class SlopeTerrain:
    """Flat coastal plain in the east, a ridge rising to 110 m in the west (EPSG:4549 metres)."""

    def __init__(self) -> None:
        from pyproj import Transformer

        self.x0, _ = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True).transform(LON0, LAT0)

    def elevation_m(self, x_m, y_m):
        west = np.clip((self.x0 + 2400.0 - np.asarray(x_m)) / 2400.0, 0.0, 1.0)
        return 4.0 + 110.0 * west**2 + 0.0 * np.asarray(y_m)


@dataclass
class FakeCity:
    roads: nx.MultiDiGraph
    towns: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    terrain: SlopeTerrain


def node_id(i: int, j: int) -> int:
    return 1000 * i + j


def fake_city() -> FakeCity:
    from twin.crs import haversine_m

    graph = nx.MultiDiGraph(crs="EPSG:4490")
    urban = lambda i, j: 8 <= i < 20 and 6 <= j < 18  # noqa: E731
    for i in range(N):
        for j in range(N):
            graph.add_node(node_id(i, j), x=LON0 + i * DLON, y=LAT0 + j * DLAT,
                           area_id="wuhang" if urban(i, j) else None, street_count=4)
    for i in range(N):
        for j in range(N):
            for di, dj in ((1, 0), (0, 1)):
                if i + di >= N or j + dj >= N:
                    continue
                line = j if di else i
                cls = "主干路" if line % 6 == 0 else ("次干路" if line % 2 == 0 else "支路")
                a, b = node_id(i, j), node_id(i + di, j + dj)
                for u, v in ((a, b), (b, a)):
                    pu, pv = graph.nodes[u], graph.nodes[v]
                    graph.add_edge(u, v, 0, length=haversine_m(pu["x"], pu["y"], pv["x"], pv["y"]),
                                   road_class=cls, highway="primary", speed_kph=40.0, oneway=False,
                                   geometry=LineString([(pu["x"], pu["y"]), (pv["x"], pv["y"])]))

    def point(i, j):
        return Point(LON0 + i * DLON, LAT0 + j * DLAT)

    towns = [("wuhang", 12, 12), ("hangcheng", 18, 8), ("tantou", 2, 20), ("jiangtian", 22, 2),
             ("luolian", 1, 3)]
    towns_gdf = gpd.GeoDataFrame({"town_id": [t[0] for t in towns],
                                  "node": [node_id(t[1], t[2]) for t in towns],
                                  "population": [40000, 20000, 3000, 4000, 2000]},
                                 geometry=[point(t[1], t[2]) for t in towns], crs="EPSG:4490")
    zone_rows, geoms = [], []
    for zi in range(0, N, 4):
        for zj in range(0, N, 4):
            dense = urban(zi + 2, zj + 2)
            zone_rows.append((f"Z{zi:02d}{zj:02d}", node_id(zi + 2, zj + 2),
                              9000.0 if dense else 600.0, 3000.0 if dense else 100.0))
            geoms.append(box(LON0 + zi * DLON, LAT0 + zj * DLAT,
                             LON0 + (zi + 4) * DLON, LAT0 + (zj + 4) * DLAT))
    zones = gpd.GeoDataFrame({"zone_id": [r[0] for r in zone_rows], "node": [r[1] for r in zone_rows],
                              "residents": [r[2] for r in zone_rows], "jobs": [r[3] for r in zone_rows]},
                             geometry=geoms, crs="EPSG:4490")
    areas = gpd.GeoDataFrame({"area_id": ["wuhang"]}, geometry=[box(LON0 + 8 * DLON, LAT0 + 6 * DLAT,
                             LON0 + 20 * DLON, LAT0 + 18 * DLAT)], crs="EPSG:4490")
    return FakeCity(graph, towns_gdf, zones, areas, SlopeTerrain())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("water")
    builder = load_builder()
    paths = builder.build(folder, fake_city())
    return builder, folder, paths


def test_builder_writes_inp_and_valves(built):
    builder, folder, paths = built
    assert [p.name for p in paths] == ["water.inp", "water_valves.csv"]
    valves = pd.read_csv(paths[1])
    assert list(valves.columns) == ["valve_id", "link", "node"]
    assert valves.valve_id.is_unique and len(valves) > 50


def test_every_junction_meets_the_service_head_in_epanet(built):
    builder, folder, paths = built
    assert builder.check_service_head(paths[0]) >= builder.SERVICE_HEAD_M


def test_network_shape(built):
    from twin.water.epanet_io import read_inp

    builder, folder, paths = built
    wn = read_inp(paths[0])
    assert len(wn.reservoir_name_list) >= 1 and len(wn.tank_name_list) >= 1
    assert len(wn.pump_name_list) >= 2  # plant pumps, and a booster for the western hills
    assert any(name.startswith("BPS") for name in wn.pump_name_list)
    graph = wn.to_graph().to_undirected()
    assert nx.is_connected(graph)
    # every town centre is on the network; junctions are tagged with their town
    towns = set(fake_city().towns.town_id)
    assert towns <= {wn.get_node(j).tag for j in wn.junction_name_list}
    # diameters come from the standard list; demand categories give the resident population
    dns = {round(wn.get_link(p).diameter * 1000) for p in wn.pipe_name_list}
    assert dns <= set(builder.DIAMETERS_MM)
    residents = sum(d.base_value for j in wn.junction_name_list
                    for d in wn.get_node(j).demand_timeseries_list if d.category == "residents")
    total = fake_city().zones.residents.sum()
    assert residents == pytest.approx(total * builder.RESIDENT_L_PER_DAY / 1000 / 86400, rel=1e-6)


def test_valves_segment_the_network(built):
    from twin.water.compile import compile_network
    from twin.water.epanet_io import read_inp
    from twin.water.segments import ValveLayer, valve_segments

    builder, folder, paths = built
    net = compile_network(read_inp(paths[0]))
    segments = valve_segments(net, ValveLayer.from_frame(pd.read_csv(paths[1]), net))
    sizes = np.bincount(segments.link_segment)
    assert segments.n_segments > 20
    assert np.median(sizes[sizes > 0]) <= 3


def test_rebuild_gives_the_same_files(built, tmp_path):
    builder, folder, paths = built
    again = builder.build(tmp_path, fake_city())
    for first, second in zip(paths, again, strict=True):
        assert Path(first).read_bytes() == Path(second).read_bytes()


BUNDLED_INP = REPO_ROOT / "gis_data" / "water.inp"
BUNDLED_VALVES = REPO_ROOT / "gis_data" / "water_valves.csv"


def test_bundled_network_meets_the_service_head_in_epanet():
    builder = load_builder()
    assert builder.check_service_head(BUNDLED_INP) >= builder.SERVICE_HEAD_M


def test_bundled_network_reaches_every_town_and_is_one_system():
    from twin.city.folder import load_city
    from twin.water.epanet_io import read_inp

    wn = read_inp(BUNDLED_INP)
    graph = wn.to_graph().to_undirected()
    assert nx.is_connected(graph)
    assert len(wn.reservoir_name_list) >= 1 and len(wn.tank_name_list) >= 1
    tags = {wn.get_node(j).tag for j in wn.junction_name_list}
    assert set(load_city().towns.town_id) <= tags
    valves = pd.read_csv(BUNDLED_VALVES)
    assert set(valves.link) <= set(wn.pipe_name_list)


def test_rebuilding_the_bundled_network_reproduces_the_files(tmp_path):
    from twin.city.folder import load_city

    paths = load_builder().build(tmp_path, load_city())
    assert paths[0].read_bytes() == BUNDLED_INP.read_bytes()
    assert paths[1].read_bytes() == BUNDLED_VALVES.read_bytes()
