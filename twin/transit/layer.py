"""The transit layer's tables and their GeoPackage: ``bus_stops``, ``bus_lines``, ``bus_line_stops``.

The three layers of ``docs/data_model.md``, in EPSG:4490:

* ``bus_stops``: points at their road node (``stop_id, name, node``);
* ``bus_lines``: direction-0 line strings with ``line_id, name, headway_s, autonomous,
  vehicle_type, length_m`` and the road nodes of each direction as JSON lists (``route_nodes``,
  ``route_nodes_return``);
* ``bus_line_stops``: the stop sequence of each line and direction (no geometry).

:func:`network_from_tables` and :func:`network_to_tables` convert between them and a
:class:`~twin.transit.lines.TransitNetwork`; :func:`write_transit_gpkg` and
:func:`read_transit_tables` store them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.errors import InputError
from twin.transit.lines import BusLine, Pattern, Stop, TransitNetwork, build_pattern

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from twin.city.travel_times import TravelTimes

TRANSIT_LAYERS = ("bus_stops", "bus_lines", "bus_line_stops")
"""The layer names, in the order they are written."""


def _stops_from_table(graph: nx.MultiDiGraph, bus_stops: pd.DataFrame) -> dict[str, Stop]:
    """The stops, each at its road node's lon/lat; a node not in the graph is an InputError."""
    stops: dict[str, Stop] = {}
    for row in bus_stops.itertuples(index=False):
        node = int(row.node)
        if node not in graph:
            raise InputError(f"bus_stops: stop {row.stop_id!r} lies on node {node}, not in the road graph")
        data = graph.nodes[node]
        stop_id = str(row.stop_id)
        stops[stop_id] = Stop(stop_id, str(row.name), node, float(data["x"]), float(data["y"]))
    return stops


def _patterns_of_line(
    graph: nx.MultiDiGraph,
    row: Any,
    sequences: pd.DataFrame,
    stops: dict[str, Stop],
    travel_times: TravelTimes | None,
) -> dict[int, Pattern]:
    """The patterns of one ``bus_lines`` row from its ordered ``bus_line_stops`` rows."""
    line_id = str(row.line_id)
    patterns = {}
    for direction, group in sequences.groupby("direction"):
        stop_ids = [str(s) for s in group["stop_id"]]
        unknown = [s for s in stop_ids if s not in stops]
        if unknown:
            raise InputError(f"bus_line_stops: line {line_id!r} uses unknown stop {unknown[0]!r}")
        column = "route_nodes" if int(direction) == 0 else "route_nodes_return"
        raw = getattr(row, column, None)
        route = json.loads(raw) if isinstance(raw, str) and raw else None
        patterns[int(direction)] = build_pattern(
            graph, [stops[s].node for s in stop_ids], stop_ids, int(direction), travel_times, route
        )
    if 0 not in patterns:
        raise InputError(f"bus_line_stops: line {line_id!r} has no direction 0 stops")
    return patterns


def network_from_tables(
    graph: nx.MultiDiGraph,
    bus_stops: pd.DataFrame,
    bus_lines: pd.DataFrame,
    bus_line_stops: pd.DataFrame,
    travel_times: TravelTimes | None = None,
) -> TransitNetwork:
    """Build the network from the three layers of ``docs/data_model.md``.

    ``bus_stops`` needs ``stop_id, name, node`` (lon/lat come from the node); ``bus_lines`` needs
    ``line_id, name, headway_s, autonomous, vehicle_type`` and optionally ``route_nodes`` (JSON list
    of road nodes of direction 0) and ``route_nodes_return`` (direction 1); ``bus_line_stops``
    needs ``line_id, direction, seq, stop_id``. Legs follow the stored route nodes where present,
    else the fastest road route between consecutive stops.
    """
    stops = _stops_from_table(graph, bus_stops)
    lines: dict[str, BusLine] = {}
    ordered = bus_line_stops.sort_values(["line_id", "direction", "seq"])
    for row in bus_lines.itertuples(index=False):
        line_id = str(row.line_id)
        patterns = _patterns_of_line(graph, row, ordered[ordered["line_id"] == row.line_id], stops, travel_times)
        lines[line_id] = BusLine(
            line_id=line_id,
            name=str(row.name),
            headway_s=float(row.headway_s),
            vehicle_type=str(row.vehicle_type),
            autonomous=bool(row.autonomous),
            patterns=patterns,
        )
    return TransitNetwork(stops, lines, graph)


def network_from_city(city: Any, travel_times: TravelTimes | None = None) -> TransitNetwork:
    """The bundled (or user) transit layer of a :class:`twin.city.folder.City`."""
    for name in TRANSIT_LAYERS:
        if getattr(city, name, None) is None:
            raise InputError(f"the city has no {name} layer (is transit.gpkg in the data folder?)")
    return network_from_tables(city.roads, city.bus_stops, city.bus_lines, city.bus_line_stops, travel_times)


