"""Buses on the flooded roads (coupling ``flood_buses``): slowed, held at the water's edge, and
driverless buses stopped earlier; riders wait longer and some give up.

Every line of the city's transit layer runs over the traffic window with the transit package's
SimPy buses (:class:`twin.transit.buses.BusSimulation`) on the day's clock. Their link times are
:class:`twin.coupled.burst.FloodedTravelTimes`: a link slows with the water on it (Pregnolato
2017); a crewed bus waits at a link at or above 300 mm until it falls below; a driverless bus
waits already at ``AV_STOP_DEPTH_M`` (assumption: operators of driverless buses stop them in
standing water well below the 300 mm road closure, as their sensors and the vehicles' wading
limits are not certified for it; no published figure). Lines keep their patterns (no detours are
planned; left out) and riders give up after ``patience_s``.

Riders are conserved (:func:`twin.transit.metrics.passenger_counts`: arrived = boarded + still
waiting + gave up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from twin.coupled.burst import FloodedTravelTimes
from twin.engine import Engine
from twin.transit.buses import BusSimulation
from twin.transit.demand import PassengerDemand, even_line_od, poisson_demand
from twin.transit.fleet import fleet_needed_veh, planned_cycle_s
from twin.transit.lines import TransitNetwork
from twin.transit.records import BusRun
from twin.transit.service import OperationsConfig, ServiceConfig
from twin.transit.vehicles import vehicle_type

AV_STOP_DEPTH_M = 0.15
"""Water at which a driverless bus stops (m): an assumption, see the module docstring."""


@dataclass(frozen=True)
class BusSetup:
    """The lines of one group (crewed or driverless), their riders (arrival times on the day's
    clock) and the options of the run."""

    network: TransitNetwork
    demand: PassengerDemand
    begin_s: float
    duration_s: float
    patience_s: float
    driverless: bool


def bus_setups(network: TransitNetwork, begin_s: float, duration_s: float, pax_per_h_per_line: float,
               patience_s: float, rng: np.random.Generator) -> list[BusSetup]:
    """Crewed and driverless lines as two groups (each runs with its own water limit), riders spread
    evenly over each line's stop pairs, ``pax_per_h_per_line`` per line (assumption)."""
    out = []
    for driverless in (False, True):
        lines = sorted(k for k, line in network.lines.items() if line.autonomous == driverless)
        if not lines:
            continue
        group = network.subset(lines)
        od: dict[tuple[str, str], float] = {}
        for line_id in lines:
            for pair, rate in even_line_od(group, line_id, pax_per_h_per_line).items():
                od[pair] = od.get(pair, 0.0) + rate
        demand = poisson_demand(od, duration_s, rng)
        shifted = PassengerDemand(demand.origin, demand.destination, demand.arrive_s + begin_s)
        out.append(BusSetup(group, shifted, begin_s, duration_s, patience_s, driverless))
    return out


def attach_buses(engine: Engine, setup: BusSetup, travel: Any | None) -> BusSimulation:
    """Start the group's buses on ``engine`` with link times ``travel`` (``None``: free flow, the
    coupling off)."""
    network = setup.network
    vehicles = {line_id: vehicle_type(line.vehicle_type) for line_id, line in network.lines.items()}
    services = {}
    for line_id, line in network.lines.items():
        service = ServiceConfig(headway_s=line.headway_s, fleet_veh=1, first_departure_s=setup.begin_s,
                                last_departure_s=setup.begin_s + setup.duration_s)
        cycle = planned_cycle_s(network, line_id, service, vehicles[line_id])
        services[line_id] = service.model_copy(update={"fleet_veh": fleet_needed_veh(cycle, line.headway_s)})
    sim = BusSimulation(engine, network, services, vehicles, setup.demand,
                        operations=OperationsConfig(patience_s=setup.patience_s), travel_times=travel)
    sim.start()
    return sim


def flooded_bus_times(roads: Any, flood: Any, edge_link: dict, limit_m_per_s: np.ndarray,
                      driverless: bool) -> FloodedTravelTimes:
    """Link times in the flood for crewed buses (closed at 300 mm) or driverless ones (stopped at
    :data:`AV_STOP_DEPTH_M`)."""
    return FloodedTravelTimes(roads, flood, edge_link, limit_m_per_s,
                              stop_depth_m=AV_STOP_DEPTH_M if driverless else None)


def bus_kpis(run: BusRun) -> dict[str, float]:
    """Riders' mean wait (those who boarded, s), and how many gave up or were still waiting (pax)."""
    pax = run.passengers[run.passengers["arrived"]]
    boarded = pax[pax["board_s"].notna()]
    wait = (boarded["board_s"] - boarded["arrive_s"]).to_numpy()
    gave_up = int(pax["abandon_s"].notna().sum())
    return {"riders_pax": float(len(pax)), "mean_wait_s": float(wait.mean()) if len(wait) else 0.0,
            "gave_up_pax": float(gave_up), "still_waiting_pax": float(len(pax) - len(boarded) - gave_up)}
