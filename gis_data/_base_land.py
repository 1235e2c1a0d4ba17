"""Land and named areas of the reference twin, in EPSG:4549 (metres).

The district boundary is real; the areas built here (old town, 滨海新城, airport, town cores) are
approximate shapes placed on the anchors of :mod:`_base_anchors`, clipped to the land inside the
boundary so that nothing is generated at sea or across the Min River.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from _base_anchors import (
    AIRPORT_LAT,
    AIRPORT_LON,
    AIRPORT_RUNWAY_BEARING_DEG,
    BINHAI_BOX,
    OLD_TOWN_CENTRE,
    TOWNS,
)
from shapely.geometry import Polygon, box, shape

from twin.crs import to_metric

LAND_INSET_M = 150.0
"""Generated features keep this far inside the boundary (the coast and the river bank)."""


@dataclass
class Land:
    """The district's land and its named areas (all EPSG:4549 polygons)."""

    boundary: shapely.MultiPolygon  # the real boundary, in metres
    land: shapely.Polygon  # the mainland part, inset by LAND_INSET_M
    airport: shapely.Polygon
    wuhang: shapely.Polygon
    binhai: shapely.Polygon
    town_cores: dict[str, shapely.Polygon]  # town_id -> core polygon (towns outside wuhang/binhai)
    town_xy: dict[str, tuple[float, float]]  # town_id -> centre (m)

    def urban_areas(self) -> list[tuple[str, shapely.Polygon]]:
        """``(area_id, polygon)`` of every urban area, old town and new town first."""
        areas = [("wuhang", self.wuhang), ("binhai", self.binhai)]
        areas += [(f"town_{tid}", poly) for tid, poly in sorted(self.town_cores.items())]
        return areas


def metric_point(lat: float, lon: float) -> tuple[float, float]:
    """``(x_m, y_m)`` in EPSG:4549 of a lat/lon anchor."""
    x, y = to_metric(np.array([lon]), np.array([lat]))
    return float(x[0]), float(y[0])


def to_metric_geometry(geometry):  # noqa: ANN001, ANN201 - shapely in, shapely out
    """A lon/lat shapely geometry in EPSG:4549."""
    return shapely.transform(geometry, lambda xy: np.column_stack(to_metric(xy[:, 0], xy[:, 1])))


def rotated_rectangle(centre: tuple[float, float], length_m: float, width_m: float,
                      bearing_deg: float) -> Polygon:
    """A rectangle whose long side runs along ``bearing_deg`` (clockwise from north)."""
    theta = np.deg2rad(bearing_deg)
    along = np.array([np.sin(theta), np.cos(theta)])
    across = np.array([along[1], -along[0]])
    c = np.asarray(centre)
    corners = [
        c + sa * along * length_m / 2 + sc * across * width_m / 2
        for sa, sc in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]
    return Polygon(corners)


def read_boundary(path: Path) -> shapely.MultiPolygon:
    """The committed boundary GeoJSON (EPSG:4490) as a lon/lat MultiPolygon."""
    feature = json.loads(path.read_text(encoding="utf-8"))["features"][0]
    geometry = shape(feature["geometry"])
    return geometry if geometry.geom_type == "MultiPolygon" else shapely.MultiPolygon([geometry])


def _part_containing(geometry, point: tuple[float, float]):  # noqa: ANN001, ANN202
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type == "Polygon"]
    if not parts:
        return Polygon()
    target = shapely.Point(point)
    inside = [p for p in parts if p.contains(target)]
    return inside[0] if inside else max(parts, key=lambda p: p.area)


def build_land(boundary_lonlat: shapely.MultiPolygon) -> Land:
    """Build the land polygon and the named areas from the real boundary."""
    boundary = to_metric_geometry(boundary_lonlat)
    mainland = max(shapely.get_parts(boundary), key=lambda p: p.area)
    land = mainland.buffer(-LAND_INSET_M, join_style="mitre")
    land = max(shapely.get_parts(land), key=lambda p: p.area)

    airport_xy = metric_point(AIRPORT_LAT, AIRPORT_LON)
    airport = rotated_rectangle(airport_xy, 4200.0, 1700.0, AIRPORT_RUNWAY_BEARING_DEG)
    airport = _part_containing(airport.intersection(land), airport_xy)

    wuhang_xy = metric_point(*OLD_TOWN_CENTRE)
    wuhang = rotated_rectangle(wuhang_xy, 5600.0, 4400.0, 75.0).intersection(land)
    wuhang = _part_containing(wuhang, wuhang_xy)

    lat0, lat1, lon0, lon1 = BINHAI_BOX
    binhai_box = box(lon0, lat0, lon1, lat1).segmentize(0.002)
    binhai = to_metric_geometry(binhai_box).intersection(land).difference(airport.buffer(250.0))
    binhai = _part_containing(binhai, metric_point(25.897, 119.600))

    town_xy = {tid: metric_point(lat, lon) for tid, _, _, _, lat, lon, _ in TOWNS}
    taken = shapely.union_all([wuhang, binhai, airport]).buffer(300.0)
    cores: dict[str, Polygon] = {}
    for tid, _, _, _, _, _, population in TOWNS:
        centre = shapely.Point(town_xy[tid])
        if taken.contains(centre):
            continue  # the town centre lies in the old town or 滨海新城: no separate core
        radius_m = 500.0 + population / 70.0
        core = centre.buffer(radius_m, quad_segs=16).intersection(land).difference(taken)
        core = _part_containing(core, town_xy[tid])
        if core.area > 0:
            cores[tid] = core
            taken = taken.union(core.buffer(300.0))
    return Land(boundary, land, airport, wuhang, binhai, cores, town_xy)
