"""Fleet sizing: the search finds the smallest fleet that an exhaustive scan finds."""

from __future__ import annotations

import numpy as np
from robotaxi_cases import congested_grid, fleet_at, uniform_requests

from twin.robotaxi.fleet import ChargingRules, simulate
from twin.robotaxi.sizing import ServiceTarget, TaxiCosts, cost_per_trip_cny, share_within, smallest_fleet
from twin.robotaxi.tables import place_tables


def test_smallest_fleet_matches_exhaustive_scan():
    graph, times, _, _ = congested_grid()
    rng = np.random.default_rng(5)
    nodes = np.array(list(graph.nodes))
    requests = uniform_requests(rng, nodes, 400, 2 * 3600.0, max_wait_s=300.0)
    tables = place_tables(graph, times, nodes, [0.0, 3600.0, 7200.0])
    depot = rng.choice(nodes, 1)

    def run_size(n):
        return simulate(tables, requests, fleet_at(depot, n), [], ChargingRules(), 2 * 3600.0)

    target = ServiceTarget(share=0.9, wait_s=300.0)
    result = smallest_fleet(run_size, target, [1, 8, 16, 32])
    scan = {n: share_within(run_size(n), target.wait_s) for n in range(1, 33)}
    ok = [n for n in scan if all(scan[m] >= target.share for m in range(n, 33))]
    assert result.smallest == min(ok)
    for n, share in result.curve.items():
        assert share == scan[n]
    costs = cost_per_trip_cny(run_size(result.smallest), TaxiCosts(), service_hours=2.0)
    assert costs["robotaxi_cost_per_trip_cny"] > 0 and costs["crewed_cost_per_trip_cny"] > 0


def test_no_size_meets_an_impossible_target():
    graph, times, _, _ = congested_grid()
    rng = np.random.default_rng(6)
    nodes = np.array(list(graph.nodes))
    requests = uniform_requests(rng, nodes, 50, 3600.0, max_wait_s=1.0)
    tables = place_tables(graph, times, nodes, [0.0])
    result = smallest_fleet(
        lambda n: simulate(tables, requests, fleet_at(nodes[:1], n), [], ChargingRules(), 3600.0),
        ServiceTarget(share=0.99, wait_s=1.0), [1, 2])
    assert result.smallest is None
