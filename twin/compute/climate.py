"""Fuzhou's typical weather year and the centre's PUE hour by hour from its cooling design.

The weather year
    An hourly series of dry-bulb temperature (°C) and relative humidity (%) generated from
    monthly normals, not a measured year. The normals (:data:`FUZHOU_NORMALS`) are the China
    Meteorological Administration 1991-2020 normals for Fuzhou (station 58847) as tabulated in
    the climate table of Wikipedia's "Fuzhou" article, rounded (±0.5 °C, ±3 % RH). Daily means are
    interpolated between mid-months; a diurnal cycle of half the month's mean daily range peaks
    at 15:00; day-to-day weather is an AR(1) anomaly (σ 1.8 °C, lag-one correlation 0.7, seeded),
    shifted so that every month keeps its normal mean. Relative humidity is the month's normal,
    lower in the warm hours (−2.5 % per °C above the day's mean), clipped to 35-100 %. Wet-bulb
    temperature follows Stull (2011).

PUE from the cooling design (:class:`CoolingDesign`)
    PUE(h) = 1 + distribution losses + other overhead
             + air share · air-cooling overhead(wet-bulb) + liquid share · liquid overhead(wet-bulb)

    Air-cooled halls use a chilled-water plant with a water-side economiser: full free cooling
    while the wet-bulb is at or below ``free_cooling_wetbulb_c``, a linear blend to full
    mechanical cooling over the next ``blend_span_c``, and a chiller whose COP falls by
    ``chiller_cop_slope`` per °C of wet-bulb above 20 °C. Liquid (warm-water, direct-to-chip) halls
    reject heat through dry coolers or towers all year; a trim chiller runs only above
    ``liquid_trim_wetbulb_c``. The default figures are stated engineering values for such plants
    (chiller COP 6 at 20 °C wet-bulb, fans and pumps 8 % of IT for air, 4 % for liquid, UPS and
    transformer losses 5 %), not measurements of the Changle centre; all are inputs.

The grid connection caps the facility's MW, so the IT load it allows in each hour is
``grid_cap_mw / PUE(h)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.compute.power import PUE_REQUIRED_MAX, PUE_TARGET
from twin.errors import InputError

HOURS_PER_DAY = 24
DAYS_PER_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
HOURS_PER_MONTH = DAYS_PER_MONTH * HOURS_PER_DAY
MONTH_OF_HOUR = np.repeat(np.arange(12), HOURS_PER_MONTH)

FUZHOU_NORMALS = {
    # month: (daily mean °C, mean daily max °C, mean daily min °C, relative humidity %)
    "mean_c": (11.6, 12.4, 14.9, 19.2, 23.4, 26.7, 29.3, 28.9, 26.8, 22.9, 18.8, 13.9),
    "max_c": (15.9, 16.5, 19.1, 23.6, 27.8, 30.8, 34.2, 33.6, 31.0, 27.2, 23.0, 18.0),
    "min_c": (8.8, 9.5, 11.8, 16.0, 20.3, 23.7, 25.6, 25.5, 23.6, 19.6, 15.5, 10.7),
    "rh_pct": (73, 76, 78, 77, 79, 81, 74, 74, 72, 68, 70, 70),
}
"""Fuzhou monthly normals, CMA 1991-2020 (station 58847), rounded; see the module docstring."""


@dataclass(frozen=True)
class WeatherYear:
    """An hourly year (8760 h): dry-bulb ``temperature_c``, ``humidity_pct`` and ``wetbulb_c``."""

    temperature_c: np.ndarray
    humidity_pct: np.ndarray
    wetbulb_c: np.ndarray


def stull_wetbulb_c(temperature_c: np.ndarray, humidity_pct: np.ndarray) -> np.ndarray:
    """Wet-bulb temperature (°C) from dry-bulb (°C) and RH (%) at sea level (Stull 2011, ±1 °C)."""
    t, rh = np.asarray(temperature_c, float), np.asarray(humidity_pct, float)
    return (t * np.arctan(0.151977 * np.sqrt(rh + 8.313659)) + np.arctan(t + rh) - np.arctan(rh - 1.676331)
            + 0.00391838 * rh**1.5 * np.arctan(0.023101 * rh) - 4.686035)


def _daily_means_c(mean_c: np.ndarray) -> np.ndarray:
    """Daily mean temperature (°C) interpolated periodically between mid-month normals."""
    mid_day = np.cumsum(DAYS_PER_MONTH) - DAYS_PER_MONTH / 2.0
    days = np.arange(365) + 0.5
    return np.interp(days, np.concatenate([mid_day - 365, mid_day, mid_day + 365]),
                     np.tile(mean_c, 3))


def fuzhou_typical_year(seed: int = 2024) -> WeatherYear:
    """The generated typical hourly year for Fuzhou (see the module docstring for the method)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    mean_c = np.array(FUZHOU_NORMALS["mean_c"])
    range_c = np.array(FUZHOU_NORMALS["max_c"]) - np.array(FUZHOU_NORMALS["min_c"])
    anomaly = np.zeros(365)
    shocks = rng.normal(0.0, 1.8 * np.sqrt(1 - 0.7**2), 365)
    for day in range(1, 365):
        anomaly[day] = 0.7 * anomaly[day - 1] + shocks[day]
    daily_c = _daily_means_c(mean_c) + anomaly
    month_of_day = np.repeat(np.arange(12), DAYS_PER_MONTH)
    daily_c += (mean_c - np.bincount(month_of_day, daily_c) / DAYS_PER_MONTH)[month_of_day]
    hour = np.tile(np.arange(HOURS_PER_DAY), 365)
    diurnal = np.cos(2 * np.pi * (hour - 15) / HOURS_PER_DAY)
    temperature_c = np.repeat(daily_c, HOURS_PER_DAY) + range_c[MONTH_OF_HOUR] / 2.0 * diurnal
    humidity_pct = np.clip(
        np.array(FUZHOU_NORMALS["rh_pct"], float)[MONTH_OF_HOUR] - 2.5 * (temperature_c - np.repeat(daily_c, 24)),
        35.0, 100.0)
    return WeatherYear(temperature_c, humidity_pct, stull_wetbulb_c(temperature_c, humidity_pct))


