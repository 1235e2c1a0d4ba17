"""The bus model against a bare SimPy bus line, on the same passengers.

The peer is the line written as the SimPy manual would: one process per passenger, who waits
on an event that the next bus of their direction triggers at their stop, and one process per
bus trip running the timetable. With fixed dwell (door time only) and no noise both models put
every bus at every stop at the same time, so every passenger's wait must be identical — the
benchmark asserts it, so the ratio compares like with like. Ours materialises passengers lazily
when a bus calls, and carries everything the peer does not (loads, capacity, no-overtaking
events, holding hooks, KPIs tables).

A second benchmark times the whole ``av_bus_route`` scenario path on a corridor (8 variants).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
import simpy

from twin.engine import Engine
from twin.generate.roads import arterial_corridor
from twin.transit.buses import BusSimulation
from twin.transit.demand import PassengerDemand, poisson_demand
from twin.transit.lines import corridor_line
from twin.transit.service import OperationsConfig, ServiceConfig
from twin.transit.vehicles import VehicleType

SEED = 7
START = datetime(2025, 6, 3, 7)
DURATION_S = 4 * 3600.0
HEADWAY_S = 300.0
DWELL_S = 20.0
LAYOVER_S = 120.0
VEHICLE = VehicleType(name="fixed", capacity_pax=300, door_time_s=DWELL_S, boarding_time_s_per_pax=0.0,
                      alighting_time_s_per_pax=0.0, speed_cap_km_per_h=60.0)


def setup():
    graph = arterial_corridor(n_nodes=21, spacing_m=400.0, speed_kph=36.0)
    network = corridor_line(graph, stop_every=2, headway_s=HEADWAY_S)
    engine = Engine(SEED, START, DURATION_S)
    line = network.line("L1")
    od = {(o, d): 25.0 for p in line.patterns.values()
          for i, o in enumerate(p.stop_ids) for d in p.stop_ids[i + 1:]}
    demand = poisson_demand(od, DURATION_S, engine.rng("transit_demand"))
    return network, demand


def ours(network, demand: PassengerDemand) -> np.ndarray:
    engine = Engine(SEED, START, DURATION_S)
    # The peer sends every trip from the first terminal, so ours starts its fleet there too.
    service = ServiceConfig(headway_s=HEADWAY_S, fleet_veh=12, min_layover_s=LAYOVER_S,
                            planned_dwell_s=DWELL_S, start_at="first_terminal")
    sim = BusSimulation(engine, network, {"L1": service}, {"L1": VEHICLE}, demand,
                        operations=OperationsConfig(skip_empty_stops=False))
    sim.start()
    engine.env.run(until=DURATION_S)
    run = sim.collect()
    return (run.passengers["board_s"] - run.passengers["arrive_s"]).to_numpy()


def plain_simpy(network, demand: PassengerDemand) -> np.ndarray:
    """The bare SimPy line: a process per passenger, a process per bus trip, one event per stop."""
    env = simpy.Environment()
    line = network.line("L1")
    leg_s = {d: [sum(network.graph.edges[e]["travel_time"] for e in leg) for leg in p.legs]
             for d, p in line.patterns.items()}
    trip_s = {d: len(p.stop_ids) * DWELL_S + sum(leg_s[d]) for d, p in line.patterns.items()}
    bus_here = {(d, s): env.event() for d, p in line.patterns.items() for s in p.stop_ids}
    board_s = np.full(len(demand), np.nan)
    direction_of = {}
    for d, p in line.patterns.items():
        for i, o in enumerate(p.stop_ids):
            for dest in p.stop_ids[i + 1:]:
                direction_of[(o, dest)] = d

    def passenger(k: int):
        yield env.timeout(demand.arrive_s[k] - env.now)
        yield bus_here[(direction_of[(demand.origin[k], demand.destination[k])], demand.origin[k])]
        board_s[k] = env.now

    def trip(d: int):
        for i, stop in enumerate(line.pattern(d).stop_ids):
            if i:
                yield env.timeout(leg_s[d][i - 1])
            event, bus_here[(d, stop)] = bus_here[(d, stop)], env.event()
            event.succeed()
            yield env.timeout(DWELL_S)

    def timetable(d: int, first_s: float):
        k = 0
        while first_s + k * HEADWAY_S <= DURATION_S:
            yield env.timeout(first_s + k * HEADWAY_S - env.now)
            env.process(trip(d))
            k += 1

    for k in range(len(demand)):
        env.process(passenger(k))
    env.process(timetable(0, 0.0))
    env.process(timetable(1, trip_s[0] + LAYOVER_S))
    env.run(until=DURATION_S)
    return board_s - demand.arrive_s


def test_bus_line_vs_plain_simpy(benchmark, peer_comparison):
    network, demand = setup()
    waits = benchmark.pedantic(ours, args=(network, demand), rounds=5, warmup_rounds=1)
    peer = plain_simpy(network, demand)
    assert len(demand) > 10_000
    np.testing.assert_allclose(waits, peer, atol=1e-6, equal_nan=True)  # the very same waits
    benchmark.extra_info["passengers"] = len(demand)
    peer_comparison(f"bus line, 4 h, 11 stops, {len(demand)} passengers", peer="plain SimPy",
                    peer_fn=lambda: plain_simpy(network, demand))


CORRIDOR = """
[scenario]
kind = "av_bus_route"
name = "bench_corridor"
seed = 5
duration_s = 10800.0

[route]
source = "corridor"
line_id = "C1"
vehicle_type = "av_bus_12m"
corridor_length_m = 8000.0

[demand]
pax_per_h = 500.0
od = "uniform"

[operations]
dwell_cv = 0.3
link_time_cv = 0.1

[variants]
headways_s = [300.0, 600.0]
fleet_margin_veh = [-1, 0]
holding = ["none", "headway"]
"""


@pytest.mark.parametrize("variants", [8])
def test_av_bus_route_scenario(benchmark, tmp_path, variants):
    from scenarios.loading import execute, parse_scenario
    from twin.config import read_toml

    path = tmp_path / "corridor.toml"
    path.write_text(CORRIDOR)
    spec, config = parse_scenario(read_toml(path), path)
    result, _ = benchmark.pedantic(execute, args=(spec, config), rounds=2, warmup_rounds=0)
    assert result.kpis["variants_count"] == variants
