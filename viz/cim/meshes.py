"""Geometry to VTK meshes, vectorised: one PolyData per layer, never one actor per feature.

VTK draws one merged mesh of a million triangles faster than a thousand small actors, so every
builder here turns a whole layer into a single :class:`pyvista.PolyData` with NumPy: roofs come
from GEOS' constrained Delaunay triangulation of all footprints in one call, walls are two
triangles per footprint edge, road ribbons are two triangles per centreline segment with mitred
joints. Each builder carries a per-cell ``feature`` index back to its input row, so that a layer
can be coloured by any attribute of its features with ``values[mesh["feature"]]``.

All coordinates are in the scene's local frame (:mod:`viz.local_frame`), metres.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pyvista as pv
import shapely

if TYPE_CHECKING:
    import pyvista as pv

ZOf = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``z_of(x, y) -> z``: ground elevation (m) at local points."""

MAX_MITER = 2.0
"""Mitre length limit for ribbons (× half-width), so sharp bends do not spike."""


def triangles_mesh(points: np.ndarray, triangles: np.ndarray, feature: np.ndarray) -> pv.PolyData:
    """A PolyData of ``triangles`` (indices into ``points``) with a per-cell ``feature`` index."""

    mesh = pv.PolyData.from_regular_faces(np.asarray(points, dtype=np.float32), triangles)
    mesh.cell_data["feature"] = np.asarray(feature, dtype=np.int64)
    return mesh


def extrude_footprints(
    polygons: np.ndarray, base_z_m: np.ndarray, height_m: np.ndarray, sink_m: float = 1.0
) -> pv.PolyData:
    """Buildings as prisms: footprints extruded from their base to ``base + height``.

    Parameters
    ----------
    polygons
        Shapely Polygons (local frame, m); MultiPolygons are exploded first by the caller.
    base_z_m
        Ground elevation under each building (m above MSL).
    height_m
        Building height above ground (m).
    sink_m
        How far walls reach below the ground elevation, so that buildings on a slope do not float.

    Returns
    -------
    pyvista.PolyData
        Triangles only: roofs (constrained Delaunay, holes respected) and walls (two triangles per
        ring edge), with cell data ``feature`` (row of the input) and ``roof`` (1 on roofs).
    """

    polygons = np.asarray(polygons, dtype=object)
    base = np.asarray(base_z_m, dtype=float) - sink_m
    top = np.asarray(base_z_m, dtype=float) + np.asarray(height_m, dtype=float)

    # Roofs: every footprint triangulated in one GEOS call.
    collections = shapely.constrained_delaunay_triangles(polygons)
    triangles, roof_feature = shapely.get_parts(collections, return_index=True)
    roof_xy = shapely.get_coordinates(triangles).reshape(-1, 4, 2)[:, :3, :]
    roof_points = np.concatenate(
        [roof_xy, np.broadcast_to(top[roof_feature][:, None, None], (len(roof_xy), 3, 1))], axis=2
    ).reshape(-1, 3)

    # Walls: one quad (two triangles) per edge of every ring, exterior and holes alike.
    rings, ring_feature = shapely.get_rings(polygons, return_index=True)
    ring_xy, ring_of_point = shapely.get_coordinates(rings, return_index=True)
    same_ring = ring_of_point[:-1] == ring_of_point[1:]
    start = np.flatnonzero(same_ring)
    p0 = ring_xy[start]
    p1 = ring_xy[start + 1]
    wall_feature = ring_feature[ring_of_point[start]]
    zb = base[wall_feature]
    zt = top[wall_feature]
    quads = np.stack(
        [
            np.column_stack([p0, zb]), np.column_stack([p1, zb]),
            np.column_stack([p1, zt]), np.column_stack([p0, zt]),
        ],
        axis=1,
    ).reshape(-1, 3)

    n_roof = len(roof_xy)
    n_wall = len(start)
    roof_tris = np.arange(3 * n_roof, dtype=np.int64).reshape(-1, 3)
    q = 3 * n_roof + 4 * np.arange(n_wall, dtype=np.int64)[:, None]
    wall_tris = np.concatenate([q + [0, 1, 2], q + [0, 2, 3]], axis=1).reshape(-1, 3)
    mesh = triangles_mesh(
        np.concatenate([roof_points, quads]),
        np.concatenate([roof_tris, wall_tris]),
        np.concatenate([roof_feature, np.repeat(wall_feature, 2)]),
    )
    mesh.cell_data["roof"] = np.concatenate([np.ones(n_roof, np.int8), np.zeros(2 * n_wall, np.int8)])
    return mesh


