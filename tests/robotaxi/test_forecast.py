"""Rebalancing zones and their forecast: cells partition a zone and keep its forecast rate."""

from __future__ import annotations

import numpy as np
import pytest

from twin.city.folder import load_city
from twin.crs import to_metric
from twin.robotaxi.forecast import hourly_zone_rates, split_zones
from twin.robotaxi.requests import RIDE_HAIL_HOURLY_SHARE
from twin.robotaxi.service_area import connected_core


def test_hourly_zone_rates_follow_the_profile():
    rate = hourly_zone_rates([0, 1, 0], [2400.0, 1200.0, 1200.0], 2, start_hour=6.0, duration_s=3 * 3600.0)
    share = np.asarray(RIDE_HAIL_HOURLY_SHARE) / sum(RIDE_HAIL_HOURLY_SHARE)
    assert rate.shape == (3, 2)
    np.testing.assert_allclose(rate[:, 0], 3600.0 * share[6:9] / 3600.0, rtol=1e-12)
    np.testing.assert_allclose(rate[:, 1], 1200.0 * share[6:9] / 3600.0, rtol=1e-12)


@pytest.mark.parametrize("cell_m", [800.0, 2500.0])
def test_cells_partition_each_zone_and_keep_its_rate(cell_m):
    graph = load_city().roads
    rng = np.random.default_rng(0)
    nodes = np.array(sorted(connected_core(graph)), np.int64)
    zones = [rng.choice(nodes, 200, replace=False), rng.choice(nodes, 50, replace=False)]
    rate = np.array([[0.2, 0.05], [0.4, 0.1]])
    cells, cell_rate = split_zones(graph, zones, rate, cell_m)
    assert cell_rate.shape == (2, len(cells)) and len(cells) > 2
    assert sum(len(c) for c in cells) == 250
    np.testing.assert_allclose(cell_rate.sum(axis=1), rate.sum(axis=1), rtol=1e-12)
    for cell in cells:
        x_m, y_m = to_metric([graph.nodes[n]["x"] for n in cell], [graph.nodes[n]["y"] for n in cell])
        assert np.ptp(x_m) < cell_m and np.ptp(y_m) < cell_m
