"""Water service for people: who is served where, and who is without adequate service when.

The service standard is GB 50013-2018's minimum service head at the connection: 10 m for one
storey, 12 m for two and 4 m more per extra storey, 28 m for six (the twin's default). A junction
whose pressure head is below it - or whose head the equations cannot determine because it is cut
off - leaves its residents without adequate service. Pressure-driven demand with the required
pressure set to the service head makes this the same as "delivers less than it is asked for".

Population per junction comes from the ``residents`` demand category of the bundled network
(``RESIDENT_L_PER_DAY`` per person); for a network without categories, from all its demand at
``GENERIC_L_PER_PERSON_DAY``.
"""

from __future__ import annotations

import numpy as np

from twin.water.network import CompiledNetwork

SERVICE_HEAD_M = 28.0
"""GB 50013-2018 minimum service head for six storeys (m)."""
RESIDENT_L_PER_DAY = 200.0
"""Average-day comprehensive domestic use per resident in the bundled network (L/person/day)."""
GENERIC_L_PER_PERSON_DAY = 250.0
"""Per-person use assumed for networks without a residents category (L/person/day)."""


def service_head_m(storeys: int) -> float:
    """GB 50013's minimum service head for a building of ``storeys`` storeys (m)."""
    if storeys < 1:
        raise ValueError("storeys must be >= 1")
    return 10.0 if storeys == 1 else 12.0 + 4.0 * (storeys - 2)


def service_network(net: CompiledNetwork, service_head: float = SERVICE_HEAD_M) -> CompiledNetwork:
    """A pressure-driven copy of ``net``: full demand from the service head, none at zero pressure.

    On it, "below the service head" and "delivers less than it is asked for" are the same thing.
    """
    copy = net.copy()
    copy.options.pressure_driven = True
    copy.pdd_pmin_m[:] = 0.0
    copy.pdd_preq_m[:] = service_head
    return copy


def population_served(net: CompiledNetwork) -> np.ndarray:
    """Residents served by each junction (persons, float)."""
    base = net.demand_base_m3_per_s
    nodes = net.demand_node
    categories = np.asarray(net.demand_category if net.demand_category else [""] * len(base))
    residents = categories == "residents"
    if residents.any():
        per_person = RESIDENT_L_PER_DAY / 1000.0 / 86400.0
        weights = np.where(residents, base, 0.0)
    else:
        per_person = GENERIC_L_PER_PERSON_DAY / 1000.0 / 86400.0
        weights = np.clip(base, 0.0, None)
    return np.bincount(nodes, weights=weights / per_person, minlength=net.n_junctions)[: net.n_junctions]


def below_service(results, service_head: float = SERVICE_HEAD_M) -> np.ndarray:
    """``(time, junction)``: True where a junction is without adequate service.

    Below the service head, cut off from every source by closed valves, or with a head the
    equations leave undetermined.
    """
    nj = results.determinate.shape[1]
    pressure = results.pressure_m[:, :nj]
    return (pressure < service_head - 1e-6) | ~results.determinate | results.cut_off


def step_durations(time_s: np.ndarray, end_s: float) -> np.ndarray:
    """How long each reported state lasts: until the next report, the last until ``end_s`` (s)."""
    t = np.asarray(time_s, dtype=float)
    return np.diff(np.append(t, max(float(end_s), t[-1] if len(t) else 0.0)))


def person_hours_below(results, population: np.ndarray, end_s: float,
                       service_head: float = SERVICE_HEAD_M, start_s: float | None = None) -> float:
    """Person-hours without adequate service between ``start_s`` (default: first report) and ``end_s``."""
    mask = below_service(results, service_head)
    weights = step_durations(results.time_s, end_s)
    if start_s is not None:
        weights = np.where(results.time_s >= start_s, weights, 0.0)
    return float((mask * population[None, :]).sum(axis=1) @ weights / 3600.0)


def availability(results, end_s: float, start_s: float | None = None) -> float:
    """Water delivered over water required by the junctions between ``start_s`` and ``end_s`` (0-1)."""
    nj = results.required_m3_per_s.shape[1]
    weights = step_durations(results.time_s, end_s)
    if start_s is not None:
        weights = np.where(results.time_s >= start_s, weights, 0.0)
    delivered = np.clip(results.demand_m3_per_s[:, :nj], 0.0, None).sum(axis=1) @ weights
    required = results.required_m3_per_s.sum(axis=1) @ weights
    return float(min(delivered / required, 1.0)) if required > 0 else 1.0
