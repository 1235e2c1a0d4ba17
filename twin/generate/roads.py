"""Generated road graphs in the OSMnx schema (see ``docs/data_model.md``), for scenarios that run on
a synthetic town and for hand-checkable tests.

Every generator returns a ``networkx.MultiDiGraph`` with node ``x``, ``y`` and, at signals,
``highway = "traffic_signals"``; edges carry ``length`` (m), ``lanes``, ``speed_kph``, ``highway``,
``oneway`` and ``travel_time`` (s).

* :func:`arterial_corridor`: a straight two-way arterial, optionally with signalised crossings of
  cross streets; geographic (EPSG:4490, with ``geometry``, ``maxspeed`` and ``road_class``) or in
  local metres;
* :func:`street_grid`: a grid of two-way streets whose class each street's line decides, and on
  it :func:`random_grid` (random lanes, classes and signals, for property tests) and
  :func:`grid_town` (arterials every third line, signals where they meet, zones at every
  junction: the ``signal_timing`` scenario's synthetic town);
* :func:`signalised_crossing`: an isolated four-leg signalised crossing with wide feeders;
* :func:`one_way_ring`: a ring of short one-way links that locks when it fills;
* :func:`add_road`: one straight road between two nodes, the brick of the others.

Graphs in local metres have no CRS (``crs=None``): x east and y north of an origin.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import LineString

from twin.crs import EARTH_RADIUS_M


def add_road(
    graph: nx.MultiDiGraph,
    a: object,
    b: object,
    lanes: int = 1,
    speed_kph: float = 50.0,
    highway: str = "secondary",
    both: bool = True,
    name: str | None = None,
    length_m: float | None = None,
) -> None:
    """A straight road ``a → b`` (and ``b → a`` when ``both``) between two existing nodes.

    Parameters
    ----------
    lanes, speed_kph, highway
        Lanes in each direction, free speed (km/h) and OSM road class.
    both
        Two-way (``oneway = False``) or one-way ``a → b``.
    name
        Road name (set only when given).
    length_m
        Length (m); default the straight distance between the nodes' ``x``, ``y`` (metric graphs).
    """
    if length_m is None:
        ax, ay = graph.nodes[a]["x"], graph.nodes[a]["y"]
        bx, by = graph.nodes[b]["x"], graph.nodes[b]["y"]
        length_m = float(np.hypot(bx - ax, by - ay))
    named = {"name": name} if name is not None else {}
    for u, v in [(a, b), (b, a)] if both else [(a, b)]:
        graph.add_edge(
            u,
            v,
            length=length_m,
            lanes=lanes,
            speed_kph=speed_kph,
            highway=highway,
            oneway=not both,
            travel_time=length_m / (speed_kph / 3.6),
            **named,
        )


# --------------------------------------------------------------------------------------------
# Corridors
# --------------------------------------------------------------------------------------------


def arterial_corridor(
    n_nodes: int = 21,
    spacing_m: float = 400.0,
    speed_kph: float = 50.0,
    lon0: float = 119.60,
    lat0: float = 25.90,
    signal_every: int = 0,
    cross_street_m: float = 0.0,
    signal_nodes: Sequence[int] | None = None,
    geographic: bool = True,
) -> nx.MultiDiGraph:
    """A straight two-way arterial in OSMnx schema, for hand-checkable transit and traffic cases.

    Nodes ``0 … n_nodes−1`` run east from (``lon0``, ``lat0``) every ``spacing_m``; every edge is a
    主干路 (``primary``, two lanes each way) with ``speed_kph``. With ``signal_every > 0`` every
    that-many-th interior node is tagged ``highway = "traffic_signals"``; with
    ``cross_street_m > 0`` each of those junctions also gets a two-way 次干路 (one lane each way,
    40 km/h) running ``cross_street_m`` north (node ``100000 + i``) and south (``200000 + i``),
    so that it is a four-leg crossing with cross traffic. ``signal_nodes`` lists the signalised
    nodes explicitly instead of ``signal_every``. With ``geographic=False`` the corridor is laid
    out in local metres from (0, 0) (no CRS; ``lon0``, ``lat0`` unused).
    """
    metres_per_degree_lat = math.radians(1.0) * EARTH_RADIUS_M
    metres_per_degree_lon = metres_per_degree_lat * math.cos(math.radians(lat0))
    if geographic:
        x0, y0, step_x = lon0, lat0, spacing_m / metres_per_degree_lon
        cross_dy = cross_street_m / metres_per_degree_lat
    else:
        x0, y0, step_x, cross_dy = 0.0, 0.0, spacing_m, cross_street_m
    graph = nx.MultiDiGraph(crs="EPSG:4490" if geographic else None, name="synthetic corridor")
    if signal_nodes is not None:
        signals = sorted(i for i in set(signal_nodes) if 0 < i < n_nodes - 1)
    else:
        signals = [i for i in range(1, n_nodes - 1) if signal_every and i % signal_every == 0]
    for i in range(n_nodes):
        legs = (2 if 0 < i < n_nodes - 1 else 1) + (2 if cross_street_m > 0 and i in signals else 0)
        attrs = {"x": x0 + i * step_x, "y": y0, "street_count": legs}
        if i in signals:
            attrs["highway"] = "traffic_signals"
        graph.add_node(i, **attrs)
    for i in range(n_nodes - 1):
        _corridor_road(graph, i, i + 1, i, "synthetic avenue", "primary", "主干路", 2, speed_kph, spacing_m)
    if cross_street_m > 0:
        for i in signals:
            for node, sign in ((100_000 + i, 1.0), (200_000 + i, -1.0)):
                graph.add_node(node, x=graph.nodes[i]["x"], y=y0 + sign * cross_dy, street_count=1)
                _corridor_road(graph, i, node, 100_000 + i, f"cross street {i}", "secondary", "次干路", 1, 40.0,
                               cross_street_m)
    return graph


def _corridor_road(graph: nx.MultiDiGraph, u: int, v: int, osmid: int, name: str, highway: str, road_class: str,
                   lanes: int, kph: float, length: float) -> None:
    """A two-way corridor road with the full OSMnx attributes (key 0 each way, a straight geometry)."""
    for p, q in ((u, v), (v, u)):
        graph.add_edge(
            p, q, 0,
            osmid=osmid, name=name, highway=highway, road_class=road_class, lanes=lanes,
            maxspeed=str(int(kph)), speed_kph=float(kph), length=float(length),
            travel_time=length / (kph / 3.6), oneway=False,
            geometry=LineString([(graph.nodes[p]["x"], graph.nodes[p]["y"]),
                                 (graph.nodes[q]["x"], graph.nodes[q]["y"])]),
        )


# --------------------------------------------------------------------------------------------
# Grids
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Street:
    """How one street of a generated grid is built: lanes each way, free speed, class and name."""

    lanes: int = 1
    speed_kph: float = 50.0
    highway: str = "secondary"
    name: str | None = None


StreetOf = Callable[[Literal["row", "column"], int], Street]
"""``street(axis, line)``: the street of each block side, along row ``j`` or column ``i``."""


def street_grid(columns: int, rows: int, spacing_m: float, street: StreetOf) -> nx.MultiDiGraph:
    """A ``columns × rows`` grid of two-way streets in local metres (no CRS).

    Node ``i * rows + j`` stands at (``i * spacing_m``, ``j * spacing_m``). Every block side is a
    two-way street ``spacing_m`` long, built as ``street(axis, line)`` says, where ``axis`` is
    ``"row"`` for a side along row ``j`` (``line = j``) and ``"column"`` for one along column
    ``i``; sides are built column by column, each node's row side before its column side.
    """
    graph = nx.MultiDiGraph(crs=None)
    for i in range(columns):
        for j in range(rows):
            graph.add_node(i * rows + j, x=i * spacing_m, y=j * spacing_m)
    for i in range(columns):
        for j in range(rows):
            for di, dj, axis, line in ((1, 0, "row", j), (0, 1, "column", i)):
                if i + di >= columns or j + dj >= rows:
                    continue
                s = street(axis, line)
                add_road(graph, i * rows + j, (i + di) * rows + j + dj, s.lanes, s.speed_kph, s.highway,
                         name=s.name, length_m=spacing_m)
    return graph


def random_grid(
    columns: int,
    rows: int,
    spacing_m: float = 150.0,
    seed: int = 0,
    signal_share: float = 0.5,
    lane_choices: tuple[int, ...] = (1, 2),
) -> nx.MultiDiGraph:
    """A street grid with random lanes (from ``lane_choices``) and classes (primary, secondary,
    tertiary) per street, 50 km/h, and a random ``signal_share`` of its four-way junctions
    signalised; the same ``seed`` gives the same graph."""
    rng = np.random.default_rng(seed)

    def street(axis: str, line: int) -> Street:
        lanes = int(rng.choice(lane_choices))
        return Street(lanes=lanes, highway=str(rng.choice(["primary", "secondary", "tertiary"])))

    graph = street_grid(columns, rows, spacing_m, street)
    for node in graph.nodes:
        if graph.degree(node) >= 6 and rng.random() < signal_share:
            graph.nodes[node]["highway"] = "traffic_signals"
    return graph


@dataclass
class GridTown:
    """A synthetic town: its roads, zones (``zone_id, residents, jobs, node``) and central nodes."""

    graph: nx.MultiDiGraph
    zones: pd.DataFrame
    centre_nodes: set[int]


def grid_town(size: int = 8, spacing_m: float = 300.0, residents: float = 60_000.0) -> GridTown:
    """A ``size × size`` grid town with two-lane arterials every third line, signals where arterials
    meet, zones at every junction and the central third as its centre.

    Arterials (lines 1, 4, 7, …) are ``primary``, two lanes each way at 50 km/h; the other
    streets ``tertiary``, one lane at 40 km/h; streets are named ``Row j`` and ``Column i``.
    Junctions of two arterials are signalised, and so is every other junction along one. Zone
    residents and jobs are gamma-distributed (seed 7, jobs three times denser in the centre),
    ``residents`` in all and half as many jobs.
    """

    def arterial(line: int) -> bool:
        return line % 3 == 1

    def street(axis: str, line: int) -> Street:
        major = arterial(line)
        return Street(
            lanes=2 if major else 1,
            speed_kph=50.0 if major else 40.0,
            highway="primary" if major else "tertiary",
            name=f"Row {line}" if axis == "row" else f"Column {line}",
        )

    n = size
    graph = street_grid(n, n, spacing_m, street)
    for i in range(n):
        for j in range(n):
            if arterial(i) and arterial(j) or (arterial(i) or arterial(j)) and (i + j) % 2 == 0:
                graph.nodes[i * n + j]["highway"] = "traffic_signals"
    lo, hi = n // 3, n - n // 3
    centre = {i * n + j for i in range(lo, hi) for j in range(lo, hi)}
    rng = np.random.default_rng(7)
    weights = rng.gamma(2.0, 1.0, n * n)
    jobs = rng.gamma(2.0, 1.0, n * n) * np.array([3.0 if node in centre else 1.0 for node in range(n * n)])
    zones = pd.DataFrame(
        {
            "zone_id": [f"z{k}" for k in range(n * n)],
            "residents": residents * weights / weights.sum(),
            "jobs": 0.5 * residents * jobs / jobs.sum(),
            "node": list(range(n * n)),
        }
    )
    return GridTown(graph, zones, centre)


# --------------------------------------------------------------------------------------------
# Small cases
# --------------------------------------------------------------------------------------------


def signalised_crossing(
    arm_m: float = 400.0, lanes_ew: int = 1, lanes_ns: int = 1, feeder_lanes: int = 4
) -> nx.MultiDiGraph:
    """An isolated signalised crossing ``J`` with arms ``W``, ``E``, ``N``, ``S`` (``arm_m`` long,
    ``lanes_ew`` / ``lanes_ns`` lanes) and one-way feeders ``FW → W`` and ``FN → N`` 200 m long
    with ``feeder_lanes`` lanes, so that arrivals reach the approaches unsmoothed (local metres)."""
    graph = nx.MultiDiGraph(crs=None)
    for name, x, y in [
        ("J", 0, 0),
        ("W", -arm_m, 0),
        ("E", arm_m, 0),
        ("N", 0, arm_m),
        ("S", 0, -arm_m),
        ("FW", -arm_m - 200, 0),
        ("FN", 0, arm_m + 200),
    ]:
        graph.add_node(name, x=float(x), y=float(y))
    graph.nodes["J"]["highway"] = "traffic_signals"
    add_road(graph, "W", "J", lanes_ew)
    add_road(graph, "J", "E", lanes_ew)
    add_road(graph, "N", "J", lanes_ns)
    add_road(graph, "J", "S", lanes_ns)
    add_road(graph, "FW", "W", feeder_lanes, both=False)
    add_road(graph, "FN", "N", feeder_lanes, both=False)
    return graph


def one_way_ring() -> nx.MultiDiGraph:
    """A one-way ring ``A → B → C → D → A`` of 40 m single-lane links, each corner with a one-way
    feeder ``in<X> → X`` and an exit ``X → out<X>`` (local metres): traffic going most of the way
    round fills it until it locks."""
    graph = nx.MultiDiGraph(crs=None)
    corners = {"A": (0.0, 0.0), "B": (40.0, 0.0), "C": (40.0, 40.0), "D": (0.0, 40.0)}
    for name, (x, y) in corners.items():
        graph.add_node(name, x=x, y=y)
        graph.add_node(f"in{name}", x=x * 5 - 80, y=y * 5 - 80)
        graph.add_node(f"out{name}", x=x * 5 - 90, y=y * 5 - 60)
    ring = ["A", "B", "C", "D"]
    for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
        add_road(graph, a, b, lanes=1, both=False)
    for name in ring:
        add_road(graph, f"in{name}", name, lanes=1, both=False)
        add_road(graph, name, f"out{name}", lanes=1, both=False)
    return graph