@dataclass(frozen=True)
class CoolingDesign:
    """The cooling plant: shares of IT heat by air and liquid, and the plant's figures.

    Shares are fractions of IT load (they must sum to 1); overheads are fractions of IT power;
    temperatures are wet-bulb (°C).
    """

    liquid_share: float = 0.5
    free_cooling_wetbulb_c: float = 10.0
    blend_span_c: float = 5.0
    chiller_cop: float = 6.0
    chiller_cop_slope: float = 0.15
    air_fans_pumps: float = 0.08
    liquid_pumps_fans: float = 0.04
    liquid_trim_wetbulb_c: float = 27.0
    liquid_trim_overhead: float = 0.05
    distribution_loss: float = 0.05
    other_overhead: float = 0.01

    def check(self, where: str = "cooling") -> None:
        """Shares in [0, 1], positive COP, non-negative overheads; one InputError line each."""
        if not 0.0 <= self.liquid_share <= 1.0:
            raise InputError(f"{where}: liquid_share = {self.liquid_share!r}, expected 0 to 1")
        if self.chiller_cop <= 1.0:
            raise InputError(f"{where}: chiller_cop = {self.chiller_cop!r}, expected > 1")
        for key in ("blend_span_c", "air_fans_pumps", "liquid_pumps_fans", "liquid_trim_overhead",
                    "distribution_loss", "other_overhead", "chiller_cop_slope"):
            if getattr(self, key) < 0:
                raise InputError(f"{where}: {key} = {getattr(self, key)!r}, expected >= 0")


