"""Units: unit conversions at the edges, and the unit a result name carries in its suffix.

The model stores SI internally (m, s, m³/s, W). Names carry their unit as a suffix
(``duration_s``, ``flow_veh_per_h``); :func:`unit_of` reads it back for reports and plots.
"""

from __future__ import annotations

KMH_PER_MS = 3.6
"""km/h in one m/s."""

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86400.0

# Longest suffix first, so that ``_veh_per_h`` wins over ``_h``.
_SUFFIX_UNITS: tuple[tuple[str, str], ...] = tuple(
    sorted(
        {
            "_s": "s",
            "_min": "min",
            "_h": "h",
            "_d": "d",
            "_m": "m",
            "_km": "km",
            "_m2": "m²",
            "_km2": "km²",
            "_m3": "m³",
            "_m3_per_s": "m³/s",
            "_m3_per_h": "m³/h",
            "_l_per_s": "L/s",
            "_mg_per_l": "mg/L",
            "_m_per_s": "m/s",
            "_km_per_h": "km/h",
            "_veh": "veh",
            "_veh_per_h": "veh/h",
            "_s_per_veh": "s/veh",
            "_pax": "pax",
            "_pax_per_h": "pax/h",
            "_person_h": "person·h",
            "_pct": "%",
            "_ratio": "ratio",
            "_count": "count",
            "_calls": "calls",
            "_jobs": "jobs",
            "_gpus": "GPUs",
            "_pflops": "PFLOPS",
            "_tflops": "TFLOPS",
            "_w": "W",
            "_kw": "kW",
            "_mw": "MW",
            "_mwh": "MWh",
            "_kwh": "kWh",
            "_cny": "CNY",
            "_cny_per_day": "CNY/day",
            "_agents": "agents",
        }.items(),
        key=lambda item: -len(item[0]),
    )
)


def unit_of(name: str) -> str:
    """The unit named by a result's suffix, or ``""`` if it carries none.

    >>> unit_of("mean_wait_s"), unit_of("flow_veh_per_h"), unit_of("utilisation")
    ('s', 'veh/h', '')
    """
    for suffix, unit in _SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit
    return ""


def unit_suffix(name: str) -> str:
    """The unit suffix of a result's name as written in names, or ``""``.

    >>> unit_suffix("water_lost_m3"), unit_suffix("flow_veh_per_h"), unit_suffix("utilisation")
    ('m3', 'veh_per_h', '')
    """
    for suffix, _ in _SUFFIX_UNITS:
        if name.endswith(suffix):
            return suffix[1:]
    return ""


def kmh_to_ms(speed_km_per_h: float) -> float:
    """Convert km/h to m/s."""
    return speed_km_per_h / KMH_PER_MS


def ms_to_kmh(speed_m_per_s: float) -> float:
    """Convert m/s to km/h."""
    return speed_m_per_s * KMH_PER_MS
