"""Invariants of the bus model, checked by hypothesis on random small lines and demands.

* passengers are conserved: arrived = boarded + waiting + abandoned, where "waiting" is what is
  actually in the stops' queues (or not yet called for) at the end, and every boarded passenger
  has alighted or is on a bus; each passenger left behind is counted once, however many buses
  pass them by;
* a bus's load is always between 0 and its capacity;
* buses of one line never overtake on the single-lane stop sequence, unless allowed;
* the same seed gives the same result.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from twin.engine import Engine
from twin.generate.roads import arterial_corridor
from twin.transit.buses import BusSimulation
from twin.transit.demand import poisson_demand
from twin.transit.lines import corridor_line, served_pairs
from twin.transit.metrics import passenger_counts
from twin.transit.service import OperationsConfig, ServiceConfig
from twin.transit.vehicles import VehicleType

cases = st.fixed_dictionaries({
    "seed": st.integers(0, 10_000),
    "n_nodes": st.integers(4, 16),
    "stop_every": st.integers(1, 3),
    "two_way": st.booleans(),
    "headway_s": st.sampled_from([120.0, 240.0, 400.0, 900.0]),
    "fleet_veh": st.integers(1, 6),
    "capacity_pax": st.integers(1, 25),
    "pax_per_h_per_pair": st.floats(0.0, 40.0),
    "dwell_cv": st.sampled_from([0.0, 0.5, 1.2]),
    "link_time_cv": st.sampled_from([0.0, 0.3, 0.8]),
    "holding": st.sampled_from(["none", "headway", "schedule"]),
    "dispatch": st.sampled_from(["timetable", "headway"]),
    "patience_s": st.sampled_from([None, 300.0, 900.0]),
    "extra_buses_veh": st.integers(0, 2),
    "start_at": st.sampled_from(["both_terminals", "first_terminal"]),
    "duration_s": st.sampled_from([1800.0, 3600.0, 5400.0]),
})


def simulate(case: dict, allow_overtaking: bool = False) -> tuple[BusSimulation, object]:
    graph = arterial_corridor(n_nodes=case["n_nodes"], spacing_m=300.0, speed_kph=40.0)
    network = corridor_line(graph, stop_every=case["stop_every"], headway_s=case["headway_s"],
                            two_way=case["two_way"])
    engine = Engine(seed=case["seed"], start=datetime(2025, 6, 3, 7), duration_s=case["duration_s"])
    od = {pair: case["pax_per_h_per_pair"] for pair in served_pairs(network)}
    demand = poisson_demand(od, case["duration_s"], engine.rng("transit_demand"), profile=[1.0, 2.0],
                            profile_bin_s=900.0)
    service = ServiceConfig(
        headway_s=case["headway_s"], fleet_veh=case["fleet_veh"], dispatch=case["dispatch"],
        holding=case["holding"], holding_every_n_stops=2, min_layover_s=60.0,
        extra_buses_veh=case["extra_buses_veh"], extra_trigger_pax=5, start_at=case["start_at"],
    )
    vehicle = VehicleType(name="small", capacity_pax=case["capacity_pax"])
    ops = OperationsConfig(dwell_cv=case["dwell_cv"], link_time_cv=case["link_time_cv"],
                           patience_s=case["patience_s"], allow_overtaking=allow_overtaking)
    sim = BusSimulation(engine, network, {"L1": service}, {"L1": vehicle}, demand, operations=ops)
    return sim, sim.run()


@given(case=cases)
def test_passengers_conserved_and_left_behind_counted_once(case):
    sim, run = simulate(case)
    counts = passenger_counts(run)
    # The ledger is a partition of the passengers who arrived.
    assert counts["arrived_pax"] == counts["boarded_pax"] + counts["waiting_pax"] + counts["abandoned_pax"]
    # "Waiting" is exactly what the stops hold, or would hold if called at the end.
    in_queues = sum(sim.waiting_pax(stop_id, run.duration_s) for stop_id in run.network.stops)
    assert counts["waiting_pax"] == in_queues
    # Boardings and alightings recorded at stops match the passengers' own records.
    visits = run.stop_visits
    assert visits["boardings"].sum() == counts["boarded_pax"]
    alighted = int(run.passengers["alight_s"].notna().sum())
    assert visits["alightings"].sum() == alighted
    # Everyone boarded has alighted or is on a bus still running.
    unfinished = run.trips[run.trips["end_s"].isna()]["trip_index"]
    last_load = visits[visits["trip_index"].isin(unfinished)].groupby("trip_index")["load_pax"].last()
    assert counts["boarded_pax"] - alighted == int(last_load.sum())
    # Left behind: a flag per passenger, so the count never exceeds the pass-by events.
    assert counts["left_behind_pax"] <= visits["left_behind_pax"].sum()
    assert counts["left_behind_pax"] == int(run.passengers["left_behind"].sum())
    assert (visits["left_behind_pax"] > 0).any() == (counts["left_behind_pax"] > 0)
    # Nobody boards before arriving or alights before boarding.
    pax = run.passengers
    assert (pax["board_s"].dropna() >= pax.loc[pax["board_s"].notna(), "arrive_s"]).all()
    assert (pax["alight_s"].dropna() > pax.loc[pax["alight_s"].notna(), "board_s"]).all()


@given(case=cases)
def test_load_within_capacity(case):
    _, run = simulate(case)
    loads = run.stop_visits["load_pax"]
    assert (loads >= 0).all()
    assert (loads <= case["capacity_pax"]).all()
    # Loads follow boardings and alightings along each trip.
    for _, trip in run.stop_visits.groupby("trip_index"):
        running = np.cumsum(trip["boardings"].to_numpy() - trip["alightings"].to_numpy())
        assert (running == trip["load_pax"].to_numpy()).all()


def order_violations(run) -> int:
    """Stops where a later-dispatched bus of a line arrived or left before an earlier one."""
    visits = run.stop_visits
    violations = 0
    for _, group in visits.groupby(["line_id", "direction", "seq"]):
        g = group.sort_values("trip_index")
        violations += int((np.diff(g["arrive_s"].to_numpy()) < 0).sum())
        violations += int((np.diff(g["depart_s"].to_numpy()) < 0).sum())
    return violations


@given(case=cases)
def test_no_overtaking_on_a_single_lane_stop_sequence(case):
    _, run = simulate(case, allow_overtaking=False)
    assert order_violations(run) == 0


def test_overtaking_happens_when_allowed_and_noisy():
    # The no-overtaking rule is doing work: with noisy links and dwells buses do pass each other.
    case = {"seed": 5, "n_nodes": 16, "stop_every": 1, "two_way": False, "headway_s": 120.0,
            "fleet_veh": 6, "capacity_pax": 25, "pax_per_h_per_pair": 10.0, "dwell_cv": 1.2,
            "link_time_cv": 0.8, "holding": "none", "dispatch": "timetable", "patience_s": None,
            "extra_buses_veh": 0, "start_at": "both_terminals", "duration_s": 3600.0}
    _, free = simulate(case, allow_overtaking=True)
    _, ordered = simulate(case, allow_overtaking=False)
    assert order_violations(free) > 0
    assert order_violations(ordered) == 0


@given(case=cases)
def test_same_seed_same_result(case):
    _, first = simulate(case)
    _, second = simulate(case)
    for name in ("stop_visits", "trips", "passengers", "cycles"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
