"""Coordinate reference systems: EPSG constants, cached transformers and GCJ-02 conversion.

The project stores geometry in CGCS2000 geographic coordinates (EPSG:4490) and computes in
CGCS2000 / 3-degree Gauss-Krüger CM 120E (EPSG:4549, metres). Every pyproj transformer here uses
``always_xy=True``: coordinates are always ``(lon, lat)`` or ``(x_m, y_m)``.

CGCS2000 and WGS84 agree to a few centimetres (both are ITRF-based realisations), far below the
precision of web-map data, so GCJ-02 conversion treats them as the same datum.

GCJ-02 ("Mars coordinates") is the obfuscated datum that Chinese web maps (AMap/高德, Tencent)
publish. The forward formula (WGS84 → GCJ-02) is the widely published one (eviltransform, gcoord);
the inverse has no closed form and is solved here by fixed-point iteration to below 1 mm.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pyproj import Transformer

STORAGE_EPSG = 4490
"""CGCS2000 geographic (lon/lat degrees): every stored layer."""
METRIC_EPSG = 4549
"""CGCS2000 / 3-degree Gauss-Krüger CM 120E (metres): every computation."""
WGS84_EPSG = 4326
STORAGE_CRS = f"EPSG:{STORAGE_EPSG}"
METRIC_CRS = f"EPSG:{METRIC_EPSG}"

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 formula.
_GCJ_A_M = 6378245.0
_GCJ_EE = 0.00669342162296594323


@lru_cache(maxsize=16)
def transformer(source: int | str, target: int | str) -> Transformer:
    """A cached pyproj transformer from ``source`` to ``target`` (``always_xy=True``)."""
    from pyproj import Transformer  # deferred: pyproj is slow to import, and not every command projects

    return Transformer.from_crs(_crs_name(source), _crs_name(target), always_xy=True)


def _crs_name(crs: int | str) -> str:
    return f"EPSG:{crs}" if isinstance(crs, int) else str(crs)


def to_metric(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:4490 lon/lat (degrees) to EPSG:4549 ``(x_m, y_m)``."""
    return transformer(STORAGE_EPSG, METRIC_EPSG).transform(np.asarray(lon), np.asarray(lat))


def to_storage(x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:4549 ``(x_m, y_m)`` to EPSG:4490 lon/lat (degrees)."""
    return transformer(METRIC_EPSG, STORAGE_EPSG).transform(np.asarray(x_m), np.asarray(y_m))


def outside_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """True where GCJ-02 applies no offset (the formula's published bounding box)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _offset_deg(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 at WGS84 ``(lon, lat)``, in degrees (zero outside China)."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    periodic = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat += periodic
    d_lat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon += periodic
    d_lon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_GCJ_A_M * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_GCJ_A_M / sqrt_magic * np.cos(rad_lat) * pi)
    outside = outside_china(lon, lat)
    return np.where(outside, 0.0, d_lon), np.where(outside, 0.0, d_lat)


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 (or CGCS2000) lon/lat in degrees to GCJ-02; unchanged outside China.

    In Changle the offset is about 460 m east and 350 m south (≈ 580 m in all), which is why
    unconverted AMap data lands on the wrong street.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    d_lon, d_lat = _offset_deg(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(
    lon: np.ndarray, lat: np.ndarray, tolerance_deg: float = 1e-10, max_iterations: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 lon/lat in degrees to WGS84 (= CGCS2000 at this precision), exact to < 1 mm.

    Fixed-point iteration ``w ← w - (gcj(w) - g)``: the offset varies slowly (its derivative is
    about 1e-4), so each step gains about four digits and 3–4 steps reach 1e-10° (≈ 0.01 mm).
    """
    g_lon = np.asarray(lon, dtype=float)
    g_lat = np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(max_iterations):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = f_lon - g_lon, f_lat - g_lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if max(np.max(np.abs(e_lon), initial=0.0), np.max(np.abs(e_lat), initial=0.0)) < tolerance_deg:
            break
    return w_lon, w_lat


def gcj02_to_cgcs2000(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 to CGCS2000 (EPSG:4490); same as :func:`gcj02_to_wgs84` (datums agree to cm)."""
    return gcj02_to_wgs84(lon, lat)


def cgcs2000_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CGCS2000 (EPSG:4490) to GCJ-02; same as :func:`wgs84_to_gcj02`."""
    return wgs84_to_gcj02(lon, lat)


_BD_X_PI = math.pi * 3000.0 / 180.0


def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Baidu's BD-09 lon/lat (degrees) to GCJ-02, by the published closed form."""
    x = np.asarray(lon, dtype=float) - 0.0065
    y = np.asarray(lat, dtype=float) - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 lon/lat (degrees) to BD-09 (the inverse of :func:`bd09_to_gcj02`, to about 1e-6°)."""
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_cgcs2000(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 to CGCS2000 (EPSG:4490), through GCJ-02."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


WEB_MAP_COORDS = ("wgs84", "gcj02", "bd09")
"""What an importer's ``--coords`` accepts: WGS84/CGCS2000 (OSM, GPS), GCJ-02 (AMap/高德, Tencent)
or BD-09 (Baidu). Chinese web-map coordinates are only converted when the user says so."""


def geometry_to_cgcs2000(geometries, coords: str):  # noqa: ANN001, ANN201 - shapely array in, array out
    """Shapely geometries (lon/lat in ``coords``: wgs84, gcj02 or bd09) to CGCS2000 lon/lat."""
    import shapely  # deferred: shapely only for geometry imports

    if coords == "wgs84":
        return geometries
    convert_lonlat = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_cgcs2000}[coords]

    def convert(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(convert_lonlat(xy[:, 0], xy[:, 1]))

    return shapely.transform(geometries, convert)


EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), for great-circle distances."""


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance between two lon/lat points (m); exact enough below 100 km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))
