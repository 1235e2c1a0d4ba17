"""Places by name: what a planner writes in a scenario file, resolved against the city's own data.

A scenario names an *area* (``"滨海新城"``, a town or 街道 such as ``"金峰镇"``, a ``bbox`` or a
polygon), a *point* (a town, landmark or bus stop by name, a junction by the roads that meet
there such as ``"文松路/滨海纵2路"``, or ``"119.60,25.90"``), and ids only as a secondary key. A
name that matches nothing is an :class:`~twin.errors.InputError` naming the key, the value and
the three nearest valid names.

Names are matched exactly, then case- and space-insensitively (``"binhai new city"``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import Point, box
from shapely.geometry.base import BaseGeometry

from twin.city.folder import City
from twin.city.roads import nearest_nodes
from twin.errors import InputError

LONLAT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")
BBOX = re.compile(r"^\s*bbox\s*:\s*" + r"\s*,\s*".join([r"(-?\d+(?:\.\d+)?)"] * 4) + r"\s*$", re.IGNORECASE)
JUNCTION_SEPARATORS = re.compile(r"\s*(?:/|&|×|与|和)\s*")


@dataclass(frozen=True)
class Area:
    """A resolved area: its polygon (EPSG:4490), its display name and where the name came from."""

    name: str
    geometry: BaseGeometry
    source: str


@dataclass(frozen=True)
class PointPlace:
    """A resolved point: display name, lon/lat (EPSG:4490) and the nearest road node, if any."""

    name: str
    lon: float
    lat: float
    node: int | None
    source: str


def _key(text: str) -> str:
    return re.sub(r"\s+", "", str(text)).casefold()


def nearest_names(value: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The ``n`` candidate names closest to ``value`` (for "did you mean" hints)."""
    pool = sorted({str(c) for c in candidates if str(c).strip()})
    close = difflib.get_close_matches(value, pool, n=n, cutoff=0.0)
    return close[:n]


def _unknown(key: str, value: str, what: str, candidates: Iterable[str], source: object) -> InputError:
    hint = ", ".join(repr(name) for name in nearest_names(value, candidates))
    return InputError(f"{key} = {value!r}: no {what} of that name in the city (nearest: {hint})", source)


def area_names(city: City) -> dict[str, tuple[str, BaseGeometry]]:
    """Every named area of the city by each of its names: areas and towns/街道 (their zones)."""
    found: dict[str, tuple[str, BaseGeometry]] = {}
    if city.areas is not None:
        for _, row in city.areas.to_crs("EPSG:4490").iterrows():
            for name in (row.get("name_zh"), row.get("name_en"), row.get("area_id")):
                if isinstance(name, str) and name:
                    found.setdefault(name, (str(row.get("name_zh") or name), row.geometry))
    if city.towns is not None and city.zones is not None and "town_id" in city.zones:
        zones = city.zones.to_crs("EPSG:4490")
        for _, town in city.towns.iterrows():
            parts = zones.geometry[zones["town_id"] == town["town_id"]]
            if len(parts) == 0:
                continue
            shape = shapely.union_all(np.asarray(parts.values, dtype=object))
            for name in (town.get("name_zh"), town.get("name_pinyin"), town.get("town_id")):
                if isinstance(name, str) and name:
                    found.setdefault(name, (str(town.get("name_zh") or name), shape))
    return found


def resolve_area(city: City, value: str, key: str, source: object = None) -> Area:
    """The area ``value`` names: an area or town name, or ``bbox:W,S,E,N`` in degrees."""
    match = BBOX.match(value)
    if match:
        west, south, east, north = (float(g) for g in match.groups())
        if not (west < east and south < north):
            raise InputError(f"{key} = {value!r}: a bbox is west,south,east,north with west < east, "
                             "south < north", source)
        return Area(value, box(west, south, east, north), "bbox")
    names = area_names(city)
    for candidate, (label, shape) in names.items():
        if candidate == value or _key(candidate) == _key(value):
            return Area(label, shape, "areas")
    raise _unknown(key, value, "area, town or 街道", names, source)


