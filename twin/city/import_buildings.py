"""Import building footprints (GeoPackage, GeoJSON or Shapefile) with a height or storeys column.

Heights and storeys derive from each other at ``STOREY_HEIGHT_M`` (3 m) per storey. The layer is
reprojected to CGCS2000 (EPSG:4490) and given our building columns (``docs/data_model.md``);
columns we cannot know from footprints alone (zone, residents, jobs) are 0 and documented so.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from twin.city.import_zones import to_storage
from twin.city.importing import NewLayer, add_layers
from twin.errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd

STOREY_HEIGHT_M = 3.0
BUILDINGS_FILE = "buildings.gpkg"
HEIGHT_COLUMNS = ("height_m", "height", "building:height", "bldg_height", "高度")
STOREY_COLUMNS = ("storeys", "building:levels", "levels", "floors", "storey", "层数")
USE_VALUES = ("residential", "commercial", "industrial", "public")
SUFFIXES = (".gpkg", ".geojson", ".json", ".shp")


def _find(columns: list[str], candidates: tuple[str, ...], chosen: str | None, path: Path) -> str | None:
    if chosen is not None:
        if chosen not in columns:
            raise InputError(f"column {chosen!r} not found; columns are {', '.join(columns)}", path)
        return chosen
    lower = {c.lower(): c for c in columns}
    for name in candidates:
        if name.lower() in lower:
            return lower[name.lower()]
    return None


def read_buildings(path: Path, height_column: str | None = None,
                   storeys_column: str | None = None) -> gpd.GeoDataFrame:
    """Footprints of ``path`` in our schema, EPSG:4490."""
    import pyogrio  # deferred: pyogrio is slow to import; only imports read files

    if not path.exists():
        raise InputError("file not found", path)
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(f"unknown format {path.suffix!r}; expected one of {', '.join(SUFFIXES)}", path)
    try:
        frame = pyogrio.read_dataframe(path)
    except Exception as exc:  # noqa: BLE001 - any GDAL failure is bad input
        raise InputError(f"cannot read: {exc}", path) from None
    if frame.crs is None:
        raise InputError("no CRS: the file does not say which coordinate system it uses "
                         "(add a .prj / CRS, e.g. EPSG:4490 or EPSG:4326)", path)
    columns = [c for c in frame.columns if c != "geometry"]
    height = _find(columns, HEIGHT_COLUMNS, height_column, path)
    storeys = _find(columns, STOREY_COLUMNS, storeys_column, path)
    if height is None and storeys is None:
        raise InputError(
            f"no height or storeys column; expected one of {', '.join(HEIGHT_COLUMNS + STOREY_COLUMNS)} "
            f"(columns are {', '.join(columns) or 'none'})", path)
    polygons = frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polygons.any():
        raise InputError("no polygon footprints in the file", path)
    frame = frame[polygons].reset_index(drop=True)
    height_m = pd.to_numeric(frame[height], errors="coerce") if height else None
    storey_n = pd.to_numeric(frame[storeys], errors="coerce") if storeys else None
    if height_m is None:
        height_m = storey_n * STOREY_HEIGHT_M
    if storey_n is None:
        storey_n = np.maximum(np.round(height_m / STOREY_HEIGHT_M), 1)
    storey_n = storey_n.fillna(np.maximum(np.round(height_m / STOREY_HEIGHT_M), 1))
    height_m = height_m.fillna(storey_n * STOREY_HEIGHT_M)
    bad = height_m.isna() | (height_m <= 0)
    if bad.all():
        raise InputError(f"column {height or storeys!r} has no positive numbers", path)
    frame = frame[~bad.to_numpy()].reset_index(drop=True)
    height_m, storey_n = height_m[~bad].to_numpy(), storey_n[~bad].to_numpy()
    use = frame["use"].astype(str).str.lower() if "use" in frame else pd.Series(["residential"] * len(frame))
    use = use.where(use.isin(USE_VALUES), "residential")
    import geopandas as gpd  # deferred: geopandas is heavy

    out = gpd.GeoDataFrame(
        {
            "building_id": np.arange(1, len(frame) + 1, dtype=np.int64),
            "zone_id": np.zeros(len(frame), dtype=np.int64),
            "use": use.to_numpy(),
            "height_m": np.round(height_m.astype(float), 2),
            "storeys": storey_n.astype(np.int64),
            "cim_level": np.full(len(frame), 3, dtype=np.int64),
            "ground_elevation_m": np.zeros(len(frame)),
            "residents": np.zeros(len(frame), dtype=np.int64),
            "jobs": np.zeros(len(frame), dtype=np.int64),
        },
        geometry=frame.geometry.values,
        crs=frame.crs,
    )
    return out.to_crs("EPSG:4490")


def import_buildings(path: Path, out_dir: Path, force: bool = False, height_column: str | None = None,
                     storeys_column: str | None = None, coords: str = "wgs84") -> dict[str, Any]:
    """Add the footprints of ``path`` as the ``buildings`` layer of the city folder ``out_dir``."""
    buildings = read_buildings(path, height_column, storeys_column)
    if coords != "wgs84":
        buildings = to_storage(buildings, coords, path)

    def write(target: Path) -> None:
        buildings.to_file(target, layer="buildings", driver="GPKG", engine="pyogrio")

    add_layers(out_dir, {"buildings": NewLayer(BUILDINGS_FILE, write, path.name)}, force)
    return {"buildings": len(buildings), "max_height_m": float(buildings["height_m"].max())}
