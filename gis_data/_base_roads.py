"""The generated road network of the reference twin (EPSG:4549 internally, EPSG:4490 out).

How it is made, in order:

1. **Urban grids.** The old town (吴航/航城), 滨海新城 and each town core get a rotated street
   grid: 支路 every block, 次干路 every few blocks, 主干路 through the centre (CJJ 37 hierarchy).
2. **文松路**, the 主干路 along 滨海新城's long axis, continuing south to 文岭 and 松下.
3. **Trunk links** between town centres, the new town and the airport: a Gabriel subgraph of
   their Delaunay triangulation plus a minimum spanning tree, so every town is linked (the town
   mesh, :mod:`twin.generate.town_mesh`).
4. **Village roads**: Poisson-disk villages joined by short Delaunay edges (支路), each with a
   small cross of village streets; they end a block inside the urban grids so they join them.
5. **Noding**: all of the above are unioned so that every crossing becomes a junction; each
   piece inherits the most important class of the ways it lies on; junctions closer than
   ``MERGE_M`` (:mod:`twin.generate.ways`) are merged.
6. **Expressways** (机场高速 and a coastal 快速路) are grade-separated: they meet the network only
   at interchanges, through ramps to the nearest junction.
7. The largest connected component is kept (two-way roads, so it is strongly connected).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely
from _base_anchors import AIRPORT_LAT, AIRPORT_LON, AIRPORT_RUNWAY_BEARING_DEG, TOWNS
from _base_land import Land, metric_point
from scipy.spatial import cKDTree
from shapely.geometry import LineString

from twin.city.roads import ROAD_CLASSES, SIGNALS
from twin.city.terrain import Terrain
from twin.crs import to_storage
from twin.generate.town_mesh import gabriel_edges, spanning_edges
from twin.generate.ways import MERGE_M, MIN_PIECE_M, Way, merge_endpoints, node_ways, street_grid_ways

WENSONG_LATLON = [(25.916, 119.627), (25.872, 119.570), (25.845, 119.582), (25.790, 119.585),
                  (25.733, 119.590)]
"""文松路 (approximate): along 滨海新城's long axis, then south via 文岭 to 松下."""
AIRPORT_EXPRESSWAY_LATLON = [(25.966, 119.548), (25.958, 119.585), (25.948, 119.618),
                             (25.940, 119.642)]
"""机场高速 (approximate): from the old town's east side to the airport terminal."""
COASTAL_EXPRESSWAY_LATLON = [(26.025, 119.588), (25.990, 119.612), (25.955, 119.630),
                             (25.930, 119.615), (25.895, 119.570), (25.855, 119.560),
                             (25.800, 119.575), (25.745, 119.593)]
"""A coastal 快速路 (generated, approximate) from 潭头 via the airport and 滨海新城 to 松下."""


@dataclass
class Roads:
    """The result: the graph (EPSG:4490) and metric helpers for the other layers."""

    graph: nx.MultiDiGraph
    wensong_m: LineString  # 文松路's 滨海新城 part, EPSG:4549
    airport_terminal_m: tuple[float, float]


def _line_latlon(points: list[tuple[float, float]]) -> LineString:
    return LineString([metric_point(lat, lon) for lat, lon in points])


