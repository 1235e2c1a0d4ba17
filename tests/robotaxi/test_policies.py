"""Dispatch policies side by side: batch assignment lowers the mean wait under high load, and
costs at most the batch interval at low load (when the nearest idle vehicle is free anyway)."""

from __future__ import annotations

import numpy as np
import pytest
from robotaxi_cases import congested_grid, fleet_at, uniform_requests

from twin.errors import InputError
from twin.robotaxi.fleet import ChargingRules, simulate
from twin.robotaxi.policies import BatchAssignment, NearestVehicle, make_policy
from twin.robotaxi.tables import place_tables


def run_both(rate_per_s: float, per_depot: int, horizon_s: float = 4 * 3600.0):
    graph, times, _, _ = congested_grid()
    nodes = np.array(list(graph.nodes))
    tables = place_tables(graph, times, nodes, [0.0])
    rng = np.random.default_rng(1)
    requests = uniform_requests(rng, nodes, rng.poisson(rate_per_s * horizon_s), horizon_s, max_wait_s=900.0)
    fleet = fleet_at(rng.choice(nodes, 5, replace=False), per_depot)
    out = {}
    for policy in (NearestVehicle(), BatchAssignment(30.0)):
        trips = simulate(tables, requests, fleet, [], ChargingRules(), horizon_s, policy).trips
        served = trips[trips["vehicle"] >= 0]
        out[policy.name] = (len(served) / len(trips), float(served["wait_s"].mean()))
    return out


def test_batch_lowers_mean_wait_under_high_load():
    """0.06 requests/s on a 1.4 km grid with 10 vehicles: demand above what the fleet can carry.
    Nearest-vehicle commits each rider at once to the vehicle free soonest, often far away; the
    batch waits up to 30 s and matches the riders nearest to each freed vehicle. Measured: mean
    wait 693 s (nearest) against 235 s (batch), 88.2 % against 93.8 % served."""
    out = run_both(0.06, 2)
    (served_near, wait_near), (served_batch, wait_batch) = out["nearest"], out["batch"]
    assert wait_batch < 0.5 * wait_near
    assert served_batch > served_near


def test_batch_holds_riders_at_most_a_batch_at_low_load():
    """0.01 requests/s, 40 vehicles: a vehicle is idle near every rider; the batch adds the hold
    to the next batch time (15 s on average for 30 s batches) to the same pickup drive."""
    out = run_both(0.01, 8)
    (_, wait_near), (served_batch, wait_batch) = out["nearest"], out["batch"]
    assert served_batch == 1.0
    assert wait_near < wait_batch <= wait_near + 30.0


def test_make_policy_names_the_choices():
    assert make_policy("batch", 10.0) == BatchAssignment(10.0)
    assert make_policy("nearest") == NearestVehicle()
    with pytest.raises(InputError, match=r"policy = 'greedy': expected one of \['batch', 'nearest'\]"):
        make_policy("greedy")
    with pytest.raises(InputError, match="batch_s = 0"):
        BatchAssignment(0.0)
