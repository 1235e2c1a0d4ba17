"""Fuzhou's generated weather year, PUE by hour from the cooling design, energy under a grid cap."""

from __future__ import annotations

import numpy as np
import pytest

from twin.compute.climate import (
    FUZHOU_NORMALS,
    HOURS_PER_MONTH,
    MONTH_OF_HOUR,
    CoolingDesign,
    energy_year,
    free_cooling_hours,
    fuzhou_typical_year,
    pue_by_hour,
    stull_wetbulb_c,
)
from twin.errors import InputError


def test_weather_year_keeps_the_monthly_normals():
    weather = fuzhou_typical_year()
    assert len(weather.temperature_c) == 8760
    monthly = np.bincount(MONTH_OF_HOUR, weather.temperature_c) / HOURS_PER_MONTH
    assert np.allclose(monthly, FUZHOU_NORMALS["mean_c"], atol=0.05)
    assert np.all((weather.humidity_pct >= 35) & (weather.humidity_pct <= 100))
    assert np.all(weather.wetbulb_c <= weather.temperature_c + 0.5)
    assert weather.temperature_c[MONTH_OF_HOUR == 6].max() > weather.temperature_c[MONTH_OF_HOUR == 0].max()


def test_stull_wetbulb_check_value():
    # Stull (2011): T = 20 °C, RH = 50 % gives Tw = 13.7 °C
    assert float(stull_wetbulb_c(20.0, 50.0)) == pytest.approx(13.7, abs=0.05)
    assert float(stull_wetbulb_c(25.0, 99.0)) == pytest.approx(25.0, abs=0.6)


def test_pue_by_season_and_design():
    weather = fuzhou_typical_year()
    air = pue_by_hour(CoolingDesign(liquid_share=0.0), weather)
    liquid = pue_by_hour(CoolingDesign(liquid_share=0.8), weather)
    assert np.all(air >= 1.0) and np.all(liquid <= air + 1e-12)
    monthly = energy_year(10.0, air).pue_by_month
    assert monthly[6] > monthly[0]  # July above January
    hours = free_cooling_hours(CoolingDesign(), weather)
    winter = MONTH_OF_HOUR < 2
    assert 0 < hours < np.sum(winter) + np.sum(~winter)
    # in free-cooling hours the air plant costs only its fans, pumps and the fixed losses
    free = weather.wetbulb_c <= 10.0
    assert np.allclose(air[free], 1.0 + 0.05 + 0.01 + 0.08)


def test_energy_year_analytic_and_grid_cap():
    pue = np.full(8760, 1.25)
    year = energy_year(10.0, pue)
    assert year.it_mwh == pytest.approx(87_600.0)
    assert year.facility_mwh == pytest.approx(109_500.0)
    assert year.meets(1.3) and year.meets(1.25) and not year.meets(1.2)
    capped = energy_year(10.0, pue, grid_cap_mw=10.0)  # IT allowed 10 / 1.25 = 8 MW
    assert capped.capped_hours == 8760
    assert capped.it_mwh == pytest.approx(8.0 * 8760)
    assert capped.curtailed_it_mwh == pytest.approx(2.0 * 8760)


def test_bad_pue_and_design_are_input_errors():
    with pytest.raises(InputError, match="PUE 0.9"):
        energy_year(10.0, np.full(8760, 0.9))
    with pytest.raises(InputError, match="liquid_share"):
        pue_by_hour(CoolingDesign(liquid_share=1.5), fuzhou_typical_year())
    with pytest.raises(InputError, match="grid_cap_mw"):
        energy_year(10.0, np.full(8760, 1.2), grid_cap_mw=-5.0)
