"""Intervals over replications: Student-t for unbounded KPIs, bounded bootstrap for shares."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from twin.intervals import bounded_interval, difference_interval, kpi_interval, share_bounds, t_interval


def test_t_interval_is_student_t():
    values = np.array([3.1, 2.7, 3.9, 3.3, 2.8])
    interval = t_interval(values, level=0.95)
    expected = stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    assert interval.mean == pytest.approx(values.mean())
    assert (interval.low, interval.high) == pytest.approx(expected)
    assert np.isnan(t_interval(np.array([2.0])).low)
    assert (t_interval(np.array([2.0, np.nan, 2.0])).low, t_interval(np.array([2.0, 2.0])).high) == (2.0, 2.0)


shares = st.lists(st.floats(min_value=0.0, max_value=100.0), min_size=2, max_size=12)


@given(shares)
def test_a_percentage_interval_stays_in_0_to_100(values):
    interval = kpi_interval("service_level_pct", np.array(values))
    assert 0.0 <= interval.low <= interval.mean + 1e-9 and interval.mean <= interval.high + 1e-9 <= 100.0 + 1e-9


def test_a_near_certain_share_does_not_spill_past_100():
    values = np.array([99.9, 100.0, 99.8, 100.0, 100.0])
    assert t_interval(values).high > 100.0  # what the sweep used to report
    assert kpi_interval("on_time_pct", values).high <= 100.0


def test_which_kpis_are_shares():
    assert share_bounds("abandoned_pct") == (0.0, 100.0)
    assert share_bounds("utilisation") == (0.0, 1.0)
    assert share_bounds("delay_reduction_pct") is None  # a change can be negative
    assert share_bounds("mean_wait_s") is None


def test_bootstrap_is_deterministic():
    values = np.array([10.0, 12.0, 9.0, 14.0])
    assert bounded_interval(values, 0, 100) == bounded_interval(values.copy(), 0, 100)


def test_paired_differences_cancel_common_noise():
    rng = np.random.default_rng(1)
    common = rng.normal(0.0, 10.0, size=8)
    a, b = 50.0 + common, 48.0 + common + rng.normal(0.0, 0.1, size=8)
    assert difference_interval(a, b).excludes_zero()
    assert not t_interval(b).low > t_interval(a).high  # unpaired, the noise hides the difference
