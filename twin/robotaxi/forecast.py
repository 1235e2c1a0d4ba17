"""Forecast demand by zone, and the zones' anchors, for rebalancing idle vehicles.

A zone is a service area's set of pickup points. Its forecast is the planner's demand model: the
expected requests per second leaving the zone in each hour of the run, from the area-to-area daily
flows and the hourly profile that also draws the requests (:mod:`twin.robotaxi.requests`), so the
rebalancer knows the expected rate, not the realised requests. Its anchor, where vehicles are sent,
is its medoid: the pickup point with the least mean travel time to the zone's other points.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from twin.crs import to_metric
from twin.robotaxi.policies import Rebalancing
from twin.robotaxi.requests import RIDE_HAIL_HOURLY_SHARE
from twin.robotaxi.tables import PlaceTables


def hourly_zone_rates(origins: list[int], requests_per_day: list[float], n_zones: int, start_hour: float,
                      duration_s: float, hourly_share=RIDE_HAIL_HOURLY_SHARE) -> np.ndarray:
    """Expected requests/s from each zone in each hour of the run: ``[hour of run, zone]``.

    ``origins[f]`` is the zone of flow ``f`` and ``requests_per_day[f]`` its daily requests.
    """
    share = np.asarray(hourly_share, float) / float(np.sum(hourly_share))
    n_hours = max(1, int(np.ceil(duration_s / 3600.0)))
    rate = np.zeros((n_hours, n_zones))
    for k in range(n_hours):
        hour = int((start_hour + k) % 24)
        for zone, per_day in zip(origins, requests_per_day, strict=True):
            rate[k, zone] += per_day * share[hour] / 3600.0
    return rate


def medoid(tables: PlaceTables, nodes: np.ndarray) -> int:
    """The node of ``nodes`` with the least mean time (first bin) to and from the others."""
    places = tables.place_of(nodes, "zone point")
    times = tables.time_s[0][np.ix_(places, places)]
    return int(np.asarray(nodes)[int(np.argmin(times.sum(axis=0) + times.sum(axis=1)))])


def zone_rebalancing(tables: PlaceTables, zone_nodes: list[np.ndarray], rate_per_s: np.ndarray,
                     every_s: float, lookahead_s: float) -> Rebalancing:
    """:class:`Rebalancing` over ``zone_nodes`` with hourly ``rate_per_s[hour, zone]``."""
    anchors = np.array([medoid(tables, nodes) for nodes in zone_nodes], np.int64)
    return Rebalancing(zone_nodes, anchors, rate_per_s, 3600.0, every_s, lookahead_s)


def split_zones(graph: nx.MultiDiGraph, zone_nodes: list[np.ndarray], rate_per_s: np.ndarray,
                cell_m: float) -> tuple[list[np.ndarray], np.ndarray]:
    """Each zone cut into square cells of ``cell_m`` (m, EPSG:4549), with its forecast shared by
    the cells in proportion to their pickup points (requests leave from the area's points
    uniformly, :func:`twin.robotaxi.requests.draw_requests`). Returns the cells' nodes and their
    ``rate_per_s[hour, cell]``."""
    cells, columns = [], []
    for z, nodes in enumerate(zone_nodes):
        nodes = np.asarray(nodes, np.int64)
        x_m, y_m = to_metric([graph.nodes[n]["x"] for n in nodes], [graph.nodes[n]["y"] for n in nodes])
        key = np.floor(np.asarray(x_m) / cell_m) * 1e7 + np.floor(np.asarray(y_m) / cell_m)
        for k in np.unique(key):
            part = nodes[key == k]
            cells.append(part)
            columns.append(rate_per_s[:, z] * len(part) / len(nodes))
    return cells, np.column_stack(columns)
