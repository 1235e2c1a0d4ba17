"""Fastest times and route lengths between the places of a robotaxi run, by time-of-day bin.

A *place* is a road node that a request, a vehicle or a station uses. For each bin the road graph
is weighted with the link times a :class:`~twin.city.travel_times.TravelTimes` gives for a vehicle
entering at the bin's start (a traffic run's time-of-day times, or free flow), and Dijkstra gives
``time_s[b, i, j]``; ``dist_km[b, i, j]`` is the length of that same fastest route (for energy).
Within one leg the bin does not change (the leg's start time picks the table): a simplification
stated in ``docs/robotaxi.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from twin.city.travel_times import TravelTimes
from twin.errors import InputError


@dataclass
class PlaceTables:
    """Times (s) and lengths (km) of the fastest routes between places, per time bin."""

    nodes: np.ndarray  # road node id of each place
    bin_start_s: np.ndarray
    time_s: np.ndarray  # (bins, places, places)
    dist_km: np.ndarray  # (bins, places, places)

    def place_of(self, nodes: Sequence[int], key: str) -> np.ndarray:
        """Place indices of road nodes; a node that is not a place is an :class:`InputError`."""
        index = {int(n): i for i, n in enumerate(self.nodes)}
        out = np.empty(len(nodes), np.int64)
        for k, node in enumerate(nodes):
            if int(node) not in index:
                raise InputError(f"{key}: node {node} is not a place of this run")
            out[k] = index[int(node)]
        return out


def _edge_arrays(graph: nx.MultiDiGraph, times: TravelTimes, enter_s: float):
    """Per (u, v) pair the fastest parallel edge's time (s) and length (m), node positions."""
    pos = {n: i for i, n in enumerate(graph.nodes)}
    best: dict[tuple[int, int], tuple[float, float]] = {}
    for u, v, k, data in graph.edges(keys=True, data=True):
        t = float(times.edge_time_s((u, v, k), enter_s))
        pair = (pos[u], pos[v])
        if pair not in best or t < best[pair][0]:
            best[pair] = (t, float(data["length"]))
    pairs = np.array(list(best), np.int64).reshape(-1, 2)
    values = np.array(list(best.values()), float).reshape(-1, 2)
    return pos, pairs, values


def _route_lengths_m(pred: np.ndarray, sources: np.ndarray, pairs: np.ndarray, lengths_m: np.ndarray,
                     n_nodes: int) -> np.ndarray:
    """Length (m) of every fastest route in the predecessor tree ``pred`` (rows: sources).

    Pointer jumping: each node's length to its ancestor ``up`` doubles the hops it covers per
    round, so ``log2(depth)`` vectorised rounds sum the tree from every node to its source.
    """
    key_order = np.argsort(pairs[:, 0] * n_nodes + pairs[:, 1])
    keys = (pairs[:, 0] * n_nodes + pairs[:, 1])[key_order]
    up = pred.astype(np.int64)
    has = up >= 0
    acc = np.zeros(pred.shape)
    cols = np.broadcast_to(np.arange(n_nodes), pred.shape)
    found = np.searchsorted(keys, up[has] * n_nodes + cols[has])
    acc[has] = lengths_m[key_order][found]
    rows = np.broadcast_to(np.arange(pred.shape[0])[:, None], pred.shape)
    while has.any():
        parent = np.where(has, up, 0)
        acc = np.where(has, acc + acc[rows, parent], acc)
        up = np.where(has, up[rows, parent], -9999)
        has = up >= 0
    unreachable = (pred < 0) & (cols != sources[:, None])
    acc[unreachable] = np.inf
    return acc


def place_tables(graph: nx.MultiDiGraph, times: TravelTimes, nodes: Sequence[int],
                 bin_start_s: Sequence[float]) -> PlaceTables:
    """:class:`PlaceTables` between ``nodes`` for vehicles leaving at each ``bin_start_s``.

    Raises :class:`InputError` if a node is not on the graph or a place cannot reach another.
    """
    nodes = np.array(sorted({int(n) for n in nodes}), np.int64)
    missing = [int(n) for n in nodes if n not in graph]
    if missing:
        raise InputError(f"node {missing[0]} is not on the road network")
    bins = np.asarray(bin_start_s, float)
    n_places = len(nodes)
    time_s = np.empty((len(bins), n_places, n_places))
    dist_km = np.empty_like(time_s)
    for b, start in enumerate(bins):
        pos, pairs, values = _edge_arrays(graph, times, float(start))
        matrix = csr_matrix((values[:, 0] + 1e-9, (pairs[:, 0], pairs[:, 1])), shape=(len(pos), len(pos)))
        sources = np.array([pos[int(n)] for n in nodes], np.int64)
        t_all, pred = dijkstra(matrix, indices=sources, return_predecessors=True)
        length_m = _route_lengths_m(pred, sources, pairs, values[:, 1], len(pos))
        time_s[b] = t_all[:, sources]
        dist_km[b] = length_m[:, sources] / 1000.0
    if not np.isfinite(time_s).all():
        b, i, j = np.argwhere(~np.isfinite(time_s))[0]
        raise InputError(f"road node {nodes[j]} cannot be reached from node {nodes[i]} on the road network")
    for b in range(len(bins)):
        np.fill_diagonal(time_s[b], 0.0)
        np.fill_diagonal(dist_km[b], 0.0)
    return PlaceTables(nodes, bins, time_s, dist_km)