def _stops_table(network: TransitNetwork) -> pd.DataFrame:
    """``bus_stops``: one point per stop at its road node, sorted by id."""
    # Deferred: geopandas and shapely are heavy and only the layer's writers need them.
    import geopandas as gpd
    from shapely.geometry import Point  # deferred with geopandas

    stop_rows = sorted(network.stops.values(), key=lambda s: s.stop_id)
    return gpd.GeoDataFrame(
        {
            "stop_id": [s.stop_id for s in stop_rows],
            "name": [s.name for s in stop_rows],
            "node": np.array([s.node for s in stop_rows], dtype=np.int64),
        },
        geometry=[Point(s.lon, s.lat) for s in stop_rows],
        crs="EPSG:4490",
    )


def _line_row(line: BusLine) -> dict[str, Any]:
    """The attributes of one ``bus_lines`` row, with both directions' road nodes as JSON."""
    forward = line.pattern(0).route_nodes()
    backward = line.pattern(1).route_nodes() if 1 in line.patterns else []
    return {
        "line_id": line.line_id, "name": line.name, "headway_s": float(line.headway_s),
        "autonomous": bool(line.autonomous), "vehicle_type": line.vehicle_type,
        "length_m": line.pattern(0).length_m,
        "route_nodes": json.dumps(forward), "route_nodes_return": json.dumps(backward),
    }


def network_to_tables(network: TransitNetwork) -> dict[str, pd.DataFrame]:
    """The three layers of ``docs/data_model.md``: ``bus_stops``, ``bus_lines``, ``bus_line_stops``.

    ``bus_stops`` are points at their road node, ``bus_lines`` are direction-0 line strings
    through the route's road nodes, with ``route_nodes`` (direction 0) and ``route_nodes_return``
    (direction 1, ``"[]"`` if none) as JSON lists; all in EPSG:4490. Rows are sorted by id, so the
    same network always gives the same tables.
    """
    # Deferred: geopandas, pandas and shapely are heavy and only the layer's writers need them.
    import geopandas as gpd
    import pandas as pd  # deferred with geopandas
    from shapely.geometry import LineString  # deferred with geopandas

    graph = network.graph
    line_rows = []
    geometries = []
    seq_rows = []
    for line_id in sorted(network.lines):
        line = network.lines[line_id]
        line_rows.append(_line_row(line))
        coords = [(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in line.pattern(0).route_nodes()]
        geometries.append(LineString(coords) if len(coords) > 1 else None)
        for direction in line.directions:
            for seq, stop_id in enumerate(line.pattern(direction).stop_ids):
                seq_rows.append((line_id, direction, seq, stop_id))
    bus_lines = gpd.GeoDataFrame(line_rows, geometry=geometries, crs="EPSG:4490")
    bus_line_stops = pd.DataFrame(seq_rows, columns=["line_id", "direction", "seq", "stop_id"])
    return {"bus_stops": _stops_table(network), "bus_lines": bus_lines, "bus_line_stops": bus_line_stops}


def write_transit_gpkg(network: TransitNetwork, path: Path) -> Path:
    """Write the transit layers to a GeoPackage, atomically (temporary file, then rename)."""
    # Deferred: pyogrio loads GDAL, slow to import for commands that never write a layer.
    import pyogrio

    tables = network_to_tables(network)
    partial = path.with_name(f".{path.stem}.partial.gpkg")
    partial.unlink(missing_ok=True)
    for name in TRANSIT_LAYERS:
        # bus_line_stops has no geometry: a GeoPackage attributes table.
        pyogrio.write_dataframe(tables[name], partial, layer=name, driver="GPKG")
    partial.replace(path)
    return path


def read_transit_tables(path: Path) -> dict[str, pd.DataFrame]:
    """Read the three transit layers from a GeoPackage written by :func:`write_transit_gpkg`."""
    # Deferred: geopandas and pyogrio load GDAL, slow to import for commands that never read a layer.
    import geopandas as gpd
    import pyogrio  # deferred with geopandas

    if not path.exists():
        raise InputError("file not found", path)
    layers = {name for name, _ in pyogrio.list_layers(path)}
    missing = set(TRANSIT_LAYERS) - layers
    if missing:
        raise InputError(f"missing transit layers {sorted(missing)}", path)
    tables: dict[str, pd.DataFrame] = {
        name: gpd.read_file(path, layer=name, engine="pyogrio") for name in ("bus_stops", "bus_lines")
    }
    tables["bus_line_stops"] = pyogrio.read_dataframe(path, layer="bus_line_stops")
    return tables
