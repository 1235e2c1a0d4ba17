"""Vehicle types: capacity, speed cap, dwell parameters, energy use and capital cost.

A :class:`VehicleType` is what a line runs; :data:`VEHICLE_TYPES` holds the presets a scenario
names (``bus_12m``, ``av_bus_12m``, ``av_minibus_8m``, ``av_shuttle``), all values assumptions
documented in ``docs/transit.md``.
"""

from __future__ import annotations

from pydantic import Field

from twin.config import StrictModel
from twin.errors import InputError


class VehicleType(StrictModel):
    """A bus or shuttle type: capacity, speed cap, dwell parameters, energy and capital cost.

    Dwell time at a stop is ``door_time_s + boardings × boarding_time_s_per_pax + alightings ×
    alighting_time_s_per_pax`` (boarding and alighting through separate doors would take the
    maximum instead; Chinese city buses board at the front and alight at the rear, but with
    one-at-a-time fare validation the two overlap little, so the sum is used). Defaults are a
    crewed 12 m battery-electric city bus; see ``docs/transit.md`` for sources and assumptions.
    """

    name: str = Field(default="bus_12m", pattern=r"^[A-Za-z0-9_.-]+$", description="Type name.")
    capacity_pax: int = Field(default=80, ge=1, le=300, description="Seated + standing capacity.")
    autonomous: bool = Field(default=False, description="Driverless (no driver on board).")
    speed_cap_km_per_h: float = Field(
        default=60.0, gt=0, le=130, description="Top speed; links are run at min(link, cap) speed."
    )
    door_time_s: float = Field(default=5.0, ge=0, le=60, description="Door open + close (s).")
    boarding_time_s_per_pax: float = Field(default=2.75, ge=0, le=30, description="Per boarding (s).")
    alighting_time_s_per_pax: float = Field(
        default=1.5, ge=0, le=30, description="Per alighting (s)."
    )
    energy_kwh_per_km: float = Field(
        default=1.4, ge=0, le=10, description="Energy drawn at the charger per km (traction, HVAC, losses)."
    )
    purchase_cny: float = Field(default=1.6e6, ge=0, description="Vehicle price incl. charger share.")
    life_years: float = Field(default=8.0, gt=0, le=30, description="Depreciation life (years).")
    maintenance_cny_per_km: float = Field(default=1.0, ge=0, description="Maintenance + tyres.")

    @property
    def speed_cap_m_per_s(self) -> float:
        """The speed cap in m/s."""
        return self.speed_cap_km_per_h / 3.6


VEHICLE_TYPES: dict[str, VehicleType] = {
    "bus_12m": VehicleType(),
    "av_bus_12m": VehicleType(
        name="av_bus_12m", capacity_pax=70, autonomous=True, speed_cap_km_per_h=40.0,
        energy_kwh_per_km=1.5, purchase_cny=3.0e6, maintenance_cny_per_km=1.4,
    ),
    "av_minibus_8m": VehicleType(
        name="av_minibus_8m", capacity_pax=40, autonomous=True, speed_cap_km_per_h=40.0,
        energy_kwh_per_km=0.85, purchase_cny=1.6e6, maintenance_cny_per_km=1.0,
    ),
    "av_shuttle": VehicleType(
        name="av_shuttle", capacity_pax=14, autonomous=True, speed_cap_km_per_h=30.0,
        door_time_s=4.0, boarding_time_s_per_pax=2.0, alighting_time_s_per_pax=1.5,
        energy_kwh_per_km=0.35, purchase_cny=0.8e6, life_years=6.0, maintenance_cny_per_km=0.8,
    ),
}
"""Named vehicle types. The autonomous ones are capped at the speeds China's L4 bus and shuttle
pilots run at (30–40 km/h); all values are assumptions documented in ``docs/transit.md``."""


def vehicle_type(name: str) -> VehicleType:
    """The preset :class:`VehicleType` called ``name``; unknown names are an :class:`InputError`."""
    if name not in VEHICLE_TYPES:
        raise InputError(f"vehicle type {name!r}: unknown (known: {', '.join(VEHICLE_TYPES)})")
    return VEHICLE_TYPES[name]
