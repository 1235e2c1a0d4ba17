"""A permitted left turn against opposing traffic: capacity from gap acceptance theory.

The kernel lets a yielding vehicle go when the last priority vehicle passed at least
``clearance_s`` ago and the next one reaches the stop line no sooner than ``critical_gap_s``
from now; queued vehicles follow each other at the turn's saturation headway. That is the
step-function gap acceptance model with critical headway ``t_c = clearance_s + critical_gap_s``
and follow-up headway ``t_f = 1 / (saturation flow × left-turn factor)``, whose capacity has
closed forms:

* HCM 2000 (ch. 16, appendix C) permitted left-turn saturation flow, for exponential opposing
  headways: ``s_p = v_o e^{-v_o t_c} / (1 − e^{-v_o t_f})`` with ``t_c = 4.5 s``, ``t_f = 2.5 s``;
* Tanner (1962), for an opposing stream whose vehicles are at least ``Δ`` apart (here the
  opposing lane's saturation headway, since it discharges through the same stop line):
  ``c = v_o (1 − Δ v_o) e^{-v_o (t_c − Δ)} / (1 − e^{-v_o t_f})``.

The model is set to HCM's headways; the left-turn demand always exceeds capacity.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_traffic_networks import build

from twin.generate.roads import signalised_crossing
from twin.traffic.model import simulate
from twin.traffic.params import TrafficParams
from twin.traffic.signals.plan import Phase, SignalPlan
from twin.traffic.trips import Trips

CRITICAL_HEADWAY_S = 4.5  # HCM 2000 permitted left turn
FOLLOW_UP_S = 2.5
HORIZON_S = 2 * 3600.0
WARM_UP_S = 45.0  # first left-turner's travel from its origin to the stop line (600 m at 50 km/h)


def _params() -> TrafficParams:
    saturation = TrafficParams().saturation_flow_veh_per_h_per_lane
    return TrafficParams(
        step_s=0.25,
        clearance_s=1.5,
        critical_gap_s=CRITICAL_HEADWAY_S - 1.5,
        left_turn_factor=3600.0 / FOLLOW_UP_S / saturation,
    )


def _left_turn_capacity_veh_per_h(opposing_veh_per_h: float, seed: int = 0) -> tuple[float, float]:
    """The permitted left's discharge (veh/h) under a permanent green, and the opposing flow
    that actually crossed (veh/h)."""
    params = _params()
    network, plans = build(signalised_crossing(), params)
    default = plans[0]

    def link(u: str, v: str) -> int:
        return network.link_index[(u, v, 0)]

    east_west = {link("W", "J"), link("E", "J")}
    states = "".join(
        ("g" if network.mov_turn[m] == "L" else "G") if network.mov_in[m] in east_west else "r"
        for m in default.movements
    )
    green_s = HORIZON_S + 600.0
    phases = [Phase(states, green_s, 3.0, 2.0, 5.0, green_s)]
    plan = SignalPlan.from_phases(default.controller, default.movements, phases)
    rng = np.random.default_rng(seed)
    opposing = np.sort(rng.uniform(0.0, HORIZON_S, rng.poisson(opposing_veh_per_h / 3600.0 * HORIZON_S)))
    lefts = np.arange(0.0, HORIZON_S, 1.0)  # 3,600 veh/h: always a queue
    trips = Trips(
        [f"o{i}" for i in range(len(opposing))] + [f"l{i}" for i in range(len(lefts))],
        np.concatenate([opposing, lefts]),
        [np.array([link("E", "J"), link("J", "W")])] * len(opposing)
        + [np.array([link("FW", "W"), link("W", "J"), link("J", "N")])] * len(lefts),
    )
    state = simulate(network, [plan], trips, 0.0, HORIZON_S).state
    left = network.mov_lookup[(link("W", "J"), link("J", "N"))]
    through = network.mov_lookup[(link("E", "J"), link("J", "W"))]
    return (
        state.mov_passed[left] / (HORIZON_S - WARM_UP_S) * 3600.0,
        state.mov_passed[through] / HORIZON_S * 3600.0,
    )


def _hcm_permitted_left_veh_per_h(opposing_veh_per_h: float) -> float:
    q = opposing_veh_per_h / 3600.0
    return q * math.exp(-q * CRITICAL_HEADWAY_S) / (1.0 - math.exp(-q * FOLLOW_UP_S)) * 3600.0


def _tanner_veh_per_h(opposing_veh_per_h: float, min_headway_s: float) -> float:
    q = opposing_veh_per_h / 3600.0
    return (
        q * (1.0 - min_headway_s * q) * math.exp(-q * (CRITICAL_HEADWAY_S - min_headway_s))
        / (1.0 - math.exp(-q * FOLLOW_UP_S)) * 3600.0
    )


@pytest.mark.parametrize("opposing_veh_per_h", [200, 400, 600])
def test_permitted_left_matches_hcm_under_light_opposing_flow(opposing_veh_per_h):
    capacity, opposing = _left_turn_capacity_veh_per_h(opposing_veh_per_h)
    assert capacity == pytest.approx(_hcm_permitted_left_veh_per_h(opposing), rel=0.10)


@pytest.mark.parametrize("opposing_veh_per_h", [200, 400, 600, 800, 1000])
def test_permitted_left_matches_tanner_with_the_opposing_saturation_headway(opposing_veh_per_h):
    """Above about 600 veh/h the opposing lane's own saturation headway (2 s) makes its gaps
    less random than HCM's exponential ones, and Tanner's formula is the one that applies."""
    capacity, opposing = _left_turn_capacity_veh_per_h(opposing_veh_per_h)
    min_headway_s = 3600.0 / TrafficParams().saturation_flow_veh_per_h_per_lane
    assert capacity == pytest.approx(_tanner_veh_per_h(opposing, min_headway_s), rel=0.05)
