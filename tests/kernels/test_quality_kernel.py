"""The water-quality kernel against its plain-Python twin, and the invariants of what it returns.

Random networks: a tree rooted at a reservoir with a tank and junctions whose demands change sign
from one interval to the next (so flows reverse and segments flip), plus extra links that carry
no flow (stagnant pipes, junctions without inflow). Tree flows are the sums of the demands below,
so continuity holds at every junction and a conservative chemical must balance exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels.hydraulics.codes import JUNCTION, PIPE, PUMP, RESERVOIR, TANK
from kernels.quality.codes import (
    AGE,
    CHEMICAL,
    CONCEN,
    FIFO,
    FLOWPACED,
    LIFO,
    MASS,
    MIX1,
    MIX2,
    NO_SOURCE,
    SETPOINT,
    TRACE,
)
from kernels.quality.reference import route_quality_reference
from kernels.quality.transport import B_FINAL, B_IN, B_INITIAL, B_OUT, B_REACTED, route_quality


def _csr(n_nodes: int, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    nodes = np.concatenate([start, end])
    links = np.concatenate([np.arange(len(start))] * 2)
    order = np.lexsort((-links, nodes))
    ptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.add.at(ptr, nodes + 1, 1)
    return np.cumsum(ptr), links[order].astype(np.int64)


def random_case(seed: int, n_junctions: int, n_intervals: int, mode: int, mix: int, with_sources: bool,
                react: bool) -> dict:  # long: builds every array the kernel takes
    """A random tree network (node 0 reservoir, node 1 tank) and its hydraulic intervals."""
    rng = np.random.default_rng(seed)
    n = n_junctions + 2
    kind = np.full(n, JUNCTION, dtype=np.int64)
    kind[0], kind[1] = RESERVOIR, TANK
    parent = np.array([-1] + [int(rng.integers(0, i)) for i in range(1, n)])
    tree = np.arange(1, n)
    extra_a = rng.integers(2, n, 3)
    extra_b = rng.integers(2, n, 3)
    keep = extra_a != extra_b
    start = np.concatenate([parent[tree], extra_a[keep]]).astype(np.int64)
    end = np.concatenate([tree, extra_b[keep]]).astype(np.int64)
    flip = rng.random(len(start)) < 0.4  # links drawn against the flow get negative flows
    start[flip], end[flip] = end[flip], start[flip].copy()
    n_links = len(start)
    link_kind = np.where(rng.random(n_links) < 0.1, PUMP, PIPE).astype(np.int64)
    volume = np.where(link_kind == PIPE, rng.uniform(0.5, 20.0, n_links), 0.0)
    demand = rng.uniform(-0.01, 0.02, (n_intervals, n))
    demand[:, 0] = 0.0
    flow = np.zeros((n_intervals, n_links))
    for h in range(n_intervals):
        below = demand[h].copy()
        for i in range(n - 1, 0, -1):  # parents have lower indices: sum demands up the tree
            below[parent[i]] += below[i]
        for k in range(n - 1):
            child = tree[k]
            flow[h, k] = below[child] * (-1.0 if flip[k] else 1.0)
    ptr, adj = _csr(n, start, end)
    stype = np.full(n, NO_SOURCE, dtype=np.int64)
    strength = np.zeros((n_intervals, n))
    if with_sources and mode == CHEMICAL:
        for node, t in zip(rng.choice(np.arange(2, n), 3, replace=False), (CONCEN, MASS, SETPOINT), strict=True):
            stype[node] = t
        stype[1] = FLOWPACED
        strength[:] = rng.uniform(0.0, 2.0, (n_intervals, n))
    v0 = float(rng.uniform(500.0, 2000.0))
    return dict(
        mode=mode, react=react or mode == AGE, trace_node=int(rng.integers(0, n)) if mode == TRACE else -1,
        qstep_s=int(rng.choice([60, 300, 900])), ctol=float(rng.choice([0.0, 0.01])),
        node_kind=kind, c0=rng.uniform(0.0, 1.0, n) if mode == CHEMICAL else np.zeros(n),
        start=start, end=end, link_kind=link_kind, volume_m3=volume, adj_ptr=ptr, adj_link=adj,
        tank_node=np.array([1], dtype=np.int64), tank_v0_m3=np.array([v0]),
        tank_vmix_m3=np.array([0.4 * v0]), tank_kb_per_s=np.array([-1e-5 if react else 0.0]),
        tank_mix=np.array([mix], dtype=np.int64),
        interval_s=rng.integers(300, 3600, n_intervals).astype(np.int64), flow_m3_per_s=flow,
        demand_m3_per_s=demand,
        kb_per_s=np.full(n_links, -2e-5 if react else 0.0),
        kw_per_s=rng.uniform(-3e-5, 0.0, (n_intervals, n_links)) if react else np.zeros((n_intervals, n_links)),
        source_type=stype, source_strength=strength, capacity=4096,
    )


CASES = st.tuples(st.integers(0, 10_000), st.integers(3, 14), st.integers(1, 6),
                  st.sampled_from([MIX1, MIX2, FIFO, LIFO]))


@settings(max_examples=40)
@given(CASES, st.sampled_from([CHEMICAL, AGE, TRACE]), st.booleans(), st.booleans())
def test_kernel_equals_reference(case, mode, with_sources, react):
    seed, nj, ni, mix = case
    args = random_case(seed, nj, ni, mode, mix, with_sources, react)
    quality, balance, status = route_quality(**args)
    ref_quality, ref_balance, _ = route_quality_reference(**args)
    assert status == 0
    np.testing.assert_allclose(quality, ref_quality, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(balance, ref_balance, rtol=1e-9, atol=1e-9)


@settings(max_examples=40)
@given(CASES, st.booleans())
def test_conservative_chemical_balances(case, with_sources):
    """Mass in = mass out + change in storage, to 1e-6 relative, with every mixing model.

    EPANET's FIFO and LIFO tanks add inflow within ``TOLERANCE`` of the last segment's quality to
    its volume without mixing it in, so they conserve mass only to within that tolerance; with
    ``TOLERANCE = 0`` they are exact, which is what is checked for them here.
    """
    seed, nj, ni, mix = case
    args = random_case(seed, nj, ni, CHEMICAL, mix, with_sources, react=False)
    if mix in (FIFO, LIFO):
        args["ctol"] = 0.0
    _, b, status = route_quality(**args)
    assert status == 0
    assert b[B_REACTED] == 0.0
    supplied = b[B_INITIAL] + b[B_IN]
    accounted = b[B_OUT] + b[B_FINAL]
    assert abs(supplied - accounted) <= 1e-6 * max(supplied, 1e-12)


@settings(max_examples=40)
@given(CASES)
def test_age_between_zero_and_elapsed(case):
    seed, nj, ni, mix = case
    args = random_case(seed, nj, ni, AGE, mix, False, react=True)
    quality, _, _ = route_quality(**args)
    elapsed_h = np.concatenate([[0], np.cumsum(args["interval_s"])]) / 3600.0
    assert quality.min() >= 0.0
    assert np.all(quality <= elapsed_h[:, None] + 1e-9)


@settings(max_examples=40)
@given(CASES)
def test_trace_between_0_and_100(case):
    seed, nj, ni, mix = case
    args = random_case(seed, nj, ni, TRACE, mix, False, react=False)
    quality, _, _ = route_quality(**args)
    assert quality.min() >= -1e-9 and quality.max() <= 100.0 + 1e-9
    assert np.all(quality[:, args["trace_node"]] == 100.0)


def test_small_pool_reports_overflow():
    """The kernel stops with status 1 rather than write past its pool; the caller grows it."""
    args = random_case(3, 10, 4, CHEMICAL, MIX1, True, react=True)
    args["capacity"] = 4
    _, _, status = route_quality(**args)
    assert status == 1


@pytest.mark.parametrize("mix", [MIX1, MIX2, FIFO, LIFO])
def test_plug_of_water_reaches_the_end_of_a_pipe_after_its_travel_time(mix):
    """Reservoir (1 mg/L) -> 100 m³ pipe at 0.01 m³/s -> junction: the junction sees 0 up to
    10 000 s (the pipe's first contents), then 1 (a tank only to exercise the mixing code)."""
    node_kind = np.array([RESERVOIR, JUNCTION, TANK], dtype=np.int64)
    start, end = np.array([0, 1], dtype=np.int64), np.array([1, 2], dtype=np.int64)
    ptr, adj = _csr(3, start, end)
    n_int = 40
    flow = np.tile([0.01, 0.005], (n_int, 1))
    demand = np.tile([0.0, 0.005, 0.0], (n_int, 1))
    quality, _, _ = route_quality(
        CHEMICAL, False, -1, 500, 0.01, node_kind, np.array([1.0, 0.0, 0.0]), start, end,
        np.array([PIPE, PIPE], dtype=np.int64), np.array([100.0, 1.0]), ptr, adj,
        np.array([2], dtype=np.int64), np.array([50.0]), np.array([20.0]), np.array([0.0]),
        np.array([mix], dtype=np.int64), np.full(n_int, 500, dtype=np.int64), flow, demand,
        np.zeros(2), np.zeros((n_int, 2)), np.full(3, NO_SOURCE, dtype=np.int64), np.zeros((n_int, 3)), 256)
    t = np.arange(n_int + 1) * 500
    assert np.all(quality[t <= 10_000, 1] == 0.0)
    assert np.all(quality[t > 10_000, 1] == pytest.approx(1.0))
