"""Import an OpenStreetMap extract (``.osm`` XML through OSMnx, ``.osm.pbf`` through pyrosm): its
roads and signals here, its buildings and named places through :mod:`twin.city.osm_features`.

The result is our road schema (``docs/data_model.md``): drivable ways only, ``road_class`` from
``highway`` (CJJ 37 classes), ``lanes`` per direction and speeds from the OSM tags where present
and from the class defaults otherwise, free-flow ``travel_time``, a geometry on every edge, and
``highway="traffic_signals"`` on signalised nodes. Only the largest strongly connected component
is kept, so every node can reach every other. Coordinates stay as OSM has them: WGS84 agrees with
CGCS2000 (EPSG:4490) to a few centimetres, so the graph is labelled EPSG:4490 without moving.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import shapely

from twin.city.import_buildings import BUILDINGS_FILE
from twin.city.importing import NewLayer, add_layers
from twin.city.osm_features import DEFAULT_STOREYS, read_osm_boundaries, read_osm_buildings, read_osm_places
from twin.city.roads import HIGHWAY_TO_CLASS, ROAD_CLASSES, SIGNALS, save_graph
from twin.errors import InputError

if TYPE_CHECKING:
    import networkx as nx

_NUMBER = re.compile(r"\d+(\.\d+)?")


def read_osm_graph(path: Path) -> nx.MultiDiGraph:
    """The raw drivable graph of an ``.osm`` or ``.osm.pbf`` file (OSMnx layout, EPSG:4326)."""
    if not path.exists():
        raise InputError("file not found", path)
    name = path.name.lower()
    if name.endswith(".osm.pbf") or name.endswith(".pbf"):
        return _read_pbf(path)
    if name.endswith(".osm") or name.endswith(".xml"):
        return _read_xml(path)
    raise InputError("unknown OSM format; expected a .osm (XML) or .osm.pbf file", path)


def _read_xml(path: Path) -> nx.MultiDiGraph:
    import osmnx as ox  # deferred: osmnx is heavy and only reads .osm XML

    try:
        graph = ox.graph_from_xml(path, simplify=True, retain_all=True)
    except Exception as exc:  # noqa: BLE001 - any parser failure is bad input
        raise InputError(f"cannot read OSM XML: {type(exc).__name__}: {exc}", path) from None
    drop = [(u, v, k) for u, v, k, h in graph.edges(keys=True, data="highway")
            if road_class_key(h) is None]
    graph.remove_edges_from(drop)
    return graph


def _read_pbf(path: Path) -> nx.MultiDiGraph:
    from pyrosm import OSM  # deferred: pyrosm is heavy and only reads .osm.pbf

    try:
        osm = OSM(str(path))
        nodes, edges = osm.get_network(network_type="driving", nodes=True)
    except Exception as exc:  # noqa: BLE001 - any parser failure is bad input
        raise InputError(f"cannot read OSM PBF: {type(exc).__name__}: {exc}", path) from None
    if edges is None or len(edges) == 0:
        raise InputError("no drivable roads in this file", path)
    graph = osm.to_graph(nodes, edges, graph_type="networkx", osmnx_compatible=True)
    for _, data in graph.nodes(data=True):  # pyrosm keeps node tags as a JSON string
        tags = data.pop("tags", None)
        if isinstance(tags, str) and tags:
            try:
                if json.loads(tags).get("highway") == SIGNALS:
                    data["highway"] = SIGNALS
            except (ValueError, AttributeError):
                pass
    return graph


def road_class_key(highway: Any) -> str | None:
    """The OSM ``highway`` value we keep for an edge, or ``None`` if it is not a road for cars."""
    values = highway if isinstance(highway, list | tuple) else [highway]
    for value in values:
        if str(value) in HIGHWAY_TO_CLASS:
            return str(value)
    return None


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list | tuple) and value else value


def _number(value: Any) -> float | None:
    value = _first(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    match = _NUMBER.search(str(value))
    if not match:
        return None
    number = float(match.group())
    if "mph" in str(value):
        number *= 1.609344
    return number


def _bool(value: Any) -> bool:
    value = _first(value)
    return str(value).lower() in ("true", "yes", "1", "-1")


def to_twin_schema(raw: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Our schema from a raw OSMnx/pyrosm graph (see the module docstring)."""

    graph = nx.MultiDiGraph(crs="EPSG:4490", source_crs=str(raw.graph.get("crs", "EPSG:4326")))
    for n, data in raw.nodes(data=True):
        attrs = {"x": float(data["x"]), "y": float(data["y"]), "elevation_m": 0.0, "area_id": ""}
        if data.get("highway") == SIGNALS:
            attrs["highway"] = SIGNALS
        graph.add_node(int(n), **attrs)
    for u, v, k, data in raw.edges(keys=True, data=True):
        highway = road_class_key(data.get("highway"))
        if highway is None:
            continue
        road_class = HIGHWAY_TO_CLASS[highway]
        spec = ROAD_CLASSES[road_class]
        oneway = _bool(data.get("oneway", False))
        total_lanes = _number(data.get("lanes"))
        if total_lanes is None or total_lanes < 1:
            lanes = spec.lanes
        else:  # OSM counts both directions on a two-way road
            lanes = max(1, int(total_lanes if oneway else math.ceil(total_lanes / 2)))
        speed = _number(data.get("maxspeed"))
        if speed is None or speed <= 0:
            speed = spec.speed_kph
        length = float(data["length"])
        geometry = data.get("geometry")
        if geometry is None:
            geometry = shapely.LineString([(raw.nodes[u]["x"], raw.nodes[u]["y"]),
                                           (raw.nodes[v]["x"], raw.nodes[v]["y"])])
        name = _first(data.get("name", ""))
        osmid = _first(data.get("osmid", 0))
        graph.add_edge(
            int(u), int(v), int(k),
            osmid=int(osmid) if osmid is not None else 0,
            name="" if name is None or (isinstance(name, float) and math.isnan(name)) else str(name),
            highway=highway, road_class=road_class, lanes=lanes, maxspeed=str(int(round(speed))),
            speed_kph=float(speed), length=round(length, 3),
            travel_time=round(length / (speed / 3.6), 3), oneway=oneway,
            reversed=_bool(data.get("reversed", False)), geometry=geometry,
        )
    graph.remove_nodes_from([n for n in list(graph.nodes) if graph.degree(n) == 0])
    if graph.number_of_nodes() == 0:
        raise InputError("no drivable roads left after filtering")
    largest = max(nx.strongly_connected_components(graph), key=lambda c: (len(c), min(c)))
    graph = graph.subgraph(largest).copy()
    undirected = nx.Graph(graph)
    for n in graph.nodes:
        graph.nodes[n]["street_count"] = undirected.degree(n)
    return graph


