"""``twin data import-zones``: zones with a population (and optionally jobs) column.

A planner's zones come as a GeoPackage, GeoJSON or Shapefile of polygons: census tracts, 街道/镇,
traffic analysis zones. We keep ``zone_id``, a ``name``, ``residents`` and ``jobs`` (zero when the
file has none), reprojected to CGCS2000 (EPSG:4490), with web-map coordinates converted only when
``--coords`` says the file uses them. The centroid connector ``node`` is found when the city is
loaded, from whatever road layer the city has then.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from twin.city.importing import NewLayer, add_layers
from twin.crs import WEB_MAP_COORDS, geometry_to_cgcs2000
from twin.errors import InputError

VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp")
ZONES_FILE = "zones.gpkg"


def read_vector(path: Path, what: str) -> gpd.GeoDataFrame:
    """A vector file with a CRS; a missing, empty, unreadable or CRS-less file is one clear error."""
    import pyogrio  # deferred: pyogrio is slow to import; only imports read files

    if not path.exists():
        raise InputError("file not found", path)
    if path.suffix.lower() not in VECTOR_SUFFIXES:
        raise InputError(f"unknown format {path.suffix!r}; expected one of {', '.join(VECTOR_SUFFIXES)}", path)
    if path.stat().st_size == 0:
        raise InputError("the file is empty", path)
    try:
        frame = pyogrio.read_dataframe(path)
    except Exception as exc:  # noqa: BLE001 - any GDAL failure is bad input
        raise InputError(f"cannot read {what}: {exc}", path) from None
    if frame.crs is None:
        raise InputError("no CRS: the file does not say which coordinate system it uses "
                         "(add a .prj / CRS, e.g. EPSG:4490 or EPSG:4326)", path)
    if len(frame) == 0:
        raise InputError(f"no {what} in the file", path)
    return frame


def to_storage(frame: gpd.GeoDataFrame, coords: str, path: Path) -> gpd.GeoDataFrame:
    """``frame`` in CGCS2000 lon/lat, converting GCJ-02 or BD-09 lon/lat when the user says so."""
    if coords not in WEB_MAP_COORDS:
        raise InputError(f"--coords {coords}: expected one of {', '.join(WEB_MAP_COORDS)}", path)
    geographic = frame.to_crs("EPSG:4326") if coords != "wgs84" else frame.to_crs("EPSG:4490")
    if coords != "wgs84":
        geographic = geographic.set_geometry(geometry_to_cgcs2000(geographic.geometry.values, coords))
        geographic = geographic.set_crs("EPSG:4490", allow_override=True)
    bounds = geographic.total_bounds
    if not (-180 <= bounds[0] <= bounds[2] <= 180 and -90 <= bounds[1] <= bounds[3] <= 90):
        raise InputError(f"coordinates {np.round(bounds, 3).tolist()} are not lon/lat after reprojection; "
                         "is the file's CRS right?", path)
    return geographic


def _column(frame: gpd.GeoDataFrame, name: str | None, option: str, path: Path) -> pd.Series | None:
    if name is None:
        return None
    if name not in frame.columns:
        columns = ", ".join(c for c in frame.columns if c != "geometry")
        raise InputError(f"{option} {name!r}: no such column (columns are {columns})", path)
    values = pd.to_numeric(frame[name], errors="coerce")
    if values.isna().any() or (values < 0).any():
        bad = frame[name][values.isna() | (values < 0)].iloc[0]
        raise InputError(f"{option} {name!r}: value {bad!r} is not a count >= 0", path)
    return values


def read_zones(path: Path, population_column: str, jobs_column: str | None = None, name_column: str | None = None,
               coords: str = "wgs84") -> gpd.GeoDataFrame:
    """Zones of ``path`` in our schema (``zone_id``, ``name``, ``residents``, ``jobs``), EPSG:4490."""
    frame = read_vector(path, "zones")
    polygons = frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polygons.any():
        raise InputError("no polygons in the file (zones must be areas)", path)
    frame = frame[polygons].reset_index(drop=True)
    residents = _column(frame, population_column, "--population-column", path)
    jobs = _column(frame, jobs_column, "--jobs-column", path)
    names = frame[name_column].astype(str) if name_column else None
    if name_column and name_column not in frame.columns:
        raise InputError(f"--name-column {name_column!r}: no such column", path)
    stored = to_storage(frame, coords, path)
    return gpd.GeoDataFrame({
        "zone_id": np.arange(1, len(frame) + 1, dtype=np.int64),
        "name": names.to_numpy() if names is not None else [f"zone {i}" for i in range(1, len(frame) + 1)],
        "town_id": names.to_numpy() if names is not None else [""] * len(frame),
        "area_id": [""] * len(frame),
        "residents": np.round(residents.to_numpy()).astype(np.int64),
        "jobs": np.round(jobs.to_numpy()).astype(np.int64) if jobs is not None else np.zeros(len(frame), np.int64),
    }, geometry=stored.geometry.values, crs="EPSG:4490")


def import_zones(path: Path, out_dir: Path, population_column: str, jobs_column: str | None = None,
                 name_column: str | None = None, coords: str = "wgs84", force: bool = False) -> dict[str, Any]:
    """Add the ``zones`` layer of ``path`` to the city folder ``out_dir``; return counts."""
    zones = read_zones(path, population_column, jobs_column, name_column, coords)

    def write(target: Path) -> None:
        zones.to_file(target, layer="zones", driver="GPKG", engine="pyogrio")

    add_layers(out_dir, {"zones": NewLayer(ZONES_FILE, write, f"{path.name} ({population_column})")}, force)
    return {"zones": len(zones), "residents": int(zones["residents"].sum()), "jobs": int(zones["jobs"].sum())}
