"""Operating costs of a line per service day, crewed or driverless (CNY).

:class:`CostModel` holds the cost parameters (assumptions, listed in ``docs/transit.md``);
:func:`daily_operating_cost_cny` turns a fleet and its vehicle-km into cost per day by component.
"""

from __future__ import annotations

import math

from pydantic import Field

from twin.config import StrictModel
from twin.transit.vehicles import VehicleType


class CostModel(StrictModel):
    """Operating cost parameters (CNY). Assumptions, not audited figures: see ``docs/transit.md``."""

    service_hours_per_day: float = Field(
        default=16.0, gt=0, le=24, description="Hours of service per day (06:00–22:00)."
    )
    driver_cost_cny_per_h: float = Field(
        default=55.0, ge=0, description="Driver wage + employer social insurance per paid hour."
    )
    crew_factor_ratio: float = Field(
        default=1.25, ge=1, le=3, description="Paid driver-hours per vehicle-hour (reliefs, spares)."
    )
    safety_operator_on_board: bool = Field(
        default=False, description="Autonomous buses still carry a safety operator (pilot phase)."
    )
    safety_operator_cost_cny_per_h: float = Field(default=45.0, ge=0, description="Per paid hour.")
    remote_operator_cost_cny_per_h: float = Field(default=60.0, ge=0, description="Per paid hour.")
    vehicles_per_remote_operator: int = Field(
        default=5, ge=1, le=100, description="Autonomous vehicles one remote supervisor watches."
    )
    av_system_cny_per_vehicle_day: float = Field(
        default=150.0, ge=0, description="AV software licence, HD map, 5G-V2X data, extra insurance."
    )
    electricity_cny_per_kwh: float = Field(default=0.75, ge=0, description="Depot charging tariff.")


def daily_operating_cost_cny(
    vehicle: VehicleType,
    costs: CostModel,
    fleet_veh: int,
    vehicle_km_per_service_h: float,
    autonomous: bool | None = None,
) -> dict[str, float]:
    """Operating cost of a line per day, by component (CNY/day).

    Parameters
    ----------
    vehicle
        The vehicle type (energy, maintenance and capital cost).
    costs
        Cost parameters.
    fleet_veh
        Buses needed for the service (each is crewed for every service hour when crewed).
    vehicle_km_per_service_h
        Vehicle-km run per hour of service (from the simulation).
    autonomous
        Cost the fleet as driverless (default: ``vehicle.autonomous``). Passing ``False`` for an
        autonomous type prices the same service with drivers, for the crewed-versus-driverless
        comparison.

    Returns
    -------
    dict
        ``crew_cny_per_day``, ``supervision_cny_per_day``, ``energy_cny_per_day``,
        ``maintenance_cny_per_day``, ``capital_cny_per_day``, ``av_system_cny_per_day`` and
        ``total_cny_per_day``.
    """
    driverless = vehicle.autonomous if autonomous is None else autonomous
    hours = costs.service_hours_per_day
    vehicle_km = vehicle_km_per_service_h * hours
    crew = 0.0
    supervision = 0.0
    av_system = 0.0
    if driverless:
        supervisors = math.ceil(fleet_veh / costs.vehicles_per_remote_operator) if fleet_veh else 0
        supervision = supervisors * hours * costs.crew_factor_ratio * costs.remote_operator_cost_cny_per_h
        if costs.safety_operator_on_board:
            crew = fleet_veh * hours * costs.crew_factor_ratio * costs.safety_operator_cost_cny_per_h
        av_system = fleet_veh * costs.av_system_cny_per_vehicle_day
    else:
        crew = fleet_veh * hours * costs.crew_factor_ratio * costs.driver_cost_cny_per_h
    energy = vehicle_km * vehicle.energy_kwh_per_km * costs.electricity_cny_per_kwh
    maintenance = vehicle_km * vehicle.maintenance_cny_per_km
    capital = fleet_veh * vehicle.purchase_cny / (vehicle.life_years * 365.0)
    parts = {
        "crew_cny_per_day": crew,
        "supervision_cny_per_day": supervision,
        "energy_cny_per_day": energy,
        "maintenance_cny_per_day": maintenance,
        "capital_cny_per_day": capital,
        "av_system_cny_per_day": av_system,
    }
    parts["total_cny_per_day"] = sum(parts.values())
    return parts
