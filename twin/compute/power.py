"""Power and energy of the centre, in the plan's accounting.

    IT power  = devices x TDP x (u + (1 - u) x idle_fraction) + nodes x node overhead
    facility  = IT power x PUE            (the plan requires PUE <= 1.3, heading to 1.25)

with ``u`` the allocated utilisation of the devices. Energy comes either from a constant power
over a year or from a simulation's time integrals of allocated and in-service devices.
"""

from __future__ import annotations

from twin.compute.accelerators import Accelerator
from twin.errors import InputError

HOURS_PER_YEAR = 8760.0
PUE_REQUIRED_MAX = 1.3
"""New data centres must have PUE <= 1.3 (district plan), heading to 1.25."""
PUE_TARGET = 1.25


def check_pue(pue: float) -> None:
    """A PUE must be a physical value (1 <= PUE <= 3)."""
    if not 1.0 <= pue <= 3.0:
        raise InputError(f"PUE {pue}: must be between 1.0 and 3.0 (the plan requires <= {PUE_REQUIRED_MAX})")


def facility_power_mw(
    devices: int, nodes: int, spec: Accelerator, utilisation: float, pue: float, idle_fraction: float = 0.0
) -> float:
    """Facility power (MW) of ``devices`` in ``nodes`` at an allocated utilisation.

    ``idle_fraction`` is the draw of an idle device as a fraction of TDP (0 reproduces the plan's
    simple accounting, devices x TDP x utilisation).
    """
    check_pue(pue)
    if not 0.0 <= utilisation <= 1.0:
        raise InputError(f"utilisation {utilisation}: must be between 0 and 1")
    device_w = devices * spec.tdp_w * (utilisation + (1.0 - utilisation) * idle_fraction)
    return (device_w + nodes * spec.node_overhead_w) * pue / 1e6


def annual_energy_mwh(power_mw: float) -> float:
    """Energy of a constant power over a year (MWh)."""
    return power_mw * HOURS_PER_YEAR


def energy_mwh(
    alloc_gpu_s: float, up_gpu_s: float, spec: Accelerator, pue: float, idle_fraction: float = 0.0
) -> float:
    """Facility energy (MWh) from time integrals of allocated and in-service devices (device-s)."""
    check_pue(pue)
    device_j = spec.tdp_w * (alloc_gpu_s + idle_fraction * max(up_gpu_s - alloc_gpu_s, 0.0))
    node_j = spec.node_overhead_w * up_gpu_s / spec.devices_per_node
    return (device_j + node_j) * pue / 3.6e9
