"""Requests from a planner's trip file: road-node ids, or lon/lat snapped to the road network.

A trip file (Parquet or CSV, one row per request) gives each request's origin and destination
either as road-node ids (``origin_node, destination_node``) or as CGCS2000 lon/lat in degrees
(``origin_lon, origin_lat, destination_lon, destination_lat``), the request time
``request_time_s`` (s from the run start) and optionally ``party_size`` and ``max_wait_s``.
A lon/lat point is snapped to the nearest node of the connected road network; a point farther
than ``max_snap_m`` from every such node is outside the network and an :class:`InputError`,
naming the file, the row, the columns and the distance.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from twin.crs import to_metric
from twin.errors import InputError
from twin.robotaxi.requests import Requests, read_table, requests_from_frame

LONLAT_COLUMNS = {
    "origin_node": ("origin_lon", "origin_lat"),
    "destination_node": ("destination_lon", "destination_lat"),
}
"""The lon/lat columns (degrees, EPSG:4490) that stand for each node column."""


def snap_to_nodes(graph: nx.MultiDiGraph, nodes: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                  max_snap_m: float, where: str) -> np.ndarray:
    """The nearest of ``nodes`` to each lon/lat point (metric distance, EPSG:4549).

    Raises :class:`InputError` for the first point farther than ``max_snap_m`` (m) from all of
    them, or not a finite lon/lat; ``where`` names the file and columns.
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(f"{where}: row {row} = ({lon[row]}, {lat[row]}), expected lon, lat in degrees")
    nx_m, ny_m = to_metric([graph.nodes[n]["x"] for n in nodes], [graph.nodes[n]["y"] for n in nodes])
    px_m, py_m = to_metric(lon, lat)
    distance_m, index = cKDTree(np.column_stack([nx_m, ny_m])).query(np.column_stack([px_m, py_m]))
    far = distance_m > max_snap_m
    if far.any():
        row = int(np.argmax(far))
        raise InputError(f"{where}: row {row} = ({lon[row]:.6f}, {lat[row]:.6f}) is {distance_m[row]:,.0f} m "
                         f"from the nearest road node, expected within [requests] max_snap_m = {max_snap_m:g} m "
                         "(the request is outside the road network)")
    return np.asarray(nodes, np.int64)[index]


def snap_frame(frame: pd.DataFrame, graph: nx.MultiDiGraph, core: set[int], max_snap_m: float,
               source: str) -> pd.DataFrame:
    """``frame`` with ``origin_node``/``destination_node`` from lon/lat columns where it has no ids."""
    nodes = np.array(sorted(core), np.int64)
    out = frame.copy()
    for column, (lon, lat) in LONLAT_COLUMNS.items():
        if column in out.columns:
            continue
        if lon not in out.columns or lat not in out.columns:
            raise InputError(f"{source}: missing column {column!r} (or {lon!r} and {lat!r})")
        values = [pd.to_numeric(out[c], errors="coerce").to_numpy(float) for c in (lon, lat)]
        out[column] = snap_to_nodes(graph, nodes, *values, max_snap_m, f"{source} {lon}, {lat}")
    return out


def read_trip_file(path: Path, graph: nx.MultiDiGraph, core: set[int], horizon_s: float, max_snap_m: float,
                   max_wait_s: float, key: str) -> Requests:
    """The requests of a trip file, on nodes of ``core`` (the connected road network).

    ``max_wait_s`` (s) is the wait of rows without a ``max_wait_s`` column; ``key`` names the file
    in errors (e.g. ``[requests] file``).
    """
    frame = read_table(path, key)
    source = f"{key} ({path.name})"
    if "max_wait_s" not in frame.columns:
        frame = frame.assign(max_wait_s=float(max_wait_s))
    return requests_from_frame(snap_frame(frame, graph, core, max_snap_m, source), core, horizon_s, source)
