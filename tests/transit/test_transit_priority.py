"""Transit signal priority through the traffic model's signal controllers.

A corridor with three signalised four-leg crossings and background traffic on every approach
runs in :class:`twin.traffic.model.TrafficModel` on the buses' clock. Priority must cut the buses'
signal delay and raise the cross streets' delay, both as measured by the traffic model, and
nothing may change when no junction is connected.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from twin.engine import Engine
from twin.generate.roads import arterial_corridor
from twin.transit.buses import BusSimulation
from twin.transit.demand import PassengerDemand, poisson_demand
from twin.transit.lines import corridor_line, served_pairs
from twin.transit.metrics import line_kpis
from twin.transit.priority import SignalsConfig, junction_traffic
from twin.transit.service import ServiceConfig
from twin.transit.vehicles import VEHICLE_TYPES

DURATION_S = 3600.0


def corridor():
    graph = arterial_corridor(n_nodes=9, spacing_m=250.0, speed_kph=50.0, signal_nodes=[1, 3, 5, 7],
                               cross_street_m=200.0)
    return graph, corridor_line(graph, stop_every=2, headway_s=300.0)


def run(priority: bool, connected_share: float = 1.0):
    graph, network = corridor()
    line = network.line("L1")
    routes = [[e for leg in line.pattern(d).legs for e in leg] for d in line.directions]
    config = SignalsConfig(model="traffic", connected_share=connected_share)
    background = Engine(seed=2, start=datetime(2025, 6, 3, 7), duration_s=DURATION_S)
    junctions = junction_traffic(graph, routes, config, DURATION_S, background.rng("traffic_background"))
    engine = Engine(seed=2, start=datetime(2025, 6, 3, 7), duration_s=DURATION_S)
    demand = poisson_demand({p: 4.0 for p in served_pairs(network)}, DURATION_S, engine.rng("transit_demand"))
    model, signals = junctions.start(engine)
    sim = BusSimulation(engine, network, {"L1": ServiceConfig(headway_s=300.0, fleet_veh=6)},
                        {"L1": VEHICLE_TYPES["av_bus_12m"]}, demand, signals=signals,
                        priority_lines={"L1"} if priority else set())
    sim.start()
    engine.env.run(until=DURATION_S)
    return junctions, model, sim.collect()


def test_junction_traffic_covers_the_routes_signals():
    junctions, model, bus_run = run(priority=False)
    assert junctions.nodes == [1, 3, 5, 7]
    assert junctions.connected == {1, 3, 5, 7}
    # Every bus trip crosses all four junctions and waits at some of them.
    done = bus_run.trips[bus_run.trips["end_s"].notna()]
    assert (done["junctions_crossed"] == 4).all()
    assert done["signal_delay_s"].sum() > 0
    assert bus_run.trips["priority_requests"].sum() == 0 == len(model.controller.requests)
    # Background traffic ran through the junctions in the traffic model.
    delays = junctions.delays(model)
    assert delays["general_veh"] > 1000
    assert delays["main_road_veh"] > delays["cross_street_veh"] > 0


def test_priority_cuts_bus_delay_and_costs_cross_traffic():
    junctions, model_off, off = run(priority=False)
    _, model_on, on = run(priority=True)
    bus_off = line_kpis(off, "L1")["mean_signal_delay_s"]
    bus_on = line_kpis(on, "L1")["mean_signal_delay_s"]
    assert bus_on < 0.5 * bus_off
    # The controllers acted on the requests (extensions and early greens) ...
    actions = {r.action for r in model_on.controller.requests}
    assert {"early_green"} <= actions
    assert on.trips["priority_requests"].sum() == len(model_on.controller.requests)
    # ... and the traffic model measures what that costs the cross streets.
    before, after = junctions.delays(model_off), junctions.delays(model_on)
    assert after["cross_street_delay_s_per_veh"] > before["cross_street_delay_s_per_veh"]
    # Buses ride faster: shorter in-vehicle times and cycle.
    assert line_kpis(on, "L1")["mean_in_vehicle_time_s"] < line_kpis(off, "L1")["mean_in_vehicle_time_s"]


def test_priority_without_connected_junctions_changes_nothing():
    junctions, model_off, off = run(priority=False)
    _, model_unconnected, unconnected = run(priority=True, connected_share=0.0)
    assert junctions.connected == {1, 3, 5, 7}
    assert len(model_unconnected.controller.requests) == 0
    np.testing.assert_array_equal(off.stop_visits["depart_s"], unconnected.stop_visits["depart_s"])
    assert junctions.delays(model_off)["general_delay_s_per_veh"] == pytest.approx(
        junctions.delays(model_unconnected)["general_delay_s_per_veh"])


def test_bus_delay_at_an_isolated_fixed_time_signal_is_r_squared_over_2c():
    """Buses arriving at random phases of a 90 s cycle with 50 s of red (40 s green, 3 s yellow,
    2 s all-red per phase) wait r²/(2C) = 13.9 s on average and stop with probability r/C."""
    graph = arterial_corridor(n_nodes=3, spacing_m=250.0, speed_kph=50.0, signal_nodes=[1],
                               cross_street_m=200.0)
    network = corridor_line(graph, stop_every=2, headway_s=97.0, two_way=False)
    route = [e for leg in network.line("L1").pattern(0).legs for e in leg]
    config = SignalsConfig(model="traffic", main_veh_per_h_per_lane=0.0, cross_veh_per_h_per_lane=0.0,
                           cycle_s=90.0)
    duration_s = 4 * 3600.0
    junctions = junction_traffic(graph, [route], config, duration_s, np.random.default_rng(0))
    engine = Engine(seed=1, start=datetime(2025, 6, 3, 7), duration_s=duration_s)
    model, signals = junctions.start(engine)
    [plan] = model.controller.plans
    red_s = plan.cycle_s - plan.phases[0].green_s  # the bus's through movement is green in one phase
    assert (plan.cycle_s, red_s) == (90.0, 50.0)
    # Headway 97 s against a 90 s cycle: each bus meets the signal 7 s later in its cycle.
    sim = BusSimulation(engine, network, {"L1": ServiceConfig(headway_s=97.0, fleet_veh=10)},
                        {"L1": VEHICLE_TYPES["av_bus_12m"]}, PassengerDemand.empty(), signals=signals)
    sim.start()
    engine.env.run(until=duration_s)
    trips = sim.collect().trips.dropna(subset=["end_s"])
    assert len(trips) > 100
    expected_s = red_s**2 / (2 * plan.cycle_s)
    # The bus checks the signal every poll_s = 1 s: half a poll more per stop on average.
    assert trips["signal_delay_s"].mean() == pytest.approx(expected_s + 0.5 * red_s / plan.cycle_s, abs=1.0)
    assert (trips["signal_delay_s"] > 0).mean() == pytest.approx(red_s / plan.cycle_s, abs=0.05)