def pue_by_hour(design: CoolingDesign, weather: WeatherYear) -> np.ndarray:
    """PUE in every hour of ``weather`` for ``design`` (dimensionless, ≥ 1)."""
    design.check()
    wetbulb_c = weather.wetbulb_c
    mechanical = np.clip((wetbulb_c - design.free_cooling_wetbulb_c) / max(design.blend_span_c, 1e-9), 0.0, 1.0)
    cop = np.maximum(design.chiller_cop - design.chiller_cop_slope * (wetbulb_c - 20.0), 1.5)
    air = design.air_fans_pumps + mechanical / cop
    liquid = design.liquid_pumps_fans + design.liquid_trim_overhead * (wetbulb_c > design.liquid_trim_wetbulb_c)
    return (1.0 + design.distribution_loss + design.other_overhead
            + (1.0 - design.liquid_share) * air + design.liquid_share * liquid)


def free_cooling_hours(design: CoolingDesign, weather: WeatherYear) -> int:
    """Hours in the year the air-cooled plant needs no chiller (wet-bulb at or below the limit)."""
    return int(np.sum(weather.wetbulb_c <= design.free_cooling_wetbulb_c))


@dataclass(frozen=True)
class EnergyYear:
    """A year of power: facility MWh, IT MWh, PUE per month (energy-weighted), the annual PUE,
    hours the grid cap bound the IT load, and the IT MWh it cut."""

    facility_mwh: float
    it_mwh: float
    pue_by_month: np.ndarray
    annual_pue: float
    capped_hours: int
    curtailed_it_mwh: float

    def meets(self, limit: float = PUE_REQUIRED_MAX) -> bool:
        """Whether the annual PUE is at or below ``limit`` (the plan's 1.3, or 1.25 later)."""
        return self.annual_pue <= limit


def energy_year(it_load_mw: np.ndarray | float, pue: np.ndarray, grid_cap_mw: float | None = None) -> EnergyYear:
    """Energy over a year of hourly IT load (MW) and PUE, with the IT load capped by the grid.

    The facility draws ``IT x PUE``; where that exceeds ``grid_cap_mw`` the IT load is cut to
    ``grid_cap_mw / PUE`` (the rest is the curtailed IT energy).
    """
    pue = np.asarray(pue, float)
    if np.any(pue < 1.0):
        raise InputError(f"PUE {float(pue.min()):g}: must be >= 1 (facility power cannot be below IT power)")
    it_mw = np.broadcast_to(np.asarray(it_load_mw, float), pue.shape)
    if np.any(it_mw < 0):
        raise InputError("IT load: must be >= 0 MW")
    if grid_cap_mw is not None and grid_cap_mw <= 0:
        raise InputError(f"grid_cap_mw = {grid_cap_mw!r}: expected > 0")
    allowed_mw = np.minimum(it_mw, grid_cap_mw / pue) if grid_cap_mw is not None else it_mw
    facility_mw = allowed_mw * pue
    months = MONTH_OF_HOUR[: len(pue)]
    it_by_month = np.bincount(months, allowed_mw, minlength=12)
    facility_by_month = np.bincount(months, facility_mw, minlength=12)
    with np.errstate(invalid="ignore", divide="ignore"):
        monthly = np.where(it_by_month > 0, facility_by_month / it_by_month, np.nan)
    it_mwh = float(allowed_mw.sum())
    return EnergyYear(
        facility_mwh=float(facility_mw.sum()),
        it_mwh=it_mwh,
        pue_by_month=monthly,
        annual_pue=float(facility_mw.sum() / it_mwh) if it_mwh > 0 else float("nan"),
        capped_hours=int(np.sum(allowed_mw < it_mw)),
        curtailed_it_mwh=float((it_mw - allowed_mw).sum()),
    )


__all__ = ["PUE_REQUIRED_MAX", "PUE_TARGET", "CoolingDesign", "EnergyYear", "WeatherYear", "energy_year",
           "free_cooling_hours", "fuzhou_typical_year", "pue_by_hour", "stull_wetbulb_c"]
