"""Properties of the hydraulic kernels and of solved states.

* every Numba kernel agrees with its NumPy/Python reference;
* head loss has the sign of the flow;
* the sparse factorisations solve the same systems as a dense solver;
* solved states balance mass at every junction and time step.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kernels.hydraulics import cholesky as chol
from kernels.hydraulics import codes, coefficients, equations
from kernels.hydraulics import status as status_rules
from twin.water.epanet_constants import CBIG, CBIG_CONDUCTANCE, CSMALL, RQTOL

NETWORKS = Path(__import__("wntr").__file__).parent / "library" / "networks"

flows = st.floats(min_value=-5.0, max_value=5.0, allow_nan=False).filter(lambda q: abs(q) > 1e-9)


def _pipe_arrays(n, rng, formula):
    resistance = rng.uniform(1.0, 5e4, n) if formula != codes.DARCY_WEISBACH else rng.uniform(10.0, 1e4, n)
    minor = rng.choice([0.0, 1.0, 50.0], n)
    diam = rng.uniform(0.05, 1.0, n)
    rel_rough = rng.uniform(1e-6, 1e-2, n)
    visc_diam = 1.0e-6 * diam
    return resistance, minor, rel_rough, visc_diam


@given(seed=st.integers(0, 2**32 - 1), formula=st.sampled_from([0, 1, 2]),
       scale=st.sampled_from([1e-7, 1e-4, 1e-2, 1.0]))
def test_pipe_kernel_matches_vectorised_reference(seed, formula, scale):
    rng = np.random.default_rng(seed)
    n = 64
    resistance, minor, rel_rough, visc_diam = _pipe_arrays(n, rng, formula)
    flow = rng.normal(0.0, scale, n)
    status = rng.choice([codes.CLOSED, codes.OPEN], n, p=[0.2, 0.8]).astype(np.int8)
    kind = np.full(n, codes.PIPE, dtype=np.int8)
    hexp = 1.852 if formula == codes.HAZEN_WILLIAMS else 2.0
    p, y = np.zeros(n), np.zeros(n)
    empty_i, empty_f = np.zeros(n, dtype=np.int64), np.zeros(n)
    coefficients.link_coefficients(kind, status, np.zeros(n), flow, resistance, minor, rel_rough, visc_diam,
                           empty_f, formula, hexp, RQTOL, CBIG, CSMALL, CBIG_CONDUCTANCE,
                           np.zeros(n, dtype=np.int8), empty_f, empty_f, empty_f, empty_i,
                           np.zeros(1, dtype=np.int64), np.zeros(0), np.zeros(0), p, y)
    p_ref, y_ref = coefficients.pipe_coefficients_reference(status, flow, resistance, minor, rel_rough,
                                                    visc_diam, formula, hexp, RQTOL, CBIG)
    np.testing.assert_allclose(p, p_ref, rtol=1e-12)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-300)


@given(q=flows, formula=st.sampled_from([0, 1, 2]), r=st.floats(1.0, 1e5), minor=st.sampled_from([0.0, 10.0]))
def test_head_loss_has_the_sign_of_flow(q, formula, r, minor):
    hexp = 1.852 if formula == codes.HAZEN_WILLIAMS else 2.0
    p, y = coefficients.pipe_coefficients_reference(
        np.array([codes.OPEN]), np.array([q]), np.array([r]), np.array([minor]),
        np.array([1e-4]), np.array([1e-7]), formula, hexp, RQTOL, CBIG)
    headloss = y[0] / p[0]
    assert p[0] > 0
    assert np.sign(headloss) == np.sign(q)


@given(flow=flows, speed=st.floats(0.3, 1.5),
       ptype=st.sampled_from([codes.CONST_HP, codes.POWER_FUNC, codes.CUSTOM]),
       status=st.sampled_from([codes.CLOSED, codes.OPEN]))
def test_pump_kernel_matches_reference(flow, speed, ptype, status):
    curve_x = np.array([0.0, 0.05, 0.1, 0.2, 0.3])
    curve_y = np.array([60.0, 55.0, 48.0, 30.0, 5.0])
    h0, r, n = {codes.CONST_HP: (0.0, -1.5, -1.0), codes.POWER_FUNC: (-60.0, 800.0, 1.9),
                codes.CUSTOM: (0.0, 0.0, 1.0)}[ptype]
    arrays = dict(kind=np.array([codes.PUMP], dtype=np.int8), status=np.array([status], dtype=np.int8),
                  setting=np.array([speed]), flow=np.array([flow]))
    p, y = np.zeros(1), np.zeros(1)
    one = np.zeros(1)
    coefficients.link_coefficients(arrays["kind"], arrays["status"], arrays["setting"], arrays["flow"],
                           one, one, one, np.ones(1), one, 0, 1.852, RQTOL, CBIG, CSMALL,
                           CBIG_CONDUCTANCE, np.array([ptype], dtype=np.int8), np.array([h0]),
                           np.array([r]), np.array([n]), np.array([0]), np.array([0, 5]),
                           curve_x, curve_y, p, y)
    p_ref, y_ref = coefficients.pump_coefficients_reference(status, speed, flow, ptype, h0, r, n,
                                                    (curve_x, curve_y), RQTOL, CBIG, CSMALL)
    np.testing.assert_allclose([p[0], y[0]], [p_ref, y_ref], rtol=1e-10)


def _random_network(rng, nj, nf):
    """A random connected network: a spanning tree plus chords; fixed nodes hang off junctions."""
    starts, ends = [], []
    for i in range(1, nj):
        starts.append(int(rng.integers(0, i)))
        ends.append(i)
    for _ in range(nj // 2):
        a, b = rng.choice(nj, 2, replace=False)
        starts.append(int(a))
        ends.append(int(b))
    for f in range(nf):
        starts.append(nj + f)
        ends.append(int(rng.integers(0, nj)))
    start, end = np.array(starts), np.array(ends)
    flip = rng.random(len(start)) < 0.5
    start[flip], end[flip] = end[flip], start[flip].copy()
    return start, end


def _pairs(start, end, nj):
    both = (start < nj) & (end < nj)
    keys = np.minimum(start, end)[both] * nj + np.maximum(start, end)[both]
    unique, inverse = np.unique(keys, return_inverse=True)
    link_pair = np.full(len(start), -1)
    link_pair[both] = inverse
    return link_pair, unique // nj, unique % nj


@given(seed=st.integers(0, 2**32 - 1), nj=st.integers(2, 40))
def test_assembly_matches_dense_reference(seed, nj):
    rng = np.random.default_rng(seed)
    nf = 2
    start, end = _random_network(rng, nj, nf)
    n_links = len(start)
    link_pair, pi, pj = _pairs(start, end, nj)
    p = rng.uniform(1e-3, 10.0, n_links)
    y = rng.normal(0, 0.1, n_links)
    flow = rng.normal(0, 0.1, n_links)
    head = rng.uniform(0, 100, nj + nf)
    demand = np.concatenate([rng.uniform(0, 0.05, nj), np.zeros(nf)])
    diag, ground, off = np.zeros(nj), np.zeros(nj), np.zeros(len(pi))
    rhs, xflow = np.zeros(nj), np.zeros(nj + nf)
    zeros_j = np.zeros(nj)
    equations.assemble_system(nj, start, end, np.full(n_links, codes.PIPE, dtype=np.int8), link_pair,
                         p.copy(), y.copy(), flow, np.full(n_links, codes.OPEN, dtype=np.int8),
                         np.zeros(n_links), np.zeros(n_links), head, np.zeros(nj + nf),
                         demand[:nj], demand[:nj].copy(), False, zeros_j, zeros_j + 1, 0.5,
                         zeros_j, zeros_j.copy(), 2.0, zeros_j, zeros_j + 2, zeros_j.copy(),
                         np.zeros(0, dtype=np.int64), RQTOL, CBIG, CSMALL, CBIG_CONDUCTANCE,
                         diag, ground, off, rhs, xflow, 0.3048**3, 0.3048)
    a_ref, rhs_ref = equations.assemble_system_reference(nj, start, end, p, y, flow, head, demand)
    a = np.diag(diag)
    np.add.at(a, (pi, pj), off)
    np.add.at(a, (pj, pi), off)
    np.testing.assert_allclose(a, a_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rhs, rhs_ref, rtol=1e-10, atol=1e-10)
    # the ground terms are the row sums of A, accumulated without subtraction
    np.testing.assert_allclose(ground, a_ref.sum(axis=1), rtol=1e-9, atol=1e-9)


@given(seed=st.integers(0, 2**32 - 1), nj=st.integers(1, 60), spread=st.sampled_from([0.0, 4.0, 8.0]))
def test_sparse_factorisations_match_dense_solve(seed, nj, spread):
    from twin.water.linear_systems import CholeskySystem, SuperLUSystem

    rng = np.random.default_rng(seed)
    start, end = _random_network(rng, nj, 1)
    link_pair, pi, pj = _pairs(start, end, nj)
    # conductances spanning up to 16 orders of magnitude, as closed links beside open ones do
    p = 10.0 ** rng.uniform(-spread, spread, len(start))
    off = np.zeros(len(pi))
    np.add.at(off, link_pair[link_pair >= 0], -p[link_pair >= 0])
    ground = np.zeros(nj)
    fixed = start >= nj
    np.add.at(ground, end[fixed], p[fixed])
    fixed = end >= nj
    np.add.at(ground, start[fixed], p[fixed])
    diag = ground.copy()
    np.add.at(diag, pi, -off)
    np.add.at(diag, pj, -off)
    rhs = rng.normal(0, 1, nj)
    reference = chol.cholesky_solve_reference(nj, pi, pj, diag, off, rhs)
    scale = np.abs(reference).max() + 1.0
    for system in (CholeskySystem(nj, pi, pj), SuperLUSystem(nj, pi, pj)):
        x, bad = system.solve(diag, ground, off, rhs)
        assert bad == -1
        if spread == 0.0:
            np.testing.assert_allclose(x, reference, rtol=1e-8, atol=1e-9 * scale)
    # the textbook left-looking Cholesky agrees on well-conditioned systems
    if spread == 0.0:
        plain = CholeskySystem(nj, pi, pj)
        chol.scatter_values(nj, plain.colptr, diag, off, plain.old_to_new, plain.off_pos,
                            plain.values, np.zeros(nj))
        assert chol.numeric_cholesky(nj, plain.colptr, plain.rowidx, plain.values, np.zeros(nj),
                                     np.zeros(nj, dtype=np.int64), np.zeros(nj, dtype=np.int64)) == -1
        b = rhs[plain.new_to_old].copy()
        chol.cholesky_solve(nj, plain.colptr, plain.rowidx, plain.values, b)
        x = np.empty(nj)
        x[plain.new_to_old] = b
        np.testing.assert_allclose(x, reference, rtol=1e-8, atol=1e-9 * scale)


def test_mmatrix_factorisation_keeps_tiny_pivots_accurate():
    """Two junctions joined by a 1e7 conductance and tied to heads 0 and 100 by 1e-8 each.

    The exact solution is 50 at both (symmetric); the pivot of the second junction is 2e-8 after
    cancelling 1e7, which the textbook factorisation gets wrong by several percent.
    """
    from twin.water.linear_systems import CholeskySystem

    big, small = 1e7, 1e-8
    pi, pj = np.array([0]), np.array([1])
    ground = np.array([small, small])
    off = np.array([-big])
    diag = ground + big
    rhs = np.array([small * 0.0, small * 100.0])
    x, bad = CholeskySystem(2, pi, pj).solve(diag, ground, off, rhs)
    assert bad == -1
    np.testing.assert_allclose(x, [50.0, 50.0], rtol=1e-9)


def test_isolated_junction_is_reported_not_solved():
    from twin.water.linear_systems import CholeskySystem

    pi, pj = np.array([0]), np.array([1])
    x, bad = CholeskySystem(3, pi, pj).solve(np.array([2.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0]),
                                             np.array([-1.0]), np.ones(3))
    assert bad == 2


@given(network=st.sampled_from(["Net1", "Net3", "ky10"]), multiplier=st.floats(0.2, 2.0),
       hour=st.integers(0, 23))
def test_mass_balance_at_every_junction(network, multiplier, hour):
    import wntr

    from twin.water.compile import compile_network
    from twin.water.simulation import simulate

    wn = _load(network)
    net = compile_network(wn)
    net.demand_multiplier = multiplier
    result = simulate(net, duration_s=hour * 3600, on_unbalanced="continue")
    nj = net.n_junctions
    for t in range(len(result.time_s)):
        q = result.flow_m3_per_s[t]
        inflow = np.bincount(net.end, weights=q, minlength=net.n_nodes) - np.bincount(
            net.start, weights=q, minlength=net.n_nodes)
        imbalance = inflow[:nj] - result.demand_m3_per_s[t, :nj] - result.leak_m3_per_s[t]
        # reported flows of closed links are 0, while the solver keeps the closed-link model's
        # |dh| / CBIG in the balance (a closed link is a 1e-8 ft/cfs conductance)
        closed = result.status[t] <= 2
        dh = np.abs(result.head_m[t, net.start] - result.head_m[t, net.end])[closed]
        leakage = 2.0 * dh.max() / CBIG if dh.size else 0.0
        # an active PRV/PSV passes the flow excess of the previous iteration (EPANET's scheme), so
        # its node balances to within the last Newton correction; plus rounding
        log = {entry["time_s"]: entry for entry in result.solver_log}
        last_change = log[int(result.time_s[t])]["max_flow_change_m3_per_s"]
        assert np.abs(imbalance).max() <= leakage + last_change + 1e-8 * np.abs(q).max() + 1e-8
    del wntr


_CACHE: dict = {}


def _load(name):
    import copy

    import wntr

    if name not in _CACHE:
        _CACHE[name] = wntr.network.WaterNetworkModel(str(NETWORKS / f"{name}.inp"))
    return copy.deepcopy(_CACHE[name])


@given(seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([0.001, 1.0, 50.0]))
def test_pressure_valve_status_matches_reference(seed, scale):
    rng = np.random.default_rng(seed)
    n = 40
    kind = rng.choice([codes.PRV, codes.PSV], n).astype(np.int8)
    start, end = np.arange(n), np.arange(n, 2 * n)
    status = rng.choice([codes.CLOSED, codes.OPEN, codes.ACTIVE, codes.XPRESSURE], n).astype(np.int8)
    setting = np.where(rng.random(n) < 0.1, codes.MISSING, rng.uniform(10, 60, n))
    flow = rng.normal(0, 0.01, n)
    head = rng.uniform(0, 100, 2 * n) + rng.normal(0, scale, 2 * n)
    elevation = rng.uniform(0, 40, 2 * n)
    minor = rng.choice([0.0, 100.0], n)
    valves = np.arange(n, dtype=np.int64)
    a, b = status.copy(), status.copy()
    changed = status_rules.pressure_valve_status(valves, kind, start, end, a, setting, flow, head, elevation, minor,
                                         1.5e-4, 2.8e-6)
    changed_ref = status_rules.pressure_valve_status_reference(valves, kind, start, end, b, setting, flow, head,
                                                       elevation, minor, 1.5e-4, 2.8e-6)
    assert np.array_equal(a, b)
    assert changed == changed_ref


@given(seed=st.integers(0, 2**32 - 1))
def test_link_status_matches_reference(seed):
    rng = np.random.default_rng(seed)
    n_links, nj, nt = 60, 30, 4
    kind = rng.choice([codes.CVPIPE, codes.PIPE, codes.PUMP, codes.FCV], n_links).astype(np.int8)
    start = rng.integers(0, nj + nt, n_links)
    end = rng.integers(0, nj + nt, n_links)
    node_kind = np.concatenate([np.zeros(nj), rng.choice([1, 2], nt)]).astype(np.int8)
    tank_of_node = np.full(nj + nt, -1, dtype=np.int64)
    tank_of_node[nj:] = np.arange(nt)
    status = rng.choice([codes.XHEAD, codes.TEMPCLOSED, codes.CLOSED, codes.OPEN, codes.ACTIVE, codes.XFCV],
                        n_links).astype(np.int8)
    setting = np.where(rng.random(n_links) < 0.2, codes.MISSING, rng.uniform(0.0, 1.2, n_links))
    flow = rng.normal(0, 0.05, n_links)
    head = rng.uniform(0, 80, nj + nt)
    pump_type = rng.choice([codes.CONST_HP, codes.POWER_FUNC, codes.CUSTOM], n_links).astype(np.int8)
    hmax = rng.uniform(5, 60, n_links)
    tank_hmax = head[nj:] + rng.choice([-1.0, 0.0, 5.0], nt)
    tank_hmin = head[nj:] + rng.choice([1.0, 0.0, -5.0], nt)
    overflow = rng.random(nt) < 0.3
    links = np.arange(n_links, dtype=np.int64)
    a, b = status.copy(), status.copy()
    args = (kind, start, end)
    rest = (setting, flow, head, pump_type, hmax, tank_of_node, node_kind, tank_hmax, tank_hmin, overflow,
            nj, 1.5e-4, 2.8e-6)
    changed = status_rules.link_status(links, *args, a, *rest)
    changed_ref = status_rules.link_status_reference(links, *args, b, *rest)
    assert np.array_equal(a, b)
    assert changed == changed_ref
