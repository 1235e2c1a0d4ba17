"""The town mesh links every place, never crosses a closer place, and respects its length cut-off."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from twin.generate.town_mesh import gabriel_edges, spanning_edges

points_strategy = st.integers(min_value=4, max_value=40).flatmap(
    lambda n: st.integers(min_value=0, max_value=2**32 - 1).map(
        lambda seed: np.random.default_rng(seed).uniform(0.0, 10_000.0, size=(n, 2))
    )
)


@given(points_strategy)
def test_gabriel_edges_have_no_place_inside_their_diametral_circle(points):
    for i, j in gabriel_edges(points, max_length_m=1e9):
        centre, radius = (points[i] + points[j]) / 2, np.linalg.norm(points[i] - points[j]) / 2
        others = np.delete(points, [i, j], axis=0)
        assert np.all(np.linalg.norm(others - centre, axis=1) >= 0.95 * radius - 1e-9)


@given(points_strategy, st.floats(min_value=500.0, max_value=5_000.0))
def test_the_cut_off_drops_long_links(points, max_length_m):
    for i, j in gabriel_edges(points, max_length_m):
        assert i < j and np.linalg.norm(points[i] - points[j]) <= max_length_m


@given(points_strategy)
def test_the_spanning_tree_reaches_every_place_with_n_minus_one_links(points):
    n = len(points)
    every_pair = [(i, j) for i in range(n) for j in range(i + 1, n)]
    tree = spanning_edges(points, every_pair)
    assert len(tree) == n - 1
    rows, cols = zip(*tree, strict=True)
    graph = coo_matrix((np.ones(n - 1), (rows, cols)), shape=(n, n))
    assert connected_components(graph, directed=False)[0] == 1


def test_a_square_is_linked_along_its_sides_not_its_diagonals():
    square = np.array([[0.0, 0.0], [1000.0, 0.0], [1000.0, 1000.0], [0.0, 1000.0], [500.0, 500.0]])
    edges = set(gabriel_edges(square, max_length_m=5000.0))
    assert (0, 2) not in edges and (1, 3) not in edges  # the centre lies on both diagonals
    assert {(0, 4), (1, 4), (2, 4), (3, 4)} <= edges
