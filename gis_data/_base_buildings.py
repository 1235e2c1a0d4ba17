"""Zones and buildings of the reference twin (the CIM base), EPSG:4549 internally.

Buildings are rectangles set back from the streets they front, on both sides, at a spacing and
size that depend on the area (old town, 滨海新城, town cores, villages). Candidates that fall
outside the land, on a road (within half its red-line width) or on an earlier building are
dropped, all with vectorised shapely 2 operations. Uses and storeys are drawn per area. Town
populations (:mod:`_base_anchors`) are spread over residential floor area, district jobs over
non-residential floor area by use; zones sum their buildings, so the two always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from _base_anchors import JOBS_PER_RESIDENT, POPULATION_TOTAL, TOWNS
from _base_land import Land
from scipy.spatial import cKDTree

from twin.city.roads import ROAD_CLASSES
from twin.city.terrain import Terrain
from twin.crs import to_metric

ZONE_CELL_M = 1000.0
"""Traffic analysis zones are 1 km grid cells clipped to the district (an assumption)."""
STOREY_HEIGHT_M = 3.0
INDUSTRIAL_STOREY_HEIGHT_M = 4.5
FLOOR_AREA_PER_JOB_M2 = {"commercial": 25.0, "public": 40.0, "industrial": 80.0}
"""Gross floor area per job by use (assumption, typical planning norms)."""


@dataclass(frozen=True)
class Frontage:
    """How buildings line a street in one kind of area (metres)."""

    spacing_m: float
    width_m: float
    depth_m: float
    setback_m: float
    margin_m: float  # kept clear at each end of a street, near junctions
    cim_level: int


FRONTAGE = {
    "wuhang": Frontage(46.0, 26.0, 18.0, 4.0, 14.0, 3),
    "binhai": Frontage(72.0, 38.0, 26.0, 8.0, 20.0, 3),
    "town": Frontage(40.0, 18.0, 13.0, 3.0, 10.0, 3),
    "village": Frontage(34.0, 13.0, 11.0, 3.0, 8.0, 2),
}
"""Frontage per area kind. CIM level (CJJ/T 315 style): 3 = footprint + height block model of
urban buildings, 2 = coarse village mass model."""

# use probabilities (residential, commercial, industrial, public) and storey ranges per kind
USE_NAMES = np.array(["residential", "commercial", "industrial", "public"])
USE_PROBABILITIES = {
    "wuhang": (0.74, 0.16, 0.0, 0.10),
    "wuhang_main": (0.45, 0.45, 0.0, 0.10),
    "binhai": (0.55, 0.24, 0.09, 0.12),
    "binhai_wensong": (0.20, 0.20, 0.50, 0.10),
    "town": (0.82, 0.10, 0.03, 0.05),
    "village": (0.93, 0.04, 0.0, 0.03),
}
STOREYS = {  # kind -> use -> (low, high) inclusive
    "wuhang": {"residential": (4, 12), "commercial": (3, 10), "industrial": (2, 4), "public": (3, 8)},
    "binhai": {"residential": (8, 26), "commercial": (4, 20), "industrial": (2, 5), "public": (3, 10)},
    "town": {"residential": (2, 5), "commercial": (2, 4), "industrial": (1, 3), "public": (2, 4)},
    "village": {"residential": (1, 3), "commercial": (1, 3), "industrial": (1, 2), "public": (1, 3)},
}


def _edges_metric(graph: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """One row per two-way road (forward edges only) in EPSG:4549."""
    rows = [(u, v, d["road_class"], d["highway"], d["osmid"], d["geometry"])
            for u, v, d in graph.edges(data=True) if not d.get("reversed", False)]
    frame = gpd.GeoDataFrame(rows, columns=["u", "v", "road_class", "highway", "osmid", "geometry"],
                             crs="EPSG:4490")
    frame["geometry"] = shapely.transform(
        frame.geometry.values, lambda xy: np.column_stack(to_metric(xy[:, 0], xy[:, 1]))
    )
    return frame.set_crs("EPSG:4549", allow_override=True)


def _edge_kind(edges: gpd.GeoDataFrame, graph: nx.MultiDiGraph) -> np.ndarray:
    """Area kind of each road from its end nodes: old town, 滨海新城, town, village or none."""
    area_u = np.array([graph.nodes[u]["area_id"] for u in edges["u"]])
    area_v = np.array([graph.nodes[v]["area_id"] for v in edges["v"]])
    kind = np.full(len(edges), "", dtype=object)
    for area, label in (("wuhang", "wuhang"), ("binhai", "binhai")):
        kind[(area_u == area) & (area_v == area)] = label
    town = np.char.startswith(area_u.astype(str), "town_") & (area_u == area_v)
    kind[town] = "town"
    village = (area_u == "rural") & (edges["highway"].to_numpy() == "residential")
    kind[village] = "village"
    kind[edges["road_class"].to_numpy() == "快速路"] = ""
    return kind


def _candidates(edges: gpd.GeoDataFrame, kind: np.ndarray, rng: np.random.Generator):  # noqa: ANN202
    """Candidate footprints along both sides of every fronted road."""
    centres, offsets, src, kinds = [], [], [], []
    lengths = edges.length.to_numpy()
    geoms = edges.geometry.values
    for label, spec in FRONTAGE.items():
        idx = np.flatnonzero(kind == label)
        for i in idx:
            usable = lengths[i] - 2 * spec.margin_m
            if usable < spec.width_m:
                continue
            count = int(usable // spec.spacing_m) + 1
            start = spec.margin_m + (usable - (count - 1) * spec.spacing_m) / 2
            t = start + spec.spacing_m * np.arange(count)
            for side in (-1.0, 1.0):
                src.append(np.full(count, i))
                kinds.append(np.full(count, label, dtype=object))
                centres.append(t)
                offsets.append(np.full(count, side))
        # widths/depths drawn below in one go per kind
    src = np.concatenate(src)
    t = np.concatenate(centres)
    side = np.concatenate(offsets)
    kinds = np.concatenate(kinds)
    width = np.array([FRONTAGE[k].width_m for k in kinds]) * rng.uniform(0.75, 1.0, len(src))
    depth = np.array([FRONTAGE[k].depth_m for k in kinds]) * rng.uniform(0.8, 1.15, len(src))
    setback = np.array([FRONTAGE[k].setback_m for k in kinds])
    half_road = np.array([ROAD_CLASSES[c].width_m / 2 for c in edges["road_class"].to_numpy()[src]])
    line = geoms[src]
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(line, np.maximum(t - 1.0, 0.0)))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(line, t + 1.0))
    here = shapely.get_coordinates(shapely.line_interpolate_point(line, t))
    tangents = p1 - p0
    tangents /= np.linalg.norm(tangents, axis=1, keepdims=True)
    normals = np.column_stack([-tangents[:, 1], tangents[:, 0]]) * side[:, None]
    centre = here + normals * (half_road + setback + depth / 2)[:, None]
    a = tangents * (width / 2)[:, None]
    b = normals * (depth / 2)[:, None]
    corners = np.stack([centre - a - b, centre + a - b, centre + a + b, centre - a + b, centre - a - b], axis=1)
    polygons = shapely.polygons(corners)
    return polygons, src, kinds


def _keep_clear(polygons: np.ndarray, edges: gpd.GeoDataFrame, land: Land) -> np.ndarray:
    """Mask of candidates inside the land, off the airport, off every road and off each other."""
    inside = shapely.within(polygons, land.land) & ~shapely.intersects(polygons, land.airport)
    half_width = np.array([ROAD_CLASSES[c].width_m / 2 for c in edges["road_class"]])
    road_area = shapely.buffer(edges.geometry.values, half_width, quad_segs=2)
    hit = shapely.STRtree(road_area).query(polygons, predicate="intersects")[0]
    clear = inside.copy()
    clear[hit] = False
    idx = np.flatnonzero(clear)
    kept = polygons[idx]
    # 0.5 m apart at least, so rounding to 1 cm and reprojection can never make them touch
    i, j = shapely.STRtree(kept).query(kept, predicate="dwithin", distance=0.5)
    later = j[i < j]  # of two overlapping candidates keep the earlier one
    clear[idx[np.unique(later)]] = False
    return clear


def _draw_uses(kinds: np.ndarray, near_main: np.ndarray, near_wensong: np.ndarray,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Use and storeys of each building, by area kind (seeded draws)."""
    use = np.empty(len(kinds), dtype=object)
    storeys = np.zeros(len(kinds), dtype=np.int64)
    u = rng.random(len(kinds))
    s = rng.random(len(kinds))
    for kind in ("wuhang", "binhai", "town", "village"):
        mask = kinds == kind
        table = np.tile(np.asarray(USE_PROBABILITIES[kind]), (len(kinds), 1))
        if kind == "wuhang":
            table[near_main] = USE_PROBABILITIES["wuhang_main"]
        if kind == "binhai":
            table[near_wensong] = USE_PROBABILITIES["binhai_wensong"]
        cumulative = np.cumsum(table, axis=1)
        chosen = (u[:, None] > cumulative).sum(axis=1).clip(0, 3)
        use[mask] = USE_NAMES[chosen[mask]]
        for name, (low, high) in STOREYS[kind].items():
            m = mask & (use == name)
            storeys[m] = low + np.floor(s[m] * (high - low + 1)).astype(np.int64)
    return use, storeys


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total`` (Hamilton's method)."""
    if len(weights) == 0 or total == 0:
        return np.zeros(len(weights), dtype=np.int64)
    share = total * weights / weights.sum()
    base = np.floor(share).astype(np.int64)
    short = total - int(base.sum())
    order = np.lexsort((np.arange(len(share)), -(share - base)))
    base[order[:short]] += 1
    return base


def build_zones_and_buildings(graph: nx.MultiDiGraph, land: Land, terrain: Terrain,
                              wensong_m: shapely.LineString, rng: np.random.Generator
                              ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, int]]:
    """Zones and buildings (EPSG:4549) and each town's population."""
    edges = _edges_metric(graph)
    kind = _edge_kind(edges, graph)
    polygons, src, kinds = _candidates(edges, kind, rng)
    keep = _keep_clear(polygons, edges, land)
    polygons, src, kinds = polygons[keep], src[keep], kinds[keep]

    centroid = shapely.get_coordinates(shapely.centroid(polygons))
    near_main = edges["road_class"].to_numpy()[src] == "主干路"
    near_wensong = shapely.dwithin(shapely.points(centroid), wensong_m, 700.0)
    use, storeys = _draw_uses(kinds, near_main, near_wensong, rng)
    storey_height = np.where(use == "industrial", INDUSTRIAL_STOREY_HEIGHT_M, STOREY_HEIGHT_M)
    height = storeys * storey_height
    footprint = shapely.area(polygons)
    floor_area = footprint * storeys

    # zones: 1 km cells of the district clipped to the boundary
    zones = _zones(land)
    cell = np.floor((centroid - zones.attrs["origin"]) / ZONE_CELL_M).astype(np.int64)
    lookup = {(int(c), int(r)): int(z) for c, r, z in zip(zones["col"], zones["row"], zones["zone_id"], strict=True)}
    zone_of = np.array([lookup[(int(c), int(r))] for c, r in cell])

    # towns: nearest town centre of the zone's centroid
    town_ids = [t[0] for t in TOWNS]
    town_xy = np.array([land.town_xy[t] for t in town_ids])
    zone_centroid = shapely.get_coordinates(shapely.centroid(zones.geometry.values))
    zones["town_id"] = np.array(town_ids)[cKDTree(town_xy).query(zone_centroid)[1]]
    zone_town = dict(zip(zones["zone_id"], zones["town_id"], strict=True))
    building_town = np.array([zone_town[z] for z in zone_of])

    # residents: each town's population over its residential floor area
    raw = np.array([t[6] for t in TOWNS], dtype=float)
    town_population = largest_remainder(POPULATION_TOTAL, raw)
    population = dict(zip(town_ids, (int(p) for p in town_population), strict=True))
    residents = np.zeros(len(polygons), dtype=np.int64)
    for town_id in town_ids:
        mask = (building_town == town_id) & (use == "residential")
        if not mask.any():
            mask = building_town == town_id
        residents[mask] = largest_remainder(population[town_id], floor_area[mask])
    job_weight = np.array([floor_area[i] / FLOOR_AREA_PER_JOB_M2[u] if u in FLOOR_AREA_PER_JOB_M2 else 0.0
                           for i, u in enumerate(use)])
    jobs = largest_remainder(int(round(POPULATION_TOTAL * JOBS_PER_RESIDENT)), job_weight)

    order = np.lexsort((centroid[:, 0], -centroid[:, 1]))  # north to south, west to east
    buildings = gpd.GeoDataFrame(
        {
            "building_id": np.arange(1, len(order) + 1, dtype=np.int64),
            "zone_id": zone_of[order],
            "use": use[order].astype(str),
            "height_m": np.round(height[order], 2),
            "storeys": storeys[order],
            "cim_level": np.array([FRONTAGE[k].cim_level for k in kinds[order]], dtype=np.int64),
            "ground_elevation_m": np.round(terrain.elevation_m(centroid[order, 0], centroid[order, 1]), 2),
            "residents": residents[order],
            "jobs": jobs[order],
        },
        geometry=shapely.set_precision(polygons[order], 0.01),
        crs="EPSG:4549",
    )

    totals = buildings.groupby("zone_id")[["residents", "jobs"]].sum()
    zones["residents"] = zones["zone_id"].map(totals["residents"]).fillna(0).astype(np.int64)
    zones["jobs"] = zones["zone_id"].map(totals["jobs"]).fillna(0).astype(np.int64)
    zones["area_id"] = _area_of(zone_centroid, land)
    node_ids = np.array(list(graph.nodes))
    node_xy = np.column_stack(to_metric(np.array([graph.nodes[n]["x"] for n in node_ids]),
                                        np.array([graph.nodes[n]["y"] for n in node_ids])))
    zones["node"] = node_ids[cKDTree(node_xy).query(zone_centroid)[1]].astype(np.int64)
    zones = zones[["zone_id", "town_id", "area_id", "residents", "jobs", "node", "geometry"]]
    return zones, buildings, population