def _line_vertices(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All vertices of ``lines`` with their line index, consecutive duplicates removed."""

    xy, line_of = shapely.get_coordinates(lines, return_index=True)
    keep = np.ones(len(xy), dtype=bool)
    keep[1:] = ~((line_of[1:] == line_of[:-1]) & np.all(xy[1:] == xy[:-1], axis=1))
    return xy[keep], line_of[keep]


def _vertex_offsets(xy: np.ndarray, line_of: np.ndarray) -> np.ndarray:
    """Left-pointing mitre vectors at each vertex (unit half-width), per line."""
    seg = xy[1:] - xy[:-1]
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    valid = (line_of[1:] == line_of[:-1]) & (seg_len > 0)
    normal = np.zeros_like(seg)
    normal[valid] = np.column_stack([-seg[valid, 1], seg[valid, 0]]) / seg_len[valid, None]
    # Each vertex averages the normals of the segment before and after it within its line.
    before = np.zeros_like(xy)
    after = np.zeros_like(xy)
    before[1:][valid] = normal[valid]
    after[:-1][valid] = normal[valid]
    has_before = np.zeros(len(xy), bool)
    has_after = np.zeros(len(xy), bool)
    has_before[1:] = valid
    has_after[:-1] = valid
    before[~has_before] = after[~has_before]
    after[~has_after] = before[~has_after]
    mean = before + after
    norm = np.hypot(mean[:, 0], mean[:, 1])
    mean = np.where(norm[:, None] > 1e-9, mean / np.maximum(norm, 1e-9)[:, None], before)
    cos_half = np.sum(mean * before, axis=1)
    scale = 1.0 / np.clip(cos_half, 1.0 / MAX_MITER, 1.0)
    return mean * scale[:, None]


def ribbons(
    lines: np.ndarray,
    left_m: np.ndarray,
    right_m: np.ndarray,
    z_of: ZOf,
    lift_m: float = 0.0,
) -> pv.PolyData:
    """Flat ribbons along LineStrings, from ``right_m`` right of the centreline to ``left_m`` left.

    Parameters
    ----------
    lines
        Shapely LineStrings in the local frame (m).
    left_m, right_m
        Per line, how far the ribbon reaches to the left / right of its centreline (m); a negative
        value moves that edge across the centreline (a directed edge drawn on its right half has
        ``left_m = 0``).
    z_of
        ``z_of(x, y) -> z`` ground elevation (m) at local points.
    lift_m
        Height above ground (m), to keep ribbons off the terrain surface.

    Returns
    -------
    pyvista.PolyData
        Two triangles per segment, with cell data ``feature`` (row of the input line).
    """
    xy, line_of = _line_vertices(lines)
    offset = _vertex_offsets(xy, line_of)
    left = xy + offset * np.asarray(left_m, dtype=float)[line_of, None]
    right = xy - offset * np.asarray(right_m, dtype=float)[line_of, None]
    z = np.asarray(z_of(xy[:, 0], xy[:, 1]), dtype=float) + lift_m
    n = len(xy)
    points = np.concatenate([np.column_stack([left, z]), np.column_stack([right, z])])
    start = np.flatnonzero(line_of[:-1] == line_of[1:])
    a, b = start, start + 1
    tris = np.concatenate(
        [np.column_stack([a, n + a, n + b]), np.column_stack([a, n + b, b])], axis=1
    ).reshape(-1, 3)
    return triangles_mesh(points, tris, np.repeat(line_of[start], 2))


def polylines(lines: np.ndarray, z_of: ZOf, offset_z_m: float | np.ndarray = 0.0) -> pv.PolyData:
    """LineStrings as one PolyData of VTK polylines draped at ``z_of(x, y) + offset_z_m``.

    Returns
    -------
    pyvista.PolyData
        One polyline cell per input line, cell data ``feature``; point data ``feature`` too, so that
        a tube filter carries the index onto its surface.
    """

    xy, line_of = _line_vertices(lines)
    offset = np.broadcast_to(np.asarray(offset_z_m, dtype=float), (len(lines),))[line_of]
    z = np.asarray(z_of(xy[:, 0], xy[:, 1]), dtype=float) + offset
    counts = np.bincount(line_of, minlength=len(lines))
    present = np.flatnonzero(counts >= 2)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    cells = []
    for line in present:  # one small array per line; lines number thousands, not millions
        cells.append(np.concatenate([[counts[line]], first[line] + np.arange(counts[line])]))
    points = np.column_stack([xy, z]).astype(np.float32)
    mesh = pv.PolyData(points, lines=np.concatenate(cells) if cells else None)
    mesh.cell_data["feature"] = present
    mesh.point_data["feature"] = line_of
    return mesh


def tubes(lines: pv.PolyData, radius_m: float, sides: int = 8) -> pv.PolyData:
    """Tubes of ``radius_m`` around a polyline PolyData (feature index kept as point data)."""
    tube = lines.tube(radius=radius_m, n_sides=sides, capping=False)
    return tube.triangulate()


def terrain_surface(
    x: np.ndarray, y: np.ndarray, elevation_m: np.ndarray, max_cells_per_side: int = 400
) -> pv.PolyData:
    """A triangulated surface over a regular grid, subsampled to at most ``max_cells_per_side``.

    Parameters
    ----------
    x, y
        Local coordinates of the grid's columns and rows (m), increasing.
    elevation_m
        Heights ``[ny, nx]`` (m above MSL).
    """

    ny, nx = elevation_m.shape
    step = max(1, int(np.ceil(max(nx, ny) / max_cells_per_side)))
    cols = np.unique(np.r_[np.arange(0, nx, step), nx - 1])
    rows = np.unique(np.r_[np.arange(0, ny, step), ny - 1])
    xx, yy = np.meshgrid(np.asarray(x)[cols], np.asarray(y)[rows])
    zz = np.asarray(elevation_m)[np.ix_(rows, cols)]
    grid = pv.StructuredGrid(xx.astype(np.float32), yy.astype(np.float32), zz.astype(np.float32))
    surface = grid.extract_surface(algorithm=None).triangulate()
    surface.point_data["elevation_m"] = surface.points[:, 2]
    return surface


def markers(xyz: np.ndarray, size_m: float, kind: str = "cylinder") -> pv.PolyData:
    """One marker per point (upright cylinder or sphere of ``size_m``), cell data ``feature``."""

    xyz = np.asarray(xyz, dtype=float).reshape(-1, 3)
    parts = []
    for i, (x, y, z) in enumerate(xyz):
        if kind == "sphere":
            shape = pv.Sphere(radius=size_m / 2, center=(x, y, z), theta_resolution=16, phi_resolution=12)
        else:
            shape = pv.Cylinder(center=(x, y, z + size_m), direction=(0, 0, 1), radius=size_m / 2,
                                height=2 * size_m, resolution=24)
        shape = shape.triangulate()
        shape.cell_data["feature"] = np.full(shape.n_cells, i, dtype=np.int64)
        parts.append(shape)
    if not parts:
        return pv.PolyData()
    return pv.merge(parts) if len(parts) > 1 else parts[0]
