"""Fastest routes over the links and allowed movements of a :class:`~twin.traffic.network.TrafficNetwork`.

Routing is on the *link graph*: a route is a sequence of links, each pair joined by an allowed
movement, so turn bans and junction crossing times are respected.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from twin.traffic.network import TrafficNetwork


class LinkRouter:
    """Fastest routes over links and allowed movements (Dijkstra on the link graph).

    The cost of continuing from link ``a`` onto link ``b`` is the movement's crossing time
    plus ``b``'s travel time; a route's cost starts with its first link's time.
    """

    def __init__(self, network: TrafficNetwork, link_time_s: np.ndarray | None = None) -> None:
        self.network = network
        time = network.link_fft_s if link_time_s is None else np.asarray(link_time_s, float)
        real = network.mov_out >= 0
        a = network.mov_in[real]
        b = network.mov_out[real]
        cost = network.mov_extra_s[real] + time[b] + 1e-6  # explicit zeros would vanish
        self.link_time_s = time
        self.matrix = csr_matrix((cost, (a, b)), shape=(network.n_links, network.n_links))

    def routes(
        self, origins: np.ndarray, destinations: np.ndarray, chunk: int = 64
    ) -> list[np.ndarray | None]:
        """Link sequences from each origin link to its destination link (``None`` if unreachable)."""
        origins = np.asarray(origins, np.int64)
        destinations = np.asarray(destinations, np.int64)
        out: list[np.ndarray | None] = [None] * len(origins)
        unique = np.unique(origins)
        for start in range(0, len(unique), chunk):
            block = unique[start : start + chunk]
            _, pred = dijkstra(self.matrix, indices=block, return_predecessors=True)
            row_of = {int(o): i for i, o in enumerate(block)}
            for t in np.nonzero(np.isin(origins, block))[0]:
                o, d = int(origins[t]), int(destinations[t])
                out[t] = _walk_back(pred[row_of[o]], o, d)
        return out

    def route_time_s(self, route: np.ndarray) -> float:
        """Free-flow (or current-cost) time of a route (s)."""
        lookup = self.network.mov_lookup
        total = float(self.link_time_s[route[0]])
        for a, b in zip(route[:-1], route[1:], strict=True):
            total += float(self.network.mov_extra_s[lookup[(int(a), int(b))]] + self.link_time_s[b])
        return total


def _walk_back(pred: np.ndarray, origin: int, destination: int) -> np.ndarray | None:
    if origin == destination:
        return np.array([origin], np.int64)
    if pred[destination] < 0:
        return None
    path = [destination]
    node = destination
    while node != origin:
        node = int(pred[node])
        if node < 0:
            return None
        path.append(node)
    return np.array(path[::-1], np.int64)
