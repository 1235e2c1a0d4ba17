"""Small generated cases shared by the robotaxi tests: a congested grid town, requests, fleets."""

from __future__ import annotations

import networkx as nx
import numpy as np

from twin.city.travel_times import FreeFlowTravelTimes, TimeOfDayTravelTimes
from twin.generate.roads import Street, street_grid
from twin.robotaxi.fleet import Fleet
from twin.robotaxi.requests import Requests

BINS_S = np.array([0.0, 3600.0, 7200.0])


def congested_grid(seed: int = 3):
    """An 8 × 8 grid of 200 m streets whose link times change by hour (factors 1 to 2.5)."""
    rng = np.random.default_rng(seed)
    graph = street_grid(8, 8, 200.0, lambda axis, line: Street(speed_kph=float(rng.choice([30, 50, 60]))))
    edges = list(graph.edges(keys=True))
    free = FreeFlowTravelTimes(graph)
    base = np.array([free.edge_time_s(e, 0.0) for e in edges])
    table = base[:, None] * rng.uniform(1.0, 2.5, (len(edges), len(BINS_S)))
    return graph, TimeOfDayTravelTimes(edges, BINS_S, table, free), edges, table


def nx_time(graph, edges, table, b: int, source: int, target: int) -> float:
    """networkx Dijkstra on bin ``b``'s link times (the fastest parallel edge)."""
    weight = {e: table[i, b] for i, e in enumerate(edges)}
    return nx.shortest_path_length(
        graph, source, target, weight=lambda u, v, d: min(weight[(u, v, k)] for k in d))


def uniform_requests(rng, nodes, n, horizon_s, max_wait_s=3600.0) -> Requests:
    return Requests(rng.choice(nodes, n), rng.choice(nodes, n), np.sort(rng.uniform(0, horizon_s, n)),
                    np.ones(n, np.int64), np.full(n, max_wait_s))


def fleet_at(nodes, per_node: int, battery_kwh: float = 1e6) -> Fleet:
    start = np.repeat(np.asarray(nodes, np.int64), per_node)
    n = len(start)
    return Fleet(start, np.full(n, battery_kwh), np.full(n, battery_kwh), np.full(n, 0.15), np.full(n, 4))


def to_node_times(graph, edges, table, b: int, target: int) -> dict:
    """networkx Dijkstra: fastest time from every node to ``target`` on bin ``b``'s link times."""
    weight = {e: table[i, b] for i, e in enumerate(edges)}
    return nx.single_source_dijkstra_path_length(
        graph.reverse(copy=False), target, weight=lambda u, v, d: min(weight[(v, u, k)] for k in d))
