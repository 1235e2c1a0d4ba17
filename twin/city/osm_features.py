"""Buildings and named places from an OpenStreetMap extract, in our layers' schemas.

* **Buildings**: every ``building=*`` polygon; storeys from ``building:levels``, height from
  ``height`` (3 m a storey between them), else :data:`DEFAULT_STOREYS`; the use from the
  ``building`` value (homes, shops and offices, industry, public buildings), ``yes`` counting as a
  home since most untyped buildings are.
* **Places**: ``place=*`` nodes with a name (city, town, village, suburb, neighbourhood, ...) as
  the ``towns`` layer, with a ``population`` where OSM gives one.

``.osm.pbf`` is read with pyrosm, ``.osm`` XML with OSMnx.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from twin.city.import_buildings import STOREY_HEIGHT_M
from twin.errors import InputError

DEFAULT_STOREYS = 2
"""Storeys of a building OSM gives neither levels nor height for (an assumption, stated in reports)."""
USE_OF_BUILDING = {
    **dict.fromkeys(("yes", "house", "apartments", "residential", "detached", "semidetached_house", "terrace",
                     "dormitory", "bungalow", "farm"), "residential"),
    **dict.fromkeys(("commercial", "retail", "office", "supermarket", "hotel", "kiosk"), "commercial"),
    **dict.fromkeys(("industrial", "warehouse", "factory", "manufacture"), "industrial"),
}
"""OSM ``building`` values by our use; anything else is ``public`` (schools, churches, halls...)."""
PLACE_VALUES = ("city", "town", "village", "hamlet", "suburb", "quarter", "neighbourhood", "borough")


def _is_pbf(path: Path) -> bool:
    return path.name.lower().endswith(".pbf")


def _tags(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _raw_buildings(path: Path) -> gpd.GeoDataFrame | None:
    if _is_pbf(path):
        from pyrosm import OSM  # deferred: pyrosm is heavy and only reads .osm.pbf

        return OSM(str(path)).get_buildings()
    import osmnx as ox  # deferred: osmnx is heavy and only reads .osm XML

    try:
        return ox.features_from_xml(path, tags={"building": True})
    except Exception:  # noqa: BLE001 - OSMnx raises when a file has no such features
        return None


def _number_column(frame: gpd.GeoDataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name].astype(str).str.extract(r"(\d+(?:\.\d+)?)")[0], errors="coerce").to_numpy()


def read_osm_buildings(path: Path) -> gpd.GeoDataFrame | None:
    """The extract's building footprints in our schema (EPSG:4490), or ``None`` if it has none."""
    try:
        raw = _raw_buildings(path)
    except Exception as exc:  # noqa: BLE001 - any parser failure is bad input
        raise InputError(f"cannot read buildings: {type(exc).__name__}: {exc}", path) from None
    if raw is None or len(raw) == 0:
        return None
    raw = raw[raw.geometry.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    if len(raw) == 0:
        return None
    levels, height = _number_column(raw, "building:levels"), _number_column(raw, "height")
    storeys = np.where(np.isfinite(levels), levels, np.where(np.isfinite(height), height / STOREY_HEIGHT_M,
                                                             DEFAULT_STOREYS))
    storeys = np.maximum(np.round(storeys), 1).astype(np.int64)
    height_m = np.where(np.isfinite(height), height, storeys * STOREY_HEIGHT_M)
    kinds = raw["building"].astype(str).str.lower() if "building" in raw else pd.Series(["yes"] * len(raw))
    return gpd.GeoDataFrame({
        "building_id": np.arange(1, len(raw) + 1, dtype=np.int64),
        "zone_id": np.zeros(len(raw), dtype=np.int64),
        "use": kinds.map(lambda k: USE_OF_BUILDING.get(k, "public")).to_numpy(),
        "height_m": np.round(height_m.astype(float), 2),
        "storeys": storeys,
        "cim_level": np.full(len(raw), 2, dtype=np.int64),
        "ground_elevation_m": np.zeros(len(raw)),
        "residents": np.zeros(len(raw), dtype=np.int64),
        "jobs": np.zeros(len(raw), dtype=np.int64),
        "name": raw["name"].fillna("").astype(str).to_numpy() if "name" in raw else [""] * len(raw),
    }, geometry=raw.geometry.values, crs="EPSG:4326").to_crs("EPSG:4490")


def _raw_places(path: Path) -> gpd.GeoDataFrame | None:
    if _is_pbf(path):
        from pyrosm import OSM  # deferred: pyrosm is heavy and only reads .osm.pbf

        return OSM(str(path)).get_data_by_custom_criteria(
            custom_filter={"place": list(PLACE_VALUES)}, filter_type="keep", keep_nodes=True, keep_ways=False,
            keep_relations=False)
    import osmnx as ox  # deferred: osmnx is heavy and only reads .osm XML

    try:
        return ox.features_from_xml(path, tags={"place": list(PLACE_VALUES)})
    except Exception:  # noqa: BLE001 - OSMnx raises when a file has no such features
        return None


def read_osm_places(path: Path) -> gpd.GeoDataFrame | None:
    """Named places of the extract as the ``towns`` layer (EPSG:4490), or ``None``."""
    try:
        raw = _raw_places(path)
    except Exception as exc:  # noqa: BLE001 - any parser failure is bad input
        raise InputError(f"cannot read places: {type(exc).__name__}: {exc}", path) from None
    if raw is None or len(raw) == 0:
        return None
    rows = []
    for index, row in raw.reset_index().iterrows():
        tags = _tags(row.get("tags"))
        name = row.get("name") if isinstance(row.get("name"), str) else tags.get("name")
        if not name:
            continue
        population = pd.to_numeric(row.get("population", tags.get("population")), errors="coerce")
        rows.append({"town_id": str(row.get("id", index)), "name_zh": name,
                     "name_pinyin": str(tags.get("name:en") or row.get("name:en") or name),
                     "kind": str(row.get("place", tags.get("place", ""))),
                     "population": int(population) if pd.notna(population) else 0,
                     "geometry": row.geometry.representative_point()})
    if not rows:
        return None
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326").to_crs("EPSG:4490")


def _raw_boundaries(path: Path) -> gpd.GeoDataFrame | None:
    if _is_pbf(path):
        from pyrosm import OSM  # deferred: pyrosm is heavy and only reads .osm.pbf

        return OSM(str(path)).get_boundaries(boundary_type="administrative")
    import osmnx as ox  # deferred: osmnx is heavy and only reads .osm XML

    try:
        return ox.features_from_xml(path, tags={"boundary": "administrative"})
    except Exception:  # noqa: BLE001 - OSMnx raises when a file has no such features
        return None


def read_osm_boundaries(path: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None:
    """``(boundary, areas)``: the outermost admin polygon as the city's boundary, and every named
    admin polygon as an area (``area_id``, ``name_zh``, ``name_en``, ``kind``); ``None`` if none."""
    try:
        raw = _raw_boundaries(path)
    except Exception as exc:  # noqa: BLE001 - any parser failure is bad input
        raise InputError(f"cannot read boundaries: {type(exc).__name__}: {exc}", path) from None
    if raw is None or len(raw) == 0:
        return None
    raw = raw[raw.geometry.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index()
    raw = raw[raw.get("name", pd.Series([None] * len(raw))).notna()].reset_index(drop=True)
    if len(raw) == 0:
        return None
    level = pd.to_numeric(raw.get("admin_level", pd.Series([99] * len(raw))), errors="coerce").fillna(99)
    areas = gpd.GeoDataFrame({
        "area_id": [f"admin_{i}" for i in range(len(raw))], "name_zh": raw["name"].astype(str).to_numpy(),
        "name_en": raw.get("name:en", raw["name"]).fillna(raw["name"]).astype(str).to_numpy(),
        "kind": [f"admin_level_{int(v)}" for v in level], "approximate": False,
    }, geometry=raw.geometry.values, crs="EPSG:4326").to_crs("EPSG:4490")
    outer = areas.iloc[[int(np.argmin(level.to_numpy()))]]
    boundary = gpd.GeoDataFrame({"name_zh": outer["name_zh"].to_numpy(), "adcode": [""], "source": ["OpenStreetMap"]},
                                geometry=outer.geometry.values, crs="EPSG:4490")
    return boundary, areas
