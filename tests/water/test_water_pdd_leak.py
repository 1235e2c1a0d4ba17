"""Pressure-driven demand and orifice leaks, against WNTR's WNTRSimulator and as properties.

WNTR solves Wagner's pressure-driven demand and its leak model (q = Cd A √(2 g p)) with a
Newton solver of its own, on the same network split at the leak; delivered demands and leak flow
must agree within 2 %.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

NETWORKS = Path(__import__("wntr").__file__).parent / "library" / "networks"
_BASE: dict = {}


def _net1(demand_factor: float, required_m: float):
    import wntr

    if "Net1" not in _BASE:
        _BASE["Net1"] = wntr.network.WaterNetworkModel(str(NETWORKS / "Net1.inp"))
    wn = copy.deepcopy(_BASE["Net1"])
    wn.options.time.duration = 0
    for name in wn.junction_name_list:
        wn.get_node(name).demand_timeseries_list[0].base_value *= demand_factor
    wn.options.hydraulic.demand_model = "PDD"
    wn.options.hydraulic.minimum_pressure = 0.0
    wn.options.hydraulic.required_pressure = required_m
    wn.options.hydraulic.pressure_exponent = 0.5
    return wn


@pytest.mark.parametrize(("demand_factor", "required_m", "pipe", "area_m2"), [
    (4.0, 40.0, "122", 0.005),
    (5.0, 60.0, "31", 0.02),
])
def test_pdd_and_leak_match_wntr(demand_factor, required_m, pipe, area_m2):
    import wntr

    from twin.water.compile import compile_network
    from twin.water.leaks import Leak, add_leak
    from twin.water.simulation import simulate

    wn = _net1(demand_factor, required_m)
    split = wntr.morph.split_pipe(wn, pipe, f"{pipe}__b", f"{pipe}__leak", split_at_point=0.5)
    split.get_node(f"{pipe}__leak").add_leak(split, area=area_m2, discharge_coeff=0.75, start_time=0)
    reference = wntr.sim.WNTRSimulator(split).run_sim()
    net, node = add_leak(compile_network(wn), Leak(pipe, 0.5, area_m2=area_m2, discharge_coefficient=0.75))
    ours = simulate(net)
    leak_ref = reference.node["leak_demand"][f"{pipe}__leak"].iloc[0]
    assert ours.leak_m3_per_s[0, node] == pytest.approx(leak_ref, rel=0.02)
    demand_ref = reference.node["demand"].iloc[0]
    partial = 0
    for name in wn.junction_name_list:
        i = net.node_index(name)
        required = ours.required_m3_per_s[0, i]
        delivered = ours.demand_m3_per_s[0, i]
        assert delivered == pytest.approx(demand_ref[name], rel=0.02, abs=1e-6)
        partial += 1e-6 < delivered < required - 1e-6
    assert partial >= 1  # the case exercises the partial-service range


@settings(max_examples=25)
@given(factor=st.floats(0.5, 8.0), required=st.floats(10.0, 80.0), hour=st.integers(0, 23))
def test_delivered_demand_between_zero_and_required(factor, required, hour):
    from twin.water.compile import compile_network
    from twin.water.epanet_constants import PDA_QTOL
    from twin.water.simulation import simulate

    wn = _net1(factor, required)
    net = compile_network(wn)
    result = simulate(net, duration_s=hour * 3600)
    delivered = result.demand_m3_per_s[:, : net.n_junctions]
    # within the solver's demand tolerance (EPANET's 1e-4 cfs check of pressure-driven demands)
    assert np.all(delivered >= -PDA_QTOL)
    assert np.all(delivered <= result.required_m3_per_s + PDA_QTOL)


@settings(max_examples=20)
@given(small=st.floats(1e-4, 0.02), ratio=st.floats(1.05, 5.0), position=st.floats(0.05, 0.95),
       pipe=st.sampled_from(["10", "111", "122", "31", "113"]))
def test_leak_flow_nonnegative_and_increasing_in_area(small, ratio, position, pipe):
    from twin.water.compile import compile_network
    from twin.water.leaks import Leak, add_leak, leak_flow
    from twin.water.simulation import simulate

    base = compile_network(_net1(1.0, 20.0))
    flows = []
    for area in (small, small * ratio):
        leak = Leak(pipe, position, area_m2=area)
        net, node = add_leak(base, leak)
        result = simulate(net)
        q = result.leak_m3_per_s[0, node]
        pressure = result.pressure_m[0, node]
        assert q >= 0.0
        # the solved flow is the orifice law at the solved pressure
        k = leak.orifice_coefficient(float(net.diameter_m[net.link_index(pipe)]))
        assert q == pytest.approx(float(leak_flow(pressure, k, 0.5)), rel=1e-3, abs=1e-7)
        flows.append(q)
    assert flows[1] > flows[0]


def test_leak_parameters_and_validation():
    from twin.errors import InputError
    from twin.water.leaks import Leak

    leak = Leak("P1", area_fraction=1.0, discharge_coefficient=0.6, exponent=0.5)
    assert leak.area(0.3) == pytest.approx(np.pi * 0.3**2 / 4)
    ke, n = leak.headloss_parameters(0.3)
    k = leak.orifice_coefficient(0.3)
    # head loss ke q^n inverts q = k p^0.5
    q = k * 25.0**0.5
    assert ke * q**n == pytest.approx(25.0)
    for bad in (dict(area_m2=0.1, area_fraction=0.5), dict(), dict(area_m2=-1.0),
                dict(area_m2=0.1, position=1.5), dict(area_m2=0.1, exponent=5.0)):
        with pytest.raises(InputError):
            Leak("P1", **bad)


def test_split_pipe_keeps_the_hydraulics():
    """Splitting a pipe without opening a leak leaves every head unchanged."""
    from twin.water.compile import compile_network
    from twin.water.leaks import split_pipe
    from twin.water.simulation import simulate

    net = compile_network(_net1(1.0, 20.0))
    before = simulate(net, duration_s=3 * 3600)
    split, node = split_pipe(net, "122", 0.3)
    after = simulate(split, duration_s=3 * 3600)
    cols = [split.node_index(n) for n in net.node_names]
    np.testing.assert_allclose(after.head_m[:, cols], before.head_m, atol=1e-3)
    assert split.node_names[node] == "122__leak"
    k = split.link_index("122")
    assert split.length_m[k] == pytest.approx(0.3 * net.length_m[net.link_index("122")])
