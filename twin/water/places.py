"""Where the water network's elements are, in the city's own terms: each junction's town or 街道
(by the ``.inp`` tag, else by the zone it lies in, else the nearest named town), people by town,
and the map layers of a run (GeoDataFrames in EPSG:4326, named features, ids as a column).

Junction coordinates are the compiled network's ``node_xy`` in EPSG:4549 (metres), as everywhere
in :mod:`twin.water`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.crs import to_storage
from twin.water.network import CompiledNetwork

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from twin.city.folder import City

PEOPLE_TABLE = "affected_population"
"""The report's table of people affected by place (the name ``viz.report`` reads)."""
OPTIONS_TABLE = "options"
"""The report's table of the options a scenario compared (the name ``viz.report`` reads)."""
UNPLACED = {"zh": "未定位", "en": "unplaced"}
"""The place of a junction neither tagged, nor in a zone, nor near a named town."""


def _town_names(city: City | None) -> dict[str, str]:
    """``town_id`` (and every other name of a town) → its display name (Chinese first)."""
    names: dict[str, str] = {}
    towns = city.towns if city is not None else None
    if towns is None:
        return names
    for _, town in towns.iterrows():
        label = str(town.get("name_zh") or town.get("name_pinyin") or town.get("town_id"))
        for key in ("town_id", "name_zh", "name_pinyin"):
            value = town.get(key)
            if isinstance(value, str) and value:
                names[value] = label
    return names


def junction_lonlat(net: CompiledNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Every node's lon/lat (EPSG:4490 degrees) from its EPSG:4549 coordinates."""
    return to_storage(net.node_xy[:, 0], net.node_xy[:, 1])


def junction_places(net: CompiledNetwork, tags: Sequence[str | None], city: City | None) -> list[str]:
    """Each junction's town or 街道 by name.

    The ``.inp`` ``[TAGS]`` tag names it when it is one of the city's towns; otherwise the zone
    the junction lies in gives its town; otherwise the nearest named town; otherwise the tag
    itself, or :data:`UNPLACED`.
    """
    nj = net.n_junctions
    names = _town_names(city)
    placed: list[str | None] = [names.get(str(t)) if t else None for t in list(tags)[:nj]]
    placed += [None] * (nj - len(placed))
    missing = [i for i, p in enumerate(placed) if p is None]
    if missing and city is not None:
        for i, name in zip(missing, _spatial_towns(net, np.array(missing), city, names), strict=True):
            placed[i] = name
    fallback = [str(t) if t else UNPLACED["zh"] for t in list(tags)[:nj]] + [UNPLACED["zh"]] * nj
    return [p if p is not None else fallback[i] for i, p in enumerate(placed)]


def _spatial_towns(net: CompiledNetwork, index: np.ndarray, city: City, names: dict[str, str]) -> list[str | None]:
    """Towns of junctions ``index`` by the zone containing them, else the nearest town point."""
    import shapely  # deferred: shapely is slow to import; only untagged networks need it

    lon, lat = junction_lonlat(net)
    lon, lat = lon[index], lat[index]
    found: list[str | None] = [None] * len(index)
    ok = np.isfinite(lon) & np.isfinite(lat)
    zones = city.zones if city.layer_file("zones") is not None else None  # derived zones would cost a build
    if zones is not None and len(zones):
        zones = zones.to_crs("EPSG:4490")
        label_column = "town_id" if "town_id" in zones else ("name" if "name" in zones else None)
        if label_column is not None:
            for _, zone in zones.iterrows():
                inside = ok & shapely.contains_xy(zone.geometry, lon, lat)
                label = str(zone[label_column])
                for k in np.flatnonzero(inside):
                    found[k] = found[k] or names.get(label, label)
    towns = city.towns
    if towns is not None and len(towns) and any(f is None for f in found):
        towns = towns.to_crs("EPSG:4490")
        tx = np.array([g.representative_point().x for g in towns.geometry])
        ty = np.array([g.representative_point().y for g in towns.geometry])
        labels = [str(t.get("name_zh") or t.get("town_id")) for _, t in towns.iterrows()]
        for k in range(len(index)):
            if found[k] is None and ok[k]:
                found[k] = labels[int(np.argmin((tx - lon[k]) ** 2 + (ty - lat[k]) ** 2))]
    return found


def people_by_place(places: Sequence[str], counts: dict[str, np.ndarray], order_by: str) -> pd.DataFrame:
    """A ``place, people, <count columns>`` table: junction counts (persons) summed by place,
    places with nobody affected left out, largest ``order_by`` first."""
    import pandas as pd  # deferred: pandas is slow to import

    frame = pd.DataFrame({"place": list(places), **{k: np.asarray(v, float) for k, v in counts.items()}})
    table = frame.groupby("place", as_index=False).sum()
    table["people"] = table[order_by]
    table = table[table["people"] > 0.5].sort_values("people", ascending=False).reset_index(drop=True)
    return table[["place", "people", *counts]]


def junction_layer(net: CompiledNetwork, index: np.ndarray, columns: dict[str, Any]) -> gpd.GeoDataFrame:
    """Points of nodes ``index`` (EPSG:4326) with ``name``, ``node_id`` and ``columns``."""
    import geopandas as gpd  # deferred: geopandas is slow to import; only map layers need it

    lon, lat = junction_lonlat(net)
    names = [net.node_names[int(i)] for i in index]
    data = {"name": names, "node_id": names, **{k: np.asarray(v)[: len(index)] for k, v in columns.items()}}
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(lon[index], lat[index]), crs="EPSG:4490").to_crs(
        "EPSG:4326")


def link_layer(net: CompiledNetwork, index: Sequence[int], columns: dict[str, Any]) -> gpd.GeoDataFrame:
    """Straight lines of links ``index`` (EPSG:4326) with ``name``, ``link_id``, ``diameter_mm``
    and ``columns``."""
    import geopandas as gpd  # deferred: geopandas is slow to import; only map layers need it
    import shapely  # deferred with geopandas

    lon, lat = junction_lonlat(net)
    index = np.asarray(list(index), dtype=np.int64)
    start, end = net.start[index], net.end[index]
    lines = [shapely.LineString([(lon[a], lat[a]), (lon[b], lat[b])]) for a, b in zip(start, end, strict=True)]
    names = [net.link_names[int(k)] for k in index]
    data = {"name": names, "link_id": names, "diameter_mm": np.round(1000.0 * net.diameter_m[index], 0),
            **{k: np.asarray(v)[: len(index)] for k, v in columns.items()}}
    return gpd.GeoDataFrame(data, geometry=lines, crs="EPSG:4490").to_crs("EPSG:4326")


def inp_sections(path: Path) -> dict[str, list[list[str]]]:
    """The rows of every ``[SECTION]`` of an EPANET ``.inp`` (comments dropped, fields split),
    read as text: cheap enough for validation, which must not build the whole model."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    with open(path, encoding="utf-8", errors="replace") as handle:
        for raw in handle:
            line = raw.split(";", 1)[0].strip()
            if not line:
                continue
            if line.startswith("[") and line.endswith("]"):
                current = sections.setdefault(line[1:-1].strip().upper(), [])
            elif current is not None:
                current.append(line.split())
    return sections


def inp_node_tags(path: Path) -> dict[str, str]:
    """Each tagged node's ``[TAGS]`` tag in the ``.inp`` at ``path`` (the town, on the bundled network)."""
    rows = inp_sections(path).get("TAGS", [])
    return {row[1]: row[2] for row in rows if len(row) >= 3 and row[0].upper() == "NODE"}
