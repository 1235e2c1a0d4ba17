"""Mixed fleets: a phased build of several accelerator types, its hardware, power and energy.

The queueing model simulates one device type; a mixed fleet enters it as
:func:`equivalent_devices` of a reference type (same total peak).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import Field

from twin.compute.accelerators import DEFAULT_RACK_POWER_KW, TFLOPS_PER_PFLOPS, accelerator, size_for_pflops
from twin.compute.power import PUE_TARGET, annual_energy_mwh, facility_power_mw
from twin.config import StrictModel


class FleetPhase(StrictModel):
    """One build phase: a capacity of one accelerator type, in service from a year."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    accelerator: str
    pflops: float = Field(gt=0, le=1e6, description="Capacity of the phase (P, on the fleet's basis).")
    year: int = Field(ge=2020, le=2050, description="First year in service.")


@dataclass(frozen=True)
class FleetRow:
    """One phase of a fleet summary, or the cumulative total up to a year."""

    phase: str
    year: int
    accelerator: str
    pflops: float
    devices: int
    nodes: int
    racks: int
    power_mw: float
    energy_mwh_per_year: float


def fleet_summary(
    phases: list[FleetPhase],
    precision: str = "fp16",
    sparse: bool = False,
    utilisation: float = 0.65,
    pue: float = PUE_TARGET,
    rack_power_kw: float = DEFAULT_RACK_POWER_KW,
) -> list[FleetRow]:
    """Hardware, power and annual energy of each phase of a mixed fleet (in year order)."""
    rows = []
    for phase in sorted(phases, key=lambda p: (p.year, p.name)):
        spec = accelerator(phase.accelerator)
        size = size_for_pflops(phase.pflops, phase.accelerator, precision, sparse, rack_power_kw)
        power = facility_power_mw(size.devices, size.nodes, spec, utilisation, pue)
        rows.append(
            FleetRow(
                phase.name,
                phase.year,
                phase.accelerator,
                size.pflops_installed,
                size.devices,
                size.nodes,
                size.racks,
                power,
                annual_energy_mwh(power),
            )
        )
    return rows


def fleet_pflops_in(
    phases: list[FleetPhase], year: int, precision: str = "fp16", sparse: bool = False
) -> float:
    """Installed P of the phases in service in ``year``."""
    total = 0.0
    for phase in phases:
        if phase.year <= year:
            total += size_for_pflops(phase.pflops, phase.accelerator, precision, sparse).pflops_installed
    return total


def equivalent_devices(
    pflops: float, reference: str = "h100_sxm", precision: str = "fp16", sparse: bool = False
) -> int:
    """Devices of ``reference`` with the same peak as ``pflops`` P (a mixed fleet as one pool).

    The queueing model simulates one device type; a mixed fleet enters it as this many devices of
    the reference type. This keeps total peak throughput and ignores differences in memory and
    interconnect between the types.
    """
    peak = accelerator(reference).peak_tflops(precision, sparse)
    return math.ceil(pflops * TFLOPS_PER_PFLOPS / peak - 1e-9)
