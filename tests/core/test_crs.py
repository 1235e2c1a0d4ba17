"""GCJ-02 ↔ WGS84/CGCS2000 conversion and the project's CRS helpers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twin.crs import (
    cgcs2000_to_gcj02,
    gcj02_to_cgcs2000,
    gcj02_to_wgs84,
    to_metric,
    to_storage,
    wgs84_to_gcj02,
)


def _metres(lon_a, lat_a, lon_b, lat_b) -> float:
    xa, ya = to_metric(np.atleast_1d(lon_a), np.atleast_1d(lat_a))
    xb, yb = to_metric(np.atleast_1d(lon_b), np.atleast_1d(lat_b))
    return float(np.max(np.hypot(xa - xb, ya - yb)))


def test_known_pair_wgs84_to_gcj02():
    # Published test vector of the gcoord library (MIT): WGS84 (123, 45) -> GCJ-02.
    lon, lat = wgs84_to_gcj02(123.0, 45.0)
    assert lon == pytest.approx(123.00607541, abs=5e-6)
    assert lat == pytest.approx(45.00197815, abs=5e-6)


def test_known_pair_gcj02_to_wgs84():
    # gcoord's inverse test vector: GCJ-02 (123, 45) -> WGS84 (122.99395597, 44.99804071).
    lon, lat = gcj02_to_wgs84(123.0, 45.0)
    assert lon == pytest.approx(122.99395597, abs=5e-6)
    assert lat == pytest.approx(44.99804071, abs=5e-6)


def test_offset_near_changle_is_hundreds_of_metres_to_the_east():
    lon, lat = 119.523, 25.963  # the old town
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    shift_m = _metres(lon, lat, g_lon, g_lat)
    assert 300.0 < shift_m < 700.0
    assert g_lon > lon  # AMap data without conversion lands east of the true position


def test_outside_china_is_unchanged():
    lon, lat = wgs84_to_gcj02(np.array([2.35, 139.9]), np.array([48.85, 60.0]))
    assert np.array_equal(lon, [2.35, 139.9]) and np.array_equal(lat, [48.85, 60.0])
    assert gcj02_to_wgs84(183.0, 45.0) == (183.0, 45.0)


@given(st.floats(73.7, 134.8), st.floats(18.2, 53.4))
def test_round_trip_within_half_a_metre(lon, lat):
    back_lon, back_lat = gcj02_to_cgcs2000(*cgcs2000_to_gcj02(lon, lat))
    assert _metres(lon, lat, back_lon, back_lat) <= 0.5
    # and the other way round, from GCJ-02
    again_lon, again_lat = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert _metres(lon, lat, again_lon, again_lat) <= 0.5


def test_round_trip_vectorised_over_changle():
    lon = np.linspace(119.40, 119.70, 50)
    lat = np.linspace(25.69, 26.07, 50)
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert _metres(lon, lat, *back) < 0.01


def test_metric_round_trip():
    x, y = to_metric(np.array([119.52]), np.array([25.96]))
    assert 400_000 < x[0] < 500_000  # Gauss-Krüger CM 120E, false easting 500 km
    lon, lat = to_storage(x, y)
    assert lon[0] == pytest.approx(119.52, abs=1e-9) and lat[0] == pytest.approx(25.96, abs=1e-9)


def test_bd09_against_published_pairs():
    """The reference pairs of the widely used coordtransform library (wandergis/coordtransform's
    test), and Beijing railway station as a BD-09 converter's documentation gives it."""
    from twin.crs import bd09_to_gcj02, gcj02_to_bd09

    assert np.allclose(gcj02_to_bd09(116.404, 39.915), (116.41036949371029, 39.92133699351021), atol=1e-9)
    assert np.allclose(bd09_to_gcj02(116.404, 39.915), (116.39762729119315, 39.90865673957631), atol=1e-9)
    assert np.allclose(gcj02_to_bd09(116.42703, 39.90245), (116.43351, 39.90851), atol=2e-5)


def test_geometries_from_web_maps_come_back_to_cgcs2000():
    import shapely
    from shapely.geometry import Point

    from twin.crs import gcj02_to_bd09, geometry_to_cgcs2000, wgs84_to_gcj02

    truth = (119.663, 25.935)  # FOC
    gcj = wgs84_to_gcj02(*truth)
    bd = gcj02_to_bd09(*gcj)
    for coords, point in (("gcj02", Point(*gcj)), ("bd09", Point(*bd)), ("wgs84", Point(*truth))):
        back = geometry_to_cgcs2000(np.array([point], dtype=object), coords)[0]
        assert shapely.distance(back, Point(*truth)) < 2e-5, coords  # about 2 m at most
