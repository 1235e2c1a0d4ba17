"""The fleet's legs replay each vehicle: every leg starts where the previous one ended, the times
chain, and the legs' km add up to the km the run reports."""

from __future__ import annotations

import numpy as np
import pytest
from robotaxi_cases import BINS_S, congested_grid, fleet_at, uniform_requests

from twin.robotaxi.fleet import ChargingRules, Station, simulate
from twin.robotaxi.legs import vehicle_legs
from twin.robotaxi.policies import BatchAssignment, NearestVehicle, Rebalancing
from twin.robotaxi.tables import place_tables


@pytest.mark.parametrize(("rebalance", "pooling"), [(False, False), (True, False), (False, True)])
def test_legs_chain_and_add_up(rebalance, pooling):
    graph, times, _, _ = congested_grid()
    rng = np.random.default_rng(3)
    nodes = np.array(list(graph.nodes))
    horizon_s = 3 * 3600.0
    requests = uniform_requests(rng, nodes, 600, horizon_s, max_wait_s=900.0)
    tables = place_tables(graph, times, nodes, BINS_S)
    fleet = fleet_at(rng.choice(nodes, 4, replace=False), 3, battery_kwh=2.0)
    stations = [Station("A", int(nodes[0]), 2, 60.0)]
    policy = BatchAssignment(30.0, pooling=True, max_detour_s=300.0) if pooling else NearestVehicle()
    if rebalance:
        halves = [nodes[: len(nodes) // 2], nodes[len(nodes) // 2:]]
        policy = BatchAssignment(30.0, Rebalancing(halves, np.array([halves[0][5], halves[1][5]]),
                                                   np.array([[0.05, 0.01]]), every_s=300.0))
    run = simulate(tables, requests, fleet, stations, ChargingRules(), horizon_s, policy)
    legs = vehicle_legs(run)
    assert len(run.sessions) > 10 and (len(run.moves) > 0) == rebalance
    assert ((run.trips["pooled_with"] >= 0).sum() > 20) == pooling
    for v, mine in legs.groupby("vehicle"):
        mine = mine.sort_values(["depart_s"], kind="stable")
        assert mine["from_node"].iloc[0] == fleet.start_node[v]
        assert (mine["from_node"].to_numpy()[1:] == mine["to_node"].to_numpy()[:-1]).all()
        assert (mine["depart_s"].to_numpy()[1:] >= mine["arrive_s"].to_numpy()[:-1] - 1e-6).all()
    # The legs' km on the tables equal the km the run reports (pickup, trip, station, moves).
    place = {int(n): i for i, n in enumerate(tables.nodes)}
    b = np.searchsorted(BINS_S, legs["depart_s"], side="right") - 1
    km = tables.dist_km[b, legs["from_node"].map(place), legs["to_node"].map(place)]
    served = run.trips[run.trips["vehicle"] >= 0]
    reported = served["pickup_km"].sum() + served["trip_km"].sum() + run.moves["km"].sum()
    station_km = run.sessions["drive_kwh"].sum() / 0.15
    assert km.sum() == pytest.approx(reported + station_km, rel=1e-9)
    assert set(legs["kind"]) <= {"pickup", "trip", "to_station", "rebalance"}
