"""Flooded water facilities: a pump station or plant under water stops; pressures fall; who is short.

A facility is a booster pump (the ``[PUMPS]`` link; its site is its suction node) or a water
plant (a reservoir; stopping it closes every link from it). A facility **stops when the water at
its site reaches ``flood_depth_m``** and restarts ``restart_delay_s`` after the water has fallen
below it again (assumptions: pump rooms of booster stations are often below ground, 地下式泵房, so
water at the door floods the pit; restarting needs the pit pumped dry and the motors checked).

The hydraulics are our extended-period GGA (:class:`twin.water.simulation.ExtendedPeriodSimulation`)
on the pressure-driven service network (:func:`twin.water.service.service_network`), stepped by a
SimPy process on the run's clock; the facilities' status is set at each step
(:meth:`~twin.water.simulation.ExtendedPeriodSimulation.set_link_status`).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field

import numpy as np
import simpy

from kernels.hydraulics.codes import PUMP, RESERVOIR
from twin.coupled.outages import stopped_at
from twin.crs import to_storage
from twin.engine import Engine
from twin.water.network import CompiledNetwork
from twin.water.simulation import ExtendedPeriodSimulation


@dataclass(frozen=True)
class Facility:
    """A pump station or plant: its name, kind, the links it drives and its site (lon/lat)."""

    name: str
    kind: str  # "pump" or "plant"
    links: tuple[int, ...]
    lon: float
    lat: float


def water_facilities(net: CompiledNetwork) -> list[Facility]:
    """Every pump (sited at its suction node) and every reservoir (closing its links) of ``net``.

    The network's coordinates must be EPSG:4549 metres (the bundled network's).
    """
    if net.node_xy is None:
        return []
    out = []
    for k in np.nonzero(net.kind == PUMP)[0]:
        x, y = net.node_xy[net.start[k]]
        lon, lat = to_storage(np.array([x]), np.array([y]))
        out.append(Facility(net.link_names[k], "pump", (int(k),), float(lon[0]), float(lat[0])))
    for node in np.nonzero(net.node_kind == RESERVOIR)[0]:
        links = tuple(int(k) for k in np.nonzero((net.start == node) | (net.end == node))[0])
        x, y = net.node_xy[node]
        lon, lat = to_storage(np.array([x]), np.array([y]))
        out.append(Facility(net.node_names[node], "plant", links, float(lon[0]), float(lat[0])))
    return out


@dataclass
class WaterLog:
    """Facility events on the clock: ``(time_s, facility, "stops" | "restarts")``."""

    events: list[tuple[float, str, str]] = field(default_factory=list)


def water_process(sim: ExtendedPeriodSimulation, engine: Engine, facilities: list[Facility],
                  outages: dict[str, list[tuple[float, float]]], step_s: float,
                  log: WaterLog) -> Generator[simpy.Event, None, None]:
    """SimPy process: every ``step_s`` set each facility's status from its outages, then step the hydraulics."""
    running = {f.name: True for f in facilities}
    t = 0.0
    while t < sim.duration_s:
        for facility in facilities:
            run = not stopped_at(outages.get(facility.name, []), t)
            if run != running[facility.name]:
                for k in facility.links:
                    sim.set_link_status(k, run)
                running[facility.name] = run
                log.events.append((t, facility.name, "restarts" if run else "stops"))
        sim.run_until(int(round(t + step_s)))
        t += step_s
        yield engine.env.timeout(step_s)


@dataclass
class FloodedWater:
    """The hydraulics of the run, the facilities' events and the outages that drove them."""

    sim: ExtendedPeriodSimulation
    log: WaterLog
    outages: dict[str, list[tuple[float, float]]]


def attach_water(net: CompiledNetwork, facilities: list[Facility], outages: dict[str, list[tuple[float, float]]],
                 engine: Engine, duration_s: float, step_s: float = 3600.0) -> FloodedWater:
    """Start the hydraulics of ``net`` (a service network, see the module docstring) on ``engine``.

    ``outages`` (facility name → stop/restart intervals, s) empty is the coupling switched off.
    Call ``result.sim.finish()`` after the engine has run to get the results.
    """
    sim = ExtendedPeriodSimulation(net, duration_s=int(duration_s), hydraulic_step_s=int(step_s),
                                   report_step_s=int(step_s), on_unbalanced="relax")
    log = WaterLog()
    engine.process(water_process(sim, engine, facilities, outages, step_s, log))
    return FloodedWater(sim, log, outages)


def town_shortfall(below: np.ndarray, population: np.ndarray, junction_town: np.ndarray,
                   step_s: np.ndarray) -> dict[str, tuple[float, float]]:
    """Per town: (peak people below service, person-hours below service).

    ``below[time, junction]`` from :func:`twin.water.service.below_service`, ``step_s[time]`` how
    long each reported state lasts.
    """
    out = {}
    people = below * population[None, :]
    for town in np.unique(junction_town):
        mask = junction_town == town
        series = people[:, mask].sum(axis=1)
        out[str(town)] = (float(series.max(initial=0.0)), float(series @ step_s / 3600.0))
    return out
