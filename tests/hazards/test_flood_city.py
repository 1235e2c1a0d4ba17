"""The flood on the bundled city: cells and links find their zones, depths are ≥ 0 and grow with rain."""

from __future__ import annotations

import numpy as np
import pytest

from twin.city.folder import load_city
from twin.hazards.flood import flood_geometry, simulate_flood
from twin.hazards.ponding import design_drain_capacity_mm_per_h
from twin.hazards.storm import StormFormula, chicago_storm


@pytest.fixture(scope="module")
def geometry():
    city = load_city()
    graph = city.roads
    edges = list(graph.edges(keys=True))[::20]
    lon = np.array([(graph.nodes[u]["x"] + graph.nodes[v]["x"]) / 2 for u, v, _ in edges])
    lat = np.array([(graph.nodes[u]["y"] + graph.nodes[v]["y"]) / 2 for u, v, _ in edges])
    return flood_geometry(city.zones, city.terrain, lon, lat)


def test_every_zone_with_ground_gets_its_cells(geometry):
    hyps = geometry.hypsometry
    cells = hyps.stop - hyps.start
    big = geometry.area_m2 > 0.5e6
    # a 1 km² zone holds about 25 cells of 200 m; together the cells cover the zones' area
    assert np.all(cells[big] >= 5)
    assert cells.sum() * 200.0**2 == pytest.approx(geometry.area_m2.sum(), rel=0.05)
    assert np.all(geometry.link_elevation_m >= hyps.floor_m()[geometry.link_zone])


def test_a_rarer_storm_floods_deeper_and_water_is_conserved(geometry):
    formula = StormFormula()
    capacity = design_drain_capacity_mm_per_h(formula, 3.0, 30.0, 0.7)
    floods = {
        p: simulate_flood(geometry, chicago_storm(formula, p, 720.0, 0.4), 0.7, capacity, 86400.0)
        for p in (5.0, 100.0)
    }
    for flood in floods.values():
        assert np.all(flood.depth_m >= 0)
        pond = flood.ponding
        rain_in = pond.rain_m3.sum()
        assert rain_in == pytest.approx(pond.loss_m3.sum() + pond.drained_m3.sum() + pond.ponded_m3[-1].sum())
        # the store the levels hold is the ponded volume (zones with cells)
        k = int(np.argmax(pond.ponded_m3.sum(1)))
        has = geometry.hypsometry.stop > geometry.hypsometry.start
        held = geometry.hypsometry.stored_m3(flood.level_m[k])
        assert held[has] == pytest.approx(pond.ponded_m3[k][has], rel=1e-9)
    assert np.all(floods[100.0].depth_m >= floods[5.0].depth_m - 1e-12)
    assert floods[100.0].depth_m.max() > floods[5.0].depth_m.max()
