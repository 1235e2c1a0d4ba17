"""Pickup points of a service area: road nodes inside an area, on the strongly connected core.

A robotaxi serves designated pickup points (上车点). We take up to ``n`` road nodes inside each
named area, drawn at random from those on the largest strongly connected part of the road graph
(so that every point can reach every other); an area with no road
node inside it (the airfield) uses the nodes within :data:`ACCESS_M` of it. This keeps the tables of
:mod:`twin.robotaxi.tables` small (places², per time bin).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from twin.crs import to_metric
from twin.errors import InputError

ACCESS_M = 1500.0
"""An area without road nodes inside (an airfield) is served from the nodes this close to it (m)."""


def connected_core(graph: nx.MultiDiGraph) -> set[int]:
    """The road nodes of the largest strongly connected component."""
    return set(max(nx.strongly_connected_components(graph), key=len))


def pickup_points(graph: nx.MultiDiGraph, core: set[int], area: BaseGeometry, n: int,
                  rng: np.random.Generator, key: str) -> np.ndarray:
    """Up to ``n`` road nodes of ``core`` inside ``area`` (EPSG:4490 like the graph's x, y)."""
    nodes = np.array(sorted(core), np.int64)
    x = np.array([graph.nodes[v]["x"] for v in nodes], float)
    y = np.array([graph.nodes[v]["y"] for v in nodes], float)
    inside = nodes[shapely.contains_xy(area, x, y)]
    if len(inside) == 0:  # an area with no road of its own (the airfield): its access roads
        xm, ym = to_metric(x, y)
        shape = shapely.transform(area, lambda xy: np.column_stack(to_metric(xy[:, 0], xy[:, 1])))
        inside = nodes[shapely.distance(shape, shapely.points(xm, ym)) <= ACCESS_M]
    if len(inside) == 0:
        raise InputError(f"{key}: no connected road node inside this area or within {ACCESS_M:.0f} m of it")
    return np.sort(rng.choice(inside, min(n, len(inside)), replace=False))
