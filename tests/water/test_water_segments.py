"""Valve-bounded segments: same partition as WNTR's, and isolating one leaves it without flow."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

NETWORKS = Path(__import__("wntr").__file__).parent / "library" / "networks"
_CACHE: dict = {}


def _net3(strategy="strategic", n=2, seed=123):
    import wntr

    if "Net3" not in _CACHE:
        _CACHE["Net3"] = wntr.network.WaterNetworkModel(str(NETWORKS / "Net3.inp"))
    wn = copy.deepcopy(_CACHE["Net3"])
    layer = wntr.network.generate_valve_layer(wn, strategy, n, seed=seed)
    return wn, layer


def _partition(labels: dict) -> list:
    groups: dict = {}
    for element, label in labels.items():
        groups.setdefault(label, set()).add(element)
    return sorted(tuple(sorted(g)) for g in groups.values())


@pytest.mark.parametrize(("strategy", "n", "seed"),
                         [("strategic", 1, 1), ("strategic", 2, 123), ("random", 60, 7)])
def test_segments_match_wntr(strategy, n, seed):
    import wntr

    from twin.water.compile import compile_network
    from twin.water.segments import ValveLayer, valve_segments

    wn, layer = _net3(strategy, n, seed)
    node_seg, link_seg, _ = wntr.metrics.topographic.valve_segments(wn.to_graph(), layer)
    net = compile_network(wn)
    segments = valve_segments(net, ValveLayer.from_frame(layer, net))
    theirs = {("n", k): v for k, v in node_seg.items()} | {("l", k): v for k, v in link_seg.items()}
    ours = {("n", name): segments.node_segment[i] for i, name in enumerate(net.node_names)}
    ours |= {("l", name): segments.link_segment[k] for k, name in enumerate(net.link_names)}
    assert _partition(ours) == _partition(theirs)


@settings(max_examples=20)
@given(pipe_pick=st.integers(0, 10_000), hour=st.integers(0, 20))
def test_closing_a_segments_valves_leaves_it_without_flow(pipe_pick, hour):
    from twin.water.compile import compile_network
    from twin.water.segments import ValveLayer, isolation_plan, valve_segments
    from twin.water.simulation import ExtendedPeriodSimulation

    wn, layer = _net3()
    wn.options.hydraulic.demand_model = "PDD"
    wn.options.hydraulic.required_pressure = 20.0
    net = compile_network(wn)
    valves = ValveLayer.from_frame(layer, net)
    segments = valve_segments(net, valves)
    pipes = np.flatnonzero(net.kind <= 1)
    pipe = int(pipes[pipe_pick % len(pipes)])
    close, links, nodes = isolation_plan(net, valves, segments, pipe)
    sim = ExtendedPeriodSimulation(net, duration_s=hour * 3600 + 3600)
    sim.run_until(hour * 3600)
    for k in links:
        sim.set_link_status(int(k), False)
    result = sim.finish()
    after = result.time_s >= hour * 3600
    inside = segments.links(segments.segment_of_link(pipe))
    assert np.abs(result.flow_m3_per_s[np.ix_(after, inside)]).max(initial=0.0) <= 1e-6
    junctions = nodes[nodes < net.n_junctions]
    assert np.abs(result.demand_m3_per_s[np.ix_(after, junctions)]).max(initial=0.0) <= 1e-6
    # the boundary valves really separate the segment: every valve link is closed or inside
    assert set(valves.link[close]) <= set(links)


def test_unknown_valve_names_are_input_errors():
    import pandas as pd

    from twin.errors import InputError
    from twin.water.compile import compile_network
    from twin.water.segments import ValveLayer

    wn, _ = _net3()
    net = compile_network(wn)
    with pytest.raises(InputError):
        ValveLayer.from_frame(pd.DataFrame({"link": ["nope"], "node": ["10"]}), net)
    with pytest.raises(InputError):
        ValveLayer.from_frame(pd.DataFrame({"link": ["20"], "node": ["10"]}), net)
