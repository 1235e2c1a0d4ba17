"""The town mesh: which places to link by road, from their positions alone.

Links are the Delaunay edges that pass the Gabriel test (no other place inside the circle on the
link as diameter), no longer than a cut-off, plus a minimum spanning tree over allowed links so
that every place is reached. The reference city links its towns and villages this way.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay, cKDTree


def gabriel_edges(points: np.ndarray, max_length_m: float) -> list[tuple[int, int]]:
    """Delaunay edges ``(i, j)``, ``i < j``, of ``points`` (n × 2, m) that pass the Gabriel test and are
    at most ``max_length_m`` long, sorted."""
    tri = Delaunay(points)
    edges = set()
    for simplex in tri.simplices:
        for a, b in ((0, 1), (1, 2), (0, 2)):
            i, j = sorted((int(simplex[a]), int(simplex[b])))
            edges.add((i, j))
    tree = cKDTree(points)
    kept = []
    for i, j in sorted(edges):
        length = float(np.linalg.norm(points[i] - points[j]))
        if length > max_length_m:
            continue
        mid = (points[i] + points[j]) / 2
        inside = [p for p in tree.query_ball_point(mid, 0.95 * length / 2) if p not in (i, j)]
        if not inside:
            kept.append((i, j))
    return kept


def spanning_edges(points: np.ndarray, allowed: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A minimum spanning tree (by length) over the ``allowed`` links of ``points``, sorted."""
    n = len(points)
    rows = [i for i, _ in allowed]
    cols = [j for _, j in allowed]
    weights = [float(np.linalg.norm(points[i] - points[j])) for i, j in allowed]
    tree = minimum_spanning_tree(coo_matrix((weights, (rows, cols)), shape=(n, n))).tocoo()
    return sorted((int(min(i, j)), int(max(i, j))) for i, j in zip(tree.row, tree.col, strict=True))