def junction_name(graph: nx.MultiDiGraph, node: int, lang: str = "zh") -> str:
    """A junction named by the roads that meet there (``文松路与滨海纵2路交叉口``), else its id."""
    roads = sorted({str(d.get("name")) for _, _, d in graph.in_edges(node, data=True) if d.get("name")}
                   | {str(d.get("name")) for _, _, d in graph.out_edges(node, data=True) if d.get("name")})
    if len(roads) >= 2:
        return f"{roads[0]}与{roads[1]}交叉口" if lang == "zh" else f"{roads[0]} / {roads[1]}"
    if len(roads) == 1:
        return f"{roads[0]}({node})" if lang == "zh" else f"{roads[0]} ({node})"
    return f"路口{node}" if lang == "zh" else f"junction {node}"


def _junction_by_roads(graph: nx.MultiDiGraph, value: str) -> int | None:
    wanted = [_key(p) for p in JUNCTION_SEPARATORS.split(value.removesuffix("交叉口")) if p]
    if len(wanted) < 2:
        return None
    for node in sorted(graph.nodes):
        roads = {_key(d.get("name", "")) for _, _, d in graph.out_edges(node, data=True)}
        roads |= {_key(d.get("name", "")) for _, _, d in graph.in_edges(node, data=True)}
        if all(w in roads for w in wanted):
            return int(node)
    return None


def nearest_node(graph: nx.MultiDiGraph, lon: float, lat: float) -> int:
    """The road node nearest to a lon/lat point (EPSG:4490), by metric distance."""
    return int(nearest_nodes(graph, np.array([lon]), np.array([lat]))[0])


def point_names(city: City) -> dict[str, tuple[str, float, float]]:
    """Every named point of the city: towns, landmarks and bus stops, by each of their names."""
    found: dict[str, tuple[str, float, float]] = {}
    layers = (
        (city.towns, ("name_zh", "name_pinyin", "town_id")),
        (city.landmarks, ("name_zh", "name_en", "landmark_id")),
        (city.bus_stops, ("name", "stop_id")),
    )
    for frame, columns in layers:
        if frame is None:
            continue
        frame = frame.to_crs("EPSG:4490")
        for _, row in frame.iterrows():
            label = str(row.get(columns[0]) or row.get(columns[-1]))
            point = row.geometry.representative_point()
            for column in columns:
                name = row.get(column)
                if isinstance(name, str) and name:
                    found.setdefault(name, (label, float(point.x), float(point.y)))
    return found


def resolve_point(city: City, value: str | int, key: str, source: object = None) -> PointPlace:
    """The point ``value`` names: ``lon,lat``, a town, landmark or stop name, a junction by its
    roads (``"文松路/滨海纵2路"``), or a road-node id (an integer)."""
    graph = city.roads
    if isinstance(value, int) and not isinstance(value, bool):
        if graph is None or value not in graph.nodes:
            raise InputError(f"{key} = {value!r}: not a road node of the city", source)
        data = graph.nodes[value]
        return PointPlace(junction_name(graph, value), float(data["x"]), float(data["y"]), value, "node id")
    text = str(value)
    match = LONLAT.match(text)
    if match:
        lon, lat = float(match.group(1)), float(match.group(2))
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InputError(f"{key} = {text!r}: expected lon,lat in degrees", source)
        node = nearest_node(graph, lon, lat) if graph is not None else None
        return PointPlace(text, lon, lat, node, "lon/lat")
    names = point_names(city)
    for candidate, (label, lon, lat) in names.items():
        if candidate == text or _key(candidate) == _key(text):
            node = nearest_node(graph, lon, lat) if graph is not None else None
            return PointPlace(label, lon, lat, node, "named place")
    if graph is not None:
        node = _junction_by_roads(graph, text)
        if node is not None:
            data = graph.nodes[node]
            return PointPlace(junction_name(graph, node), float(data["x"]), float(data["y"]), node, "junction")
    road_names = {str(d.get("name")) for _, _, d in graph.edges(data=True) if d.get("name")} if graph else set()
    raise _unknown(key, text, "place, stop or junction", list(names) + sorted(road_names), source)


def contains(area: Area, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Which of the points (EPSG:4490 degrees) lie in ``area``."""
    return shapely.contains_xy(area.geometry, np.asarray(lon, float), np.asarray(lat, float))


def point_geometry(place: PointPlace) -> Point:
    return Point(place.lon, place.lat)
