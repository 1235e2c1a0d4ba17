"""The flood on the city: rain → ponding per zone → water depth on every road link over time.

Binds :mod:`twin.hazards.ponding` to a city: the zones layer (1 km² demand zones with their
街道/镇 ``town_id``), the terrain grid (EPSG:4549, :class:`twin.city.terrain.Terrain`) and road link
midpoints (lon/lat). A terrain cell belongs to the zone its centre lies in; a link to the zone its
midpoint lies in (the nearest zone if none), at the elevation of the terrain cell under its
midpoint, never below its zone's lowest cell (so a link is dry while its zone is).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from shapely import STRtree, points

from twin.city.terrain import Terrain
from twin.crs import to_metric
from twin.hazards.ponding import PondingResult, ZoneHypsometry, link_depth_m, simulate_ponding
from twin.hazards.storm import RainSeries

METRIC_CRS = "EPSG:4549"


@dataclass(frozen=True)
class FloodGeometry:
    """Zones (areas, towns, residents), their hypsometry, and each link's zone and ground."""

    zone_id: np.ndarray
    zone_town: np.ndarray
    zone_residents: np.ndarray
    area_m2: np.ndarray
    hypsometry: ZoneHypsometry
    link_zone: np.ndarray
    link_elevation_m: np.ndarray
    terrain: Terrain
    tree: STRtree

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Zone (containing, else nearest) and ground elevation (m) of lon/lat sites (as for links)."""
        return _locate(self.tree, self.terrain, self.hypsometry, lon, lat)


def _locate(tree: STRtree, terrain: Terrain, hyps: ZoneHypsometry, lon: np.ndarray,
            lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ny, nx = terrain.shape
    x, y = to_metric(np.asarray(lon, float), np.asarray(lat, float))
    zone = np.asarray(tree.query_nearest(points(x, y), all_matches=False)[1], np.int64)
    i = np.clip(np.rint((x - terrain.x0_m) / terrain.cell_m).astype(np.int64), 0, nx - 1)
    j = np.clip(np.rint((y - terrain.y0_m) / terrain.cell_m).astype(np.int64), 0, ny - 1)
    ground = terrain.elevation_m_grid[j, i].astype(float)
    return zone, np.maximum(ground, hyps.floor_m()[zone])


def flood_geometry(zones: gpd.GeoDataFrame, terrain: Terrain, link_lon: np.ndarray,
                   link_lat: np.ndarray) -> FloodGeometry:
    """Cells and links assigned to zones (see the module docstring)."""
    metric = zones.to_crs(METRIC_CRS)
    polygons = np.asarray(metric.geometry.values)
    tree = STRtree(polygons)
    ny, nx = terrain.shape
    jj, ii = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    cx = terrain.x0_m + ii.ravel() * terrain.cell_m
    cy = terrain.y0_m + jj.ravel() * terrain.cell_m
    cell_zone = np.full(cx.size, -1, np.int64)
    inside, zone = tree.query(points(cx, cy), predicate="within")
    cell_zone[inside] = zone
    hyps = ZoneHypsometry(cell_zone, terrain.elevation_m_grid.ravel(), terrain.cell_m**2, len(metric))
    link_zone, link_elevation = _locate(tree, terrain, hyps, link_lon, link_lat)
    return FloodGeometry(
        zone_id=metric["zone_id"].to_numpy(), zone_town=metric["town_id"].astype(str).to_numpy(),
        zone_residents=metric["residents"].to_numpy(float), area_m2=metric.geometry.area.to_numpy(float),
        hypsometry=hyps, link_zone=link_zone, link_elevation_m=link_elevation, terrain=terrain, tree=tree,
    )


@dataclass(frozen=True)
class Flood:
    """Ponding per zone and depth per link over time: ``depth_m[k, link]`` at ``time_s[k]``."""

    geometry: FloodGeometry
    ponding: PondingResult
    level_m: np.ndarray
    depth_m: np.ndarray

    @property
    def time_s(self) -> np.ndarray:
        """Times of the states (s since the start)."""
        return self.ponding.time_s

    def depth_at(self, time_s: float) -> np.ndarray:
        """Link depths (m) of the last state at or before ``time_s``."""
        k = int(np.clip(np.searchsorted(self.time_s, time_s, side="right") - 1, 0, len(self.time_s) - 1))
        return self.depth_m[k]

    def site_depth_m(self, zone: np.ndarray, elevation_m: np.ndarray) -> np.ndarray:
        """``[time, site]`` water depth (m) at sites located with :meth:`FloodGeometry.locate`."""
        return np.array([link_depth_m(level, zone, elevation_m) for level in self.level_m])


def simulate_flood(geometry: FloodGeometry, rain: RainSeries, runoff_coefficient: float,
                   drain_capacity_mm_per_h: float, end_s: float, step_s: float = 300.0) -> Flood:
    """Ponding of ``rain`` on every zone, and the depth on every link at each step."""
    ponding = simulate_ponding(rain, geometry.area_m2, runoff_coefficient, drain_capacity_mm_per_h, end_s, step_s)
    levels = np.array([geometry.hypsometry.level_m(v) for v in ponding.ponded_m3])
    depths = np.array([link_depth_m(level, geometry.link_zone, geometry.link_elevation_m) for level in levels])
    return Flood(geometry, ponding, levels, depths)
