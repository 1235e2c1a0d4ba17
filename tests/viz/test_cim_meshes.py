"""CIM geometry: extruded buildings, road ribbons, pipe polylines and the .inp link reader."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from viz.cim.meshes import extrude_footprints, polylines, ribbons, tubes


def _flat(x, y):
    return np.zeros_like(np.asarray(x, dtype=float))


def _roof_area(mesh) -> float:
    roofs = mesh.extract_cells(np.flatnonzero(mesh.cell_data["roof"] == 1)).extract_surface(algorithm=None)
    return float(roofs.compute_cell_sizes(length=False, volume=False)["Area"].sum())


rectangles = st.tuples(
    st.floats(-5000, 5000), st.floats(-5000, 5000), st.floats(2, 200), st.floats(2, 200),
    st.floats(-5, 300), st.floats(3, 400),
)


@given(st.lists(rectangles, min_size=1, max_size=12))
def test_extruded_rectangles_have_their_footprint_as_roof_and_span_ground_to_height(rects):
    x, y, w, d, base, height = (np.array(v) for v in zip(*rects, strict=True))
    polygons = shapely.box(x, y, x + w, y + d)
    mesh = extrude_footprints(polygons, base, height, sink_m=1.0)
    # Two roof triangles and four walls of two triangles per rectangle.
    assert mesh.n_cells == 10 * len(rects)
    assert _roof_area(mesh) == pytest.approx(float(np.sum(w * d)), rel=1e-3)  # float32 points
    feature = mesh.cell_data["feature"]
    for i in range(len(rects)):
        z = mesh.extract_cells(np.flatnonzero(feature == i)).points[:, 2]
        assert z.min() == pytest.approx(base[i] - 1.0, abs=0.05)
        assert z.max() == pytest.approx(base[i] + height[i], abs=0.05)


def test_courtyard_and_l_shaped_footprints_keep_their_holes_and_concavity():
    courtyard = shapely.Polygon([(0, 0), (30, 0), (30, 30), (0, 30)],
                                [[(10, 10), (20, 10), (20, 20), (10, 20)]])
    l_shape = shapely.Polygon([(100, 0), (140, 0), (140, 10), (110, 10), (110, 40), (100, 40)])
    mesh = extrude_footprints(np.array([courtyard, l_shape]), np.zeros(2), np.array([20.0, 10.0]))
    assert _roof_area(mesh) == pytest.approx(800.0 + 700.0, rel=1e-6)
    walls = mesh.cell_data["roof"] == 0
    # 4 outer + 4 courtyard edges, and 6 edges of the L, two triangles each.
    assert int(np.sum(walls & (mesh.cell_data["feature"] == 0))) == 16
    assert int(np.sum(walls & (mesh.cell_data["feature"] == 1))) == 12


@given(st.floats(10, 2000), st.floats(1, 40), st.floats(0, 2 * np.pi))
def test_straight_ribbon_has_length_times_width_area_on_the_right(length, width, angle):
    direction = np.array([np.cos(angle), np.sin(angle)])
    line = shapely.LineString([(0, 0), tuple(direction * length)])
    mesh = ribbons(np.array([line]), np.array([0.0]), np.array([width]), _flat, lift_m=0.5)
    area = mesh.compute_cell_sizes(length=False, volume=False)["Area"].sum()
    assert area == pytest.approx(length * width, rel=1e-3)  # float32 points
    # Traffic keeps right: every point lies on or right of the direction of travel.
    cross = direction[0] * mesh.points[:, 1] - direction[1] * mesh.points[:, 0]
    assert np.all(cross <= 1e-3 * max(1.0, length))
    assert np.allclose(mesh.points[:, 2], 0.5)


def test_mitred_ribbon_around_a_right_angle_keeps_its_width():
    line = shapely.LineString([(0, 0), (100, 0), (100, 100)])
    mesh = ribbons(np.array([line]), np.array([5.0]), np.array([5.0]), _flat)
    outer_corner = mesh.points[np.argmin(np.hypot(mesh.points[:, 0] - 105, mesh.points[:, 1] + 5))]
    assert outer_corner[:2] == pytest.approx([105.0, -5.0], abs=1e-4)
    area = mesh.compute_cell_sizes(length=False, volume=False)["Area"].sum()
    assert area == pytest.approx(200 * 10.0, rel=1e-6)


def test_pipe_polylines_sit_below_ground_and_tubes_surround_them():
    lines = np.array([shapely.LineString([(0, 0), (100, 0), (100, 50)]),
                      shapely.LineString([(0, 0), (0, 80)])])
    ground = lambda x, y: 5.0 + 0.01 * np.asarray(x)  # noqa: E731 - a sloping ground
    poly = polylines(lines, ground, -2.0)
    assert poly.n_lines == 2
    assert np.allclose(poly.points[:, 2], ground(poly.points[:, 0], poly.points[:, 1]) - 2.0, atol=1e-4)
    tube = tubes(poly, 0.5)
    assert tube.n_cells > 0 and tube.bounds[5] < 5.0 + 0.01 * 100


def test_inp_link_reader_matches_wntr_on_the_bundled_network():
    import wntr

    from twin.paths import data_dir
    from viz.cim.water_geometry import read_link_geometry

    path = data_dir() / "water.inp"
    links = {link.name: link for link in read_link_geometry(path)}
    wn = wntr.network.WaterNetworkModel(str(path))
    assert set(links) == set(wn.link_name_list)
    for name, pipe in wn.pipes():
        link = links[name]
        assert (link.start_node, link.end_node) == (pipe.start_node_name, pipe.end_node_name)
        assert link.diameter_m == pytest.approx(pipe.diameter, rel=1e-9)
        expected = [wn.get_node(pipe.start_node_name).coordinates, *pipe.vertices,
                    wn.get_node(pipe.end_node_name).coordinates]
        assert np.allclose(link.coordinates, expected)
