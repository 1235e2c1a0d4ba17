"""The zone buckets conserve water, never go negative and respond monotonically to rain."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from twin.hazards.ponding import ZoneHypsometry, link_depth_m, simulate_ponding
from twin.hazards.storm import RainSeries, StormFormula, chicago_storm

depths = arrays(np.float64, st.integers(1, 30), elements=st.floats(0.0, 80.0))


def _series(depth_mm: np.ndarray, bin_s: float = 600.0) -> RainSeries:
    return RainSeries(np.arange(len(depth_mm) + 1) * bin_s, depth_mm)


@given(rain=depths, psi=st.floats(0.0, 1.0), capacity=st.floats(0.0, 200.0), step=st.sampled_from([60.0, 300.0, 900.0]))
def test_rain_in_is_losses_plus_drained_plus_ponded(rain, psi, capacity, step):
    area = np.array([1e6, 2.5e5, 612.0])
    series = _series(rain)
    result = simulate_ponding(series, area, psi, capacity, end_s=float(series.edges_s[-1]) + 1800.0, step_s=step)
    assert np.all(result.ponded_m3 >= 0)
    assert np.all(result.drained_m3 >= 0)
    balance = result.rain_m3.sum(0) - result.loss_m3.sum(0) - result.drained_m3.sum(0) - result.ponded_m3[-1]
    assert np.allclose(balance, 0.0, atol=1e-6 * max(1.0, result.rain_m3.sum()))
    assert result.rain_m3.sum(0) == pytest.approx(series.total_mm / 1000.0 * area, rel=1e-9)


@given(rain=depths, extra=depths, capacity=st.floats(0.0, 200.0))
def test_more_rain_never_ponds_less(rain, extra, capacity):
    more = rain + np.resize(extra, len(rain))
    area = np.array([1e6])
    end_s = len(rain) * 600.0
    low = simulate_ponding(_series(rain), area, 0.7, capacity, end_s).ponded_m3
    high = simulate_ponding(_series(more), area, 0.7, capacity, end_s).ponded_m3
    assert np.all(high >= low - 1e-9)


def test_drains_of_the_design_rate_keep_a_design_storm_off_the_street():
    formula = StormFormula()
    rain = chicago_storm(formula, 3.0, 180.0, 0.4, step_s=300.0)
    no_drains = simulate_ponding(rain, np.array([1e6]), 0.7, 0.0, 3 * 3600.0)
    assert no_drains.ponded_m3[-1, 0] == pytest.approx(0.7 * rain.total_mm / 1000.0 * 1e6)
    huge_drains = simulate_ponding(rain, np.array([1e6]), 0.7, 1e4, 3 * 3600.0)
    assert np.all(huge_drains.ponded_m3 == 0.0)


@given(
    z=arrays(np.float64, st.integers(1, 40), elements=st.floats(0.0, 50.0)),
    volume=st.floats(0.0, 5e7),
)
def test_the_level_holds_the_volume(z, volume):
    zone = np.zeros(len(z), np.int64)
    hyps = ZoneHypsometry(zone, z, 40_000.0, 1)
    level = hyps.level_m(np.array([volume]))
    if volume == 0:
        assert level[0] == -np.inf
        return
    assert level[0] >= z.min()
    assert hyps.stored_m3(level)[0] == pytest.approx(volume, rel=1e-9, abs=1e-6)


def test_links_are_wet_only_below_their_zone_level():
    zone = np.array([0, 0, 0, 1, 1])
    z = np.array([1.0, 2.0, 3.0, 10.0, 12.0])
    hyps = ZoneHypsometry(zone, z, 100.0, 2)
    level = hyps.level_m(np.array([150.0, 0.0]))  # 1 m over the lowest cell, then 0.5 m over two cells
    assert level[0] == pytest.approx(2.25)
    depth = link_depth_m(level, np.array([0, 0, 1]), np.array([1.5, 3.0, 10.0]))
    assert depth.tolist() == [pytest.approx(0.75), 0.0, 0.0]
