"""Flooded roads: the Pregnolato curve, and a flood on a grid town that slows and closes links."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from twin.coupled.roads import (
    CLOSURE_DEPTH_MM,
    attach_flooded_roads,
    flooded_conditions,
    pregnolato_speed_kmh,
)
from twin.engine import Engine
from twin.generate.roads import grid_town
from twin.traffic.demand import DemandConfig, gravity_od, sample_trips
from twin.traffic.network import network_from_graph
from twin.traffic.params import TrafficParams
from twin.traffic.signals.controller import SignalController
from twin.traffic.signals.default_plans import default_plans
from twin.traffic.signals.timing import TimingParams

DURATION_S = 3600.0


def test_the_curve_is_pregnolato_2017():
    assert pregnolato_speed_kmh(0.0) == pytest.approx(86.9448)
    # v(100 mm) = 9 − 55.29 + 86.9448 km/h
    assert pregnolato_speed_kmh(100.0) == pytest.approx(0.0009 * 1e4 - 55.29 + 86.9448)
    assert pregnolato_speed_kmh(299.9) > 0
    assert pregnolato_speed_kmh(CLOSURE_DEPTH_MM) == 0.0
    d = np.linspace(0, 299, 300)
    assert np.all(np.diff(pregnolato_speed_kmh(d)) < 0)


def test_dry_links_keep_their_speed_and_deep_ones_close():
    limit = np.array([50 / 3.6, 50 / 3.6, 50 / 3.6, 16.0])
    speed, closed = flooded_conditions(np.array([0.0, 0.1, 0.3, 0.0]), limit)
    assert speed[0] == limit[0] and speed[3] == limit[3]
    assert speed[1] == pytest.approx(pregnolato_speed_kmh(100.0) / 3.6)
    assert closed.tolist() == [False, False, True, False]


@pytest.fixture(scope="module")
def town():
    town = grid_town(8, 300.0, 60_000.0)
    network = network_from_graph(town.graph, TrafficParams())
    demand = DemandConfig()
    od = gravity_od(town.zones, town.graph, demand)
    trips = sample_trips(od, network, demand, 0.0, DURATION_S, np.random.default_rng(3), day_start_s=-8 * 3600.0)
    x = np.array([town.graph.nodes[u]["x"] + town.graph.nodes[v]["x"] for u, v, _ in network.link_keys])
    return network, trips, x


def _run(network, trips, depth_at):
    engine = Engine(seed=1, start=datetime(2026, 9, 1, 8), duration_s=DURATION_S)
    controller = SignalController.build(network, default_plans(network, TimingParams()), TimingParams())
    roads = attach_flooded_roads(network, controller, trips, engine, DURATION_S, depth_at)
    engine.env.run(until=DURATION_S + 1e-6)
    return roads


def _flood(x: np.ndarray):
    """A low street (the links on the westmost third of the town) under 0.4 m from 10 to 40 min,
    the next band under 0.15 m."""
    order = np.argsort(np.argsort(x))
    low = order < len(x) // 6
    band = (order >= len(x) // 6) & (order < len(x) // 3)

    def depth_at(time_s: float) -> np.ndarray:
        wet = 600.0 <= time_s < 2400.0
        return np.where(low, 0.4, 0.0) * wet + np.where(band, 0.15, 0.0) * wet

    return depth_at


def test_the_flood_adds_delay_and_no_closed_link_carries_flow(town):
    network, trips, x = town
    dry = _run(network, trips, None)
    wet = _run(network, trips, _flood(x))
    dry_kpis, wet_kpis = dry.kpis(), wet.kpis()
    assert wet_kpis["closed_links_max_count"] > 0
    assert wet_kpis["rerouted_trips_veh"] > 0
    assert wet_kpis["vehicle_hours_veh_h"] > dry_kpis["vehicle_hours_veh_h"]
    assert wet.log.entries_while_closed == 0
    # vehicles are conserved: every trip is departed, waiting, or not yet due
    for kpis in (dry_kpis, wet_kpis):
        due = int(np.count_nonzero(trips.depart_s < DURATION_S))
        assert kpis["departed_veh"] + kpis["waiting_to_depart_veh"] == due


def test_no_water_changes_nothing(town):
    network, trips, _ = town
    dry = _run(network, trips, None)
    zero = _run(network, trips, lambda t: np.zeros(network.n_links))
    assert zero.kpis()["rerouted_trips_veh"] == 0
    assert np.array_equal(zero.model.state.veh_arrive_s, dry.model.state.veh_arrive_s, equal_nan=True)
