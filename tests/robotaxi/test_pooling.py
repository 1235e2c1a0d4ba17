"""Ride pooling by insertion: shared rides keep each rider's detour within the limit, seats are
respected, the km and energy still balance, and under high load pooling serves more riders."""

from __future__ import annotations

import numpy as np
import pytest
from robotaxi_cases import congested_grid, fleet_at, nx_time, uniform_requests

from twin.robotaxi.fleet import ChargingRules, Station, simulate
from twin.robotaxi.policies import BatchAssignment
from twin.robotaxi.tables import place_tables

HORIZON_S = 4 * 3600.0
MAX_DETOUR_S = 240.0


@pytest.fixture(scope="module")
def pooled_runs():
    graph, times, edges, table = congested_grid()
    nodes = np.array(list(graph.nodes))
    flat_table = table[:, :1]
    tables = place_tables(graph, type(times)(edges, np.array([0.0]), flat_table, times.fallback), nodes, [0.0])
    rng = np.random.default_rng(1)
    requests = uniform_requests(rng, nodes, rng.poisson(0.06 * HORIZON_S), HORIZON_S, max_wait_s=900.0)
    fleet = fleet_at(rng.choice(nodes, 5, replace=False), 2, battery_kwh=4.0)
    stations = [Station("A", int(nodes[0]), 2, 60.0)]
    runs = {pooling: simulate(tables, requests, fleet, stations, ChargingRules(), HORIZON_S,
                              BatchAssignment(30.0, pooling=pooling, max_detour_s=MAX_DETOUR_S))
            for pooling in (False, True)}
    return runs, fleet, (graph, edges, flat_table)


def test_shared_rides_keep_detour_seats_and_wait(pooled_runs):
    runs, fleet, (graph, edges, flat_table) = pooled_runs
    trips = runs[True].trips
    pooled = trips[trips["pooled_with"] >= 0]
    assert len(pooled) > 100
    assert (runs[False].trips["pooled_with"] < 0).all()
    for row in pooled.itertuples():
        other = trips.iloc[row.pooled_with]
        assert other["pooled_with"] == row.Index and other["vehicle"] == row.vehicle
        assert row.party_size + other["party_size"] <= fleet.seats[row.vehicle]
        direct_s = nx_time(graph, edges, flat_table, 0, int(row.origin_node), int(row.destination_node))
        # Either rider's ride against networkx's direct time on the same link times.
        assert row.trip_time_s <= direct_s + MAX_DETOUR_S + 1e-6
        assert row.wait_s <= row.max_wait_s + 1e-9


def test_pooling_serves_more_and_balances_energy(pooled_runs):
    runs, fleet, _ = pooled_runs
    served = {k: (r.trips["vehicle"] >= 0).mean() for k, r in runs.items()}
    # Measured: 84.4 % served alone, 92.1 % with pooling (522 of 865 riders share; up to 4 min
    # detour); km per served rider 1.347 against 1.241.
    assert served[True] > served[False] + 0.02
    run = runs[True]
    ok = run.trips[run.trips["vehicle"] >= 0]
    driven = (ok["pickup_km"].sum() + ok["trip_km"].sum()) * 0.15 + run.sessions["drive_kwh"].sum()
    stored_change = run.final_soc_kwh.sum() - fleet.soc_kwh.sum()
    assert run.sessions["charged_kwh"].sum() == pytest.approx(driven + stored_change, rel=1e-3)
    assert run.final_soc_kwh.min() >= 0.0
