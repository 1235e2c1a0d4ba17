"""Validation of the bus model against hand-computed values and queueing results.

The deterministic case has no traffic noise, a fixed dwell and evenly spaced arrivals, so every
headway, trip time, cycle time, fleet size and wait can be worked out on paper:

* corridor of 11 nodes 400 m apart at 36 km/h → 40 s per edge; a stop on every second node →
  6 stops, 5 legs of 80 s;
* dwell fixed at 20 s at every stop (door time only, boarding and alighting free, no skipping);
* trip time = 6 × 20 + 5 × 80 = 520 s; layover 60 s; cycle = 2 × (520 + 60) = 1160 s;
* headway 300 s → fleet needed = ceil(1160 / 300) = 4.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest

from twin.engine import Engine
from twin.generate.roads import arterial_corridor
from twin.transit.buses import BusSimulation
from twin.transit.demand import poisson_demand, uniform_demand
from twin.transit.fleet import fleet_needed_veh, planned_cycle_s
from twin.transit.lines import corridor_line
from twin.transit.metrics import achieved_headway_s, headway_cv, line_kpis, passenger_counts
from twin.transit.service import OperationsConfig, ServiceConfig
from twin.transit.vehicles import VehicleType

FIXED_DWELL = VehicleType(
    name="fixed", capacity_pax=300, door_time_s=20.0, boarding_time_s_per_pax=0.0,
    alighting_time_s_per_pax=0.0,
)
DETERMINISTIC = OperationsConfig(skip_empty_stops=False)
TRIP_S = 6 * 20.0 + 5 * 80.0
CYCLE_S = 2 * (TRIP_S + 60.0)


def deterministic_run(fleet_veh: int, duration_s: float, demand=None, dispatch="timetable"):
    graph = arterial_corridor(n_nodes=11, spacing_m=400.0, speed_kph=36.0)
    network = corridor_line(graph, stop_every=2, headway_s=300.0)
    engine = Engine(seed=1, start=datetime(2025, 6, 3, 7), duration_s=duration_s)
    service = ServiceConfig(
        headway_s=300.0, fleet_veh=fleet_veh, min_layover_s=60.0, planned_dwell_s=20.0,
        dispatch=dispatch,
    )
    if demand is None:
        demand = uniform_demand({}, duration_s)
    sim = BusSimulation(engine, network, {"L1": service}, {"L1": FIXED_DWELL}, demand,
                        operations=DETERMINISTIC)
    return sim.run()


@pytest.mark.parametrize("dispatch", ["timetable", "headway"])
def test_deterministic_headways_trip_and_cycle_times(dispatch):
    run = deterministic_run(fleet_veh=4, duration_s=3 * 3600.0, dispatch=dispatch)
    trips = run.trips[run.trips["end_s"].notna()]
    assert (trips["end_s"] - trips["dispatch_s"]).to_numpy() == pytest.approx(TRIP_S)
    assert trips["length_m"].to_numpy() == pytest.approx(4000.0)
    # Every departure at every stop, both directions, exactly one headway after the previous.
    for (_, _), group in run.stop_visits.groupby(["direction", "seq"]):
        gaps = np.diff(np.sort(group["depart_s"].dropna().to_numpy()))
        assert gaps == pytest.approx(300.0)
    kpis = line_kpis(run, "L1")
    assert kpis["cycle_time_s"] == pytest.approx(CYCLE_S)
    assert kpis["fleet_needed_veh"] == 4 == math.ceil(CYCLE_S / 300.0)
    assert kpis["headway_cv_ratio"] == pytest.approx(0.0, abs=1e-12)
    assert kpis["on_time_pct"] == pytest.approx(100.0)
    assert kpis["mean_dispatch_delay_s"] == pytest.approx(0.0)
    assert kpis["achieved_headway_s"] == pytest.approx(300.0)
    # Vehicle-km: every trip that left the last stop ran 4 km.
    assert kpis["vehicle_km"] >= 4.0 * len(trips)


def test_fleet_below_cycle_over_headway_cannot_hold_the_headway():
    """Fleet needed = ceil(cycle / headway), checked by running one bus short."""
    run = deterministic_run(fleet_veh=3, duration_s=6 * 3600.0)
    dispatch = np.sort(run.trips[run.trips["direction"] == 0]["dispatch_s"].to_numpy())
    # After the first three (on time), each bus leaves as soon as it is back: a full cycle later.
    assert dispatch[3:] - dispatch[:-3] == pytest.approx(CYCLE_S)
    steady = (dispatch[-1] - dispatch[3]) / (len(dispatch) - 4)
    assert steady == pytest.approx(CYCLE_S / 3.0, rel=0.02)
    kpis = line_kpis(run, "L1")
    assert kpis["mean_dispatch_delay_s"] > 0
    assert kpis["fleet_needed_veh"] == 4 > kpis["fleet_veh"]


def test_uniform_arrivals_wait_exactly_until_the_next_bus():
    # One passenger every 60 s from the second stop (node 2) to the last, first at 17 s.
    demand = uniform_demand({("S2", "S10"): 60.0}, 3 * 3600.0, phase_s=17.0)
    run = deterministic_run(fleet_veh=4, duration_s=3 * 3600.0, demand=demand)
    # Buses reach the second stop at dispatch + 20 s dwell + 80 s run = 100 + 300 k.
    pax = run.passengers[run.passengers["board_s"].notna()]
    expected_board = 100.0 + 300.0 * np.ceil((pax["arrive_s"].to_numpy() - 100.0) / 300.0)
    assert pax["board_s"].to_numpy() == pytest.approx(expected_board)
    # In steady state each bus takes 5 passengers who waited 23, 83, 143, 203 and 263 s.
    steady = pax[pax["arrive_s"] > 100.0]
    waits = (steady["board_s"] - steady["arrive_s"]).to_numpy()
    assert waits.mean() == pytest.approx(23.0 + 60.0 * 2, abs=1e-9)
    # In-vehicle time: 4 legs of 80 s and the dwells at the boarding stop and the 3 between (20 s each).
    ridden = pax[pax["alight_s"].notna()]
    assert (ridden["alight_s"] - ridden["board_s"]).to_numpy() == pytest.approx(4 * 80.0 + 4 * 20.0)


def test_random_arrivals_wait_half_the_headway_on_a_long_run():
    graph = arterial_corridor(n_nodes=11, spacing_m=400.0, speed_kph=36.0)
    network = corridor_line(graph, stop_every=2, headway_s=600.0)
    duration_s = 60 * 3600.0
    engine = Engine(seed=7, start=datetime(2025, 6, 3, 7), duration_s=duration_s)
    demand = poisson_demand({("S4", "S8"): 60.0}, duration_s, engine.rng("transit_demand"))
    service = ServiceConfig(headway_s=600.0, fleet_veh=3, min_layover_s=60.0, planned_dwell_s=20.0)
    sim = BusSimulation(engine, network, {"L1": service}, {"L1": FIXED_DWELL}, demand,
                        operations=DETERMINISTIC)
    run = sim.run()
    pax = run.passengers[run.passengers["board_s"].notna() & (run.passengers["arrive_s"] > 600.0)]
    waits = (pax["board_s"] - pax["arrive_s"]).to_numpy()
    standard_error_s = (600.0 / math.sqrt(12.0)) / math.sqrt(len(waits))
    assert len(waits) > 3000
    assert abs(waits.mean() - 300.0) < 4.0 * standard_error_s
    # The whole distribution is uniform on [0, H): compare deciles.
    assert np.percentile(waits, [10, 50, 90]) == pytest.approx([60.0, 300.0, 540.0], abs=15.0)


def bunching_run(holding: str, seed: int = 3):
    graph = arterial_corridor(n_nodes=41, spacing_m=350.0, speed_kph=40.0)
    network = corridor_line(graph, stop_every=2, headway_s=300.0, two_way=False)
    duration_s = 4 * 3600.0
    engine = Engine(seed=seed, start=datetime(2025, 6, 3, 7), duration_s=duration_s)
    stops = network.line("L1").pattern(0).stop_ids
    od = {(o, d): 8.0 for i, o in enumerate(stops) for d in stops[i + 1:]}
    demand = poisson_demand(od, duration_s, engine.rng("transit_demand"))
    service = ServiceConfig(
        headway_s=300.0, fleet_veh=14, holding=holding, holding_every_n_stops=4,
        holding_threshold_ratio=0.9, max_holding_s=240.0, min_layover_s=120.0,
    )
    ops = OperationsConfig(dwell_cv=0.3, link_time_cv=0.15)
    sim = BusSimulation(engine, network, {"L1": service}, {"L1": VehicleType()}, demand, operations=ops)
    return sim.run()


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_holding_lowers_headway_cv_under_stochastic_dwell(seed):
    free = bunching_run("none", seed)
    held = bunching_run("headway", seed)
    cv_free = headway_cv(free, "L1", 0, skip_first_trips=2)
    cv_held = headway_cv(held, "L1", 0, skip_first_trips=2)
    # Bunching builds up along the line without control (from ~0.1 at the terminal to ~0.6 at
    # the far end); headway holding at every 4th stop keeps headways markedly more even.
    assert cv_free > 0.3
    assert cv_held < 0.7 * cv_free
    # The price of regularity: buses spend time held at control stops.
    assert held.stop_visits["held_s"].sum() > 0 == free.stop_visits["held_s"].sum()
    assert passenger_counts(held)["arrived_pax"] == passenger_counts(free)["arrived_pax"]


def test_achieved_headway_matches_target_with_enough_buses():
    run = deterministic_run(fleet_veh=5, duration_s=3 * 3600.0)
    assert achieved_headway_s(run, "L1", 0) == pytest.approx(300.0)
    assert achieved_headway_s(run, "L1", 1) == pytest.approx(300.0)


def test_planned_cycle_and_fleet_by_hand():
    graph = arterial_corridor(n_nodes=11, spacing_m=400.0, speed_kph=36.0)
    network = corridor_line(graph, stop_every=2, headway_s=300.0)
    service = ServiceConfig(headway_s=300.0, min_layover_s=60.0, planned_dwell_s=20.0)
    assert planned_cycle_s(network, "L1", service, FIXED_DWELL) == pytest.approx(CYCLE_S)
    assert [fleet_needed_veh(CYCLE_S, h) for h in (300.0, 580.0, 1160.0, 1200.0)] == [4, 2, 1, 1]
    # A speed cap below the limit stretches the legs: 400 m at 18 km/h is 80 s, not 40 s.
    slow = FIXED_DWELL.model_copy(update={"speed_cap_km_per_h": 18.0})
    assert planned_cycle_s(network, "L1", service, slow) == pytest.approx(CYCLE_S + 2 * 10 * 40.0)
    # A one-way line that is not a loop runs back empty: the free-flow time from end to start.
    one_way = corridor_line(graph, stop_every=2, headway_s=300.0, two_way=False)
    assert planned_cycle_s(one_way, "L1", service, FIXED_DWELL) == pytest.approx(TRIP_S + 60.0 + 400.0)


def test_passengers_take_the_first_bus_of_any_line_serving_their_destination():
    """Two lines on one street: L1 runs the whole corridor every 600 s; L2 short-turns at the
    fourth stop, every 600 s but 300 s after L1. Passengers to a stop both lines serve get a
    bus every 300 s; passengers beyond L2's last stop only every 600 s."""
    from twin.transit.lines import BusLine, TransitNetwork, build_pattern

    graph = arterial_corridor(n_nodes=11, spacing_m=400.0, speed_kph=36.0)
    base = corridor_line(graph, stop_every=2, headway_s=600.0)
    short_ids = ["S0", "S2", "S4", "S6"]
    short = BusLine("L2", "short turn", 600.0, "bus_12m", False, {
        0: build_pattern(graph, [0, 2, 4, 6], short_ids, 0),
        1: build_pattern(graph, [6, 4, 2, 0], short_ids[::-1], 1),
    })
    network = TransitNetwork(base.stops, {"L1": base.line("L1"), "L2": short}, graph)
    duration_s = 4 * 3600.0
    demand = uniform_demand({("S2", "S4"): 60.0, ("S2", "S10"): 60.0}, duration_s, phase_s=17.0)
    engine = Engine(seed=1, start=datetime(2025, 6, 3, 7), duration_s=duration_s)
    services = {
        "L1": ServiceConfig(headway_s=600.0, fleet_veh=4, min_layover_s=60.0, planned_dwell_s=20.0),
        "L2": ServiceConfig(headway_s=600.0, fleet_veh=4, min_layover_s=60.0, planned_dwell_s=20.0,
                            first_departure_s=300.0),
    }
    sim = BusSimulation(engine, network, services, {"L1": FIXED_DWELL, "L2": FIXED_DWELL}, demand,
                        operations=DETERMINISTIC)
    run = sim.run()
    pax = run.passengers[run.passengers["board_s"].notna() & (run.passengers["arrive_s"] > 100.0)]
    line_of = run.trips.set_index("trip_id")["line_id"]
    near = pax[pax["destination"] == "S4"]
    far = pax[pax["destination"] == "S10"]
    # Buses of either line reach S2 at 100 + 300 k (L1 on even k, L2 on odd k).
    assert near["board_s"].to_numpy() == pytest.approx(
        100.0 + 300.0 * np.ceil((near["arrive_s"].to_numpy() - 100.0) / 300.0))
    assert set(near["trip_id"].map(line_of)) == {"L1", "L2"}
    assert (near["board_s"] - near["arrive_s"]).mean() == pytest.approx(23.0 + 60.0 * 2, abs=1e-9)
    # Only L1 goes to S10: every 600 s, so those passengers wait 23 + 60 × (10 − 1)/2 = 293 s.
    assert set(far["trip_id"].map(line_of)) == {"L1"}
    assert far["board_s"].to_numpy() == pytest.approx(
        100.0 + 600.0 * np.ceil((far["arrive_s"].to_numpy() - 100.0) / 600.0))
    assert (far["board_s"] - far["arrive_s"]).mean() == pytest.approx(23.0 + 60.0 * 4.5, abs=1e-9)
