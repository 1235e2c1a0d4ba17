"""Demand: gravity OD balancing, the time-of-day profile, trip sampling, MSA rerouting."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.generate.roads import add_road, random_grid
from twin.traffic.demand import DemandConfig, furness, gravity_od, hourly_od, msa_reroute, sample_trips
from twin.traffic.model import simulate
from twin.traffic.network import network_from_graph
from twin.traffic.params import TrafficParams
from twin.traffic.routing import LinkRouter
from twin.traffic.signals.default_plans import default_plans
from twin.traffic.signals.timing import TimingParams
from twin.traffic.trips import Trips


@given(seed=st.integers(0, 10_000), n=st.integers(2, 8))
@settings(max_examples=30)
def test_furness_meets_productions_and_attractions(seed, n):
    rng = np.random.default_rng(seed)
    productions = rng.uniform(1, 100, n)
    attractions = rng.uniform(1, 100, n)
    attractions *= productions.sum() / attractions.sum()
    deterrence = np.exp(-rng.uniform(0.1, 3.0, (n, n)))
    trips = furness(productions, attractions, deterrence, iterations=200)
    np.testing.assert_allclose(trips.sum(axis=1), productions, rtol=1e-6)
    np.testing.assert_allclose(trips.sum(axis=0), attractions, rtol=1e-6)


def _town():
    graph = random_grid(4, 4, spacing_m=400.0, seed=3)
    zones = pd.DataFrame(
        {
            "zone_id": [f"z{n}" for n in graph.nodes],
            "node": list(graph.nodes),
            "residents": np.linspace(500, 2000, 16),
            "jobs": np.linspace(2000, 200, 16),
        }
    )
    return graph, zones


def test_gravity_totals_and_the_am_peak():
    graph, zones = _town()
    config = DemandConfig()
    od = gravity_od(zones, graph, config)
    daily = zones["residents"].sum() * config.vehicle_trips_per_resident_per_day
    assert od.trips.sum() * 2 == pytest.approx(daily, rel=1e-6)  # home→work and back
    hours = np.array([hourly_od(od, config, h).sum() for h in range(24)])
    assert hours.sum() == pytest.approx(daily, rel=1e-6)
    assert hours.argmax() == 7  # 07:00–08:00 is the peak hour
    am = hourly_od(od, config, 7)
    assert (am - am.T).sum(axis=1)[np.argmax(zones["residents"])] > 0  # mornings leave home


def test_trips_are_sampled_reproducibly_with_the_expected_count():
    graph, zones = _town()
    network = network_from_graph(graph, TrafficParams())
    config = DemandConfig(scale=4.0)
    od = gravity_od(zones, graph, config)
    a = sample_trips(od, network, config, 7 * 3600.0, 8 * 3600.0, np.random.default_rng(9))
    b = sample_trips(od, network, config, 7 * 3600.0, 8 * 3600.0, np.random.default_rng(9))
    assert a.ids == b.ids and np.array_equal(a.depart_s, b.depart_s)
    expected = hourly_od(od, config, 7).sum()
    assert abs(len(a) - expected) < 4 * np.sqrt(expected)
    assert (a.depart_s >= 7 * 3600.0).all() and (a.depart_s < 8 * 3600.0).all()
    router = LinkRouter(network)
    for route in a.routes[:50]:  # routes are connected sequences of allowed movements
        assert all((int(x), int(y)) in network.mov_lookup for x, y in zip(route[:-1], route[1:], strict=True))
        assert router.route_time_s(route) > 0


def _two_routes() -> nx.MultiDiGraph:
    """O → D along a slow two-lane main road (via L), or by a faster single-lane bypass (via S)
    that is quickest at free flow but has half the capacity; they meet at a signalised D."""
    graph = nx.MultiDiGraph(crs=None)
    for name, x, y in [
        ("O0", -300, 0),
        ("O", 0, 0),
        ("L", 500, 0),
        ("S", 500, 150),
        ("D", 1000, 0),
        ("D1", 1300, 0),
    ]:
        graph.add_node(name, x=float(x), y=float(y))
    graph.nodes["D"]["highway"] = "traffic_signals"
    add_road(graph, "O0", "O", lanes=3, highway="primary", both=False)
    add_road(graph, "O", "L", lanes=2, speed_kph=40.0, highway="primary", both=False)
    add_road(graph, "L", "D", lanes=2, speed_kph=40.0, highway="primary", both=False)
    add_road(graph, "O", "S", lanes=1, speed_kph=60.0, highway="tertiary", both=False)
    add_road(graph, "S", "D", lanes=1, speed_kph=60.0, highway="tertiary", both=False)
    add_road(graph, "D", "D1", lanes=3, highway="primary", both=False)
    return graph


def test_msa_moves_vehicles_off_the_jammed_route_and_closes_the_gap():
    network = network_from_graph(_two_routes(), TrafficParams())
    timing = TimingParams()
    plans = default_plans(network, timing)
    origin = network.link_index[("O0", "O", 0)]
    destination = network.link_index[("D", "D1", 0)]
    departs = np.arange(0.0, 1800.0, 2.0)  # 1800 veh/h: twice what the bypass's green passes
    routes = LinkRouter(network).routes(np.full(len(departs), origin), np.full(len(departs), destination))
    trips = Trips([str(i) for i in range(len(departs))], departs, routes)
    bypass = network.link_index[("O", "S", 0)]
    assert all(bypass in r for r in trips.routes)  # free flow: everyone takes the bypass

    def run(candidate):
        return simulate(network, plans, candidate, 0.0, 4000.0, timing)

    result = msa_reroute(run, trips, iterations=6, rng=np.random.default_rng(1))
    gaps = result.relative_gaps
    assert len(gaps) == 7
    assert gaps[-1] < 0.25 * gaps[0]
    main_share = np.mean([bypass not in r for r in result.trips.routes])
    assert 0.3 < main_share < 0.9
    assert run(result.trips).kpis()["mean_travel_time_s"] < 0.7 * run(trips).kpis()["mean_travel_time_s"]
