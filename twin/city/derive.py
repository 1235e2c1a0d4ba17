"""Layers a city lacks, derived from the ones it has, and said so.

* **Zones** from the city's admin areas, else a square grid (``ZONE_GRID_M``) over its roads.
* **Residents** from the residential floor area of the buildings in each zone at
  ``residential_m2_per_person`` (``city.toml``; default 40 m² per person, about China's urban
  per-capita residential floor area in the 2020 census, National Bureau of Statistics), and
  **jobs** from the other floor area at ``JOB_FLOOR_M2`` per job.
* **Centroid connectors**: each zone's ``node`` is the road node nearest its representative point.

:func:`derivation_notes` says, in both languages, what a report must tell the reader.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box

from twin.city.manifest import CityManifest
from twin.city.roads import nearest_nodes
from twin.crs import METRIC_EPSG, STORAGE_EPSG

ZONE_GRID_M = 1000.0
"""Side of the square zones laid over a city that has neither zones nor admin areas (m)."""
JOB_FLOOR_M2 = 40.0
"""Non-residential floor area per job (m²), an assumption shared with the reference city."""
RESIDENTIAL_USES = ("residential", "house", "apartments", "detached", "terrace", "dormitory", "yes")


def connect_zones(zones: gpd.GeoDataFrame, graph: nx.MultiDiGraph | None) -> gpd.GeoDataFrame:
    """``zones`` with a ``node`` column: the road node nearest each zone's representative point."""
    if "node" in zones.columns or graph is None or graph.number_of_nodes() == 0:
        return zones
    points = zones.to_crs(f"EPSG:{STORAGE_EPSG}").geometry.representative_point()
    return zones.assign(node=nearest_nodes(graph, points.x.to_numpy(), points.y.to_numpy()))


def _grid(graph: nx.MultiDiGraph, cell_m: float) -> gpd.GeoDataFrame:
    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)
    points = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=f"EPSG:{STORAGE_EPSG}").to_crs(
        f"EPSG:{METRIC_EPSG}")
    x0, y0, x1, y1 = points.total_bounds
    cells = [box(x, y, x + cell_m, y + cell_m) for x in np.arange(x0, x1 + cell_m, cell_m)
             for y in np.arange(y0, y1 + cell_m, cell_m)]
    grid = gpd.GeoDataFrame(geometry=cells, crs=f"EPSG:{METRIC_EPSG}")
    occupied = grid.sjoin(gpd.GeoDataFrame(geometry=points), predicate="intersects").index.unique()
    return grid.loc[sorted(occupied)].reset_index(drop=True).to_crs(f"EPSG:{STORAGE_EPSG}")


def _floor_area_m2(buildings: gpd.GeoDataFrame) -> np.ndarray:
    footprint = buildings.to_crs(f"EPSG:{METRIC_EPSG}").geometry.area.to_numpy()
    storeys = pd.to_numeric(buildings.get("storeys", 1), errors="coerce")
    return footprint * np.maximum(np.nan_to_num(np.asarray(storeys, dtype=float), nan=1.0), 1.0)


def derive_zones(areas: gpd.GeoDataFrame | None, buildings: gpd.GeoDataFrame | None,
                 graph: nx.MultiDiGraph | None, m2_per_person: float) -> gpd.GeoDataFrame | None:
    """Zones (from admin areas, else a grid over the roads) with residents and jobs from the
    buildings' floor area; ``None`` without buildings and roads to work from."""
    if buildings is None or len(buildings) == 0 or graph is None:
        return None
    if areas is not None and len(areas):
        shapes = areas.to_crs(f"EPSG:{STORAGE_EPSG}")[["geometry"]].reset_index(drop=True)
        names = areas.get("name_zh", areas.get("name", pd.Series([""] * len(areas)))).astype(str).to_numpy()
    else:
        shapes = _grid(graph, ZONE_GRID_M)
        names = np.array([f"grid {i + 1}" for i in range(len(shapes))])
    use = buildings.get("use", pd.Series(["residential"] * len(buildings))).astype(str).str.lower()
    residential = use.isin(RESIDENTIAL_USES).to_numpy()
    floor = _floor_area_m2(buildings)
    centroids = buildings.to_crs(f"EPSG:{STORAGE_EPSG}").geometry.representative_point()
    zone_of = np.full(len(buildings), -1)
    tree = shapely.STRtree(shapes.geometry.values)
    building_index, zone_index = tree.query(centroids.values, predicate="within")
    zone_of[building_index] = zone_index
    inside = zone_of >= 0
    residents = np.bincount(zone_of[inside & residential], weights=floor[inside & residential],
                            minlength=len(shapes)) / m2_per_person
    jobs = np.bincount(zone_of[inside & ~residential], weights=floor[inside & ~residential],
                       minlength=len(shapes)) / JOB_FLOOR_M2
    zones = gpd.GeoDataFrame({
        "zone_id": np.arange(1, len(shapes) + 1, dtype=np.int64), "name": names, "town_id": names,
        "area_id": [""] * len(shapes), "residents": np.round(residents).astype(np.int64),
        "jobs": np.round(jobs).astype(np.int64),
    }, geometry=shapes.geometry.values, crs=f"EPSG:{STORAGE_EPSG}")
    zones = zones[(zones["residents"] + zones["jobs"]) > 0].reset_index(drop=True)
    return connect_zones(zones, graph)


def derivation_notes(manifest: CityManifest) -> dict[str, list[str]]:
    """What of the city is derived rather than given, as ``{"zh": [...], "en": [...]}``."""
    layers = manifest.layers
    notes: dict[str, list[str]] = {"zh": [], "en": []}
    if "zones" not in layers and "buildings" in layers:
        m2 = manifest.city.residential_m2_per_person
        source = "行政区划" if "areas" in layers else f"{ZONE_GRID_M / 1000:g} km 网格"
        source_en = "its admin areas" if "areas" in layers else f"a {ZONE_GRID_M / 1000:g} km grid"
        notes["zh"].append(f"本市无人口分区数据：分区取自{source}，人口按住宅建筑面积每人 {m2:g} m² 推算。")
        notes["en"].append(f"The city has no zones layer: zones come from {source_en} and residents from "
                           f"residential floor area at {m2:g} m² per person.")
    return notes
