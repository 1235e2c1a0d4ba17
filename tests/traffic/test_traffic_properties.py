"""Invariants of the traffic kernel on random small networks and demands (hypothesis).

* vehicles are conserved at every step: entered = exited + on the network;
* 0 ≤ vehicles on a link ≤ its storage, and queues never exceed the vehicles on their link;
* no two conflicting movements are ever protected-green together, whatever the controller;
* the Numba kernel and the plain-Python reference give identical states;
* the same seed gives the same result.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_traffic_networks import build, random_trips

from kernels.traffic.layout import C_ENTERED, C_EXITED, PROTECTED
from kernels.traffic.reference import advance_reference
from kernels.traffic.step import advance
from twin.generate.roads import random_grid
from twin.traffic.model import TrafficModel, simulate
from twin.traffic.params import TrafficParams
from twin.traffic.signals.controller import SignalController
from twin.traffic.signals.strategies.registry import strategy_names, with_strategy
from twin.traffic.signals.timing import TimingParams

KERNEL_STRATEGIES = [s for s in strategy_names() if s in ("fixed", "actuated", "max_pressure")]


@st.composite
def scenarios(draw):
    """A random small grid (short links, so queues spill back), plans, strategies and trips."""
    seed = draw(st.integers(0, 10_000))
    nx_ = draw(st.integers(2, 3))
    ny = draw(st.integers(2, 3))
    spacing = draw(st.sampled_from([30.0, 60.0, 120.0]))
    graph = random_grid(
        nx_, ny, spacing_m=spacing, seed=seed, signal_share=draw(st.sampled_from([0.0, 0.5, 1.0]))
    )
    params = TrafficParams(step_s=draw(st.sampled_from([0.5, 1.0, 2.0])), sync_interval_s=10.0)
    timing = TimingParams(default_cycle_s=draw(st.sampled_from([40.0, 60.0, 90.0])))
    network, plans = build(graph, params, timing)
    rng = np.random.default_rng(seed)
    plans = [with_strategy(p, str(rng.choice(KERNEL_STRATEGIES)), timing) for p in plans]
    n_trips = draw(st.integers(0, 300))
    hotspots = draw(st.sampled_from([0, 1, 3]))
    trips = random_trips(network, n_trips, horizon_s=240.0, seed=seed + 1, hotspots=hotspots)
    priority = draw(st.booleans())
    return network, plans, trips, timing, priority


def _model(network, plans, trips, timing, reference=False):
    controller = SignalController.build(network, plans, timing)
    return TrafficModel(network, controller, trips, use_reference=reference)


@given(scenarios())
@settings(max_examples=60)
def test_conservation_storage_and_no_conflicting_greens_at_every_step(case):
    network, plans, trips, timing, priority = case
    model = _model(network, plans, trips, timing)
    net, sig, veh, state = model.net, model.controller.arrays, model.veh, model.state
    if priority and plans:
        plan = plans[0]
        model.controller.request_priority(plan.controller, plan.movements[0], 60.0, hold_s=60.0, state=state)
    foe_pairs = [
        (m, int(f))
        for m in range(len(net.mov_in_link))
        for f in net.foe_mov[net.foe_ptr[m] : net.foe_ptr[m + 1]]
        if m < f
    ]
    record = np.zeros((1, 3), np.int64)
    t = 0.0
    for _ in range(int(480 / network.params.step_s)):
        t = advance(t, 1, net, sig, veh, state, record)
        entered, exited, on_network = record[0]
        assert entered == exited + on_network
        assert entered == state.counters[C_ENTERED] and exited == state.counters[C_EXITED]
        assert (state.link_occ >= 0).all()
        assert (state.link_occ <= net.link_storage_veh).all()
        queued = np.zeros(network.n_links, np.int64)
        np.add.at(queued, net.queue_link, state.queue_now)
        assert (queued <= state.link_occ).all()
        for m, f in foe_pairs:
            assert not (
                state.mov_state[m] == PROTECTED
                and state.mov_state[f] == PROTECTED
                and net.mov_junction[m] >= 0
            ), f"conflicting greens {m}, {f} at {t}"
    # Every vehicle is somewhere: not yet departed, waiting to enter, on a link, or arrived.
    departed = ~np.isnan(state.veh_start_s)
    arrived = ~np.isnan(state.veh_arrive_s)
    assert arrived.sum() == state.counters[C_EXITED]
    assert departed.sum() == state.counters[C_ENTERED]
    assert (state.veh_arrive_s[arrived] >= state.veh_start_s[arrived]).all()


@given(scenarios())
@settings(max_examples=60)
def test_kernel_matches_reference(case):
    network, plans, trips, timing, priority = case
    kernel = _model(network, plans, trips, timing)
    reference = _model(network, plans, trips, timing, reference=True)
    if priority and plans:
        for model in (kernel, reference):
            model.controller.request_priority(plans[0].controller, plans[0].movements[-1], 30.0, hold_s=90.0)
    record_k = np.zeros((600, 3), np.int64)
    record_r = np.zeros((600, 3), np.int64)
    t_k = advance(0.0, 600, kernel.net, kernel.controller.arrays, kernel.veh, kernel.state, record_k)
    t_r = advance_reference(
        0.0, 600, reference.net, reference.controller.arrays, reference.veh, reference.state, record_r
    )
    assert t_k == t_r
    np.testing.assert_array_equal(record_k, record_r)
    for name in kernel.state._fields:
        np.testing.assert_array_equal(
            getattr(kernel.state, name), getattr(reference.state, name), err_msg=f"state field {name}"
        )


@given(seed=st.integers(0, 1000))
@settings(max_examples=8)
def test_same_seed_same_result(seed):
    graph = random_grid(3, 3, spacing_m=100.0, seed=seed)
    timing = TimingParams()
    outcomes = []
    for _ in range(2):
        network, plans = build(graph, TrafficParams(), timing)
        trips = random_trips(network, 80, 600.0, seed=seed)
        model = simulate(network, plans, trips, 0.0, 1200.0, timing)
        outcomes.append(model.tripinfo())
    assert outcomes[0].equals(outcomes[1])
