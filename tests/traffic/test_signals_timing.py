"""Signal timing: Webster, levels of service, plan checks, green-wave bandwidth, priority."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_traffic_networks import build

from kernels.traffic.layout import GREEN_STAGE
from twin.errors import InputError
from twin.generate.roads import signalised_crossing
from twin.traffic.model import TrafficModel
from twin.traffic.signals.checks import plan_problems, validate_plan
from twin.traffic.signals.controller import SignalController
from twin.traffic.signals.los import GbLosTable, gb_los, hcm_los
from twin.traffic.signals.plan import Phase, SignalPlan
from twin.traffic.signals.strategies.green_wave import bandwidth_s, green_wave_offsets
from twin.traffic.signals.timing import TimingParams
from twin.traffic.signals.webster import webster_delay_s, webster_timing
from twin.traffic.trips import Trips


def test_webster_cycle_and_split_follow_the_formula():
    timing = TimingParams(min_green_s=5.0)
    result = webster_timing(
        [0.30, 0.20], [5.0, 5.0], startup_lost_s=2.0, yellow_extension_s=2.0, timing=timing
    )
    lost, big_y = 10.0, 0.5
    assert result.flow_ratio_sum == pytest.approx(big_y)
    assert result.lost_time_s == lost
    c0 = (1.5 * lost + 5.0) / (1.0 - big_y)  # 40 s
    assert not result.oversaturated
    effective = c0 - lost
    assert result.greens_s == pytest.approx([effective * 0.6, effective * 0.4], abs=0.05)
    assert result.cycle_s == pytest.approx(c0, abs=0.1)


def test_webster_oversaturated_uses_the_maximum_cycle():
    timing = TimingParams(max_cycle_s=140.0)
    result = webster_timing([0.5, 0.45], [5.0, 5.0], 2.0, 2.0, timing)
    assert result.oversaturated
    assert result.cycle_s == pytest.approx(140.0, abs=0.1)


def test_webster_respects_minimum_greens():
    timing = TimingParams(min_green_s=15.0)
    result = webster_timing([0.40, 0.02], [5.0, 5.0], 2.0, 2.0, timing)
    assert min(result.greens_s) == 15.0
    assert result.cycle_s == pytest.approx(sum(result.greens_s) + 10.0)


def test_webster_delay_formula_known_value():
    # C = 60 s, g = 30 s, s = 0.5 veh/s, q = 0.15 veh/s: x = 0.6.
    d = webster_delay_s(60.0, 30.0, 0.15, 0.5)
    uniform = 60 * 0.25 / (2 * (1 - 0.3))
    random = 0.36 / (2 * 0.15 * 0.4)
    correction = 0.65 * (60 / 0.15**2) ** (1 / 3) * 0.6 ** (2 + 2.5)
    assert d == pytest.approx(uniform + random - correction)
    assert math.isinf(webster_delay_s(60.0, 30.0, 0.3, 0.5))


@pytest.mark.parametrize(
    ("delay", "vc", "expected"),
    [
        (10.0, 0.5, "A"),
        (10.01, 0.5, "B"),
        (20.0, 0.5, "B"),
        (35.0, 0.9, "C"),
        (55.0, 0.9, "D"),
        (80.0, 0.99, "E"),
        (80.1, 0.5, "F"),
        (5.0, 1.01, "F"),
        (math.inf, 0.5, "F"),
    ],
)
def test_hcm_level_of_service(delay, vc, expected):
    assert hcm_los(delay, vc) == expected


def test_gb_level_of_service_default_and_configurable():
    assert gb_los(25.0, 0.5) == "一级"
    assert gb_los(25.0, 0.7) == "二级"  # the worse of delay and load decides
    assert gb_los(55.0, 0.5) == "三级"
    assert gb_los(75.0, 0.5) == "四级"
    table = GbLosTable(grades=["I", "II"], max_delay_s=[40.0], max_load=[0.8])
    assert gb_los(39.0, 0.5, table) == "I"
    assert gb_los(41.0, 0.5, table) == "II"


def _cross_plan():
    network, plans = build(signalised_crossing())
    return network, plans[0]


def test_plan_checks_catch_conflicts_cycle_and_intergreen():
    network, plan = _cross_plan()
    conflicts = network.conflicts_among(plan.movements)
    assert plan_problems(plan, conflicts) == []
    all_green = plan.phases[0].__class__("G" * len(plan.movements), 30.0)
    bad = SignalPlan.from_phases(plan.controller, plan.movements, [all_green, plan.phases[1]])
    assert any("both protected green" in p for p in plan_problems(bad, conflicts))
    with pytest.raises(InputError, match="both protected green"):
        validate_plan(bad, conflicts)
    wrong_cycle = SignalPlan(plan.controller, plan.movements, plan.phases, plan.cycle_s + 5.0)
    assert any("but the cycle is" in p for p in plan_problems(wrong_cycle, conflicts))
    no_clearance = SignalPlan.from_phases(
        plan.controller, plan.movements, [Phase(p.states, p.green_s, 0.0, 0.0) for p in plan.phases]
    )
    assert any("no intergreen" in p for p in plan_problems(no_clearance, conflicts))


def test_green_wave_offsets_and_bandwidth():
    offsets = green_wave_offsets([10.0, 25.0], cycle_s=60.0)
    assert offsets == [0.0, 10.0, 35.0]
    # Offsets matching the travel times: the whole green is a band.
    assert bandwidth_s(offsets, [30.0, 30.0, 30.0], [10.0, 25.0], 60.0) == pytest.approx(30.0, abs=0.1)
    # Shift the last junction by 12 s: the band shrinks by 12 s.
    assert bandwidth_s([0.0, 10.0, 47.0], [30.0, 30.0, 30.0], [10.0, 25.0], 60.0) == pytest.approx(
        18.0, abs=0.15
    )
    # Half a cycle out of step with equal 30 s greens: no band at all.
    assert bandwidth_s([0.0, 40.0], [30.0, 30.0], [10.0], 60.0) == 0.0


def _switch_times(model, junction=0, until=400.0):
    """Times at which the junction enters a new green phase."""
    times = []
    last = int(model.state.sig_phase[junction])
    while model.time_s < until:
        model.advance_to(model.time_s + 1.0)
        phase = int(model.state.sig_phase[junction])
        if phase != last and model.state.sig_stage[junction] == GREEN_STAGE:
            times.append((model.time_s, phase))
        last = phase
    return times


def test_priority_request_gives_early_green_and_extension():
    network, plan = _cross_plan()
    timing = TimingParams(tsp_max_extension_s=10.0)
    empty = Trips([], np.zeros(0), [])
    # Without a request: phase 1 starts after 40 + 5 s of phase 0 (equal split of 90 s).
    model = TrafficModel(network, SignalController.build(network, [plan], timing), empty)
    baseline = _switch_times(model, until=100.0)
    assert baseline[0][0] == pytest.approx(plan.phases[0].duration_s + 1.0, abs=1.0)
    # A bus for a phase-1 movement asks at 5 s: phase 0 is cut to its minimum green.
    second = plan.movements[plan.phases[1].states.index("G")]
    controller = SignalController.build(network, [plan], timing)
    model = TrafficModel(network, controller, empty)
    decision = controller.request_priority(plan.controller, second, 5.0, hold_s=20.0, state=model.state)
    assert decision.action == "early_green"
    early = _switch_times(model, until=100.0)
    assert early[0][0] < baseline[0][0] - 20.0
    assert early[0][0] == pytest.approx(
        plan.phases[0].min_green_s + plan.phases[0].yellow_s + plan.phases[0].all_red_s + 1.0, abs=1.5
    )
    # A bus for a phase-0 movement arriving just as its green ends gets an extension.
    first = plan.movements[plan.phases[0].states.index("G")]
    controller = SignalController.build(network, [plan], timing)
    model = TrafficModel(network, controller, empty)
    model.advance_to(35.0)
    decision = controller.request_priority(plan.controller, first, 38.0, hold_s=8.0, state=model.state)
    assert decision.action == "already_green"
    extended = _switch_times(model, until=100.0)
    assert extended[0][0] > baseline[0][0] + 3.0
    assert extended[0][0] <= baseline[0][0] + timing.tsp_max_extension_s + 1.0