def _bent_line(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> LineString:
    """A gently bent road from ``a`` to ``b`` (one mid vertex off the chord)."""
    chord = b - a
    normal = np.array([-chord[1], chord[0]]) / max(np.linalg.norm(chord), 1.0)
    mid = (a + b) / 2 + normal * rng.normal(0.0, 0.03) * np.linalg.norm(chord)
    return LineString([a, mid, b])


def trunk_ways(land: Land, terminal: tuple[float, float], rng: np.random.Generator) -> list[Way]:
    """Links joining every town centre, 滨海新城 and the airport terminal."""
    names = [t[1] for t in TOWNS] + ["滨海新城", "机场"]
    populations = [t[6] for t in TOWNS] + [100_000, 100_000]
    points = np.array([land.town_xy[t[0]] for t in TOWNS] + [metric_point(25.897, 119.600), terminal])
    candidates = [
        (i, j) for i, j in gabriel_edges(points, 16000.0)
        if land.land.contains(LineString([points[i], points[j]]))
    ]
    all_pairs = [
        (i, j) for i in range(len(points)) for j in range(i + 1, len(points))
        if land.land.contains(LineString([points[i], points[j]]))
    ]
    chosen = sorted(set(candidates) | set(spanning_edges(points, all_pairs)))
    ways = []
    inner_cores = [land.wuhang.buffer(-400.0), land.binhai.buffer(-400.0), land.airport]
    for i, j in chosen:
        line = _bent_line(points[i], points[j], rng)
        if not land.land.contains(line):
            line = LineString([points[i], points[j]])
        for core in inner_cores:  # end a few blocks inside the big grids instead of crossing them
            line = line.difference(core)
        major = min(populations[i], populations[j]) >= 30_000
        road_class, highway = ("主干路", "primary") if major else ("次干路", "secondary")
        name = f"{names[i][:2]}{names[j][:2]}公路"
        for part in shapely.get_parts(line):
            if part.geom_type == "LineString" and part.length >= MIN_PIECE_M:
                ways.append(Way(part, road_class, highway, name))
    return ways


def village_points(land: Land, rng: np.random.Generator, spacing_m: float = 1000.0) -> np.ndarray:
    """Poisson-disk village sites on rural land (dart throwing with a fixed candidate count)."""
    urban = shapely.union_all([poly for _, poly in land.urban_areas()] + [land.airport])
    region = land.land.difference(urban.buffer(400.0)).buffer(-100.0)
    xmin, ymin, xmax, ymax = region.bounds
    candidates = np.column_stack([rng.uniform(xmin, xmax, 8000), rng.uniform(ymin, ymax, 8000)])
    candidates = candidates[shapely.contains_xy(region, candidates[:, 0], candidates[:, 1])]
    accepted: list[np.ndarray] = []
    for point in candidates:
        if accepted and np.min(np.hypot(*(np.asarray(accepted) - point).T)) < spacing_m:
            continue
        accepted.append(point)
    return np.asarray(accepted)


def village_ways(land: Land, villages: np.ndarray, rng: np.random.Generator) -> list[Way]:
    """Village roads (Delaunay between villages and town centres) and village street crosses."""
    towns = np.array([land.town_xy[t[0]] for t in TOWNS])
    points = np.vstack([villages, towns])
    ways = []
    cores = [land.wuhang.buffer(-300.0), land.binhai.buffer(-300.0), land.airport]
    cores += [poly.buffer(-250.0) for _, poly in sorted(land.town_cores.items())]
    cores = shapely.union_all([c for c in cores if not c.is_empty])
    for i, j in gabriel_edges(points, 2600.0):
        if i >= len(villages) and j >= len(villages):
            continue  # town to town is a trunk link
        line = LineString([points[i], points[j]])
        if not land.land.contains(line):
            continue
        for part in shapely.get_parts(line.difference(cores)):
            if part.geom_type == "LineString" and part.length >= MIN_PIECE_M:
                ways.append(Way(part, "支路", "tertiary", ""))
    for point in villages:
        angle = rng.uniform(0.0, np.pi / 2)
        for turn in (0.0, np.pi / 2):
            d = np.array([np.cos(angle + turn), np.sin(angle + turn)]) * 180.0
            line = LineString([point - d, point + d]).intersection(land.land)
            if line.geom_type == "LineString" and line.length >= MIN_PIECE_M:
                ways.append(Way(line, "支路", "residential", ""))
    return ways


def build_roads(land: Land, terrain: Terrain, rng: np.random.Generator) -> Roads:
    """Generate the road graph (see the module docstring for the steps)."""
    terminal = np.array(metric_point(AIRPORT_LAT, AIRPORT_LON))
    theta = np.deg2rad(AIRPORT_RUNWAY_BEARING_DEG - 90.0)
    terminal = tuple(terminal + 1050.0 * np.array([np.sin(theta), np.cos(theta)]))

    wensong = _line_latlon(WENSONG_LATLON)
    wensong = wensong.intersection(land.land.difference(land.airport.buffer(100.0)))
    wensong_parts = [p for p in shapely.get_parts(wensong) if p.geom_type == "LineString"]
    axis = np.array([metric_point(*WENSONG_LATLON[1]), metric_point(*WENSONG_LATLON[0])])
    bearing = float(np.degrees(np.arctan2(*(axis[1] - axis[0]))))
    binhai_centre = axis.mean(axis=0)

    ways: list[Way] = []
    ways += street_grid_ways(land.wuhang, metric_point(25.960, 119.514), 75.0, 160.0, 3, 6, "吴航")
    ways += street_grid_ways(land.binhai, tuple(binhai_centre), bearing, 250.0, 2, 4, "滨海",
                      skip_along_axis=True)
    for town_id, core in sorted(land.town_cores.items()):
        name = next(t[1] for t in TOWNS if t[0] == town_id)
        ways += street_grid_ways(core, land.town_xy[town_id], float(rng.uniform(0.0, 90.0)), 180.0, 3,
                          1000, name[:2])
    ways += [Way(p, "主干路", "primary", "文松路") for p in wensong_parts]
    ways += trunk_ways(land, terminal, rng)
    ways += village_ways(land, village_points(land, rng), rng)

    pieces, source = node_ways(ways)
    coords, ends, pieces = merge_endpoints(pieces)
    # expressways: grade-separated, joined by ramps at their vertices
    express_ways = [(_line_latlon(AIRPORT_EXPRESSWAY_LATLON), "机场高速"),
                    (_line_latlon(COASTAL_EXPRESSWAY_LATLON), "沿海快速路")]
    edges = []  # (u, v, geometry, road_class, highway, name, way_id)
    for piece, (u, v), s in zip(pieces, ends, source, strict=True):
        if u != v:
            w = ways[s]
            edges.append((int(u), int(v), piece, w.road_class, w.highway, w.name, s + 1))
    coords = [tuple(c) for c in coords]
    surface_tree = cKDTree(np.asarray(coords))
    way_id = len(ways) + 1
    for line, name in express_ways:
        line = line.intersection(land.land)
        if line.geom_type != "LineString":
            line = max(shapely.get_parts(line), key=lambda p: p.length)
        vertices = shapely.get_coordinates(line)
        ids = []
        for xy in vertices:
            ids.append(len(coords))
            coords.append(tuple(xy))
        for a, b in zip(ids[:-1], ids[1:], strict=True):
            edges.append((a, b, LineString([coords[a], coords[b]]), "快速路", "trunk", name, way_id))
        way_id += 1
        for node in ids:
            distance, nearest = surface_tree.query(coords[node])
            if distance <= 800.0:
                ramp = LineString([coords[node], coords[int(nearest)]])
                edges.append((node, int(nearest), ramp, "快速路", "trunk_link", f"{name}匝道", way_id))
                way_id += 1
    in_binhai = shapely.union_all(wensong_parts).intersection(land.binhai)
    wensong_binhai = max(shapely.get_parts(in_binhai), key=lambda p: p.length)
    return Roads(_assemble(coords, edges, land, terrain), wensong_binhai, terminal)


def _assemble(coords: list[tuple[float, float]], edges: list, land: Land, terrain: Terrain) -> nx.MultiDiGraph:
    """Deduplicate, keep the largest component, number nodes, tag signals, write EPSG:4490."""
    best: dict[tuple[int, int], tuple] = {}
    for edge in edges:
        u, v, geometry, road_class = edge[:4]
        key = (min(u, v), max(u, v))
        score = (ROAD_CLASSES[road_class].rank, geometry.length)
        if key not in best or score < best[key][0]:
            best[key] = (score, edge)
    simple = nx.Graph()
    simple.add_edges_from(key for key in sorted(best))
    largest = max(nx.connected_components(simple), key=lambda c: (len(c), min(c)))
    used = sorted(largest, key=lambda n: (round(coords[n][1], 1), round(coords[n][0], 1)))
    node_id = {old: i + 1 for i, old in enumerate(used)}
    xy = np.array([coords[n] for n in used])
    lon, lat = to_storage(xy[:, 0], xy[:, 1])
    elevation = terrain.elevation_m(xy[:, 0], xy[:, 1])
    area = np.full(len(used), "rural", dtype=object)
    for area_id, poly in [("airport", land.airport)] + land.urban_areas()[::-1]:
        area[shapely.contains_xy(poly.buffer(MERGE_M), xy[:, 0], xy[:, 1])] = area_id

    graph = nx.MultiDiGraph(crs="EPSG:4490")
    for i, n in enumerate(used):
        graph.add_node(node_id[n], x=float(lon[i]), y=float(lat[i]), street_count=0,
                       elevation_m=round(float(elevation[i]), 2), area_id=str(area[i]))
    to_lonlat = lambda g: shapely.transform(g, lambda a: np.column_stack(to_storage(a[:, 0], a[:, 1])))  # noqa: E731
    kept = sorted((node_id[key[0]], node_id[key[1]], key) for key in best if key[0] in node_id)
    for _, _, key in kept:
        u, v, geometry, road_class, highway, name, way = best[key][1]
        spec = ROAD_CLASSES[road_class]
        speed = 40.0 if highway == "trunk_link" else spec.speed_kph
        lanes = 1 if highway == "trunk_link" else spec.lanes
        length = round(float(geometry.length), 3)
        forward = to_lonlat(geometry)
        common = dict(osmid=int(way), name=name, highway=highway, road_class=road_class, lanes=lanes,
                      maxspeed=str(int(speed)), speed_kph=speed, length=length,
                      travel_time=round(length / (speed / 3.6), 3), oneway=False)
        graph.add_edge(node_id[u], node_id[v], 0, **common, reversed=False, geometry=forward)
        graph.add_edge(node_id[v], node_id[u], 0, **common, reversed=True, geometry=forward.reverse())
    undirected = nx.Graph(graph)
    for n in graph.nodes:
        graph.nodes[n]["street_count"] = undirected.degree(n)
    for n in tag_signals(graph):
        graph.nodes[n]["highway"] = SIGNALS
    return graph


def tag_signals(graph: nx.MultiDiGraph) -> list[int]:
    """Junctions that get signals: urban, ≥ 3 streets, where a 主干路 meets another 主干路/次干路
    (or two 次干路 meet in the old town); never at expressway interchanges."""
    chosen = []
    for n, data in graph.nodes(data=True):
        if data["street_count"] < 3 or data["area_id"] in ("rural", "airport"):
            continue
        incident = {}
        for _, _, e in graph.out_edges(n, data=True):
            incident.setdefault(e["osmid"], e["road_class"])
        classes = list(incident.values())
        if "快速路" in classes:
            continue
        arterials = classes.count("主干路")
        collectors = classes.count("次干路")
        big_area = data["area_id"] == "wuhang"
        if (arterials >= 1 and arterials + collectors >= 2) or (big_area and collectors >= 2):
            chosen.append(n)
    return sorted(chosen)