ROADS_FILE = "roads.gpkg"
PLACES_FILE = "places.gpkg"
BOUNDARY_FILE = "boundary.gpkg"
AREAS_FILE = "areas.gpkg"
OSM_LICENCE = "ODbL 1.0 (© OpenStreetMap contributors)"


def import_osm(path: Path, out_dir: Path, force: bool = False, city_name: str | None = None,
               lang: str = "zh") -> dict[str, Any]:
    """Add the extract's roads and signals, building footprints and named places to the city
    folder ``out_dir`` (created if needed); returns counts for the report."""
    raw = read_osm_graph(path)
    raw_nodes = raw.number_of_nodes()
    graph = to_twin_schema(raw)
    buildings = read_osm_buildings(path)
    places = read_osm_places(path)
    source = f"OpenStreetMap extract {path.name}"
    layers = {"roads": NewLayer(ROADS_FILE, lambda target: save_graph(graph, target), source, OSM_LICENCE)}
    if buildings is not None:
        layers["buildings"] = NewLayer(
            BUILDINGS_FILE,
            lambda target: buildings.to_file(target, layer="buildings", driver="GPKG", engine="pyogrio"),
            f"{source}: building=* (storeys from building:levels or height, else {DEFAULT_STOREYS})", OSM_LICENCE)
    if places is not None:
        layers["towns"] = NewLayer(
            PLACES_FILE, lambda target: places.to_file(target, layer="towns", driver="GPKG", engine="pyogrio"),
            f"{source}: named place=* nodes", OSM_LICENCE)
    admin = read_osm_boundaries(path)
    if admin is not None:
        boundary, areas = admin
        layers["boundary"] = NewLayer(
            BOUNDARY_FILE, lambda target: boundary.to_file(target, layer="boundary", driver="GPKG", engine="pyogrio"),
            f"{source}: the outermost boundary=administrative", OSM_LICENCE)
        layers["areas"] = NewLayer(
            AREAS_FILE, lambda target: areas.to_file(target, layer="areas", driver="GPKG", engine="pyogrio"),
            f"{source}: named boundary=administrative", OSM_LICENCE)
    add_layers(out_dir, layers, force, city_name=city_name or path.name.split(".")[0], lang=lang)
    return {
        "nodes_read": raw_nodes,
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "signals": sum(1 for _, h in graph.nodes(data="highway") if h == SIGNALS),
        "buildings": 0 if buildings is None else len(buildings),
        "places": 0 if places is None else len(places),
        "areas": 0 if admin is None else len(admin[1]),
    }
