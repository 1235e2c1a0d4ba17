"""``twin data import-sumo``: a SUMO network as the city's road layer.

Traffic engineers often hold a SUMO ``.net.xml`` rather than an OSM extract. Its normal edges that
cars may use become our roads (one directed edge per SUMO edge, with its car lanes, speed, length,
name and shape), its traffic-light junctions our signalised nodes, in the same schema as an OSM
import (the largest strongly connected part is kept).

Coordinates: a geo-referenced net (``<location projParameter=...>``, as netconvert writes for OSM
input) is converted with its own projection. A net in plain Cartesian metres (netgenerate, most
hand-built nets) is placed with ``--place LON,LAT`` at its centre, metres kept as metres.

A road's class comes from its SUMO type when the net was built from OSM (``highway.primary``);
otherwise from its speed limit (see :func:`_class_by_speed`), said in the layer's source.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import shapely

from twin.city.import_osm import ROADS_FILE, road_class_key, to_twin_schema
from twin.city.importing import NewLayer, add_layers
from twin.city.roads import save_graph
from twin.crs import to_metric, to_storage
from twin.errors import InputError
from twin.traffic.sumo_io.network import read_net


def _class_by_speed(speed_kph: float) -> str:
    """An OSM ``highway`` value for a SUMO edge without one, by its speed limit (km/h)."""
    for limit, highway in ((80.0, "trunk"), (60.0, "primary"), (45.0, "secondary"), (35.0, "tertiary")):
        if speed_kph >= limit:
            return highway
    return "residential"


def _highway(sumo_type: str, speed_kph: float) -> tuple[str, bool]:
    """The edge's ``highway`` and whether it came from the net's own OSM type."""
    key = road_class_key(sumo_type.removeprefix("highway."))
    return (key, True) if key is not None else (_class_by_speed(speed_kph), False)


def _placer(graph: nx.MultiDiGraph, geo: bool, place: tuple[float, float] | None, path: Path):  # noqa: ANN202
    """A function from the net's ``(x, y)`` arrays to lon/lat arrays."""
    if geo:
        if place is not None:
            raise InputError("the net is geo-referenced (it has its own projection): leave out --place", path)
        return lambda x, y: (np.asarray(x, float), np.asarray(y, float))
    if place is None:
        raise InputError("the net has no projection (plain metres): give --place LON,LAT for its centre", path)
    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], float)
    origin = (xy.min(axis=0) + xy.max(axis=0)) / 2
    cx, cy = to_metric(np.array([place[0]]), np.array([place[1]]))

    def to_lonlat(x, y):  # noqa: ANN001, ANN202 - arrays in, arrays out
        return to_storage(np.asarray(x, float) - origin[0] + cx[0], np.asarray(y, float) - origin[1] + cy[0])

    return to_lonlat


def raw_graph(path: Path, place: tuple[float, float] | None) -> tuple[nx.MultiDiGraph, int]:
    """The net as an OSMnx-style graph in lon/lat (integer node ids), and how many edges took
    their class from their speed rather than an OSM type."""
    net = read_net(path)
    to_lonlat = _placer(net.graph, net.geo, place, path)
    ids = {node: i for i, node in enumerate(sorted(net.graph.nodes, key=str))}
    raw = nx.MultiDiGraph(crs="EPSG:4490")
    for node, data in net.graph.nodes(data=True):
        lon, lat = to_lonlat([data["x"]], [data["y"]])
        raw.add_node(ids[node], x=float(lon[0]), y=float(lat[0]), highway=data.get("highway"))
    by_speed = 0
    for u, v, data in net.graph.edges(data=True):
        highway, from_type = _highway(str(data.get("highway", "")), float(data["speed_kph"]))
        by_speed += not from_type
        geometry = data.get("geometry")
        if geometry is not None:
            x, y = np.array(geometry.coords).T
            geometry = shapely.LineString(np.column_stack(to_lonlat(x, y)))
        raw.add_edge(ids[u], ids[v], highway=highway, name=data.get("name", ""), lanes=data["lanes"],
                     maxspeed=data["maxspeed"], length=data["length"], oneway=True, geometry=geometry, osmid=0)
    return raw, by_speed


def import_sumo(path: Path, out_dir: Path, place: tuple[float, float] | None = None, force: bool = False,
                city_name: str | None = None, lang: str = "zh") -> dict[str, int]:
    """Add the SUMO net's roads and signals to the city folder ``out_dir``; return counts."""
    raw, by_speed = raw_graph(path, place)
    graph = to_twin_schema(raw)
    source = f"SUMO network {path.name}" + (f" ({by_speed} edges classed by speed limit)" if by_speed else "")
    add_layers(out_dir, {"roads": NewLayer(ROADS_FILE, lambda target: save_graph(graph, target), source)}, force,
               city_name=city_name or path.name.split(".")[0], lang=lang)
    signals = sum(1 for _, d in graph.nodes(data=True) if d.get("highway") == "traffic_signals")
    return {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(), "signals": signals,
            "nodes_read": raw.number_of_nodes()}
