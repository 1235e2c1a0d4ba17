"""The robotaxi fleet's drives as SUMO routes, on the network ``twin.traffic.sumo_io`` exports.

Every leg of :func:`twin.robotaxi.legs.vehicle_legs` (empty pickup drive, trip with the rider,
drive to a charger, rebalancing move) becomes one SUMO ``<vehicle>`` with an explicit ``<route>``,
departing at the leg's start (s from the run start). The route is the fastest path on the link
times of the leg's departure bin, the same rule as the run's tables
(:mod:`twin.robotaxi.tables`: the fastest parallel edge of each node pair), written as the edge
ids :func:`twin.traffic.sumo_io.netconvert.write_net` gives the same graph (``sumo_id``, else
``u_v_key``). Legs of zero length (the vehicle already at the rider) have no edges and are left out.

This module sits in ``scenarios`` because it joins two city systems (robotaxi and traffic), which
may not import each other (``SYSTEM_USES`` in ``tests/test_architecture.py``).
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from twin.city.travel_times import TravelTimes
from twin.traffic.sumo_io.netconvert import edge_id
from twin.traffic.sumo_io.routes import write_routes


def _fastest_edges(graph: nx.MultiDiGraph, times: TravelTimes, enter_s: float):
    """Per node pair the fastest parallel edge: its time (s) and its SUMO id."""
    best: dict[tuple[int, int], tuple[float, str]] = {}
    for u, v, k, data in graph.edges(keys=True, data=True):
        t = float(times.edge_time_s((u, v, k), enter_s))
        if (u, v) not in best or t < best[(u, v)][0]:
            best[(u, v)] = (t, str(data.get("sumo_id") or edge_id((u, v, k))))
    return best


def leg_routes(graph: nx.MultiDiGraph, times: TravelTimes, legs: pd.DataFrame,
               bin_start_s: np.ndarray) -> list[tuple[str, float, list[str]]]:
    """``(vehicle id, depart_s, [SUMO edge ids])`` of every leg that moves."""
    nodes = list(graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    moving = legs[legs["from_node"] != legs["to_node"]]
    bins = np.maximum(np.searchsorted(bin_start_s, moving["depart_s"].to_numpy(), side="right") - 1, 0)
    out = []
    for b in np.unique(bins):
        best = _fastest_edges(graph, times, float(bin_start_s[b]))
        pairs = np.array([(index[u], index[v]) for u, v in best], np.int64).reshape(-1, 2)
        weight = np.array([t for t, _ in best.values()], float) + 1e-9  # as the tables: no zero weights
        matrix = csr_matrix((weight, (pairs[:, 0], pairs[:, 1])), shape=(len(nodes), len(nodes)))
        mine = moving[bins == b]
        sources = np.unique(mine["from_node"].map(index).to_numpy())
        _, pred = dijkstra(matrix, indices=sources, return_predecessors=True)
        row_of = {int(s): i for i, s in enumerate(sources)}
        for leg in mine.itertuples():
            row = pred[row_of[index[leg.from_node]]]
            path = [index[leg.to_node]]
            while path[-1] != index[leg.from_node]:
                path.append(int(row[path[-1]]))
            path.reverse()
            edges = [best[(nodes[a], nodes[c])][1] for a, c in zip(path[:-1], path[1:], strict=True)]
            out.append((f"robotaxi{leg.vehicle}_{leg.Index}_{leg.kind}", float(leg.depart_s), edges))
    return out


def write_fleet_routes(graph: nx.MultiDiGraph, times: TravelTimes, legs: pd.DataFrame, bin_start_s: np.ndarray,
                       out_path: str | Path) -> Path:
    """Write the fleet's legs as a SUMO ``.rou.xml`` (vehicles with explicit edge routes)."""
    return write_routes(leg_routes(graph, times, legs, np.asarray(bin_start_s, float)), out_path)
