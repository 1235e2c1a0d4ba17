"""Where a signal pilot is: the road nodes of an admin area, or of a lon/lat box, and the box
around a city's densest cluster of signals (for a starter scenario on a city we have not seen)."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.spatial import cKDTree

from twin.city.places import junction_name

SIGNALS = "traffic_signals"
METRES_PER_DEGREE_LAT = 111_320.0  # on the GRS80/CGCS2000 ellipsoid, to 0.5 %: enough for a pilot's box


def nodes_in_bbox(graph: nx.MultiDiGraph, bbox: tuple[float, float, float, float]) -> set:
    """Road nodes inside ``(lon_min, lat_min, lon_max, lat_max)`` (EPSG:4490 degrees)."""
    lon_min, lat_min, lon_max, lat_max = bbox
    return {
        n for n, d in graph.nodes(data=True) if lon_min <= d["x"] <= lon_max and lat_min <= d["y"] <= lat_max
    }


@dataclass(frozen=True)
class SignalCluster:
    """The densest cluster of signals: its centre node, how many signals lie within the radius,
    the box around them (lon/lat) and the centre junction's name (for the starter's comment)."""

    centre: object
    signals: int
    radius_m: float
    bbox: tuple[float, float, float, float]
    junction: str


def densest_signal_cluster(graph: nx.MultiDiGraph, radius_m: float = 800.0) -> SignalCluster | None:
    """The signalised node with the most signalised nodes within ``radius_m`` (ties: the lowest
    node id), and the box of ``radius_m`` around it; ``None`` if the graph has no signal."""
    signals = sorted((n for n, d in graph.nodes(data=True) if d.get("highway") == SIGNALS), key=str)
    if not signals:
        return None
    lon = np.array([graph.nodes[n]["x"] for n in signals], float)
    lat = np.array([graph.nodes[n]["y"] for n in signals], float)
    # A local equirectangular plane around the signals: true distances in any city, at the scale
    # of a pilot (the project's EPSG:4549 is accurate only near 120°E).
    per_deg_lon = METRES_PER_DEGREE_LAT * np.cos(np.radians(lat.mean()))
    xy = np.column_stack([(lon - lon.mean()) * per_deg_lon, (lat - lat.mean()) * METRES_PER_DEGREE_LAT])
    counts = np.array([len(hits) for hits in cKDTree(xy).query_ball_point(xy, radius_m)])
    best = int(np.argmax(counts))  # first of the largest: signals are sorted, so this is deterministic
    d_lon, d_lat = radius_m / per_deg_lon, radius_m / METRES_PER_DEGREE_LAT
    bbox = (float(lon[best] - d_lon), float(lat[best] - d_lat), float(lon[best] + d_lon), float(lat[best] + d_lat))
    return SignalCluster(signals[best], int(counts[best]), radius_m, bbox, junction_name(graph, signals[best], "en"))
