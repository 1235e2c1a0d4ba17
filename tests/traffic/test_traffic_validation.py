"""The traffic model against analytic results.

* An isolated fixed-time junction with Poisson arrivals: the mean stop-line delay agrees with
  Webster's (1958) delay formula within 15 % for degrees of saturation up to 0.85.
* A single bottleneck discharges exactly its capacity (saturation flow × lanes), whatever the
  time step, and the queue behind it spills back instead of vanishing.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from test_traffic_networks import build

from twin.city.travel_times import FreeFlowTravelTimes, fastest_route
from twin.generate.roads import add_road, one_way_ring, signalised_crossing
from twin.traffic.model import TrafficModel, simulate
from twin.traffic.params import TrafficParams
from twin.traffic.signals.controller import SignalController
from twin.traffic.signals.plan import Phase, SignalPlan
from twin.traffic.signals.timing import TimingParams
from twin.traffic.signals.webster import webster_delay_s
from twin.traffic.trips import Trips

CYCLE_S = 90.0
GREEN_S = 40.0


def _poisson(rate_per_s: float, horizon_s: float, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.uniform(0.0, horizon_s, rng.poisson(rate_per_s * horizon_s)))


@pytest.mark.parametrize("degree_of_saturation", [0.5, 0.7, 0.85])
def test_isolated_fixed_time_junction_delay_matches_webster(degree_of_saturation):
    params = TrafficParams()
    timing = TimingParams()
    network, plans = build(signalised_crossing(), params, timing)
    default = plans[0]
    plan = SignalPlan.from_phases(
        default.controller, default.movements, [Phase(p.states, GREEN_S, 3.0, 2.0) for p in default.phases]
    )
    assert plan.cycle_s == CYCLE_S

    def link(u, v):
        return network.link_index[(u, v, 0)]

    east = np.array([link("FW", "W"), link("W", "J"), link("J", "E")])
    south = np.array([link("FN", "N"), link("N", "J"), link("J", "S")])
    measured = network.mov_lookup[(link("W", "J"), link("J", "E"))]
    saturation = params.saturation_flow_veh_per_h_per_lane / 3600.0
    effective_green = GREEN_S - params.startup_lost_s + params.yellow_extension_s
    flow = degree_of_saturation * saturation * effective_green / CYCLE_S
    horizon = 4 * 3600.0
    delays = []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        a, b = _poisson(flow, horizon, rng), _poisson(flow, horizon, rng)
        trips = Trips(
            [f"e{i}" for i in range(len(a))] + [f"s{i}" for i in range(len(b))],
            np.concatenate([a, b]),
            [east] * len(a) + [south] * len(b),
        )
        state = simulate(network, [plan], trips, 0.0, horizon + 900.0, timing).state
        assert state.mov_passed[measured] == len(a)
        delays.append(state.mov_delay_sum_s[measured] / state.mov_passed[measured])
    expected = webster_delay_s(CYCLE_S, effective_green, flow, saturation)
    assert np.mean(delays) == pytest.approx(expected, rel=0.15)


def _bottleneck_graph() -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph(crs=None)
    for name, x in [("A", 0.0), ("B", 300.0), ("C", 600.0), ("D", 900.0)]:
        graph.add_node(name, x=x, y=0.0)
    add_road(graph, "A", "B", lanes=2, both=False)
    add_road(graph, "B", "C", lanes=1, both=False)
    add_road(graph, "C", "D", lanes=1, both=False)
    return graph


@pytest.mark.parametrize(("step_s", "saturation_veh_per_h"), [(1.0, 1800.0), (0.5, 1750.0), (2.0, 1900.0)])
def test_bottleneck_discharges_exactly_its_capacity(step_s, saturation_veh_per_h):
    params = TrafficParams(
        step_s=step_s, saturation_flow_veh_per_h_per_lane=saturation_veh_per_h, sync_interval_s=60.0
    )
    network, _ = build(_bottleneck_graph(), params)
    route = np.array([network.link_index[e] for e in [("A", "B", 0), ("B", "C", 0), ("C", "D", 0)]])
    demand_veh_per_s = 1.4 * saturation_veh_per_h / 3600.0  # 40 % above the 1-lane capacity
    horizon = 3600.0
    departs = np.arange(0.0, horizon, 1.0 / demand_veh_per_s)
    trips = Trips([str(i) for i in range(len(departs))], departs, [route] * len(departs))
    model = TrafficModel(network, SignalController.build(network, [], TimingParams()), trips)
    exit_movement = network.mov_lookup[(int(route[1]), int(route[2]))]
    model.advance_to(600.0)  # the queue has formed
    before = int(model.state.mov_passed[exit_movement])
    model.advance_to(3000.0)
    passed = int(model.state.mov_passed[exit_movement]) - before
    capacity = saturation_veh_per_h / 3600.0 * 2400.0
    assert abs(passed - capacity) <= 1.0
    # The excess has not vanished: it is queued on the links upstream or waiting to enter.
    departed = np.count_nonzero(~np.isnan(model.state.veh_start_s))
    assert model.state.link_occ[route[0]] == network.link_storage_veh[route[0]]
    assert departed < len(departs[departs < 3000.0])


def test_gridlock_is_reported_with_its_place_and_nobody_teleports():
    params = TrafficParams(gridlock_after_s=120.0, sync_interval_s=10.0)
    network, _ = build(one_way_ring(), params)
    ring = ["A", "B", "C", "D"]

    def link(u, v):
        return network.link_index[(u, v, 0)]

    routes = []
    for i, start in enumerate(ring):  # three quarters round the ring, then out
        path = [f"in{start}", *[ring[(i + k) % 4] for k in range(4)], f"out{ring[(i + 3) % 4]}"]
        routes.append(np.array([link(a, b) for a, b in zip(path[:-1], path[1:], strict=True)]))
    departs = np.arange(0.0, 600.0, 0.5)
    trips = Trips(
        [str(i) for i in range(len(departs))], departs, [routes[i % 4] for i in range(len(departs))]
    )
    model = TrafficModel(network, SignalController.build(network, [], TimingParams()), trips)
    model.advance_to(1500.0)
    assert model.gridlocks, "the locked ring was not reported"
    locked = set(model.gridlocks[0].links)
    assert {network.link_ids[link(a, b)] for a, b in zip(ring, ring[1:] + ring[:1], strict=True)} <= locked
    assert set(model.gridlocks[0].nodes) <= set(ring)
    state = model.state
    ring_links = [link(a, b) for a, b in zip(ring, ring[1:] + ring[:1], strict=True)]
    assert all(state.link_occ[i] == network.link_storage_veh[i] for i in ring_links)
    departed = int(np.count_nonzero(~np.isnan(state.veh_start_s)))
    arrived = int(np.count_nonzero(~np.isnan(state.veh_arrive_s)))
    assert departed == arrived + int(state.link_occ.sum())  # stuck, not teleported
    assert model.kpis()["gridlocks_count"] >= 1


def test_time_of_day_travel_times_for_other_layers():
    """Measured link times by time of day: a queued link is slow in its bins, routes see it."""
    graph = _bottleneck_graph()
    graph.add_node("E", x=300.0, y=400.0)
    add_road(graph, "B", "E", lanes=1, speed_kph=30.0, both=False)
    add_road(graph, "E", "D", lanes=1, speed_kph=30.0, both=False)
    network, _ = build(graph, TrafficParams(stats_bin_s=600.0))
    route = np.array([network.link_index[e] for e in [("A", "B", 0), ("B", "C", 0), ("C", "D", 0)]])
    departs = np.arange(0.0, 1200.0, 1.0)  # 3600 veh/h into a 1800 veh/h road
    trips = Trips([str(i) for i in range(len(departs))], departs, [route] * len(departs))
    model = TrafficModel(network, SignalController.build(network, [], TimingParams()), trips)
    model.advance_to(1800.0)
    times = model.travel_times()
    assert list(times.bin_start_s) == [0.0, 600.0, 1200.0]
    free = FreeFlowTravelTimes(graph)
    assert times.edge_time_s(("A", "B", 0), 900.0) > 5 * free.edge_time_s(("A", "B", 0), 0.0)
    assert times.edge_time_s(("B", "C", 0), 900.0) < 1.5 * free.edge_time_s(("B", "C", 0), 0.0)
    # A crew or a bus routing from A at 900 s sees the queue on A→B (there is no way round it).
    calm = fastest_route(graph, free, "A", "D")
    busy = fastest_route(graph, times, "A", "D", depart_s=900.0)
    assert busy.nodes == calm.nodes == ["A", "B", "C", "D"]
    assert busy.duration_s > calm.duration_s + 100.0
    table = model.link_table()
    assert set(table["bin_start_s"]) == {0.0, 600.0, 1200.0}
    assert table["exited_veh"].sum() == model.state.link_exited.sum()
