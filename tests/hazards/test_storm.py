"""The Chicago design storm against its storm-intensity formula, and the rain-series reader."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twin.errors import InputError
from twin.hazards.storm import StormFormula, chicago_storm, read_rain_csv

FUZHOU = StormFormula()


def test_the_formula_gives_the_gb50014_form_by_hand():
    # q = 2136.312 (1 + 0.7 lg 3) / (60 + 7.576)^0.711 L/(s·ha), i = q / 166.7 mm/min
    q = 2136.312 * (1 + 0.7 * np.log10(3.0)) / (60 + 7.576) ** 0.711
    assert FUZHOU.intensity_mm_per_min(60.0, 3.0) == pytest.approx(q / 166.7, rel=1e-12)
    assert FUZHOU.depth_mm(60.0, 3.0) == pytest.approx(60.0 * q / 166.7, rel=1e-12)


@given(
    period=st.sampled_from([1.0, 2.0, 5.0, 20.0, 100.0]),
    duration=st.integers(30, 1440),
    ratio=st.floats(0.1, 0.9),
)
def test_the_storm_holds_the_formula_depth_of_its_duration(period, duration, ratio):
    rain = chicago_storm(FUZHOU, period, float(duration), ratio, step_s=300.0)
    assert np.all(rain.depth_mm >= 0)
    assert np.all(np.diff(rain.edges_s) > 0)
    assert rain.total_mm == pytest.approx(float(FUZHOU.depth_mm(duration, period)), rel=1e-9)


def test_any_window_around_the_peak_holds_the_formula_depth():
    # 60 min around the peak of a 6 h storm, split 0.4 : 0.6, carries H(60) exactly
    ratio, duration = 0.4, 360.0
    rain = chicago_storm(FUZHOU, 10.0, duration, ratio, step_s=60.0)
    peak_s = ratio * duration * 60.0
    window = rain.depth_between_mm(peak_s - 0.4 * 3600.0, peak_s + 0.6 * 3600.0)
    assert window == pytest.approx(float(FUZHOU.depth_mm(60.0, 10.0)), rel=1e-9)
    # and the peak bin is the most intense
    assert np.argmax(rain.depth_mm) == int(peak_s // 60.0)


def test_a_rarer_storm_rains_more_in_every_bin():
    often = chicago_storm(FUZHOU, 2.0, 720.0, 0.4)
    rare = chicago_storm(FUZHOU, 50.0, 720.0, 0.4)
    assert np.all(rare.depth_mm > often.depth_mm)


def test_a_rain_series_reads_its_bins(tmp_path):
    path = tmp_path / "rain.csv"
    path.write_text("time_s,depth_mm\n600,2.5\n1200,0\n3600,10\n", encoding="utf-8")
    rain = read_rain_csv(path)
    assert rain.edges_s.tolist() == [0.0, 600.0, 1200.0, 3600.0]
    assert rain.depth_mm.tolist() == [2.5, 0.0, 10.0]
    assert rain.depth_between_mm(1200.0, 2400.0) == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("time_s,depth_mm\n600,2\n1200,-1\n", "row 3: depth_mm = -1.0: expected a depth ≥ 0 mm"),
        ("time_s,depth_mm\n600,2\n300,1\n", "row 3: time_s = 300.0: expected times increasing"),
        ("time_s,depth_mm\n600,2\n600,1\n", "row 3: time_s = 600.0: expected times increasing"),
        ("time_s,depth_mm\n600,lots\n", "row 2: time_s = '600', depth_mm = 'lots': expected numbers"),
        ("time_s,depth_mm\n600,nan\n", "expected finite numbers"),
        ("time,rain\n600,2\n", "expected a CSV with columns time_s,depth_mm"),
    ],
)
def test_a_bad_rain_series_names_the_row_and_value(tmp_path, body, expected):
    path = tmp_path / "rain.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_rain_csv(path)
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)
