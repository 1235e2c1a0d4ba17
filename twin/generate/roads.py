"""Generated road graphs in the OSMnx schema (see ``docs/data_model.md``).

Each generator returns a ``networkx.MultiDiGraph`` with node ``x``, ``y`` (EPSG:4490 degrees),
``street_count`` and, at signals, ``highway = "traffic_signals"``; edges carry ``length`` (m),
``highway``, ``road_class``, ``lanes``, ``maxspeed``, ``speed_kph``, ``travel_time`` (s),
``oneway`` and a ``geometry``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import networkx as nx
from shapely.geometry import LineString

from twin.crs import EARTH_RADIUS_M


def arterial_corridor(
    n_nodes: int = 21,
    spacing_m: float = 400.0,
    speed_kph: float = 50.0,
    lon0: float = 119.60,
    lat0: float = 25.90,
    signal_every: int = 0,
    cross_street_m: float = 0.0,
    signal_nodes: Sequence[int] | None = None,
) -> nx.MultiDiGraph:
    """A straight two-way arterial in OSMnx schema, for hand-checkable transit cases.

    Nodes ``0 … n_nodes−1`` run east from (``lon0``, ``lat0``) every ``spacing_m``; every edge is a
    主干路 (``primary``, two lanes each way) with ``speed_kph``. With ``signal_every > 0`` every
    that-many-th interior node is tagged ``highway = "traffic_signals"``; with
    ``cross_street_m > 0`` each of those junctions also gets a two-way 次干路 (one lane each way,
    40 km/h) running ``cross_street_m`` north (node ``100000 + i``) and south (``200000 + i``),
    so that it is a four-leg crossing with cross traffic. ``signal_nodes`` lists the signalised
    nodes explicitly instead of ``signal_every``.
    """
    metres_per_degree_lat = math.radians(1.0) * EARTH_RADIUS_M
    metres_per_degree_lon = metres_per_degree_lat * math.cos(math.radians(lat0))
    step_deg = spacing_m / metres_per_degree_lon
    graph = nx.MultiDiGraph(crs="EPSG:4490", name="synthetic corridor")

    def add_road(u: int, v: int, osmid: int, name: str, highway: str, road_class: str, lanes: int,
                 kph: float, length: float) -> None:
        for p, q in ((u, v), (v, u)):
            graph.add_edge(
                p, q, 0,
                osmid=osmid, name=name, highway=highway, road_class=road_class, lanes=lanes,
                maxspeed=str(int(kph)), speed_kph=float(kph), length=float(length),
                travel_time=length / (kph / 3.6), oneway=False,
                geometry=LineString([(graph.nodes[p]["x"], graph.nodes[p]["y"]),
                                     (graph.nodes[q]["x"], graph.nodes[q]["y"])]),
            )

    if signal_nodes is not None:
        signals = sorted(i for i in set(signal_nodes) if 0 < i < n_nodes - 1)
    else:
        signals = [i for i in range(1, n_nodes - 1) if signal_every and i % signal_every == 0]
    for i in range(n_nodes):
        legs = (2 if 0 < i < n_nodes - 1 else 1) + (2 if cross_street_m > 0 and i in signals else 0)
        attrs = {"x": lon0 + i * step_deg, "y": lat0, "street_count": legs}
        if i in signals:
            attrs["highway"] = "traffic_signals"
        graph.add_node(i, **attrs)
    for i in range(n_nodes - 1):
        add_road(i, i + 1, i, "synthetic avenue", "primary", "主干路", 2, speed_kph, spacing_m)
    if cross_street_m > 0:
        dlat = cross_street_m / metres_per_degree_lat
        for i in signals:
            for node, sign in ((100_000 + i, 1.0), (200_000 + i, -1.0)):
                graph.add_node(node, x=graph.nodes[i]["x"], y=lat0 + sign * dlat, street_count=1)
                add_road(i, node, 100_000 + i, f"cross street {i}", "secondary", "次干路", 1, 40.0,
                         cross_street_m)
    return graph