def _zones(land: Land) -> gpd.GeoDataFrame:
    """1 km grid cells intersected with the district's mainland (zone ids row by row from the NW)."""
    mainland = max(shapely.get_parts(land.boundary), key=lambda p: p.area)
    xmin, ymin, xmax, ymax = mainland.bounds
    origin = np.array([np.floor(xmin / ZONE_CELL_M) * ZONE_CELL_M, np.floor(ymin / ZONE_CELL_M) * ZONE_CELL_M])
    ncol = int(np.ceil((xmax - origin[0]) / ZONE_CELL_M))
    nrow = int(np.ceil((ymax - origin[1]) / ZONE_CELL_M))
    cols, rows = np.meshgrid(np.arange(ncol), np.arange(nrow))
    cols, rows = cols.ravel(), rows.ravel()
    cells = shapely.box(origin[0] + cols * ZONE_CELL_M, origin[1] + rows * ZONE_CELL_M,
                        origin[0] + (cols + 1) * ZONE_CELL_M, origin[1] + (rows + 1) * ZONE_CELL_M)
    clipped = shapely.intersection(cells, mainland)
    keep = ~shapely.is_empty(clipped) & (shapely.area(clipped) > 1.0)
    order = np.lexsort((cols[keep], -rows[keep]))
    frame = gpd.GeoDataFrame(
        {"zone_id": np.arange(1, keep.sum() + 1, dtype=np.int64), "col": cols[keep][order], "row": rows[keep][order]},
        geometry=shapely.set_precision(clipped[keep][order], 0.01), crs="EPSG:4549",
    )
    frame.attrs["origin"] = origin
    return frame


def _area_of(xy: np.ndarray, land: Land) -> np.ndarray:
    """Named area containing each point (``rural`` if none)."""
    area = np.full(len(xy), "rural", dtype=object)
    for area_id, poly in [("airport", land.airport)] + land.urban_areas()[::-1]:
        area[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])] = area_id
    return area.astype(str)


def summary(buildings: pd.DataFrame) -> dict[str, float]:
    """Counts used in the README and tests."""
    floor = (buildings.geometry.area * buildings["storeys"]).where(buildings["use"] == "residential").sum()
    return {"buildings": len(buildings), "residential_floor_m2_per_resident": floor / buildings["residents"].sum()}
