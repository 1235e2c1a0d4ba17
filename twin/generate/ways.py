"""Roads as *ways* (named polylines with a CJJ 37 class) and how ways become a road graph.

A generator lays out ways (a rotated street grid, links between towns, village roads), then
:func:`node_ways` cuts them at every crossing and :func:`merge_endpoints` merges junctions closer
than a tolerance, giving the junctions and the pieces between them. Coordinates are metric
(EPSG:4549) throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry import LineString

from twin.city.roads import ROAD_CLASSES

MIN_PIECE_M = 40.0
"""Default: pieces shorter than this after clipping are dropped (m)."""
MERGE_M = 8.0
"""Default: junctions closer than this are merged into one (m)."""


@dataclass
class Way:
    """A source road before noding (EPSG:4549): its line, CJJ 37 class, OSM ``highway`` and name."""

    geometry: LineString
    road_class: str
    highway: str
    name: str


def street_grid_ways(poly, centre: tuple[float, float], bearing_deg: float, spacing_m: float,  # noqa: ANN001
                     collector_every: int, arterial_every: int, prefix: str,
                     skip_along_axis: bool = False, min_piece_m: float = MIN_PIECE_M) -> list[Way]:
    """A rotated street grid clipped to ``poly``; line ``k`` is 主干路 if ``k % arterial_every == 0``,
    次干路 if ``k % collector_every == 0``, else 支路.

    ``poly`` is a shapely polygon (EPSG:4549), ``centre`` the grid's origin (m), ``bearing_deg`` the
    direction of its "纵" lines (clockwise from north) and ``spacing_m`` the block size; named roads
    are called after ``prefix``. Pieces shorter than ``min_piece_m`` after clipping are dropped.
    """
    theta = np.deg2rad(bearing_deg)
    along = np.array([np.sin(theta), np.cos(theta)])
    across = np.array([along[1], -along[0]])
    c = np.asarray(centre)
    xmin, ymin, xmax, ymax = poly.bounds
    reach = float(np.hypot(xmax - xmin, ymax - ymin)) + float(np.hypot(*(c - [xmin, ymin])))
    n = int(reach / spacing_m) + 1
    ways = []
    for axis_name, direction, offset_dir in (("纵", along, across), ("横", across, along)):
        for k in range(-n, n + 1):
            if skip_along_axis and axis_name == "纵" and k == 0:
                continue
            base = c + offset_dir * k * spacing_m
            line = LineString([base - direction * reach, base + direction * reach])
            if not poly.intersects(line):
                continue
            if k % arterial_every == 0:
                road_class, highway = "主干路", "primary"
                name = f"{prefix}{axis_name}{abs(k) // arterial_every + 1}路"
            elif k % collector_every == 0:
                road_class, highway = "次干路", "secondary"
                name = f"{prefix}{axis_name}{k:+d}街"
            else:
                road_class, highway, name = "支路", "residential", ""
            for part in shapely.get_parts(line.intersection(poly)):
                if part.geom_type == "LineString" and part.length >= min_piece_m:
                    ways.append(Way(part, road_class, highway, name))
    return ways


def node_ways(ways: list[Way]) -> tuple[list[LineString], list[int]]:
    """Union the ways so every crossing is a vertex; return the pieces and their source way."""
    geometries = np.array([w.geometry for w in ways], dtype=object)
    noded = shapely.union_all(geometries)
    pieces = [p for p in shapely.get_parts(noded) if p.length > 0]
    pieces.sort(key=lambda p: tuple(np.round(shapely.get_coordinates(p)[0], 3)) + (p.length,))
    midpoints = shapely.line_interpolate_point(np.array(pieces, dtype=object), 0.5, normalized=True)
    tree = shapely.STRtree(geometries)
    piece_idx, way_idx = tree.query(midpoints, predicate="dwithin", distance=0.05)
    rank = np.array([ROAD_CLASSES[ways[w].road_class].rank for w in way_idx])
    order = np.lexsort((way_idx, rank, piece_idx))
    piece_idx, way_idx = piece_idx[order], way_idx[order]
    first = np.ones(len(piece_idx), dtype=bool)
    first[1:] = piece_idx[1:] != piece_idx[:-1]
    source = np.full(len(pieces), -1, dtype=np.int64)
    source[piece_idx[first]] = way_idx[first]
    keep = source >= 0
    return [p for p, k in zip(pieces, keep, strict=True) if k], [int(s) for s in source[keep]]


def merge_endpoints(
    pieces: list[LineString], merge_m: float = MERGE_M
) -> tuple[np.ndarray, np.ndarray, list[LineString]]:
    """Junction coordinates and piece ends ``(u, v)`` after merging junctions closer than ``merge_m``."""
    ends = np.array([np.vstack([shapely.get_coordinates(p)[0], shapely.get_coordinates(p)[-1]])
                     for p in pieces]).reshape(-1, 2)
    keys, inverse = np.unique(np.round(ends, 3), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    pairs = cKDTree(keys).query_pairs(merge_m, output_type="ndarray")
    n = len(keys)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    # representative of each cluster: its lowest-index (lexicographically smallest) point
    rep = np.full(label.max() + 1, n, dtype=np.int64)
    np.minimum.at(rep, label, np.arange(n))
    coords = keys[rep]
    u = label[inverse[0::2]]
    v = label[inverse[1::2]]
    moved = []
    for piece, a, b in zip(pieces, u, v, strict=True):
        xy = shapely.get_coordinates(piece).copy()
        xy[0], xy[-1] = coords[a], coords[b]
        moved.append(LineString(xy))
    return coords, np.column_stack([u, v]), moved
