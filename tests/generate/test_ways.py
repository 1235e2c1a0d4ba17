"""Street grids follow the CJJ 37 hierarchy, and noding turns every crossing into a junction."""

from __future__ import annotations

import numpy as np
from shapely.geometry import LineString, box

from twin.generate.ways import Way, merge_endpoints, node_ways, street_grid_ways


def test_a_grid_has_arterials_collectors_and_locals_in_the_given_rhythm():
    ways = street_grid_ways(box(-1000, -1000, 1000, 1000), (0.0, 0.0), 0.0, 100.0, 2, 4, "test")
    classes = {w.road_class for w in ways}
    assert classes == {"主干路", "次干路", "支路"}
    north_south = [w for w in ways if np.isclose(w.geometry.coords[0][0], w.geometry.coords[-1][0])]
    offsets = sorted({round(w.geometry.coords[0][0]) for w in north_south if w.road_class == "主干路"})
    assert offsets == [-800, -400, 0, 400, 800]  # every fourth line, through the centre
    assert all(w.name.startswith("test") for w in ways if w.road_class != "支路")


def test_short_pieces_are_dropped():
    ways = street_grid_ways(box(0, 0, 30, 30), (0.0, 0.0), 0.0, 10.0, 2, 4, "t", min_piece_m=40.0)
    assert ways == []


def test_two_crossing_ways_become_four_pieces_meeting_at_one_junction():
    ways = [Way(LineString([(-100, 0), (100, 0)]), "主干路", "primary", "东西路"),
            Way(LineString([(0, -100), (0, 100)]), "支路", "residential", "")]
    pieces, source = node_ways(ways)
    assert len(pieces) == 4 and sorted(source) == [0, 0, 1, 1]
    coords, ends, _ = merge_endpoints(pieces)
    centre = int(np.argmin(np.hypot(coords[:, 0], coords[:, 1])))
    assert np.allclose(coords[centre], [0.0, 0.0])
    assert all(centre in pair for pair in ends)


def test_junctions_closer_than_the_tolerance_merge():
    pieces = [LineString([(0, 0), (100, 0)]), LineString([(103, 0), (200, 0)])]
    coords, ends, moved = merge_endpoints(pieces, merge_m=8.0)
    assert len(coords) == 3 and ends[0][1] == ends[1][0]
    assert moved[0].coords[-1] == moved[1].coords[0]
