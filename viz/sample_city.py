"""A small city made in code, in the data contract's schemas, for the CIM's tests and demos.

It stands in for ``twin.city.load_city()`` wherever a test must not depend on the bundled
Changle data: a 5.6 km × 4.8 km patch on the coast near 滨海新城 with a grid of roads in the
four CJJ 37 classes, a few hundred buildings of every use, a terrain with hills in the west and
the sea in the east, two towns, two landmarks, a compute site, two bus lines (one driverless)
and a looped water network. Every layer has exactly the columns ``docs/data_model.md`` lists, so
code that renders it renders the real city too. Deterministic: the same call gives the same city.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from twin.crs import METRIC_EPSG, STORAGE_EPSG, to_metric, to_storage

CENTRE_LON = 119.600
CENTRE_LAT = 25.905
BLOCK_M = 800.0
COLUMNS = 8
ROWS = 7
USES = ("residential", "commercial", "industrial", "public")


@dataclass
class SampleCity:
    """The city's layers, as attributes named like ``twin.city.City``'s."""

    boundary: Any
    areas: Any
    towns: Any
    landmarks: Any
    roads: Any
    zones: Any
    buildings: Any
    terrain: Any
    compute_sites: Any
    bus_stops: Any
    bus_lines: Any
    bus_line_stops: Any
    _water: Any = field(default=None, repr=False)

    def water(self):  # noqa: ANN201 - a wntr WaterNetworkModel
        """The water network as a ``wntr.network.WaterNetworkModel`` (coordinates EPSG:4549 m)."""
        return self._water


def _grid_origin_m() -> tuple[float, float]:
    x, y = to_metric(np.array([CENTRE_LON]), np.array([CENTRE_LAT]))
    return float(x[0]) - BLOCK_M * (COLUMNS - 1) / 2, float(y[0]) - BLOCK_M * (ROWS - 1) / 2


def _gdf(rows: list[dict], geometries_m: list) -> Any:
    import geopandas as gpd

    frame = gpd.GeoDataFrame(rows, geometry=geometries_m, crs=f"EPSG:{METRIC_EPSG}")
    return frame.to_crs(epsg=STORAGE_EPSG)


def _road_class(i: int, j: int, horizontal: bool) -> str:
    """Road class by grid line: one expressway, arterials every third line, collectors between."""
    index = j if horizontal else i
    if horizontal and index == 3:
        return "快速路"
    if index % 3 == 0:
        return "主干路"
    if index % 2 == 1:
        return "次干路"
    return "支路"


def _roads(x0: float, y0: float):  # noqa: ANN202 - networkx MultiDiGraph
    import networkx as nx
    import shapely

    from twin.roads import ROAD_CLASSES

    graph = nx.MultiDiGraph(crs=f"EPSG:{STORAGE_EPSG}")
    node_xy = {}
    for j in range(ROWS):
        for i in range(COLUMNS):
            node = 1000 + j * COLUMNS + i
            x, y = x0 + i * BLOCK_M, y0 + j * BLOCK_M
            node_xy[node] = (x, y)
            lon, lat = to_storage(np.array([x]), np.array([y]))
            graph.add_node(
                node, x=float(lon[0]), y=float(lat[0]), street_count=4,
                highway="traffic_signals" if (i % 3 == 0 and j % 3 == 0) else None,
                elevation_m=0.0, area_id="binhai" if i >= COLUMNS // 2 else "wuhang",
            )
    osmid = 1
    for j in range(ROWS):
        for i in range(COLUMNS):
            for di, dj, horizontal in ((1, 0, True), (0, 1, False)):
                if i + di >= COLUMNS or j + dj >= ROWS:
                    continue
                u = 1000 + j * COLUMNS + i
                v = 1000 + (j + dj) * COLUMNS + (i + di)
                road_class = ROAD_CLASSES[_road_class(i, j, horizontal)]
                (ux, uy), (vx, vy) = node_xy[u], node_xy[v]
                for a, b, (ax, ay), (bx, by) in ((u, v, (ux, uy), (vx, vy)), (v, u, (vx, vy), (ux, uy))):
                    lon, lat = to_storage(np.array([ax, bx]), np.array([ay, by]))
                    speed = road_class.speed_kph
                    graph.add_edge(
                        a, b, key=0, osmid=osmid, name=f"{road_class.name_en} {osmid}",
                        highway=road_class.highway, road_class=road_class.name_zh,
                        lanes=road_class.lanes, maxspeed=str(int(speed)), speed_kph=speed,
                        length=BLOCK_M, travel_time=BLOCK_M / (speed / 3.6), oneway=False,
                        geometry=shapely.LineString(np.column_stack([lon, lat])),
                    )
                osmid += 1
    return graph, node_xy


def _terrain(x0: float, y0: float):  # noqa: ANN202 - twin.terrain.Terrain
    from twin.terrain import Terrain

    cell_m = 50.0
    margin_m = 1500.0
    xs = np.arange(x0 - margin_m, x0 + BLOCK_M * (COLUMNS - 1) + margin_m + 1, cell_m)
    ys = np.arange(y0 - margin_m, y0 + BLOCK_M * (ROWS - 1) + margin_m + 1, cell_m)
    xx, yy = np.meshgrid(xs, ys)
    east = (xx - x0) / (BLOCK_M * (COLUMNS - 1))
    north = (yy - y0) / (BLOCK_M * (ROWS - 1))
    # Hills rising in the west, a coastal plain, and the sea floor past the eastern shore.
    hills = 120.0 * np.clip(-east + 0.05, 0, None) ** 1.5 * (1 + 0.3 * np.sin(6 * north))
    plain = 4.0 + 2.0 * np.sin(3 * east) * np.cos(4 * north)
    sea = np.where(east > 1.12, -15.0 * (east - 1.12), 0.0)
    elevation = hills + plain + sea - np.where(east > 1.12, 6.0, 0.0)
    return Terrain(float(xs[0]), float(ys[0]), cell_m, elevation.astype(np.float64))


def _buildings(x0: float, y0: float, terrain, rng: np.random.Generator):  # noqa: ANN001, ANN202
    import shapely

    rows, polygons = [], []
    building = 0
    for j in range(ROWS - 1):
        for i in range(COLUMNS - 1):
            bx, by = x0 + i * BLOCK_M, y0 + j * BLOCK_M
            zone_id = f"Z{j}{i}"
            # Industrial parks in the north-west, a commercial core in the middle, homes elsewhere.
            core = abs(i - 4) <= 1 and abs(j - 3) <= 1
            use_weights = (
                [0.2, 0.6, 0.0, 0.2] if core else [0.1, 0.05, 0.8, 0.05] if (i <= 1 and j >= 4)
                else [0.75, 0.1, 0.05, 0.1]
            )
            for gx in range(4):
                for gy in range(4):
                    if rng.random() < 0.25:
                        continue
                    width = rng.uniform(35, 70)
                    depth = rng.uniform(20, 45)
                    cx = bx + 100 + gx * 160 + rng.uniform(0, 40)
                    cy = by + 100 + gy * 160 + rng.uniform(0, 40)
                    footprint = shapely.box(cx, cy, cx + width, cy + depth)
                    if rng.random() < 0.2:  # an L-shaped courtyard block: a concave footprint
                        footprint = footprint.difference(
                            shapely.box(cx + width / 2, cy + depth / 2, cx + width, cy + depth)
                        )
                    use = USES[rng.choice(4, p=use_weights)]
                    storeys = int(
                        rng.integers(18, 34) if (core and use == "commercial")
                        else rng.integers(1, 4) if use == "industrial" else rng.integers(3, 19)
                    )
                    height = storeys * (4.5 if use == "industrial" else 3.0)
                    ground = float(terrain.elevation_m(cx, cy))
                    rows.append({
                        "building_id": f"B{building:05d}", "zone_id": zone_id, "use": use,
                        "height_m": height, "storeys": storeys, "cim_level": 2,
                        "ground_elevation_m": ground,
                        "residents": storeys * 20 if use == "residential" else 0,
                        "jobs": storeys * 30 if use != "residential" else 0,
                    })
                    polygons.append(footprint)
                    building += 1
    return _gdf(rows, polygons)


def _water(node_xy: dict[int, tuple[float, float]]):  # noqa: ANN202 - wntr model
    import wntr

    wn = wntr.network.WaterNetworkModel()
    for node, (x, y) in node_xy.items():
        wn.add_junction(f"J{node}", base_demand=0.002, elevation=3.0, coordinates=(x, y))
    first = min(node_xy)
    fx, fy = node_xy[first]
    wn.add_reservoir("R1", base_head=60.0, coordinates=(fx - 300.0, fy - 300.0))
    wn.add_pipe("P_R1", "R1", f"J{first}", length=450.0, diameter=0.6, roughness=120)
    for j in range(ROWS):
        for i in range(COLUMNS):
            node = 1000 + j * COLUMNS + i
            for di, dj in ((1, 0), (0, 1)):
                if i + di < COLUMNS and j + dj < ROWS:
                    other = 1000 + (j + dj) * COLUMNS + (i + di)
                    wn.add_pipe(f"P{node}_{other}", f"J{node}", f"J{other}", length=BLOCK_M,
                                diameter=0.3, roughness=110)
    return wn


def sample_city(seed: int = 20250603) -> SampleCity:
    """Build the sample city (a few hundred buildings; about 0.5 s)."""
    import pandas as pd
    import shapely

    rng = np.random.default_rng(seed)
    x0, y0 = _grid_origin_m()
    x1, y1 = x0 + BLOCK_M * (COLUMNS - 1), y0 + BLOCK_M * (ROWS - 1)
    roads, node_xy = _roads(x0, y0)
    terrain = _terrain(x0, y0)
    mid_x = x0 + BLOCK_M * (COLUMNS // 2) - BLOCK_M / 2
    boundary = _gdf([{"name_zh": "样例区", "adcode": "000000", "source": "made in code"}],
                    [shapely.box(x0 - 400, y0 - 400, x1 + 400, y1 + 400)])
    areas = _gdf(
        [
            {"area_id": "wuhang", "name_zh": "吴航街道", "name_en": "Wuhang", "kind": "street",
             "approximate": True},
            {"area_id": "binhai", "name_zh": "滨海新城", "name_en": "Binhai New City", "kind": "new_city",
             "approximate": True},
        ],
        [shapely.box(x0 - 400, y0 - 400, mid_x, y1 + 400), shapely.box(mid_x, y0 - 400, x1 + 400, y1 + 400)],
    )
    towns = _gdf(
        [
            {"town_id": "wuhang", "name_zh": "吴航街道", "name_pinyin": "Wuhang", "kind": "street",
             "population": 180000, "node": 1000 + 3 * COLUMNS + 1},
            {"town_id": "zhanggang", "name_zh": "漳港街道", "name_pinyin": "Zhanggang", "kind": "street",
             "population": 90000, "node": 1000 + 5 * COLUMNS + 6},
        ],
        [shapely.Point(node_xy[1000 + 3 * COLUMNS + 1]), shapely.Point(node_xy[1000 + 5 * COLUMNS + 6])],
    )
    landmarks = _gdf(
        [
            {"landmark_id": "donghu", "name_zh": "东湖数字小镇", "name_en": "Donghu Digital Town",
             "kind": "park", "approximate": True},
            {"landmark_id": "airport", "name_zh": "长乐国际机场", "name_en": "Changle International Airport",
             "kind": "airport", "approximate": True},
        ],
        [shapely.Point(x0 + 4.5 * BLOCK_M, y0 + 2.5 * BLOCK_M), shapely.Point(x1 - 300, y1 - 300)],
    )
    zones = _gdf(
        [{"zone_id": f"Z{j}{i}", "town_id": "wuhang" if i < 4 else "zhanggang",
          "area_id": "wuhang" if i < 4 else "binhai", "residents": 3000, "jobs": 1500,
          "node": 1000 + j * COLUMNS + i} for j in range(ROWS - 1) for i in range(COLUMNS - 1)],
        [shapely.box(x0 + i * BLOCK_M, y0 + j * BLOCK_M, x0 + (i + 1) * BLOCK_M, y0 + (j + 1) * BLOCK_M)
         for j in range(ROWS - 1) for i in range(COLUMNS - 1)],
    )
    buildings = _buildings(x0, y0, terrain, rng)
    compute_sites = _gdf(
        [{"site_id": "aicc", "name_zh": "长乐人工智能计算中心", "name_en": "Changle AI Computing Centre",
          "kind": "aicc", "phase1_pflops": 2000.0, "target_pflops": 10000.0, "pue": 1.25}],
        [shapely.Point(x0 + 5.5 * BLOCK_M, y0 + 4.5 * BLOCK_M)],
    )
    line_nodes = {
        "L1": [1000 + 1 * COLUMNS + c for c in range(COLUMNS)],
        "AV1": [1000 + r * COLUMNS + 5 for r in range(ROWS)] + [1000 + (ROWS - 1) * COLUMNS + 6],
    }
    bus_lines = _gdf(
        [
            {"line_id": "L1", "name": "1路", "headway_s": 600.0, "autonomous": False,
             "vehicle_type": "bus_12m", "route_nodes": json.dumps(line_nodes["L1"])},
            {"line_id": "AV1", "name": "滨海无人驾驶公交", "headway_s": 900.0, "autonomous": True,
             "vehicle_type": "av_minibus", "route_nodes": json.dumps(line_nodes["AV1"])},
        ],
        [shapely.LineString([node_xy[n] for n in nodes]) for nodes in line_nodes.values()],
    )
    stop_nodes = sorted({n for nodes in line_nodes.values() for n in nodes[::2]})
    bus_stops = _gdf(
        [{"stop_id": f"S{n}", "name": f"站{n}", "node": n} for n in stop_nodes],
        [shapely.Point(node_xy[n]) for n in stop_nodes],
    )
    bus_line_stops = pd.DataFrame(
        [{"line_id": line, "direction": 0, "seq": k, "stop_id": f"S{n}"}
         for line, nodes in line_nodes.items() for k, n in enumerate(n for n in nodes if n in stop_nodes)]
    )
    return SampleCity(
        boundary=boundary, areas=areas, towns=towns, landmarks=landmarks, roads=roads, zones=zones,
        buildings=buildings, terrain=terrain, compute_sites=compute_sites, bus_stops=bus_stops,
        bus_lines=bus_lines, bus_line_stops=bus_line_stops, _water=_water(node_xy),
    )
